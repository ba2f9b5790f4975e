"""One Markdown table for the whole run, printed and appended to docs/performance.md."""

from __future__ import annotations

import datetime
import math
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from . import pages
from .common import ms

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"


def git_revision() -> str:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "--no-optional-locks", *args], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()

    try:
        rev = git("rev-parse", "--short", "HEAD") or "unknown"
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return rev + (" + uncommitted changes" if dirty else "")


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} CPU ({model or platform.machine()}), {mem:.0f} GB RAM, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}"
    )


def cpu(r: dict[str, Any]) -> str:
    """The server's CPU during a load run, and per answered request."""
    return f"daphne CPU {r['server_cpu'] * 100:.0f} %, {r['cpu_per_request'] * 1000:.2f} ms per request"


def verdict(ok: bool | None) -> str:
    return "-" if ok is None else ("met" if ok else "**missed**")


def keynote_rows(k: dict[str, Any] | None, raw_p99: dict[int, float]) -> list[tuple[str, str, str, str]]:
    if not k:
        return []
    head = f"6. keynote, N = {k['n']:,} over {len(k['processes'])} daphnes, {k['seconds']:.0f} s"
    processes = k["processes"]
    base = raw_p99.get(k["n"])
    ratio = k["p99"] / base if base and not math.isnan(k["p99"]) else None
    return [
        (
            f"{head}: CPU per process",
            ", ".join(f"{p['cpu'] * 100:.0f} %" for p in processes)
            + f" of a core; the encoders' and operators' process {k['control_cpu'] * 100:.0f} %"
            + f" ({k['joined']:,} joined and as many left, {k['connect_failed']} connects failed; "
            f"{k['heartbeats']['sent']:,} heartbeats, {k['heartbeats']['refused']} refused)",
            "< 50 % of a core per process",
            verdict(all(p["cpu"] < 0.5 for p in processes)),
        ),
        (
            f"{head}: messages per viewer",
            f"{k['messages_per_viewer_s']:.2f} per second",
            "≤ 1 per second",
            verdict(k["messages_per_viewer_s"] <= 1),
        ),
        (
            f"{head}: memory per socket",
            ", ".join(f"{p['rss_idle'] / 1024:.1f} KB" for p in processes)
            + " after connecting; "
            + ", ".join(f"{p['rss_end'] / 1024:.1f} KB" for p in processes)
            + " after the churn",
            "≤ 20 KB per socket",
            verdict(all(p["rss_idle"] <= 20 * 1024 for p in processes)),
        ),
        (
            f"{head}: live/offline change to every viewer",
            f"p50 {ms(k['p50'])} / p99 {ms(k['p99'])} / max {ms(k['max'])} ms over {k['changes']} changes, "
            f"lost {k['lost']}" + (f", p99 = {ratio:.1f}x raw fan-out at the same N" if ratio is not None else ""),
            "p99 ≤ 2x raw",
            verdict(k["lost"] == 0 and ratio <= 2) if ratio is not None else "- (no raw row at this N)",
        ),
        (
            f"{head}: heartbeat to operator screen meanwhile",
            f"p50 {ms(k['operator_p50'])} / p99 {ms(k['operator_p99'])} ms over {k['operator_samples']} samples, "
            f"lost {k['operator_lost']}",
            "p99 ≤ 50 ms",
            verdict(k["operator_lost"] == 0 and k["operator_p99"] <= 0.050),
        ),
    ]


