{{ ansible_managed | comment }}
# argos/conf/celery.py: this deployment's overrides of argos/conf/default/celery.py.
# Holds secrets: mode 0640, owner {{ app_user }}.
{% if broker_host %}

# RabbitMQ and Redis on the broker host ({{ broker_host }}).
BROKER_URL = {{ ('amqp://' ~ (app_broker_user | urlencode) ~ ':' ~ (app_broker_pass | urlencode) ~ '@' ~ broker_host ~ ':' ~ app_broker_port ~ '//') | to_json }}
CELERY_RESULT_BACKEND = {{ ('redis://:' ~ (app_broker_pass | urlencode) ~ '@' ~ broker_host ~ ':' ~ app_redis_port ~ '/0') | to_json }}
# A web request that queues a task waits at most this long for the broker
# (the original retried forever, which hung requests when the broker was down).
BROKER_CONNECTION_TIMEOUT = {{ app_broker_connection_timeout | int }}
BROKER_CONNECTION_MAX_RETRIES = {{ app_broker_connection_max_retries | int }}
{% else %}

# This environment has no broker (tasks_enabled: false, no host in the
# `broker` group). In-memory transport and result store: queuing a task never
# blocks or fails a web request; no worker will ever run it.
BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = "cache+memory://"
{% endif %}

CELERY_IMPORTS = {{ app_celery_imports | to_json }}
CELERY_ACKS_LATE = True
CELERY_MAX_CACHED_RESULTS = 1
CELERYD_MAX_TASKS_PER_CHILD = 100
CELERY_TIMEZONE = "UTC"

# Error mail.
CELERY_SEND_TASK_ERROR_EMAILS = {{ (celery_email_user | default('')) | length > 0 }}
ADMINS = {{ ([[celery_admin_name, celery_admin_email]] if (celery_admin_email | default('')) | length > 0 else []) | to_json }}
SERVER_EMAIL = {{ celery_email_user | default('') | to_json }}
EMAIL_HOST = {{ email_host | default('') | to_json }}
EMAIL_PORT = {{ email_port | default(587) | int }}
EMAIL_HOST_USER = {{ celery_email_user | default('') | to_json }}
EMAIL_HOST_PASSWORD = {{ celery_email_password | default('') | to_json }}
EMAIL_USE_TLS = True
