"""Celery app of the Argos STAND-IN: `argos.tasks.celery`, one task `ping`.

The worker role runs `celery --app=argos.tasks.celery worker`, the same
command as for the real app.
"""
import socket
import types

from celery import Celery

from argos.conf import CELERY

celery = Celery("argos")
# Old-style (Celery 3) setting names, as the real app uses; Celery 5 maps them.
celery.config_from_object(types.SimpleNamespace(**CELERY))


@celery.task(name="argos.tasks.ping")
def ping():
    """Answer from the worker: proves broker -> worker -> result backend."""
    return "pong from the argos STAND-IN worker on %s" % socket.gethostname()
