"""The ingest ceiling: a bare Flask app that reads the body and answers 200, nothing else.

Served by the same gunicorn command and config as the service
(`gunicorn -c deploy/gunicorn.conf.py tests.perf.bare_app:create_app()`), so the bench's
ratio service/ceiling is what the relay's own work (signature, schema, mapping, store,
logging, metrics) costs on top of gunicorn + Flask + the load generator on this machine.
"""

from __future__ import annotations

from flask import Flask, Response, request


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post("/webhooks/<source>")
    def receive(source: str) -> Response:
        body = request.get_data()
        return Response(b'{"status":"ok","bytes":%d}' % len(body), 200, mimetype="application/json")

    @app.get("/healthz")
    def healthz() -> Response:
        return Response(b'{"status":"ok"}', 200, mimetype="application/json")

    return app
