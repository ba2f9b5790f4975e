"""Debian's Chromium for browser tests (never a browser download)."""

from __future__ import annotations

import os
import shutil

import pytest

# Chromium's own background traffic is refused on machines without internet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Debian's chromium is not installed; `make test` installs it when run as root")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    return path
