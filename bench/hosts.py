"""Several machines behind nginx: `python -m bench.hosts --viewers 6000 [--hosts 3] [--loss kill|link]`.

Needs root and `ip netns`. Each host is a network namespace with its own
address on a bridge (bench/netns.py) running one daphne with the web
unit's flags on TCP at its address; one Redis and the worker run in the
root namespace, Redis on the bridge's address; nginx runs in the root
namespace on the shipped site turned into plain HTTP on loopback with the
hosts as its upstream (bench/shipped.py). Viewers (bench/viewers.py, split
over load processes) connect through nginx and each waits for its first
state.

Per-host cost, at 1, 2, ... `--hosts` hosts in turn (nginx's upstream
holding that many; the viewers connected afresh each time): each host's
daphne CPU while the viewers sit idle, per viewer, and while `--rate`
changes a second reach every viewer, per delivered message; both set
against the capacity model (docs/performance.md, "Several hosts").

Then, with every host in and every viewer connected, host 1 is lost:
`--loss kill` SIGKILLs its daphne (the kernel closes its connections, so
nginx closes its viewers' sockets at once); `--loss link` takes its link
down (nothing is closed: its viewers hear nothing, and find out as a
visible page does, by its ping every 1.25 s of quiet going unanswered for
1.5 s; the viewers ping only in this variant). A viewer whose socket
closes reconnects through nginx with the page's back-off. Measured: from
the loss until each of the lost host's viewers holds a fresh state again
(from another host: the lost one takes no connection), p50 / p99 / max and
how many never did; failed reconnect attempts and nginx's error log;
whether the other hosts' viewers were disturbed (none of theirs closed,
their hosts held at least as many sockets after), and a change after it
all reaching every viewer.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from typing import Any

from .cluster import Cluster
from .common import Children, cpu_seconds, free_port, percentile, raise_open_files
from .fanout import Trigger, _touch, ws_target
from .netns import Network
from .shipped import Nginx, unit_flags
from .viewers import viewer_process

VIEWERS_PER_PROCESS = 5000
# The capacity model's figures (docs/performance.md): server CPU per delivered message,
# one daphne of two at 10,000 viewers (issue 14's full run); an idle socket's CPU per
# second (target 4: 1.0 % of a core for 2,000 idle sockets, daphne's keepalive pings).
MODEL_DELIVERY_US = 20.0
MODEL_IDLE_US = 5.0
# A visible room page (frontend/static/frontend/live.js, tracker/static/tracker/feed.js):
# ping after 1.25 s without a message, drop the link when it goes unanswered 1.5 s.
PAGE_PING = (1.25, 1.5)
LOST = 1  # the host that is lost


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def sockets_on(net: Network, host: int, port: int, trigger: Trigger) -> int:
    """Established connections to host's daphne but the trigger's: nginx's, one per viewer socket."""
    mine = trigger.conn.sock.getsockname()[1] if trigger.conn.sock else 0
    result = subprocess.run(
        ["ss", "-N", net.namespace(host), "-Htn", "state", "established", f"( sport = :{port} and dport != :{mine} )"],
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    )
    return len(result.stdout.splitlines())


def listen_drops(net: Network, host: int) -> int:
    """Connections host's kernel dropped because a listen queue was full (TcpExt ListenDrops, its namespace)."""
    lines = subprocess.run(
        [*net.exec_prefix(host), "cat", "/proc/net/netstat"], capture_output=True, text=True, timeout=10, check=True
    ).stdout.splitlines()
    names, values = (line.split()[1:] for line in lines if line.startswith("TcpExt:"))
    return int(values[names.index("ListenDrops")])


