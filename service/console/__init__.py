"""The operator's console (/console): pages over the same reads and actions as /v1 and
the CLI, rendered on the server (Jinja, the console's own CSS, no build step).

It is on when `RELAY_CONSOLE_KEYS` is set, and refuses every page without
`RELAY_SECRET_KEY`, which signs its session cookie. `access` guards every route:
a session, and a CSRF token on every form.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Flask

from service.config import Config

bp = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="static",
)
SESSION_HOURS = 12


def init_app(app: Flask, config: Config) -> None:
    """Sign sessions with RELAY_SECRET_KEY and register the console's pages."""
    from service.console import access, dead_letters, orders, overview, rejected  # noqa: F401

    app.secret_key = config.secret_key
    app.config.update(
        SESSION_COOKIE_NAME="relay_console",
        SESSION_COOKIE_PATH="/console",  # the API and the receivers never see it
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=config.console_secure_cookie,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
    )
    access.init_app(app)
    app.register_blueprint(bp)
