"""Liveness and readiness for the platform; both cheap enough to poll every second."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from service import extensions
from service.readiness import readiness

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """The process is alive and serving; says nothing about its dependencies."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    """Ready when the store answers with current migrations and HubSpot is usable; 503
    when not (`service.readiness` says what each status means)."""
    body, blocking = readiness(extensions.config(), extensions.engine())
    response = jsonify(body)
    response.status_code = 503 if blocking else 200
    return response
