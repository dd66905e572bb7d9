"""WSGI entry point of the Argos STAND-IN app (the real app's is application.py).

gunicorn serves `standin_application:app`. See README.md: this is not Argos.
"""
from argos.standin.web import app

__all__ = ["app"]
