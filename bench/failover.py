"""A Redis failover mid-keynote: `python -m bench.failover --viewers 1000`.

A primary, a replica and three Sentinels (real redis-server processes on
loopback, bench/cluster.py), the site following the Sentinels' master. The
keynote's encoders heartbeat every 5 s, `--viewers` sockets watch their
rooms (bench/crowd.py, churning 1 %/s), and a probe encoder posts a
heartbeat every 0.1 s. Then the primary is killed (SIGKILL), or with
`--loss freeze` frozen (SIGSTOP: its connections stay open and silent, as
when its host dies or the link is cut; nothing resets them). Measured:
  * promotion: from the kill until the Sentinels name the replica;
  * heartbeats accepted again: from the promotion until the probe's first
    200 (limit 5 s);
  * false alarms: transitions out of `up` in the room logs since the kill
    (an encoder judged late or down because of our own outage; the only way
    a room goes offline for its viewers);
  * fresh state: a stream change sent once heartbeats are accepted again,
    from the moment before its heartbeat until every viewer has it (limit
    2 s), and the viewers that never got it.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import multiprocessing
import os
import signal
import threading
import time
import uuid

import redis

from .cluster import SENTINEL_MASTER, Cluster
from .common import Children, percentile, raise_open_files, wait_for
from .crowd import crowd_process
from .encoders import encoders_process
from .fanout import _touch, ws_target
from .httpclient import heartbeat_body, heartbeat_headers
from .keynote import CHURN_PER_SECOND, FLAPPING_CAMERA, FLAPPING_ROOM, HEARTBEAT_SECONDS, encoder_plan

PROBE_SECONDS = 0.1
# How the primary is lost: crashed (its connections reset) or frozen (they stay open and silent).
LOSSES = {"kill": signal.SIGKILL, "freeze": signal.SIGSTOP}


class Probe(threading.Thread):
    """The screen encoder posting a heartbeat every 0.1 s; keeps (time, status) of each answer (0: no answer)."""

    def __init__(self, port: int, token: str) -> None:
        super().__init__(daemon=True)
        self.port, self.headers = port, heartbeat_headers(token)
        self.answers: list[tuple[float, int]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        count = 0
        while not self.stopping.is_set():
            count += 1
            body = heartbeat_body("screen", "screen-1", count, "https://cdn.example/screen/probe.m3u8")
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=3)
            try:
                conn.request("POST", "/tracker/api/heartbeat", body=body, headers=self.headers)
                status = conn.getresponse().status
            except OSError:
                status = 0
            finally:
                conn.close()
            self.answers.append((time.monotonic(), status))
            self.stopping.wait(PROBE_SECONDS)


def master_port(sentinel_port: int) -> int | None:
    with redis.Redis(port=sentinel_port, socket_timeout=1) as client:
        address = client.sentinel_get_master_addr_by_name(SENTINEL_MASTER)
    return int(address[1]) if address else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.failover", description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=1000)
    parser.add_argument("--daphnes", type=int, default=2)
    parser.add_argument("--loss", choices=LOSSES, default="kill", help="how the primary is lost")
    args = parser.parse_args(argv)
    raise_open_files()
    ctx = multiprocessing.get_context("spawn")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    children = Children(ctx, "failover")
    start = children.start
    ask = children.ask

    with Cluster(sentinels=True) as cluster:
        used = cluster.add_daphnes(args.daphnes)
        ports = [port for port, _ in used]
        targets = [ws_target(port) for port in ports]
        asyncio.run(_touch(targets))
        primary = int(cluster.redis_url.rsplit(":", 1)[1].split("/")[0])
        primary_process = next(process for name, process in cluster.processes if name == "redis")
        try:
            encoders = start(encoders_process, encoder_plan(cluster, ports), HEARTBEAT_SECONDS)
            time.sleep(HEARTBEAT_SECONDS + 1)
            crowds = [start(crowd_process, targets[i:] + targets[:i]) for i in range(2)]
            for pipe in crowds:
                pipe.send(("connect", args.viewers // 2))
            held = 0
            for pipe in crowds:
                if not pipe.poll(120 + args.viewers / 50):
                    raise TimeoutError("failover: connecting the viewers took too long")
                held += sum(pipe.recv()["held"].values())
            for pipe in crowds:
                ask(pipe, ("start", CHURN_PER_SECOND), 10)
            probe = Probe(ports[0], cluster.tokens["screen-1"])
            probe.start()
            time.sleep(3)
            print(f"{held:,} viewers held; the primary (port {primary}) {args.loss}", flush=True)
            killed_at, killed_wall = time.monotonic(), time.time()
            primary_process.send_signal(LOSSES[args.loss])
            wait_for(
                lambda: master_port(cluster.sentinel_ports[0]) not in (None, primary),
                timeout=60,
                what="the Sentinels promoting the replica",
            )
            promoted_at = time.monotonic()
            wait_for(
                lambda: any(t > promoted_at and status == 200 for t, status in probe.answers),
                timeout=60,
                what="a heartbeat accepted after the promotion",
            )
            accepted_at = next(t for t, status in probe.answers if t > promoted_at and status == 200)
            refused = sum(1 for t, status in probe.answers if t > killed_at and status != 200)
            marker = f"after-{uuid.uuid4().hex[:12]}"
            for pipe in crowds:
                ask(pipe, ("arm", [f'"name": "{FLAPPING_ROOM}"', marker]), 10)
            t0 = ask(encoders, ("change", FLAPPING_CAMERA, f"https://cdn.example/{FLAPPING_ROOM}/{marker}.m3u8"), 30)
            answers = [ask(pipe, ("collect", 10), 40) for pipe in crowds]
            fresh = [arrival - t0 for answer in answers for arrival in answer["arrivals"]]
            missing = sum(answer["missing"] for answer in answers)
            time.sleep(HEARTBEAT_SECONDS * 2)  # let a sweeper that judged anyone write it down
            probe.stopping.set()
            new_master = master_port(cluster.sentinel_ports[0])
            with redis.Redis(port=new_master, decode_responses=True) as client:
                since = f"{int(killed_wall * 1000)}-0"
                transitions = [
                    json.loads(fields["transition"])
                    for key in client.scan_iter("bench:log:*")
                    for _, fields in client.xrange(key, min=since)
                    if "transition" in fields
                ]
            alarms = [t for t in transitions if t.get("old") == "up" and t.get("new") != "up"]
            beats = ask(encoders, ("stop",), 10)
        finally:
            children.stop()
            primary_process.kill()  # a frozen one would hold the cluster's stop
    print(
        f"failover ({args.loss}), {held:,} viewers on {args.daphnes} daphne(s): promoted "
        f"{promoted_at - killed_at:.1f} s after the {args.loss}; "
        f"heartbeats accepted again {accepted_at - promoted_at:.2f} s after the promotion "
        f"({refused} probe heartbeats refused meanwhile; fleet: {beats['sent']} sent, {beats['refused']} refused); "
        f"false alarms {len(alarms)} {[(a.get('room'), a.get('name'), a.get('new')) for a in alarms][:5]}; "
        f"fresh state: p50 {percentile(fresh, 50):.3f} s, p99 {percentile(fresh, 99):.3f} s, "
        f"max {max(fresh, default=float('nan')):.3f} s, {missing} viewers never got it; "
        f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
