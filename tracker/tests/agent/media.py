"""Real media servers and sources for the agent's tests (Icecast, nginx-rtmp, ffmpeg), each kept
going as a supervisor keeps a service going, and a wait whose timeout carries their log, so a CI
run that meets one says why.

Why kept going: Debian's Icecast 2.4.4 dies of a segmentation fault in about one start in 75 here
(2 of 150 starts under load), at times just after answering its first status request: a CI run
failed so, its source refused and nothing answering after; ffmpeg gives up on a refused connect,
and waits for ever on a connect that is accepted and never answered (it has no timeout of its own).
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


def answered(check: Callable[[], bool]) -> bool:
    """The check's answer, or False when the server did not answer it."""
    try:
        return check()
    except OSError:
        return False


@dataclass
class Kept:
    """A server or a source, started again when it exits or when it is still not shown (the
    server not answering, the source not listed) a while after it started."""

    command: list[str]
    log: IO[str]
    shown: Callable[[], bool]
    process: subprocess.Popen | None = None
    started: float = 0.0

    STUCK_SECONDS = 5.0

    def keep_going(self) -> None:
        if self.process is not None:
            if self.process.poll() is None and (
                time.monotonic() - self.started < self.STUCK_SECONDS or answered(self.shown)
            ):
                return
            stop(self.process)
        self.process = subprocess.Popen(self.command, stdout=self.log, stderr=subprocess.STDOUT)
        self.started = time.monotonic()

    def state(self) -> str:
        if self.process is None:
            return "not running"
        return "running" if self.process.poll() is None else f"exited with {self.process.returncode}"

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None


def wait_until(ready: Callable[[], bool], kept: list[Kept], *, log_path: Path, what: str, noise: str = "") -> None:
    """Until `ready`, keeping the processes going (the server first); a timeout's error says how
    each process stands and ends with the log's last lines (without those containing `noise`:
    the wait's own requests)."""

    def done() -> bool:
        if answered(ready):
            return True
        for one in kept:
            one.keep_going()
        return False

    try:
        wait_for(done, timeout=30, what=what)
    except TimeoutError as error:
        for one in kept:
            one.log.flush()
        states = "; ".join(f"{Path(one.command[0]).name}: {one.state()}" for one in kept)
        lines = [line for line in log_path.read_text().splitlines() if not noise or noise not in line]
        raise TimeoutError(f"{error} ({states}); the log:\n" + "\n".join(lines[-40:])) from None
