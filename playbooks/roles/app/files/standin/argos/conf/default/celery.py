# Argos STAND-IN: Celery defaults (the deployment overrides them in
# argos/conf/celery.py, written by the app role).
BROKER_URL = "amqp://guest@localhost:5672//"
CELERY_RESULT_BACKEND = "redis://localhost:6379/0"
CELERY_IMPORTS = ("argos.tasks",)
CELERY_TIMEZONE = "UTC"
