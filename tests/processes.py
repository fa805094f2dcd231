"""Helpers for tests that run real processes: free ports, waiting for HTTP, and a context
manager that starts a process, stops it on exit and shows its output when a test fails.

    port = free_port()
    with run_process([GUNICORN, ...], env=env) as proc:
        wait_http(f"http://127.0.0.1:{port}/healthz", timeout=20, process=proc)
        ...
        assert proc.stop() == 0          # SIGTERM, then wait; returns the exit code
    print(proc.output())                 # stdout and stderr, also after the block

The output goes to a temporary file, not a pipe, so a chatty process never blocks on a
full pipe buffer. When the block raises (a failed assertion included), the output is
printed, so pytest shows it with the failure.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing, contextmanager, suppress
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that nothing listens on right now (the OS picks it)."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def base_env(**overrides: str) -> dict[str, str]:
    """The current environment without the relay's own variables, plus `overrides`.

    A developer's shell may export DATABASE_URL or secrets; a test must not inherit them.
    """
    relay_prefixes = ("DATABASE_URL", "HUBSPOT_", "SHOPIFY_", "WOOCOMMERCE_", "RELAY_")
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(relay_prefixes) and name not in ("PORT", "WEB_CONCURRENCY")
    }
    env["PYTHONUNBUFFERED"] = "1"
    env.update(overrides)
    return env


class Process:
    """A running child process whose output is collected in a temporary file."""

    def __init__(self, args: Sequence[str], popen: subprocess.Popen[bytes], log: Path) -> None:
        self.args = list(args)
        self.popen = popen
        self._log = log
        self._collected: str | None = None  # the output, kept once the log file is gone

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def returncode(self) -> int | None:
        return self.popen.poll()

    def alive(self) -> bool:
        return self.popen.poll() is None

    def output(self) -> str:
        """Everything the process wrote to stdout and stderr so far."""
        if self._collected is not None:
            return self._collected
        try:
            return self._log.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def send_signal(self, signum: int) -> None:
        if self.alive():
            self.popen.send_signal(signum)

    def wait(self, timeout: float) -> int:
        """Wait for the exit; raise `subprocess.TimeoutExpired` if it takes longer."""
        return self.popen.wait(timeout=timeout)

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Send `signum` and wait for the exit code; kill after `timeout` and raise."""
        self.send_signal(signum)
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=5)
            raise

    def describe(self) -> str:
        status = "running" if self.alive() else f"exited with {self.popen.returncode}"
        return f"$ {' '.join(self.args)}  (pid {self.pid}, {status})\n{self.output()}"


@contextmanager
def run_process(
    args: Sequence[str],
    env: Mapping[str, str] | None = None,
    *,
    cwd: Path | str = ROOT,
    stop_timeout: float = 15.0,
) -> Iterator[Process]:
    """Start `args`; on exit stop it (SIGTERM, then SIGKILL) and collect its output.

    If the block raises, the process's command line, exit status and output are printed
    (pytest shows captured output with the failure), and the exception propagates.
    """
    handle, name = tempfile.mkstemp(prefix="relay-test-process-", suffix=".log")
    log = Path(name)
    with os.fdopen(handle, "wb") as sink:
        popen = subprocess.Popen(  # the args are the test's own command line
            list(args),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a terminal's Ctrl-C reaches pytest only
        )
    process = Process(args, popen, log)
    try:
        yield process
    except BaseException:
        _stop_quietly(process, stop_timeout)
        print(process.describe(), file=sys.stdout)
        raise
    else:
        _stop_quietly(process, stop_timeout)
    finally:
        if popen.poll() is None:  # still running after all: do not leak it
            popen.kill()
            popen.wait(timeout=5)
        process._collected = process.output()
        log.unlink(missing_ok=True)


def _stop_quietly(process: Process, timeout: float) -> None:
    if not process.alive():
        return
    # On a timeout stop() has killed it; a test that cares about a clean exit calls stop().
    with suppress(subprocess.TimeoutExpired):
        process.stop(signal.SIGTERM, timeout)


def wait_http(
    url: str,
    timeout: float = 20.0,
    *,
    process: Process | None = None,
    status: int = 200,
    interval: float = 0.05,
) -> requests.Response:
    """Poll `url` until it answers `status`; fail early if `process` has exited."""
    deadline = time.monotonic() + timeout
    last: str = "no answer yet"
    while time.monotonic() < deadline:
        if process is not None and not process.alive():
            raise AssertionError(f"process exited before {url} answered:\n{process.describe()}")
        try:
            response = requests.get(url, timeout=2)
        except requests.RequestException as exc:
            last = f"{type(exc).__name__}: {exc}"
        else:
            if response.status_code == status:
                return response
            last = f"HTTP {response.status_code}: {response.text[:200]}"
        time.sleep(interval)
    raise AssertionError(f"{url} did not answer {status} within {timeout} s ({last})")
