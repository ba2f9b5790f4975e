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
    under CI's load) or when the server still does not show it a while after it started (a
    connect left hanging: ffmpeg has no timeout of its own).
    """

    command: list[str]
    log: IO[str]
    shown: Callable[[], bool]  # whether the server lists this source
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

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None


def answered(check: Callable[[], bool]) -> bool:
    """The check's answer, or False when the server did not answer it."""
    try:
        return check()
    except OSError:
        return False


def wait_until_listed(
    server: subprocess.Popen,
    feeds: list[Feed],
    listed: Callable[[], bool],
    *,
    log_path: Path,
    log: IO[str],
    what: str,
    noise: str = "",
) -> None:
    """Until the server lists what `listed` looks for, keeping the feeds going; a timeout's error
    says whether the server still runs and ends with the log's last lines (without those
    containing `noise`: the wait's own requests)."""

    def fed() -> bool:
        if answered(listed):
            return True
        for one in feeds:
            one.keep_going()
        return False

    try:
        wait_for(fed, timeout=30, what=what)
    except TimeoutError as error:
        log.flush()
        state = "still running" if server.poll() is None else f"exited with {server.returncode}"
        lines = [line for line in log_path.read_text().splitlines() if not noise or noise not in line]
        raise TimeoutError(
            f"{error}; the server {state}; its and the sources' log:\n" + "\n".join(lines[-40:])
        ) from None
