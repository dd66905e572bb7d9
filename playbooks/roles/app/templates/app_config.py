{{ ansible_managed | comment }}
# argos/conf/app.py: this deployment's overrides of argos/conf/default/app.py.
# Holds secrets: mode 0640, owner {{ app_user }}.
{% set db_uri = 'postgresql://' ~ (db_user | urlencode) ~ ':' ~ (db_pass | urlencode) ~ '@' ~ db_host ~ ':' ~ db_port ~ '/' ~ db_name %}

DEBUG = False

# Database (RDS on AWS; the database host on local backends).
SQLALCHEMY_DATABASE_URI = {{ db_uri | to_json }}

# Fuseki (:3030/knowledge) and Stanford NER (:8080) live on this host.
KNOWLEDGE_HOST = {{ knowledge_host | to_json }}

SECRET_KEY = {{ secret_key | to_json }}
AES_KEY = {{ aes_key | to_json }}
AES_IV = {{ aes_iv | to_json }}

# S3 (empty keys: the instance role's credentials are used).
AWS_ACCESS_KEY_ID = {{ aws_access_key_id | default('') | to_json }}
AWS_SECRET_ACCESS_KEY = {{ aws_secret_access_key | default('') | to_json }}
S3_BUCKET_NAME = {{ s3_bucket_name | default('') | to_json }}

# Error mail.
EMAIL_HOST = {{ email_host | default('') | to_json }}
EMAIL_PORT = {{ email_port | default(587) | int }}
EMAIL_HOST_USER = {{ error_email_user | default('') | to_json }}
EMAIL_HOST_PASSWORD = {{ error_email_password | default('') | to_json }}
ADMINS = {{ error_admins | default([]) | to_json }}

# Third-party APIs (empty: the feature is off).
BIZVIZZ_API_KEY = {{ bizvizz_api_key | default('') | to_json }}
OPENSECRETS_API_KEY = {{ opensecrets_api_key | default('') | to_json }}
INSTAGRAM_CLIENT_ID = {{ instagram_client_id | default('') | to_json }}
SUNLIGHT_API_KEY = {{ sunlight_api_key | default('') | to_json }}
FLICKR_CLIENT_ID = {{ flickr_client_id | default('') | to_json }}
