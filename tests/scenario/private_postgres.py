"""A PostgreSQL server of the test's own (initdb, pg_ctl), so a scenario can stop it.

initdb refuses to run as root; as root the server runs as the unprivileged `postgres`
account through `runuser`, in a folder under /tmp handed to that account. Where neither
works, `PrivatePostgres.unavailable()` says why, for a skip.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.scenario.harness import free_port

SERVER_USER = "postgres"


class PrivatePostgres:
    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="relay-scenario-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.running = False

    @staticmethod
    def unavailable() -> str | None:
        """Why no private server can be run here, or None."""
        missing = [name for name in ("initdb", "pg_ctl", "postgres") if not shutil.which(name)]
        if missing:
            return f"PostgreSQL server binaries not on PATH: {', '.join(missing)}"
        if os.geteuid() == 0:
            if not shutil.which("runuser"):
                return "running as root and runuser is missing, so initdb cannot run"
            try:
                pwd.getpwnam(SERVER_USER)
            except KeyError:
                return f"running as root and there is no {SERVER_USER!r} account for initdb"
        return None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _as_server_user(self, *args: str, timeout: float = 60) -> None:
        prefix = ["runuser", "-u", SERVER_USER, "--"] if os.geteuid() == 0 else []
        result = subprocess.run(  # the test's own command line
            [*prefix, *args], capture_output=True, text=True, timeout=timeout, check=False
        )
        if result.returncode != 0:
            raise AssertionError(
                f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
                f"\n{self.log()}"
            )

    def init(self) -> PrivatePostgres:
        if os.geteuid() == 0:
            shutil.chown(self.folder, user=SERVER_USER)
        self._as_server_user(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync"
        )
        return self

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=100"
        )
        log = str(self.folder / "server.log")
        self._as_server_user(
            "pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start"
        )
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        self._as_server_user("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")
        self.running = False

    def log(self) -> str:
        try:
            return (self.folder / "server.log").read_text(errors="replace")[-4000:]
        except FileNotFoundError:
            return ""

    def destroy(self) -> None:
        try:
            if self.running:
                self.stop("immediate")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
