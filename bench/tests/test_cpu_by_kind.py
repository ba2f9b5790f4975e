"""bench.cpu_by_kind: processes sorted by what they are, and a run that stops when told."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from bench.cpu_by_kind import kind
from testing.processes import ROOT


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/usr/lib/chromium/chromium --type=renderer --lang=en-US", "chromium renderer"),
        (
            "/usr/lib/chromium/chromium --type=utility --utility-sub-type=network.mojom.NetworkService",
            "chromium network.mojom.NetworkService",
        ),
        ("/usr/lib/chromium/chromium --headless --remote-debugging-pipe", "chromium browser"),
        ("/x/.venv/bin/python -m daphne -b 127.0.0.1 -p 4100 project.asgi:application", "daphne"),
        ("/x/.venv/bin/python manage.py worker", "worker"),
        ("/x/.venv/bin/python manage.py migrate --noinput", "management commands"),
        ("/x/.venv/bin/redis-server 127.0.0.1:6400", "redis-server"),
        ("bash", "other"),
    ],
)
def test_a_process_is_counted_under_what_it_is(command: str, expected: str):
    assert kind(command) == expected


def test_a_run_prints_the_cpu_by_kind_when_stopped():
    sampler = subprocess.Popen([sys.executable, "-m", "bench.cpu_by_kind"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    time.sleep(1.5)
    sampler.send_signal(signal.SIGTERM)
    out, _ = sampler.communicate(timeout=10)

    assert out.startswith("CPU by kind of process over ")
    assert sampler.returncode == 0
