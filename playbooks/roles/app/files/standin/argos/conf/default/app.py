# Argos STAND-IN: development defaults (the deployment overrides them in
# argos/conf/app.py, written by the app role).
DEBUG = True
SQLALCHEMY_DATABASE_URI = "postgresql://argos_user:password@localhost:5432/argos_dev"
KNOWLEDGE_HOST = "localhost"
SECRET_KEY = "development"

# Stand-in only: the ports of the knowledge host's services and the time each
# health check may take.
SPARQL_PORT = 3030
SPARQL_DATASET = "knowledge"
NER_PORT = 8080
HEALTH_CHECK_TIMEOUT = 3.0
