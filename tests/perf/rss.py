"""Peak memory of the processes under test, from /proc/<pid>/status (Linux).

`Sampler` polls VmRSS and VmHWM (the kernel's own peak RSS) of a set of processes in a
thread; the peak per role is the largest VmHWM seen, which catches spikes between samples.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """Direct children of `pid` (gunicorn's workers under its master)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...; comm may hold spaces and parentheses.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def status_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM in kB; empty when the process is gone."""
    values = {}
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0])
    return values


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of `pid` so far; None when the process is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime


class Sampler:
    """Polls `pids()` for each role every `interval` seconds until stopped."""

    def __init__(self, roles: dict[str, Callable[[], list[int]]], interval: float = 0.25):
        self._roles = roles
        self._interval = interval
        self._stop = threading.Event()
        self.peak_kb: dict[str, int] = dict.fromkeys(roles, 0)
        self._cpu_first: dict[int, float] = {}
        self._cpu_last: dict[int, tuple[str, float]] = {}
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def __enter__(self) -> Sampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.sample()  # a last look while the processes still live
        self._stop.set()
        self._thread.join(timeout=5)

    def sample(self) -> None:
        for role, pids in self._roles.items():
            for pid in pids():
                kb = status_kb(pid)
                peak = max(kb.get("VmHWM", 0), kb.get("VmRSS", 0))
                self.peak_kb[role] = max(self.peak_kb[role], peak)
                used = cpu_seconds(pid)
                if used is not None:
                    self._cpu_first.setdefault(pid, used)
                    self._cpu_last[pid] = (role, used)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.sample()

    def peak_mb(self) -> dict[str, float]:
        return {role: kb / 1024 for role, kb in self.peak_kb.items()}

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time each role's processes used while sampled (summed over processes)."""
        used = dict.fromkeys(self._roles, 0.0)
        for pid, (role, last) in self._cpu_last.items():
            used[role] += last - self._cpu_first[pid]
        return used