def build(results: dict[str, Any], *, mode: str, elapsed: float, load_before: str) -> str:
    rows: list[tuple[str, str, str, str]] = []
    for r in results.get("ingest", []):
        target = r["concurrency"] > 1
        rows.append(
            (
                f"1. HTTP heartbeats, {r['label']}, {r['concurrency']} encoder{'s' if r['concurrency'] > 1 else ''}",
                f"{r['rate']:,.0f}/s, p50 {ms(r['p50'])} ms, p99 {ms(r['p99'])} ms; {cpu(r)}"
                + (f", {r['bad']} failed" if r["bad"] else ""),
                "≥ 1,000/s per process" if target else "(latency bound)",
                verdict(r["rate"] >= 1000 and not r["bad"]) if target else "-",
            )
        )
    fanout = results.get("fanout", [])
    # The limit at each N: one raw server, or two where only two were run (one cannot hold N).
    raw_p99 = {r["n"]: r["p99"] for r in fanout if r["variant"] == "raw x2"}
    raw_p99 |= {r["n"]: r["p99"] for r in fanout if r["variant"] == "raw"}
    for r in fanout:
        is_raw = r["variant"].startswith("raw")
        base = raw_p99.get(r["n"])
        ratio = r["p99"] / base if base and not is_raw and not math.isnan(r["p99"]) else None
        target_applies = not is_raw and r["n"] >= 5000
        ok = r["lost"] == 0 and ratio is not None and ratio <= 2 if target_applies else None
        rows.append(
            (
                f"2. fan-out, {r['variant']}, N = {r['n']:,}",
                f"p50 {ms(r['p50'])} / p99 {ms(r['p99'])} / max {ms(r['max'])} ms, lost {r['lost']} of "
                f"{r['held'] * r['rounds']:,}"
                + (f", p99 = {ratio:.1f}x raw" if ratio is not None else "")
                + (
                    f"; CPU per delivery: server {r['server_us']:.0f} µs, viewers {r['viewer_us']:.0f} µs"
                    if "server_us" in r
                    else ""
                )
                + (f", {r['connect_failed']} connects failed" if r["connect_failed"] else ""),
                "lost 0, p99 ≤ 2x raw (≈ 250 ms at 5,000)" if not is_raw else "(the limit)",
                verdict(ok) if target_applies else ("-" if is_raw else verdict(r["lost"] == 0) + " (lost 0)"),
            )
        )
    screen = results.get("screen")
    if screen:
        rows.append(
            (
                "3. heartbeat → operator socket /ws/ops/",
                f"p50 {ms(screen['p50'])} / p99 {ms(screen['p99'])} ms over {screen['samples']} samples, "
                f"lost {screen['lost']}",
                "p50 ≤ 20 ms",
                verdict(screen["p50"] <= 0.020 and screen["lost"] == 0),
            )
        )
    biggest: dict[str, dict] = {}
    for r in fanout:
        if r["n"] >= biggest.get(r["variant"], {"n": 0})["n"]:
            biggest[r["variant"]] = r
    for variant, r in biggest.items():
        is_site = not variant.startswith("raw")
        rows.append(
            (
                f"4. idle viewers, {variant}, N = {r['held']:,}",
                f"{r['rss_per_socket'] / 1024:.1f} KB resident per socket, "
                f"idle CPU {r['idle_cpu'] * 100:.1f} % of a core",
                "≤ 20 KB per socket" if is_site else "(the limit)",
                verdict(r["rss_per_socket"] <= 20 * 1024) if is_site else "-",
            )
        )
    for variant, r in biggest.items():
        if not variant.startswith("raw") and r["n"] >= 10000:
            rows.append(
                (
                    f"4. 10,000 viewers held, {variant}",
                    f"{r['held']:,} held, {r['connect_failed']} connects failed, {r['connects_per_s']:,.0f} connects/s",
                    "10,000 held",
                    verdict(r["held"] >= 10000 and not r["connect_failed"]),
                )
            )
    rows += keynote_rows(results.get("keynote"), raw_p99)
    for r in results.get("pages", []):
        if r["label"] == pages.BARE:
            rows.append(
                (
                    f"5. {r['label']}, from wrk, 1 client",
                    f"{r['rate']:,.0f}/s, p50 {ms(r['p50'])} ms, p99 {ms(r['p99'])} ms "
                    f"(p99 {r['p99'] / r['p50']:.1f}x p50); its CPU {r['server_cpu'] * 100:.0f} %, "
                    f"{r['cpu_per_request'] * 1e6:.0f} µs per request",
                    "(the limit)",
                    "-",
                )
            )
            continue
        is_page = r["label"] == "room page"
        single = r["concurrency"] == 1
        rows.append(
            (
                f"5. {r['label']} GET {r['path']}, {r['concurrency']} clients, {r['records']:,} records on the site",
                f"{r['rate']:,.0f}/s, p50 {ms(r['p50'])} ms, p99 {ms(r['p99'])} ms"
                + (f" (p99 {r['p99'] / r['p50']:.1f}x p50)" if single else "")
                + f"; {cpu(r)}"
                + (f", {r['bad']} failed" if r["bad"] else ""),
                "p99 ≤ 3x p50" if single else ("≥ 1,000/s" if is_page else "-"),
                verdict(r["p99"] <= 3 * r["p50"] and not r["bad"])
                if single
                else (verdict(r["rate"] >= 1000 and not r["bad"]) if is_page else "-"),
            )
        )
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"### {now} — `python -m bench{' --full' if mode == 'full' else ''}` ({mode} mode, {elapsed:.0f} s)",
        "",
        f"Machine: {machine()}. Git revision: {git_revision()}. Load before the run: {load_before}.",
        "",
        "| scenario | measured | target | verdict |",
        "|---|---|---|---|",
        *(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows),
        "",
    ]
    return "\n".join(lines)


def load_average() -> str:
    """The machine's 1, 5 and 15 minute load averages (figures from a shared machine need them beside them)."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def append(text: str) -> None:
    with DOC.open("a") as f:
        f.write("\n" + text)
