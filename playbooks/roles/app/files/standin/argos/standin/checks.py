"""Health checks of the Argos STAND-IN app: each one really talks to its service.

Every check returns a dict {"ok": bool, "target": str, "detail": str, "ms": int}
and never raises. Targets never include credentials.
"""
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request

NER_PROBE = "Barack Obama visited Paris."
NER_EXPECT = ("<PERSON>Barack Obama</PERSON>", "<LOCATION>Paris</LOCATION>")
SPARQL_ASK = (
    'ASK { ?s <http://www.w3.org/2000/01/rdf-schema#label> "Barack Obama"@en }'
)


def _run(target, fn):
    started = time.monotonic()
    try:
        ok, detail = fn()
    except Exception as exc:  # a health check reports, it never raises
        ok, detail = False, "%s: %s" % (type(exc).__name__, str(exc).strip())
    return {
        "ok": ok,
        "target": target,
        "detail": detail,
        "ms": int((time.monotonic() - started) * 1000),
    }


def check_db(uri, timeout):
    """Log in to PostgreSQL with the app's URI and run SELECT 1."""
    parts = urllib.parse.urlsplit(uri)
    target = "postgresql://%s:%s%s" % (parts.hostname, parts.port or 5432, parts.path)

    def probe():
        import psycopg2

        conn = psycopg2.connect(uri, connect_timeout=max(1, int(timeout)))
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
                (value,) = cur.fetchone()
        finally:
            conn.close()
        if value != 1:
            return False, "SELECT 1 returned %r" % (value,)
        return True, "SELECT 1 returned 1"

    return _run(target, probe)


def check_sparql(host, port, dataset, timeout):
    """POST a SPARQL ASK to Fuseki's /<dataset>/query, as the real app does."""
    url = "http://%s:%s/%s/query" % (host, port, dataset)

    def probe():
        request = urllib.request.Request(
            url,
            data=SPARQL_ASK.encode("utf-8"),
            method="POST",
            headers={
                "Content-Type": "application/sparql-query",
                "Accept": "application/sparql-results+json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                body = response.read()
                status = response.status
        except urllib.error.HTTPError as exc:
            return False, "HTTP %s from %s" % (exc.code, url)
        answer = json.loads(body.decode("utf-8")).get("boolean")
        if status != 200 or answer is not True:
            return False, "HTTP %s, ASK answered %r (fixture not loaded?)" % (status, answer)
        return True, "ASK for the label \"Barack Obama\"@en answered true"

    return _run(url, probe)


def check_ner(host, port, timeout):
    """One line in, the tagged line out, then the server closes (NERServer protocol)."""
    target = "ner://%s:%s" % (host, port)

    def probe():
        chunks = []
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall((NER_PROBE + "\n").encode("utf-8"))
            while True:
                data = sock.recv(4096)
                if not data:
                    break
                chunks.append(data)
        reply = b"".join(chunks).decode("utf-8").strip()
        missing = [tag for tag in NER_EXPECT if tag not in reply]
        if missing:
            return False, "reply %r lacks %s" % (reply, ", ".join(missing))
        return True, reply

    return _run(target, probe)
