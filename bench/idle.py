"""What idle viewer sockets cost, second by second: `python -m bench.idle`.

One daphne, `--viewers` sockets opened as fast as the viewer processes can
(a herd, as at a keynote's start), then nothing sent for `--seconds`: the
daphne's CPU is printed for every second of that window, with its mean, its
spread and its worst second, so work that comes in waves (daphne's keepalive
pings, sent when a socket has been silent for --ping-interval seconds) shows
as what it is instead of hiding in, or dominating, a short window. With
`--profile DIR`, py-spy samples the daphne during the window.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import time
from pathlib import Path

from .cluster import Cluster
from .common import cpu_seconds, raise_open_files
from .fanout import VIEWER_PROCESSES, _touch, ws_target
from .profiler import sampled
from .viewers import viewer_process


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.idle", description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=2000)
    parser.add_argument("--seconds", type=int, default=45, help="the idle window, after every snapshot arrived")
    parser.add_argument("--runs", type=int, default=1, help="runs in a row, each on a fresh site")
    parser.add_argument("--profile", type=Path, metavar="DIR", help="sample the daphne with py-spy")
    args = parser.parse_args(argv)
    raise_open_files()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    means = []
    for run in range(1, args.runs + 1):
        held, per_second = idle_run(args.viewers, args.seconds, args.profile)
        means.append(statistics.fmean(per_second))
        print("CPU % of a core, each second: " + " ".join(f"{100 * c:.0f}" for c in per_second))
        print(
            f"run {run}: idle, {held:,} sockets, {args.seconds} s: mean {100 * means[-1]:.1f} %, "
            f"median {100 * statistics.median(per_second):.1f} %, worst second {100 * max(per_second):.1f} %, "
            f"stdev {100 * statistics.pstdev(per_second):.1f} %",
            flush=True,
        )
    print(
        f"idle, {args.viewers:,} sockets, {args.runs} runs of {args.seconds} s: means "
        + ", ".join(f"{100 * m:.1f}" for m in means)
        + f" % (spread {100 * min(means):.1f}-{100 * max(means):.1f} %, worst mean {100 * max(means):.1f} %); "
        f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    return 0


def idle_run(viewers: int, seconds: int, profile: Path | None) -> tuple[int, list[float]]:
    """One fresh site, `viewers` sockets opened, then the daphne's CPU each second of `seconds`."""
    ctx = multiprocessing.get_context("spawn")
    with Cluster() as cluster:
        [(port, daphne)] = cluster.add_daphnes(1)
        asyncio.run(_touch([ws_target(port)]))
        pipes, processes = [], []
        for _ in range(VIEWER_PROCESSES):
            parent, child = ctx.Pipe()
            process = ctx.Process(target=viewer_process, args=(child, [ws_target(port)]), daemon=True)
            process.start()
            pipes.append(parent)
            processes.append(process)
        started = time.monotonic()
        for pipe in pipes:
            pipe.send(("connect", viewers // VIEWER_PROCESSES))
        held = sum(pipe.recv()["held"] for pipe in pipes)
        print(f"{held:,} sockets open, each with its snapshot, in {time.monotonic() - started:.1f} s", flush=True)
        per_second = []
        with sampled(daphne.pid, profile, "idle", log=print):
            for _ in range(seconds):
                before = cpu_seconds(daphne.pid)
                time.sleep(1)
                per_second.append(cpu_seconds(daphne.pid) - before)
        for pipe in pipes:
            pipe.send(("stop",))
        for process in processes:
            process.join(10)
    return held, per_second


if __name__ == "__main__":
    raise SystemExit(main())
