"""Where a machine's CPU goes, by kind of process: `python -m bench.cpu_by_kind`.

Samples every process's CPU time once a second until stopped (Ctrl-C or
SIGTERM), then prints the CPU each kind used meanwhile: Chromium by its
process type, the site's daphnes and workers, management commands, the
pytest workers, Redis. Run beside `make test` to see what its time is made
of; a process that starts and ends between two samples is missed.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections import Counter
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
KINDS = [  # (kind, what its command line holds), first match wins
    ("daphne", re.compile(r"-m daphne|/daphne ")),
    ("worker", re.compile(r"manage\.py worker")),
    ("management commands", re.compile(r"manage\.py")),
    ("pytest workers", re.compile(r"pytest|execnet|import sys;exec")),
    ("playwright driver", re.compile(r"playwright|node")),
]
NAMED = ("redis-server", "ffmpeg", "icecast", "nginx", "mypy", "ruff", "pip", "uv")


def kind(command: str) -> str:
    if "chrom" in command:
        process_type = re.search(r"--type=(\S+)", command)
        subtype = re.search(r"--utility-sub-type=(\S+)", command)
        return "chromium " + (subtype or process_type)[1] if process_type else "chromium browser"
    for name, pattern in KINDS:
        if pattern.search(command):
            return name
    return next((name for name in NAMED if name in command), "other")


def sample() -> dict[tuple[str, str], tuple[str, float]]:
    """(pid, start time) -> (kind, CPU seconds so far) for every process now."""
    seen = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # ended meanwhile
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        seen[entry.name, fields[19]] = (kind(command), (int(fields[11]) + int(fields[12])) / TICKS)
    return seen


def main() -> None:
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    first = sample()
    latest = dict(first)
    started = time.monotonic()
    try:
        while True:
            time.sleep(1)
            latest.update(sample())
    except KeyboardInterrupt:
        pass
    used: Counter[str] = Counter()
    for process, (name, cpu) in latest.items():
        used[name] += cpu - first.get(process, (name, 0.0))[1]
    print(f"CPU by kind of process over {time.monotonic() - started:.0f} s:")
    for name, cpu in used.most_common():
        if cpu >= 0.05:
            print(f"{cpu:8.1f} s  {name}")


if __name__ == "__main__":
    main()
