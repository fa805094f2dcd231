"""What every bench part shares: the commands it runs, their environments, and how it
waits for them and reads the emulator back.

Every process runs on this machine over 127.0.0.1: gunicorn with deploy/gunicorn.conf.py,
`relay worker`, and `relay hubspot emulator` at HubSpot's lowest rate tier (100 requests
per 10 s) with 100 ms of latency on every call.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa

from service.store import migrate
from service.store.engine import make_engine
from tests.processes import VENV_BIN, Process, base_env, free_port

SECRET = "bench-shopify-secret"
GUNICORN = [str(VENV_BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py"]
SERVICE_APP = "service.app:create_app()"
BARE_APP = "tests.perf.bare_app:create_app()"
RELAY = str(VENV_BIN / "relay")

RATE_LIMIT = 100  # requests per window, emulator and worker alike
RATE_WINDOW = 10.0
EMULATOR_LATENCY = 0.1
LINGER = 0.5  # RELAY_LINGER_SECONDS default, left unset in the bench


def mark(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def say(message: str) -> None:
    print(f"  .. {message}", flush=True)


def guarded(label: str, run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run one bench row; a failure becomes the row's note instead of ending the bench."""
    try:
        return run()
    except Exception as exc:  # reported in the table; the other rows still run
        first_line = (str(exc).strip().splitlines() or [""])[0]
        message = f"{type(exc).__name__}: {first_line[:160]}"
        print(f"  !! {label} failed: {message}", flush=True)
        return {"row": label, "failed": message}


def not_run(row: dict[str, Any]) -> str | None:
    """Why a row has no figures (skipped or failed), or None when it has them."""
    if "skipped" in row:
        return f"skipped: {row['skipped']}"
    if "failed" in row:
        return f"FAILED: {row['failed']}"
    return None


def migrated(url: str) -> sa.Engine:
    engine = make_engine(url)
    migrate.upgrade(engine)
    return engine


def send_raw(port: int, raw: bytes, timeout: float = 10.0) -> tuple[int, float]:
    """Send one pre-built request; the status and the wall-clock time the answer ended."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(raw)
        chunks = []
        while chunk := sock.recv(65536):  # the request says Connection: close
            chunks.append(chunk)
    done = time.time()
    return int(b"".join(chunks)[9:12]), done


def wait_for(
    predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.1
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise TimeoutError(f"gave up waiting for {what} after {timeout:g} s")


def wait_output(process: Process, text: str, timeout: float) -> None:
    def seen() -> bool:
        if not process.alive():
            raise RuntimeError(f"process exited:\n{process.describe()}")
        return text in process.output()

    wait_for(seen, timeout, f"{text!r} from {process.args[1:3]}")


def logged_at(process: Process, event: str) -> float:
    """When `process` logged `event`: the `ts` of its first JSON log line naming it."""
    for line in process.output().splitlines():
        if line.startswith("{") and f'"event": "{event}"' in line:
            return iso_seconds(json.loads(line)["ts"])
    raise RuntimeError(f"no {event!r} in the log of {process.args[1:3]}")


def web_env(database_url: str, metrics_dir: Path, **extra: str) -> dict[str, str]:
    """The web process's environment as the deploy manifests set it."""
    return base_env(
        PORT=str(free_port()),
        WEB_CONCURRENCY="2",
        DATABASE_URL=database_url,
        SHOPIFY_WEBHOOK_SECRETS=SECRET,
        RELAY_LOG_JSON="true",
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        **extra,
    )


def worker_env(database_url: str, emulator_url: str, metrics_dir: Path) -> dict[str, str]:
    return base_env(
        DATABASE_URL=database_url,
        HUBSPOT_BASE_URL=emulator_url,
        RELAY_SANDBOX="true",  # the emulator's default token
        HUBSPOT_RATE_LIMIT=str(RATE_LIMIT),
        RELAY_LOG_JSON="true",
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
    )


def start_emulator() -> tuple[list[str], int]:
    port = free_port()
    args = [RELAY, "hubspot", "emulator", "--port", str(port)]
    args += ["--rate-limit", str(RATE_LIMIT), "--latency", str(EMULATOR_LATENCY)]
    return args, port


def emulator_get(port: int, what: str) -> Any:
    return requests.get(f"http://127.0.0.1:{port}/_emulator/{what}", timeout=30).json()


def iso_seconds(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
