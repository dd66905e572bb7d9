"""WSGI app of the Argos STAND-IN: GET /health checks the database, Fuseki and NER.

200 with JSON when every check passes; 503 with the failing checks named
otherwise. The checks run in parallel, each bounded by HEALTH_CHECK_TIMEOUT.
"""
import json
import logging
import socket
from concurrent.futures import ThreadPoolExecutor

from argos.conf import APP
from argos.standin import checks

log = logging.getLogger("argos.standin")
if not log.handlers:
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("argos STAND-IN %(levelname)s %(message)s"))
    log.addHandler(_handler)
    log.setLevel(logging.INFO)

NAME = "argos STAND-IN app (not the real Argos; argos-cloud local backends)"


def run_checks():
    timeout = float(APP.get("HEALTH_CHECK_TIMEOUT", 3.0))
    host = APP["KNOWLEDGE_HOST"]
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {
            "db": pool.submit(checks.check_db, APP["SQLALCHEMY_DATABASE_URI"], timeout),
            "sparql": pool.submit(
                checks.check_sparql, host, APP["SPARQL_PORT"], APP["SPARQL_DATASET"], timeout
            ),
            "ner": pool.submit(checks.check_ner, host, APP["NER_PORT"], timeout),
        }
        return {name: future.result() for name, future in futures.items()}


def _json(start_response, status, payload):
    body = (json.dumps(payload, indent=2, sort_keys=True) + "\n").encode("utf-8")
    start_response(
        status,
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/health":
        results = run_checks()
        failing = sorted(name for name, result in results.items() if not result["ok"])
        payload = {
            "app": NAME,
            "host": socket.gethostname(),
            "status": "fail" if failing else "pass",
            "failing": failing,
            "checks": results,
        }
        if failing:
            log.warning("health: failing %s", ", ".join(failing))
            return _json(start_response, "503 Service Unavailable", payload)
        return _json(start_response, "200 OK", payload)
    if path == "/":
        return _json(start_response, "200 OK", {"app": NAME, "endpoints": ["/health"]})
    return _json(start_response, "404 Not Found", {"status": 404, "message": "Not found"})
