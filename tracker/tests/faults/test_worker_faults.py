"""The worker killed outright, and stopped politely: its absence is visible,
and states resume correctly when it is back."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request

from conftest import ROOT, running, wait_for

from .conftest import Encoder, transitions


def warnings_of(url: str) -> dict:
    with urllib.request.urlopen(url + "/readyz", timeout=2) as response:
        return json.load(response).get("warnings", {})


def start_worker(site, logs) -> subprocess.Popen:
    log = (logs / "worker-again.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "worker"], cwd=ROOT, env=site.env, stdout=log, stderr=subprocess.STDOUT
    )
    log.close()
    site.processes.append(process)  # stopped with the site
    return process


def test_worker_killed_is_visible_and_states_resume_when_it_returns(fault_env, own_redis, receiver, tmp_path):
    with running(fault_env, tmp_path) as site:
        alive, dying = site.add_encoder("example", "cam-1"), site.add_encoder("example", "cam-2")
        with Encoder(site.url, alive, name="cam-1", interval=2, every=1):
            with Encoder(site.url, dying, name="cam-2", interval=2, every=1):
                wait_for(lambda: len(transitions(own_redis.url)) == 2, timeout=10, what="both up")
                wait_for(lambda: not warnings_of(site.url), timeout=10, what="the worker seen")
            site.processes[1].kill()  # cam-2 stopped too: nobody is left to notice
            killed = time.monotonic()
            wait_for(lambda: "worker" in warnings_of(site.url), timeout=20, what="the worker reported missing")
            noticed_in = time.monotonic() - killed
            unjudged = transitions(own_redis.url)

            start_worker(site, tmp_path)
            restarted = time.monotonic()
            wait_for(lambda: ("cam-2", "late", "down") in transitions(own_redis.url), timeout=20, what="cam-2 down")
            judged_in = time.monotonic() - restarted
            wait_for(lambda: receiver.received, timeout=10, what="cam-2's alert")
            wait_for(lambda: not warnings_of(site.url), timeout=10, what="the worker back")
            time.sleep(3)  # room for a wrong alert about cam-1
    print(f"\nworker killed: reported missing after {noticed_in:.1f} s; cam-2 judged {judged_in:.1f} s after restart")

    assert sorted(unjudged) == [("cam-1", None, "up"), ("cam-2", None, "up")]  # no worker, no judging
    assert [t for t in transitions(own_redis.url) if t[0] == "cam-1"] == [("cam-1", None, "up")]
    assert [t for t in transitions(own_redis.url) if t[0] == "cam-2"][1:] == [
        ("cam-2", "up", "late"),
        ("cam-2", "late", "down"),
    ]
    assert [(a["name"], a["new"]) for a in receiver.received] == [("cam-2", "down")]
    assert noticed_in < 15 and judged_in < 10


def test_worker_stops_cleanly_on_sigterm(fault_env, tmp_path):
    with running(fault_env, tmp_path) as site:
        worker = site.processes[1]
        wait_for(lambda: not warnings_of(site.url), timeout=10, what="the worker running")
        worker.send_signal(signal.SIGTERM)
        asked = time.monotonic()
        code = worker.wait(timeout=15)
        stopped_in = time.monotonic() - asked
    log = next(tmp_path.glob("*-1.log")).read_text()

    assert code == 0
    assert stopped_in < 3
    assert "worker stopping: finishing the current steps" in log and "worker stopped\n" in log
    assert "Traceback" not in log
