"""Real media sources for the agent's tests against real servers (Icecast, nginx-rtmp): ffmpeg
processes kept going as a source client keeps going, and a wait whose timeout carries the
servers' and sources' log, so a CI run that meets one says why.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from testing.processes import wait_for


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class Feed:
    """One ffmpeg source, started again when it exits (it gives up on a refused connect, seen
    under CI's load) or when it is still not listed a while after it started (a connect left
    hanging: ffmpeg has no timeout of its own).
    """

    command: list[str]
    log: IO[str]
    process: subprocess.Popen | None = None
    started: float = 0.0

    STUCK_SECONDS = 5.0

    def keep_going(self) -> None:
        if self.process is not None:
            if self.process.poll() is None and time.monotonic() - self.started < self.STUCK_SECONDS:
                return
            stop(self.process)
        self.process = subprocess.Popen(self.command, stdout=self.log, stderr=subprocess.STDOUT)
        self.started = time.monotonic()

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None


def wait_until_listed(
    feeds: list[Feed], listed: Callable[[], bool], *, log_path: Path, log: IO[str], what: str, noise: str = ""
) -> None:
    """Until the server lists what `listed` looks for, keeping the feeds going; a timeout's error
    ends with the log's last lines (without those containing `noise`: the wait's own requests)."""

    def fed() -> bool:
        if listed():
            return True
        for one in feeds:
            one.keep_going()
        return False

    try:
        wait_for(fed, timeout=30, what=what)
    except TimeoutError as error:
        log.flush()
        lines = [line for line in log_path.read_text().splitlines() if not noise or noise not in line]
        raise TimeoutError(f"{error}; the servers' and sources' log:\n" + "\n".join(lines[-40:])) from None
