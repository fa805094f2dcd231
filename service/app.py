"""The Flask application factory; gunicorn serves `service.app:create_app()`."""

from __future__ import annotations

import logging
import re
import uuid

from flask import Flask, Response, g, request
from sqlalchemy import Engine
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge, RequestTimeout

from service import console, errors, extensions, logs
from service.body_reader import BODY_PROBLEM, CUT_SHORT, TOO_SLOW, BodyReader
from service.config import Config
from service.store.engine import make_engine

log = logging.getLogger("service.app")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def create_app(config: Config | None = None, engine: Engine | None = None) -> Flask:
    """Build the app; reads the environment only when no config is given."""
    if config is None:
        config = Config.from_env()
        logs.configure(config.log_level, config.log_json)
    app = Flask(__name__)
    # Flask answers 413 before reading a body over this size (Content-Length or streamed).
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    # ...but it cuts a chunked body at the limit without a word, and waits for a slow body
    # for ever: this reads every body whole, within the limit and the minimum rate.
    app.wsgi_app = BodyReader(  # type: ignore[method-assign]
        app.wsgi_app,
        config.max_body_bytes,
        grace_seconds=config.body_grace_seconds,
        min_rate=config.min_body_rate,
    )
    extensions.init_app(
        app, extensions.Resources(config=config, engine=engine or make_engine(config.database_url))
    )
    errors.init_app(app)
    app.before_request(_assign_request_id)
    app.before_request(_refuse_unread_body)
    app.after_request(_echo_request_id)
    _register_blueprints(app)
    console.init_app(app, config)
    _log_startup(config)
    return app


def _register_blueprints(app: Flask) -> None:
    from service.api import health, internal, monitoring, openapi, rejected, webhooks

    blueprints = (webhooks.bp, internal.bp, rejected.bp, health.bp, monitoring.bp, openapi.bp)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)


def _assign_request_id() -> None:
    # Take the platform's id when it is sane (it is echoed into logs and headers).
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex


def _refuse_unread_body() -> None:
    # Before any view: a receiver that checks its configuration or a header first would
    # otherwise answer that instead of the 413 every oversized body gets.
    problem = request.environ.get(BODY_PROBLEM)
    if problem == TOO_SLOW:
        raise RequestTimeout("The body arrived more slowly than the minimum rate.")
    if problem == CUT_SHORT:
        raise BadRequest("The body ended before its Content-Length; nothing was kept.")
    limit = request.max_content_length
    if limit is not None and (request.content_length or 0) > limit:
        raise RequestEntityTooLarge()


def _echo_request_id(response: Response) -> Response:
    response.headers["X-Request-ID"] = g.get("request_id", "")
    return response


def _log_startup(config: Config) -> None:
    for source, secrets in (
        ("shopify", config.shopify_webhook_secrets),
        ("woocommerce", config.woocommerce_webhook_secrets),
    ):
        if not secrets:
            log.warning(
                "source_not_configured",
                extra={"event": "source_not_configured", "source": source},
            )
    if config.console_keys and not config.secret_key:
        log.warning(
            "console_not_configured",
            extra={"event": "console_not_configured", "missing": "RELAY_SECRET_KEY"},
        )
    if config.sandbox:
        log.info(
            "sandbox_mode",
            extra={"event": "sandbox_mode", "hubspot_base_url": config.hubspot_base_url},
        )
