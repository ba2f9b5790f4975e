"""Connection churn through one process, compressed: `python -m bench.churn --minutes 5`.

A four-day event's churn is the keynote's 1 % of 5,000 viewers a second,
50 connections a second, for days. Here `--viewers` sockets (watching their
rooms, as bench/crowd.py's keynote audience) on one daphne are replaced at
`--churn` of them a second for `--minutes`, while the keynote's encoders
report; every 10 s the daphne's resident memory and Redis's key count are
sampled. Reported: connections that went through, failures, and the
memory of the last third of the samples against the first third (limit
1.02), with the key counts' range.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import time

import redis

from .cluster import Cluster
from .common import Children, raise_open_files, rss_bytes
from .crowd import crowd_process
from .encoders import encoders_process
from .fanout import _touch, ws_target
from .keynote import HEARTBEAT_SECONDS, encoder_plan

SAMPLE_SECONDS = 10


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.churn", description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=1000)
    parser.add_argument("--churn", type=float, default=0.05, help="share of the sockets replaced per second")
    parser.add_argument("--minutes", type=float, default=5)
    args = parser.parse_args(argv)
    raise_open_files()
    ctx = multiprocessing.get_context("spawn")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    children = Children(ctx, "churn")
    start = children.start

    with Cluster() as cluster:
        [(port, daphne)] = cluster.add_daphnes(1)
        asyncio.run(_touch([ws_target(port)]))
        try:
            encoders = start(encoders_process, encoder_plan(cluster, [port]), HEARTBEAT_SECONDS)
            crowd = start(crowd_process, [ws_target(port)])
            crowd.send(("connect", args.viewers))
            held = sum(crowd.recv()["held"].values())
            crowd.send(("start", args.churn))
            crowd.recv()
            memory, keys = [], []
            end = time.monotonic() + args.minutes * 60
            with redis.Redis.from_url(cluster.redis_url) as client:
                while time.monotonic() < end:
                    time.sleep(SAMPLE_SECONDS)
                    cluster.check_alive()
                    memory.append(rss_bytes(daphne.pid))
                    keys.append(client.dbsize())
                    if len(memory) % 6 == 0:  # a line a minute: a slow climb or a sawtooth shows as it happens
                        minute, megabytes = len(memory) // 6, memory[-1] / 2**20
                        print(f"  {minute} min: {megabytes:.1f} MB, {keys[-1]} Redis keys", flush=True)
            crowd.send(("stats",))
            stats = crowd.recv()
            encoders.send(("stop",))
            beats = encoders.recv()
        finally:
            children.stop()
    third = max(1, len(memory) // 3)
    first, last = statistics.fmean(memory[:third]), statistics.fmean(memory[-third:])
    print(
        f"churn: {held:,} viewers on one daphne, {args.churn * 100:g} %/s for {args.minutes:g} min: "
        f"{stats['joined']:,} joined and {stats['left']:,} left, {stats['failed']} failed; heartbeats "
        f"{beats['sent']} sent, {beats['refused']} refused; daphne memory last third / first third "
        f"{last / first:.3f} ({first / 2**20:.1f} -> {last / 2**20:.1f} MB, highest {max(memory) / 2**20:.1f}); "
        f"Redis keys {min(keys)}-{max(keys)}; "
        f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
