"""A host across a link the test can cut: a network namespace of the test's own, joined to this one by
a veth pair. For the faults that close nothing (a cable pulled, a host powered off): what is sent across
is neither answered nor refused, and no connection is reset, which no process on loopback can imitate
(a frozen one still has its TCP acknowledged by the kernel).

Needs root and iproute2 (`ip`); `unavailable()` says why not, for the test to skip with.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


def ip(*arguments: str) -> None:
    subprocess.run(["ip", *arguments], check=True, capture_output=True, timeout=10)


def unavailable() -> str | None:
    if shutil.which("ip") is None:
        return "needs iproute2's ip (apt-get install iproute2)"
    if os.geteuid() != 0:
        return "needs root to make a network namespace"
    return None


@dataclass(frozen=True)
class FarHost:
    name: str  # the namespace's, also its end of the link's
    address: str  # the far host's address, reached across the link

    @property
    def launcher(self) -> tuple[str, ...]:
        """What runs a command on the far host."""
        return ("ip", "netns", "exec", self.name)

    def cut(self) -> None:
        """The link goes down at the far end: packets to and from the host are dropped without a word."""
        ip("netns", "exec", self.name, "ip", "link", "set", self.name, "down")

    def mend(self) -> None:
        ip("netns", "exec", self.name, "ip", "link", "set", self.name, "up")


@contextmanager
def far_host() -> Iterator[FarHost]:
    """A namespace and a /30 link of its own: named and numbered from this process's id, so test
    workers and clones running at once never share one."""
    number = os.getpid() % 16384
    name, near = f"far{number}", f"near{number}"
    network, first = f"10.231.{number >> 6}.", (number & 63) << 2
    near_address, far_address = f"{network}{first + 1}", f"{network}{first + 2}"
    remove(name, near)  # left by a run that was killed, whose process had this id
    ip("netns", "add", name)
    try:
        ip("link", "add", near, "type", "veth", "peer", "name", name)
        ip("link", "set", name, "netns", name)
        ip("addr", "add", f"{near_address}/30", "dev", near)
        ip("link", "set", near, "up")
        ip("netns", "exec", name, "ip", "addr", "add", f"{far_address}/30", "dev", name)
        ip("netns", "exec", name, "ip", "link", "set", name, "up")
        yield FarHost(name=name, address=far_address)
    finally:
        remove(name, near)


def remove(name: str, near: str) -> None:
    subprocess.run(["ip", "link", "del", near], capture_output=True, timeout=10)  # its peer goes with it
    subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=10)
