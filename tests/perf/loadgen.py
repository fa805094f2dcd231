"""Closed-loop HTTP load: wrk with a Lua script when wrk is installed, else Python.

Both replay a pre-signed pool (see `pool.py`), split into one shard per wrk thread or
Python process, each cycling through its own shard, so no two requests in a run repeat
unless a shard is exhausted (reported as `wrapped`). Every request says Connection: close
(a shop opens a connection per webhook), so each opens a connection; both tools do so.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from tests.perf.pool import write_shards

THREADS = 2  # wrk threads, or Python processes: one per core

LUA = r"""
local threads = {}
local count = 0

function setup(thread)
  thread:set("tid", count)
  count = count + 1
  table.insert(threads, thread)
end

function init(args)
  local f = assert(io.open(args[1] .. "." .. tid, "rb"))
  local data = f:read("*a")
  f:close()
  pool = {}
  local pos, size = 1, #data
  while pos <= size do
    local nl = string.find(data, "\n", pos, true)
    local len = tonumber(string.sub(data, pos, nl - 1))
    pool[#pool + 1] = string.sub(data, nl + 1, nl + len)
    pos = nl + len + 1
  end
  data = nil
  index, wrapped, s202, s200, other = 0, 0, 0, 0, 0
end

function request()
  index = index + 1
  if index > #pool then
    index = 1
    wrapped = wrapped + 1
  end
  return pool[index]
end

function response(status, headers, body)
  if status == 202 then
    s202 = s202 + 1
  elseif status == 200 then
    s200 = s200 + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local s202, s200, other, wrapped = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    s202 = s202 + t:get("s202")
    s200 = s200 + t:get("s200")
    other = other + t:get("other")
    wrapped = wrapped + t:get("wrapped")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"duration_us":%d,"requests":%d,"p50_us":%d,"p99_us":%d,"mean_us":%f,' ..
    '"s202":%d,"s200":%d,"other":%d,"wrapped":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d}}\n',
    summary.duration, summary.requests, latency:percentile(50), latency:percentile(99),
    latency.mean, s202, s200, other, wrapped, e.connect, e.read, e.write, e.timeout))
end
"""


@dataclass
class LoadResult:
    tool: str
    seconds: float
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    statuses: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    wrapped: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


CHOICE = {"tool": "auto"}  # bench --loadgen: auto (wrk when installed), wrk or python


def tool() -> str:
    if CHOICE["tool"] != "auto":
        return CHOICE["tool"]
    return "wrk" if shutil.which("wrk") else "python"


def run(url: str, pool: list[bytes], *, seconds: float, connections: int) -> LoadResult:
    """Drive `url` (scheme://host:port) with `connections` connections for `seconds`."""
    with tempfile.TemporaryDirectory(prefix="relay-bench-pool-") as folder:
        shards = write_shards(pool, Path(folder), THREADS)
        prefix = str(shards[0])[: -len(".0")]
        if tool() == "wrk":
            return _wrk(url, prefix, Path(folder), seconds, connections)
        return _python(url, shards, seconds, connections)


def _wrk(url: str, prefix: str, folder: Path, seconds: float, connections: int) -> LoadResult:
    script = folder / "replay.lua"
    script.write_text(LUA)
    args = ["wrk", "-t", str(THREADS), "-c", str(connections), "-d", f"{seconds:g}s"]
    args += ["--timeout", "10s", "-s", str(script), url, "--", prefix]
    done = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 60, check=False)
    line = next((s for s in done.stdout.splitlines() if s.startswith("WRK_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    data = json.loads(line.removeprefix("WRK_JSON "))
    elapsed = data["duration_us"] / 1e6
    statuses = {"202": data["s202"], "200": data["s200"], "other": data["other"]}
    return LoadResult(
        tool="wrk",
        seconds=elapsed,
        requests=data["requests"],
        rps=data["requests"] / elapsed,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        statuses={k: v for k, v in statuses.items() if v},
        errors=sum(data["errors"].values()),
        wrapped=data["wrapped"] > 0,
    )


# --- the Python load generator (no wrk on this machine) ---------------------------------


def _python(url: str, shards: list[Path], seconds: float, connections: int) -> LoadResult:
    host, port = url.split("://", 1)[1].rsplit(":", 1)
    per_process = [connections // THREADS + (i < connections % THREADS) for i in range(THREADS)]
    with ProcessPoolExecutor(THREADS, mp_context=get_context("spawn")) as pool:
        futures = [
            pool.submit(_drive, host, int(port), str(shard), seconds, n)
            for shard, n in zip(shards, per_process, strict=True)
        ]
        parts = [f.result(timeout=seconds + 60) for f in futures]
    latencies = sorted(x for part in parts for x in part["latencies"])
    statuses: Counter[str] = Counter()
    for part in parts:
        statuses.update(part["statuses"])
    elapsed = max(part["elapsed"] for part in parts)
    return LoadResult(
        tool="python",
        seconds=elapsed,
        requests=len(latencies),
        rps=len(latencies) / elapsed,
        p50_ms=_percentile(latencies, 50) * 1000,
        p99_ms=_percentile(latencies, 99) * 1000,
        statuses=dict(statuses),
        errors=sum(part["errors"] for part in parts),
        wrapped=any(part["wrapped"] for part in parts),
    )


def _percentile(ordered: list[float], pct: float) -> float:
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def read_shard(path: str) -> list[bytes]:
    data = Path(path).read_bytes()
    items, pos = [], 0
    while pos < len(data):
        newline = data.index(b"\n", pos)
        length = int(data[pos:newline])
        items.append(data[newline + 1 : newline + 1 + length])
        pos = newline + 1 + length
    return items


def _drive(host: str, port: int, shard: str, seconds: float, connections: int) -> dict[str, Any]:
    """One process: `connections` asyncio clients replaying the shard until time is up."""
    return asyncio.run(_drive_async(host, port, read_shard(shard), seconds, connections))


async def _drive_async(
    host: str, port: int, pool: list[bytes], seconds: float, connections: int
) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    state = {"next": 0, "wrapped": False, "errors": 0}
    started = time.perf_counter()
    deadline = started + seconds

    def take() -> bytes:
        if state["next"] >= len(pool):
            state["next"], state["wrapped"] = 0, True
        item = pool[state["next"]]
        state["next"] += 1
        return item

    async def client() -> None:
        while time.perf_counter() < deadline:
            request = take()
            began = time.perf_counter()
            try:
                status = await asyncio.wait_for(_exchange(host, port, request), 10)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
                state["errors"] += 1
                continue
            latencies.append(time.perf_counter() - began)
            statuses[status if status in ("200", "202") else "other"] += 1

    await asyncio.gather(*(client() for _ in range(connections)))
    return {
        "latencies": latencies,
        "statuses": dict(statuses),
        "errors": state["errors"],
        "wrapped": state["wrapped"],
        "elapsed": time.perf_counter() - started,
    }


async def _exchange(host: str, port: int, request: bytes) -> str:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length:
            await reader.readexactly(length)
        return head[9:12].decode("ascii")
    finally:
        writer.close()