class Crowd:
    """The viewer load processes, all connected through one URL, asked together."""

    def __init__(self, ctx, url: tuple[str, str], processes: int) -> None:
        self.children = Children(ctx, "hosts")
        self.pipes = [self.children.start(viewer_process, [url]) for _ in range(processes)]

    def ask(self, command: tuple, timeout: float) -> list[Any]:
        for pipe in self.pipes:
            pipe.send(command)
        answers = []
        for pipe in self.pipes:
            if not pipe.poll(timeout):
                raise TimeoutError(f"hosts: viewers did not answer {command[0]} within {timeout} s")
            answers.append(pipe.recv())
        return answers

    def connect(self, n: int) -> tuple[int, int, float]:
        share = [n // len(self.pipes) + (i < n % len(self.pipes)) for i in range(len(self.pipes))]
        for pipe, total in zip(self.pipes, share, strict=True):
            pipe.send(("connect", total))
        answers = []
        for pipe in self.pipes:
            if not pipe.poll(60 + n / 50):
                raise TimeoutError(f"hosts: connecting {n} viewers took too long")
            answers.append(pipe.recv())
        return (
            sum(a["held"] for a in answers),
            sum(a["failed"] for a in answers),
            max(a["seconds"] for a in answers),
        )

    def change(self, trigger: Trigger, timeout: float) -> tuple[list[float], int]:
        """One change of the fan-out room: (delivery times, viewers that did not get it)."""
        marker = f"mk-{uuid.uuid4().hex[:12]}"
        self.ask(("arm", marker), 10)
        t0 = trigger.fire(marker)
        answers = self.ask(("collect", timeout), timeout + 30)
        return [a - t0 for answer in answers for a in answer["arrivals"]], sum(a["missing"] for a in answers)

    def stop(self) -> None:
        self.children.stop()


def cost(
    crowd: Crowd,
    net: Network,
    daphnes: list[tuple[str, int, subprocess.Popen]],
    trigger: Trigger,
    *,
    idle: float,
    rate: float,
    seconds: float,
) -> dict[str, Any]:
    """Every host's daphne CPU (a share of one core) with the viewers connected now sitting idle, then
    while `rate` changes a second reach them; hosts outside nginx's upstream hold none (their CPU is
    a process's own, whatever it serves)."""
    time.sleep(2)  # the last snapshots written, the first counts sent
    held = [sockets_on(net, n, port, trigger) for n, (_, port, _) in enumerate(daphnes, 1)]
    pids = [process.pid for _, _, process in daphnes]
    cpu0, t0 = [cpu_seconds(pid) for pid in pids], time.monotonic()
    time.sleep(idle)
    window = time.monotonic() - t0
    idle_share = [(cpu_seconds(pid) - c) / window for pid, c in zip(pids, cpu0, strict=True)]
    cpu0, t0 = [cpu_seconds(pid) for pid in pids], time.monotonic()
    rounds, lost, latencies = 0, 0, []
    while time.monotonic() - t0 < seconds:
        start = time.monotonic()
        got, missing = crowd.change(trigger, 10)
        rounds, lost = rounds + 1, lost + missing
        latencies += got
        time.sleep(max(0.0, 1 / rate - (time.monotonic() - start)))
    window = time.monotonic() - t0
    stream_share = [(cpu_seconds(pid) - c) / window for pid, c in zip(pids, cpu0, strict=True)]
    return {
        "held": held,
        "idle_share": idle_share,
        "stream_share": stream_share,
        "rounds": rounds,
        "rate": rounds / window,
        "lost": lost,
        "p99": percentile(latencies, 99),
    }


def per_viewer(row: dict[str, Any], base: float) -> dict[str, list[float]]:
    """Of the hosts holding viewers: idle CPU per viewer-second above a process's own (`base`), and CPU per
    delivered message above the host's idle."""
    used = [i for i, h in enumerate(row["held"]) if h]
    return {
        "idle_us": [1e6 * (row["idle_share"][i] - base) / row["held"][i] for i in used],
        "delivery_us": [
            1e6 * (row["stream_share"][i] - row["idle_share"][i]) / (row["held"][i] * row["rate"]) for i in used
        ],
    }


def lose_a_host(
    crowd: Crowd,
    net: Network,
    daphnes: list[tuple[str, int, subprocess.Popen]],
    trigger: Trigger,
    nginx: Nginx,
    *,
    how: str,
    wait: float,
) -> dict[str, Any]:
    crowd.ask(("rejoin", PAGE_PING if how == "link" else None), 10)
    if how == "link":
        time.sleep(2 * PAGE_PING[0])  # the pings in their steady pace
    before = [sockets_on(net, n, port, trigger) for n, (_, port, _) in enumerate(daphnes, 1)]
    errors_before = len(nginx.errors())
    drops_before = [listen_drops(net, n) for n in range(1, len(daphnes) + 1)]
    expected = before[LOST - 1]
    print(
        f"  lose host {LOST} ({how}) holding {expected:,} of {sum(before):,} viewers; hosts held {before}", flush=True
    )
    lost_at = time.monotonic()
    if how == "kill":
        daphnes[LOST - 1][2].send_signal(signal.SIGKILL)
    else:
        net.cut(LOST)
    deadline = lost_at + wait
    while True:
        time.sleep(0.5)
        answers = crowd.ask(("rejoins",), 10)
        lost = [pair for answer in answers for pair in answer["lost"]]
        back = [b for _, b in lost if b is not None]
        if (len(lost) >= expected and len(back) == len(lost)) or time.monotonic() > deadline:
            break
    fresh = [b - lost_at for b in back]
    detected = [a - lost_at for a, _ in lost]
    after = [sockets_on(net, n, port, trigger) for n, (_, port, _) in enumerate(daphnes, 1) if n != LOST]
    got, missing = crowd.change(trigger, 10)
    kinds = Counter(classify(line) for line in nginx.errors()[errors_before:])
    drops = [listen_drops(net, n) - d for n, d in enumerate(drops_before, 1) if n != LOST]
    return {
        "how": how,
        "before": before,
        "expected": expected,
        "closed": len(lost),
        "restored": len(back),
        "never": max(0, expected - len(back)),
        "others_closed": max(0, len(lost) - expected),
        "detected_p50": percentile(detected, 50),
        "detected_max": max(detected, default=math.nan),
        "p50": percentile(fresh, 50),
        "p99": percentile(fresh, 99),
        "max": max(fresh, default=math.nan),
        "failed": sum(a["failed"] for a in answers),
        "others_before": [h for n, h in enumerate(before, 1) if n != LOST],
        "others_after": after,
        "change_got": len(got),
        "change_missing": missing,
        "nginx_errors": dict(kinds),
        "listen_drops": drops,
    }


def classify(line: str) -> str:
    for words, kind in (
        ("connect() failed", "connect failed"),
        ("timed out", "timed out"),
        ("prematurely closed", "upstream closed"),
        ("no live upstreams", "no live upstreams"),
        ("reset by peer", "reset by peer"),
    ):
        if words in line:
            return kind
    return "other"


def model_share(viewers: float, rate: float, base: float) -> float:
    """The model's share of a core for a host holding `viewers` while `rate` changes a second reach them all."""
    return base + viewers * (MODEL_IDLE_US + rate * MODEL_DELIVERY_US) / 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hosts", description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=500)
    parser.add_argument("--hosts", type=int, default=3)
    parser.add_argument(
        "--loss", choices=("kill", "link"), default="kill", help="SIGKILL host 1's daphne, or take its link down"
    )
    parser.add_argument("--idle", type=float, default=5.0, help="seconds of the idle window at each host count")
    parser.add_argument("--rate", type=float, default=2.0, help="changes a second in the stream window")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of the stream window at each host count")
    parser.add_argument("--wait", type=float, default=30.0, help="give up on the lost host's viewers after this long")
    parser.add_argument("--backlog", type=int, help="daphne's listen queue instead of the unit's (diagnosis)")
    parser.add_argument("--keep-logs", action="store_true", help="keep the temporary directory (logs, nginx's)")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        parser.error("needs root: the hosts are network namespaces (ip netns)")
    if args.hosts < 2:
        parser.error("--hosts: at least 2, one to lose and one to take its viewers")
    # SIGTERM ends the run through every finally: namespaces, nginx and processes go too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    raise_open_files()
    ctx = multiprocessing.get_context("spawn")
    print(f"load average before: {load()}", flush=True)
    processes = max(2, math.ceil(args.viewers / VIEWERS_PER_PROCESS))
    costs: list[dict[str, Any]] = []
    with Network(args.hosts) as net, Cluster(bind=net.gateway, keep_logs=args.keep_logs) as cluster:
        flags, listen = unit_flags()
        if args.backlog:
            listen = f"backlog={args.backlog}"
        daphnes = []
        for n in range(1, args.hosts + 1):
            address = net.address(n)
            [(port, process)] = cluster.add_daphnes(
                1, address=address, prefix=net.exec_prefix(n), flags=flags, listen=listen
            )
            daphnes.append((address, port, process))
        asyncio.run(_touch([ws_target(port, address) for address, port, _ in daphnes]))  # each hub starts
        print(
            f"  {args.hosts} hosts {', '.join(f'{a}:{p}' for a, p, _ in daphnes)} (daphne {' '.join(flags)}, "
            f"listen queue {listen or 'Twisted default 50'}), "
            f"Redis on {net.gateway}; {args.viewers:,} viewers in {processes} processes through nginx",
            flush=True,
        )
        # The changes go straight to the last host (never lost, it carries their heartbeats' cost), so
        # nginx holds no keep-alive connection to a host: a host's connections are its viewers' sockets.
        address, port, _ = daphnes[-1]
        trigger = Trigger(port, cluster.tokens["fan-1"], host=address)
        base = 0.0
        try:
            for used in range(1, args.hosts + 1):
                upstreams = [f"{a}:{p}" for a, p, _ in daphnes[:used]]
                listen = free_port()
                with Nginx(cluster.tmp / f"nginx-{used}", upstreams, listen, free_port()) as nginx:
                    crowd = Crowd(ctx, ws_target(listen), processes)
                    try:
                        held, failed, took = crowd.connect(args.viewers)
                        row = cost(crowd, net, daphnes, trigger, idle=args.idle, rate=args.rate, seconds=args.seconds)
                        if used == 1:  # the hosts outside the upstream: what a process costs holding nobody
                            base = sum(row["idle_share"][1:]) / (args.hosts - 1)
                        row.update(hosts=used, connected=held, connect_failed=failed, **per_viewer(row, base))
                        row["model"] = [model_share(h, row["rate"], base) for h in row["held"][:used]]
                        costs.append(row)
                        print(
                            f"  {used} host(s): {held:,} connected in {took:.1f} s ({failed} failed), per host "
                            f"{row['held'][:used]}; idle {fmt(row['idle_us'], '.1f')} us per viewer-second "
                            f"(above {100 * base:.1f} % of a core with none); {row['rounds']} changes at "
                            f"{row['rate']:.1f}/s: {fmt(row['delivery_us'], '.0f')} us per delivery, "
                            f"{fmt([100 * s for s in row['stream_share'][:used]], '.1f')} % of a core per host "
                            f"(model {fmt([100 * m for m in row['model']], '.1f')} %), "
                            f"p99 {row['p99'] * 1000:.0f} ms, lost {row['lost']}",
                            flush=True,
                        )
                        if used == args.hosts:
                            loss = lose_a_host(crowd, net, daphnes, trigger, nginx, how=args.loss, wait=args.wait)
                    finally:
                        crowd.stop()
        finally:
            trigger.close()
    print(result_line(args, costs, loss, base))
    return 0


def fmt(values: list[float], spec: str) -> str:
    return "/".join(format(v, spec) for v in values)


def result_line(args: argparse.Namespace, costs: list[dict[str, Any]], loss: dict[str, Any], base: float) -> str:
    how = "SIGKILL of its daphne" if loss["how"] == "kill" else "its link taken down (viewers pinging as pages do)"
    per_host = "; ".join(
        f"{c['hosts']}: {fmt(c['idle_us'], '.1f')} us per idle viewer-second, {fmt(c['delivery_us'], '.0f')} us "
        f"per delivery, {fmt([100 * s for s in c['stream_share'][: c['hosts']]], '.1f')} % of a core at "
        f"{c['rate']:.1f} changes/s (model {fmt([100 * m for m in c['model']], '.1f')} %)"
        for c in costs
    )
    return (
        f"hosts: {args.viewers:,} viewers through nginx over {args.hosts} hosts (namespaces, one Redis); host "
        f"{LOST} lost by {how} with {loss['expected']:,} viewers: {loss['restored']:,} held a fresh state from "
        f"another host p50 {loss['p50']:.2f} s, p99 {loss['p99']:.2f} s, max {loss['max']:.2f} s after the loss "
        f"(their sockets closed p50 {loss['detected_p50']:.2f} s, last {loss['detected_max']:.2f} s), "
        f"{loss['never']} never did; {loss['failed']} reconnect attempts failed; "
        f"nginx error log {loss['nginx_errors']}; the other hosts' kernels dropped {loss['listen_drops']} "
        f"connections for a full listen queue; other hosts' viewers: {loss['others_closed']} closed, "
        f"held {loss['others_before']} -> {loss['others_after']}; a change after it reached "
        f"{loss['change_got']:,} viewers, {loss['change_missing']} missed it. Per host at 1..{args.hosts} hosts "
        f"({per_host}; a process with no viewers {100 * base:.1f} %; model {MODEL_IDLE_US:g} us per idle "
        f"viewer-second and {MODEL_DELIVERY_US:g} us per delivery); load average after: {load()}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
