"""For the console's tests: a configured console, signing in through its form, and the
CSRF token a page carries."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from service.config import Config

CONSOLE_KEY = "console-operator-key-0123456789"
SECRET_KEY = "console-secret-key-abcdefghijklmnopqrstuvwxyz"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def with_console(config: Config, **changes: object) -> Config:
    return config.replace(console_keys=(CONSOLE_KEY,), secret_key=SECRET_KEY, **changes)


def csrf_of(page: str) -> str:
    found = _TOKEN.search(page)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(client: FlaskClient, key: str = CONSOLE_KEY) -> str:
    """Sign in through the form; the session's CSRF token for the forms that follow."""
    token = csrf_of(client.get("/console/sign-in").get_data(as_text=True))
    answer = client.post("/console/sign-in", data={"csrf_token": token, "key": key})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return csrf_of(client.get("/console/").get_data(as_text=True))
