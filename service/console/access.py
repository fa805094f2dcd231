"""Who may see the console: sign-in with an operator key, a signed session cookie, a CSRF
token on every form, sign-out, and failed sign-ins slowed per client.

The session holds a fingerprint of the key (an HMAC under RELAY_SECRET_KEY), never the
key: the cookie is signed, not encrypted. Removing a key from RELAY_CONSOLE_KEYS ends
the sessions signed in with it at their next request. Each session has an id; signing
out records it in the store, so a copy of the cookie taken before is refused too.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from typing import Any

from flask import Flask, Response, redirect, render_template, request, session, url_for
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Response as BaseResponse

from service import extensions
from service.api.auth import key_is_valid
from service.config import Config
from service.console import SESSION_HOURS, bp
from service.console.throttle import SignInThrottle
from service.errors import NotConfigured, ProblemError
from service.store.engine import reading
from service.store.state import SIGNED_OUT, is_set, set_state

log = logging.getLogger("service.console")
THROTTLE = "line_item_relay_console_throttle"
PUBLIC = {"console.sign_in", "console.static"}
# The pages draw their charts as inline SVG and load only their own CSS and script.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class Forbidden(ProblemError):
    status = 403
    title = "Forbidden"
    type = "urn:line-item-relay:problem:forbidden"


def init_app(app: Flask) -> None:
    app.extensions[THROTTLE] = SignInThrottle()
    app.jinja_env.globals["csrf_token"] = csrf_token


def throttle() -> SignInThrottle:
    from flask import current_app

    found: SignInThrottle = current_app.extensions[THROTTLE]
    return found


def fingerprint(config: Config, key: str) -> str:
    assert config.secret_key  # the guard refuses every page without one
    mac = hmac.new(config.secret_key.encode(), b"console-operator:" + key.encode(), hashlib.sha256)
    return mac.hexdigest()


def signed_in(config: Config) -> bool:
    held, sid = session.get("operator"), session.get("sid")
    if not isinstance(held, str) or not isinstance(sid, str):
        return False
    if not key_is_valid(held, tuple(fingerprint(config, key) for key in config.console_keys)):
        return False
    with reading(extensions.engine()) as conn:
        return not is_set(conn, SIGNED_OUT + sid)


def csrf_token() -> str:
    """The session's CSRF token, made on first use (the sign-in form needs one too)."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def _check_csrf() -> None:
    given, held = request.form.get("csrf_token", ""), session.get("csrf")
    if not isinstance(held, str) or not hmac.compare_digest(given.encode(), held.encode()):
        raise Forbidden("The form's CSRF token is missing or stale; reload the page and retry.")


@bp.before_request
def guard() -> BaseResponse | None:
    """Refuse everything while the console is not configured (fail closed); then a form
    needs its CSRF token, and every page but sign-in a session."""
    config = extensions.config()
    if not config.console_keys:
        raise NotConfigured("RELAY_CONSOLE_KEYS is not set; the console refuses requests.")
    if not config.secret_key:
        raise NotConfigured("RELAY_SECRET_KEY is not set; the console refuses requests.")
    if request.endpoint == "console.static":
        return None
    if request.method == "POST":
        _check_csrf()
    if request.endpoint in PUBLIC or signed_in(config):
        return None
    if request.method == "GET":
        return redirect(url_for("console.sign_in", next=request.full_path.rstrip("?")))
    raise Forbidden("Sign in to the console first.")


@bp.after_request
def security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


@bp.errorhandler(ProblemError)
def problem_page(exc: ProblemError) -> tuple[str, int]:
    # Headed by the status's own phrase: a plain ProblemError is always titled Bad Request.
    heading = f"{exc.status} {HTTP_STATUS_CODES.get(exc.status, exc.title)}"
    return render_template("console/problem.html", problem=exc, heading=heading), exc.status


def _safe_next(target: str | None) -> str:
    # Only back into the console: an open redirect would lend the console's name to a
    # phishing page.
    if target and target.startswith("/console") and not target.startswith("//"):
        return target
    return url_for("console.overview")


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Any:
    """The sign-in form; a valid operator key starts a session."""
    config = extensions.config()
    target = _safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("console/sign_in.html", next=target)
    client = request.remote_addr or "unknown"
    wait = throttle().wait(client)
    if wait > 0:
        message = f"Too many failed sign-ins: wait {wait:.0f} s and try again."
        page = render_template("console/sign_in.html", next=target, error=message)
        return page, 429, {"Retry-After": str(max(1, round(wait)))}
    given = request.form.get("key", "").strip()
    if not given or not key_is_valid(given, config.console_keys):
        delay = throttle().failed(client)
        log.warning(
            "console_sign_in_failed",
            extra={"event": "console_sign_in_failed", "client": client, "wait_seconds": delay},
        )
        message = f"That key is not an operator key. The next try counts in {delay:.0f} s."
        return render_template("console/sign_in.html", next=target, error=message), 401
    throttle().succeeded(client)
    session.clear()  # a new session, and a new CSRF token, for the signed-in operator
    session.permanent = True
    session["operator"] = fingerprint(config, given)
    session["sid"] = secrets.token_urlsafe(16)
    log.info("console_signed_in", extra={"event": "console_signed_in", "client": client})
    return redirect(target)


@bp.post("/sign-out")
def sign_out() -> BaseResponse:
    sid = session.get("sid")
    if isinstance(sid, str):
        # Until the cookie would have expired anyway; the worker's housekeeping prunes it.
        now = time.time()
        expires = now + SESSION_HOURS * 3600
        set_state(extensions.engine(), SIGNED_OUT + sid, None, number=expires, now=now)
    session.clear()
    return redirect(url_for("console.sign_in"))


@bp.context_processor
def page_context() -> dict[str, Any]:
    config = extensions.config()
    on = bool(config.console_keys and config.secret_key)
    return {"signed_in": on and signed_in(config)}
