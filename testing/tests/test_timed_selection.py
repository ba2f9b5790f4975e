"""`make test`'s second run (`pytest -m timed`) imports only the files holding timed tests: none is lost."""

from __future__ import annotations

import subprocess
import sys

from testing.processes import ROOT


def collected(markexpr: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "-m", markexpr],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return sorted(line for line in result.stdout.splitlines() if "::" in line)


def test_the_timed_run_skipping_files_finds_every_timed_test():
    # "timed and timed" selects the same tests without the shortcut (conftest's pytest_ignore_collect).
    assert collected("timed") == collected("timed and timed") != []
