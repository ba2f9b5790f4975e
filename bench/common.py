"""Small helpers shared by the scenarios: ports, statistics, /proc readings."""

from __future__ import annotations

import contextlib
import math
import os
import resource
import socket
import time
from collections.abc import Callable, Sequence
from typing import Any, Self

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def raise_open_files() -> int:
    """Raise the soft open-file limit to the hard one; returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # not up yet
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{what} not ready after {timeout} s")


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of unsorted values; nan when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def rss_bytes(pid: int) -> int:
    """Resident set size of a process (from /proc/<pid>/statm)."""
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE_SIZE


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def ms(seconds: float) -> str:
    if math.isnan(seconds):
        return "-"
    value = seconds * 1000
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


class Started:
    """A context manager that starts in `_start()` and is closed by `close()` on leaving,
    and at once should starting fail halfway (close must cope with a partial start)."""

    def _start(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Children:
    """Load generators in processes of their own, each reached by a pipe; `stop()` asks each to
    stop and kills what has not within 15 s."""

    def __init__(self, ctx: Any, scenario: str) -> None:
        self.ctx, self.scenario = ctx, scenario
        self.children: list[tuple[Any, Any]] = []

    def start(self, target: Any, *args: Any) -> Any:
        parent, child = self.ctx.Pipe()
        process = self.ctx.Process(target=target, args=(child, *args), daemon=True)
        process.start()
        self.children.append((parent, process))
        return parent

    def ask(self, pipe: Any, command: tuple, timeout: float) -> Any:
        pipe.send(command)
        if not pipe.poll(timeout):
            raise TimeoutError(f"{self.scenario}: no answer to {command[0]} within {timeout} s")
        return pipe.recv()

    def stop(self) -> None:
        for pipe, _ in self.children:
            with contextlib.suppress(OSError):
                pipe.send(("stop",))
        for _, process in self.children:
            process.join(15)
            if process.is_alive():
                process.kill()
                process.join()
