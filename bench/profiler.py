"""Optional: sample daphne with py-spy while a scenario runs (`--profile DIR`).

Writes py-spy's collapsed stacks (one line per stack with its sample count)
and prints the functions that were on the stack most often, so a shortfall
comes with its cause. py-spy is a separate install: pip install py-spy.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path


@contextlib.contextmanager
def sampled(pid: int, out: Path | None, name: str, log=print):
    if out is None:
        yield
        return
    spy = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if spy is None:
        log("  (py-spy not found: pip install py-spy to profile)")
        yield
        return
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{name}.txt"
    process = subprocess.Popen(
        [
            spy,
            "record",
            "--pid",
            str(pid),
            "--format",
            "raw",
            "--rate",
            "200",
            "--output",
            str(target),
            "--nonblocking",
            "--gil",  # only the thread holding the GIL: where the CPU goes
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if target.exists():
            log(summary(target, name))


def summary(path: Path, name: str, top: int = 12) -> str:
    """Inclusive share of samples per function (each function counted once per stack)."""
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        for frame in set(stack.split(";")):
            inclusive[frame] += n
    lines = [f"  profile {name}: {total} samples -> {path}"]
    for frame, n in inclusive.most_common(top):
        lines.append(f"    {100 * n / max(total, 1):5.1f} %  {frame}")
    return "\n".join(lines)
