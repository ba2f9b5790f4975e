"""Run the benchmarks: `python -m bench` (quick, under two minutes) or `--full`.

Starts redis-server, two daphne processes and the worker on loopback, runs
every scenario with load generators in their own processes, prints one table
and appends it to docs/performance.md (unless --no-record).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import time
import urllib.request
from pathlib import Path

from . import fanout, ingest, keynote, pages, report, screen
from .cluster import Cluster
from .common import raise_open_files, wait_for
from .httpclient import heartbeat_body, heartbeat_headers
from .profiler import sampled

MODES = {
    "quick": {
        "ingest_levels": [1, 8, 32],
        "ingest_warmup": 0.5,
        "ingest_seconds": 2.0,
        "page_levels": [1, 8],
        "page_seconds": 2.0,
        "site_sizes": [10, 1000],
        "screen_samples": 100,
        "fanout_steps": [100, 1000],
        "rounds": 3,
        "round_timeout": 10.0,
        "idle_seconds": 2.0,
        "keynote_viewers": 1000,
        "keynote_seconds": 30.0,
    },
    "full": {
        "ingest_levels": [1, 8, 32],
        "ingest_warmup": 1.0,
        "ingest_seconds": 5.0,
        "page_levels": [1, 8, 32],
        "page_seconds": 5.0,
        "site_sizes": [10, 1000],
        "screen_samples": 500,
        "fanout_steps": [100, 1000, 5000, 10000],
        "rounds": 5,
        "round_timeout": 30.0,
        "idle_seconds": 5.0,
        "keynote_viewers": 10000,
        "keynote_seconds": 60.0,
    },
}
SCENARIOS = ("ingest", "screen", "pages", "fanout", "keynote")
# "raw x2": two bare servers with the viewers split evenly, the limit where one
# cannot hold N (20,000 sockets and this machine's 20,000 files per process).
VARIANTS = ("raw", "raw x2", "daphne x1", "daphne x2")


def log(text: str) -> None:
    print(text, flush=True)


def seed_live_room(port: int, token: str) -> None:
    """Make the example room live, so the room page and stream selection have a stream."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/tracker/api/heartbeat",
        data=heartbeat_body("example", "example-cam", 12, "https://cdn.example/example/hd.m3u8"),
        headers=heartbeat_headers(token),
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the big numbers: 5,000 and 10,000 viewers, longer runs")
    parser.add_argument("--only", choices=SCENARIOS, action="append", help="run only these scenarios")
    parser.add_argument("--variants", choices=VARIANTS, action="append", help="fan-out variants (default: all)")
    parser.add_argument("--steps", type=lambda s: [int(x) for x in s.split(",")], help="fan-out N, e.g. 100,1000")
    parser.add_argument("--keynote-viewers", type=int, metavar="N", help="viewers in the keynote scenario")
    parser.add_argument("--no-record", action="store_true", help="do not append the table to docs/performance.md")
    parser.add_argument("--profile", type=Path, metavar="DIR", help="sample daphne 1 with py-spy per scenario")
    parser.add_argument(
        "--django-settings", metavar="MODULE", help="DJANGO_SETTINGS_MODULE for the site's processes (diagnostic runs)"
    )
    parser.add_argument(
        "--asgi",
        default="project.asgi:application",
        metavar="APP",
        help="the ASGI app daphne serves (diagnostics: bench.memory_trace:application)",
    )
    parser.add_argument("--keep-logs", action="store_true", help="keep the temp dir with process logs")
    args = parser.parse_args(argv)
    mode = "full" if args.full else "quick"
    settings = dict(MODES[mode])
    if args.steps:
        settings["fanout_steps"] = args.steps
    if args.keynote_viewers:
        settings["keynote_viewers"] = args.keynote_viewers
    scenarios = args.only or SCENARIOS
    variants = args.variants or VARIANTS
    limit = raise_open_files()
    # The most sockets one process holds: the raw fan-out server holds all of a
    # step's; the keynote's viewers are split over its daphnes and load processes.
    per_process = [0]
    if "fanout" in scenarios:
        whole = {"raw", "daphne x1"} & set(variants)  # one process holds a whole step; the x2 variants halve it
        split = 1 if whole else 2
        per_process += [-(-step // split) for step in settings["fanout_steps"]]
    if "keynote" in scenarios:
        per_process.append(-(-settings["keynote_viewers"] // min(keynote.DAPHNES, keynote.VIEWER_PROCESSES)))
    if limit < max(per_process) + 1000:
        log(f"open-file limit is {limit}: too low for {max(per_process):,} sockets in one process")
        return 2
    ctx = multiprocessing.get_context("spawn")
    started = time.monotonic()
    load_before = report.load_average()
    results: dict = {}
    log(f"bench ({mode} mode): starting redis, daphne and the worker on 127.0.0.1")
    with Cluster(keep_logs=args.keep_logs, settings_module=args.django_settings, asgi_app=args.asgi) as cluster:
        [(main_port, main_process)] = cluster.add_daphnes(1)
        main_pid = main_process.pid

        def profile(name: str):
            return sampled(main_pid, args.profile, name, log=log)

        asyncio.run(fanout._touch([fanout.ws_target(main_port)]))  # start daphne 1's live hub
        seed_live_room(main_port, cluster.tokens["example-cam"])
        if "ingest" in scenarios:
            log("1. heartbeat ingest")
            with profile("ingest"):
                results["ingest"] = ingest.run(
                    ctx,
                    port=main_port,
                    server_pid=main_pid,
                    tokens=cluster.tokens,
                    levels=settings["ingest_levels"],
                    warmup=settings["ingest_warmup"],
                    duration=settings["ingest_seconds"],
                    log=log,
                )
            cluster.check_alive()
        if "screen" in scenarios:
            log("3. heartbeat to screen")
            results["screen"] = screen.run(
                ctx,
                port=main_port,
                token=cluster.tokens["screen-1"],
                session=cluster.operator_session,
                samples=settings["screen_samples"],
                log=log,
            )
        if "pages" in scenarios:
            log("5. viewer pages")
            with profile("pages"):
                results["pages"] = pages.run(
                    ctx,
                    port=main_port,
                    redis_url=cluster.redis_url,
                    server_pid=main_pid,
                    levels=settings["page_levels"],
                    site_sizes=settings["site_sizes"],
                    warmup=settings["ingest_warmup"],
                    duration=settings["page_seconds"],
                    log=log,
                )
            cluster.check_alive()
        if "fanout" in scenarios:
            log("2 + 4. fan-out and idle viewers")
            common = dict(
                steps=settings["fanout_steps"],
                rounds=settings["rounds"],
                round_timeout=settings["round_timeout"],
                idle_seconds=settings["idle_seconds"],
                log=log,
            )
            rows = []
            for variant in variants:
                if variant.startswith("raw"):
                    # The POST goes to daphne 1, which holds no viewers now.
                    raws = [cluster.spawn_raw_server() for _ in range(2 if variant == "raw x2" else 1)]
                    for raw_port, _ in raws:
                        wait_for(
                            lambda port=raw_port: asyncio.run(fanout._touch([fanout.ws_target(port)])) is None,
                            timeout=20,
                            what="raw websockets server",
                        )
                    trigger = fanout.Trigger(main_port, cluster.tokens["fan-1"])
                    try:
                        rows += fanout.run_variant(
                            ctx,
                            name=variant,
                            targets=[fanout.ws_target(port) for port, _ in raws],
                            pids=[raw.pid for _, raw in raws],
                            trigger=trigger,
                            **common,
                        )
                    finally:
                        trigger.close()
                        for _, raw in raws:
                            cluster.stop(raw)
                else:
                    # Fresh processes, so the memory per socket is not hidden by
                    # a heap an earlier scenario grew; the POST goes to the first.
                    used = cluster.add_daphnes(1 if variant == "daphne x1" else 2)
                    trigger = fanout.Trigger(used[0][0], cluster.tokens["fan-1"])
                    try:
                        with sampled(used[0][1].pid, args.profile, "fanout-" + variant.replace(" ", ""), log=log):
                            rows += fanout.run_variant(
                                ctx,
                                name=variant,
                                targets=[fanout.ws_target(p) for p, _ in used],
                                pids=[proc.pid for _, proc in used],
                                trigger=trigger,
                                **common,
                            )
                    finally:
                        trigger.close()
                        for _, process in used:
                            cluster.stop(process)
                cluster.check_alive()
                time.sleep(1)
            results["fanout"] = rows
        if "keynote" in scenarios:
            log("6. keynote")
            results["keynote"] = keynote.run(
                ctx,
                cluster=cluster,
                n=settings["keynote_viewers"],
                duration=settings["keynote_seconds"],
                round_timeout=settings["round_timeout"],
                profile=lambda pid: sampled(pid, args.profile, "keynote", log=log),
                log=log,
            )
            cluster.check_alive()
    elapsed = time.monotonic() - started
    table = report.build(results, mode=mode, elapsed=elapsed, load_before=load_before)
    print()
    print(table)
    if not args.no_record:
        report.append(table)
        log(f"appended to {report.DOC.relative_to(report.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
