"""The worker killed outright, and stopped politely: its absence is visible,
and states resume correctly when it is back."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request

from testing.processes import ROOT, running, wait_for
from tracker.ops import alerts

from .clients import Encoder, transitions


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
            wait_for(lambda: receiver.encoders, timeout=10, what="cam-2's alert")
            wait_for(lambda: not warnings_of(site.url), timeout=10, what="the worker back")
            time.sleep(3)  # room for a wrong alert about cam-1
    print(f"\nworker killed: reported missing after {noticed_in:.1f} s; cam-2 judged {judged_in:.1f} s after restart")

    assert sorted(unjudged) == [("cam-1", None, "up"), ("cam-2", None, "up")]  # no worker, no judging
    assert [t for t in transitions(own_redis.url) if t[0] == "cam-1"] == [("cam-1", None, "up")]
    assert [t for t in transitions(own_redis.url) if t[0] == "cam-2"][1:] == [
        ("cam-2", "up", "late"),
        ("cam-2", "late", "down"),
    ]
    assert [(a["name"], a["new"]) for a in receiver.encoders] == [("cam-2", "down")]
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
    print(f"\nworker SIGTERM: stopped after {stopped_in:.2f} s")

    assert code == 0
    assert stopped_in < 3
    assert "worker stopping: finishing the current steps" in log and "worker stopped\n" in log
    assert "Traceback" not in log


def freeze_while_reading_alerts(worker: subprocess.Popen, redis_url: str) -> None:
    """SIGSTOP the worker while it waits in XREADGROUP: Redis hands it the next log entry, which it never handles."""
    import redis

    with redis.Redis.from_url(redis_url, decode_responses=True) as client:
        for _ in range(50):
            worker.send_signal(signal.SIGSTOP)
            if any(c["cmd"] == "xreadgroup" and "b" in c["flags"] for c in client.client_list()):
                return
            worker.send_signal(signal.SIGCONT)  # between two reads: try again
            time.sleep(0.05)
    raise AssertionError("the worker was never caught waiting for alerts")


def test_an_alert_a_killed_worker_had_read_is_sent_after_the_restart(fault_env, own_redis, receiver, tmp_path):
    import redis

    with running(fault_env, tmp_path) as site:
        token = site.add_encoder("example", "cam-1")
        encoder = Encoder(site.url, token, name="cam-1", interval=2, every=1)
        with encoder:
            wait_for(lambda: transitions(own_redis.url) == [("cam-1", None, "up")], timeout=10, what="cam-1 up")
        wait_for(lambda: receiver.encoders, timeout=15, what="cam-1's down alert")
        freeze_while_reading_alerts(site.processes[1], own_redis.url)
        encoder.beat()  # down -> up, written by the web process; the frozen worker is handed it
        with redis.Redis.from_url(own_redis.url) as client:
            wait_for(
                lambda: client.xpending("streaming:log:example", "alerts")["pending"] == 1,
                timeout=5,
                what="the recovery handed to the frozen worker",
            )
        site.processes[1].kill()
        killed = time.monotonic()
        start_worker(site, tmp_path)
        wait_for(lambda: len(receiver.encoders) == 2, timeout=30, what="cam-1's recovery alert")
        recovered_in = time.monotonic() - killed
        time.sleep(1)  # room for a duplicate
    print(f"\nalert read by a worker killed before handling it: sent {recovered_in:.1f} s after the kill")

    assert [(a["name"], a["new"]) for a in receiver.encoders] == [("cam-1", "down"), ("cam-1", "up")]
    assert recovered_in < alerts.CLAIM_IDLE_SECONDS + 5


def test_a_webhook_a_killed_worker_was_sending_is_sent_again_after_its_lease(fault_env, own_redis, receiver, tmp_path):
    with running(fault_env, tmp_path) as site:
        token = site.add_encoder("example", "cam-1")
        with Encoder(site.url, token, name="cam-1", interval=2, every=1):
            wait_for(lambda: transitions(own_redis.url) == [("cam-1", None, "up")], timeout=10, what="cam-1 up")
        receiver.hold.set()  # the down alert's POST is never answered...
        wait_for(lambda: receiver.arrivals, timeout=15, what="cam-1's down alert sent")
        site.processes[1].kill()  # ...its sender is killed mid-send
        killed = time.monotonic()
        receiver.hold.clear()
        start_worker(site, tmp_path)
        wait_for(lambda: receiver.encoders, timeout=30, what="the down alert sent again")
        resent_in = time.monotonic() - killed
        time.sleep(1)  # room for a third copy
    print(f"\nwebhook whose sender was killed mid-send: sent again {resent_in:.1f} s after the kill")

    (_, first), (_, again) = receiver.arrivals
    assert first == again and first["new"] == "down" and first["id"].startswith("example-")
    assert alerts.LEASE_SECONDS - 3 < resent_in < alerts.LEASE_SECONDS + 3
