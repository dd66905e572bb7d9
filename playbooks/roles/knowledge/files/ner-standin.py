#!/usr/bin/env python3
"""Stanford NER STAND-IN: speaks NERServer's socket protocol with a gazetteer.

argos-cloud's local backends cannot download Stanford NER, so this small
server stands in for `edu.stanford.nlp.ie.NERServer -outputFormat inlineXML`:
a client connects, sends one UTF-8 line, receives that line with inline-XML
entity tags (PERSON, LOCATION, ORGANIZATION, MISC), and the server closes the
connection. Entities come from a fixed gazetteer (longest match first, whole
words only), not from a model.

    printf 'Barack Obama visited Paris.\n' | nc -q1 HOST 8080
    <PERSON>Barack Obama</PERSON> visited <LOCATION>Paris</LOCATION>.
"""
import argparse
import json
import logging
import re
import socketserver
from xml.sax.saxutils import escape

log = logging.getLogger("ner-standin")
MAX_LINE = 1 << 20  # 1 MiB: NERServer reads one line; so do we, bounded


def load_gazetteer(path):
    with open(path, encoding="utf-8") as handle:
        entries = {k: v for k, v in json.load(handle).items() if not k.startswith("_")}
    names = sorted(entries, key=len, reverse=True)  # longest match first
    pattern = re.compile(r"(?<!\w)(%s)(?!\w)" % "|".join(re.escape(n) for n in names))
    return entries, pattern


def tag(text, entries, pattern):
    out, last = [], 0
    for match in pattern.finditer(text):
        out.append(escape(text[last:match.start()]))
        label = entries[match.group(1)]
        out.append("<%s>%s</%s>" % (label, escape(match.group(1)), label))
        last = match.end()
    out.append(escape(text[last:]))
    return "".join(out)


class Handler(socketserver.StreamRequestHandler):
    timeout = 30

    def handle(self):
        raw = self.rfile.readline(MAX_LINE)
        text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        tagged = tag(text, *self.server.gazetteer)
        self.wfile.write((tagged + "\n").encode("utf-8"))
        self.wfile.flush()
        log.info("tagged %d chars from %s", len(text), self.client_address[0])
        # returning closes the connection, as NERServer does


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--gazetteer", required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="ner-standin (Stanford NER STAND-IN) %(message)s")
    with Server((args.host, args.port), Handler) as server:
        server.gazetteer = load_gazetteer(args.gazetteer)
        log.info("listening on %s:%d, %d gazetteer entries", args.host, args.port, len(server.gazetteer[0]))
        server.serve_forever()


if __name__ == "__main__":
    main()
