"""The same loads from `wrk` (Debian's package, a C client), when it is installed.

The Python load generator (bench/loadgen.py) spends more CPU per request than
the server does on the cheapest paths and shares the two cores with it, so
its figures carry its own costs: heartbeats stop where the client does
(daphne short of a full core), and at one connection its own scheduling and
collections land in the server's p99. wrk's figures, from the same run
against the same process, show the server's. Both are printed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from .cluster import MAX_INGEST_ENCODERS, ingest_encoder
from .common import cpu_seconds

UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0}

# Every request a heartbeat of the next of the ingest encoders, with a new
# client count each time (every heartbeat a change). With fewer connections
# than encoders no encoder has two heartbeats in flight at once.
HEARTBEATS_LUA = """
local encoders = {%s}
local n = 0
request = function()
  n = n + 1
  local e = encoders[(n %% #encoders) + 1]
  local body = string.format(
    '{"room":"%%s","encoder":"%%s","interval":300,"streams":[{"format":"hls","quality":"hd",' ..
    '"url":"https://cdn.example/%%s/%%s.m3u8","clients":%%d,"bitrate":2500000}]}',
    e[1], e[2], e[1], e[2], n)
  return wrk.format("POST", "/tracker/api/heartbeat",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. e[3]}, body)
end
"""


def available() -> bool:
    return shutil.which("wrk") is not None


def seconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * UNITS[unit]


def parse(output: str) -> dict[str, Any]:
    """Rate, p50, p99 and the count of answers that were not 2xx from `wrk --latency`'s report."""
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", output, re.M))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return {
        "rate": float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1]),  # type: ignore[index]
        "p50": seconds(percentiles["50"]),
        "p99": seconds(percentiles["99"]),
        "bad": (int(bad[1]) if bad else 0) + (sum(map(int, errors.groups())) if errors else 0),
    }


def run(
    port: int, path: str, connections: int, duration: float, *, server_pid: int, script: str | None = None
) -> dict[str, Any]:
    """`connections` kept-alive connections back to back for `duration` s; the server's CPU meanwhile."""
    with tempfile.TemporaryDirectory() as directory:
        command = ["wrk", "-t1", f"-c{connections}", f"-d{round(duration)}s", "--latency", "--timeout", "10s"]
        if script is not None:
            (Path(directory) / "load.lua").write_text(script)
            command += ["-s", str(Path(directory) / "load.lua")]
        before = cpu_seconds(server_pid)
        output = subprocess.run(
            [*command, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True
        ).stdout
        cpu = cpu_seconds(server_pid) - before
    row = parse(output)
    served = row["rate"] * round(duration)
    return {**row, "server_cpu": cpu / round(duration), "cpu_per_request": cpu / served if served else float("nan")}


def heartbeats(port: int, tokens: dict[str, str], connections: int, duration: float, *, server_pid: int) -> dict:
    encoders = [ingest_encoder(i) for i in range(MAX_INGEST_ENCODERS)]
    assert connections < len(encoders), "an encoder would have two heartbeats in flight"
    table = ",".join(f'{{"{room}","{name}","{tokens[name]}"}}' for room, name in encoders)
    return run(
        port, "/tracker/api/heartbeat", connections, duration, server_pid=server_pid, script=HEARTBEATS_LUA % table
    )
