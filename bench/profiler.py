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


# Frames on nearly every stack (the event loop, the reactor) say nothing.
EVERYWHERE = 0.8


def summary(path: Path, name: str, top: int = 12) -> str:
    """Inclusive share of samples per function (each function counted once per
    stack), without the frames on nearly every stack; then the self time."""
    inclusive: Counter[str] = Counter()
    leaf: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        leaf[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    total = max(total, 1)
    lines = [f"  profile {name}: {total} samples -> {path}"]
    telling = [(frame, n) for frame, n in inclusive.most_common() if n < EVERYWHERE * total][:top]
    lines += [f"    {100 * n / total:5.1f} %  {frame}" for frame, n in telling]
    lines.append("    self time:")
    lines += [f"    {100 * n / total:5.1f} %  {frame}" for frame, n in leaf.most_common(top // 2)]
    return "\n".join(lines)
