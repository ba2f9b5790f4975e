"""Machines simulated as network namespaces on one bridge (Linux, as root).

`Network(3)` makes a bridge in the root namespace with the gateway address
10.200.S.1/24 and, per host n, a namespace `streaming-h<n>-<run>` whose
`eth0` (one end of a veth pair, the other end on the bridge) has
10.200.S.(10+n). The root namespace reaches every host through the bridge
and the hosts reach whatever listens on the gateway address (the bench's
Redis). `<run>` is this process's pid in hex, so a run never meets another
run's names; the /24 is one no interface of the machine has yet. Whatever
the run made is removed by `close()`, which `__exit__` and an atexit hook
both call (the second call does nothing); leftovers of a run that was
killed outright (its pid gone) are removed when the next one starts.
"""

from __future__ import annotations

import atexit
import contextlib
import ipaddress
import os
import re
import subprocess

from .common import Started

NAMESPACE = re.compile(r"^streaming-h(\d)-([0-9a-f]+)\b")
# Interface names have 15 characters at most: "sbr" + run, "sh" + host + run.
LINK = re.compile(r"^(?:sbr|sh\d)([0-9a-f]+)(?:@\S*)?$")
MAX_HOSTS = 9


def ip(*args: str, check: bool = True) -> str:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10)
    if check and result.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_leftovers() -> list[str]:
    """Remove the namespaces and links of earlier runs whose process is gone; returns their names."""
    removed = []
    for line in ip("netns", "list").splitlines():
        match = NAMESPACE.match(line)
        if match and not pid_alive(int(match[2], 16)):
            ip("netns", "del", line.split()[0], check=False)
            removed.append(line.split()[0])
    for line in ip("-o", "link", "show").splitlines():
        name = line.split(":")[1].strip()
        match = LINK.match(name)
        if match and not pid_alive(int(match[1], 16)):
            ip("link", "del", name.split("@")[0], check=False)
            removed.append(name.split("@")[0])
    return removed


def free_subnet() -> ipaddress.IPv4Network:
    """A /24 of 10.200.0.0/16 that no address or route of the machine touches."""
    used = [
        ipaddress.ip_interface(word).network
        for line in ip("-o", "-4", "addr", "show").splitlines()
        for word in line.split()[3:4]
    ]
    used += [ipaddress.ip_network(line.split()[0]) for line in ip("-4", "route").splitlines() if "/" in line.split()[0]]
    start = os.getpid() % 250
    for offset in range(250):
        subnet = ipaddress.ip_network(f"10.200.{(start + offset) % 250}.0/24")
        if not any(subnet.overlaps(other) for other in used):
            return subnet
    raise RuntimeError("no free /24 left in 10.200.0.0/16")


class Network(Started):
    def __init__(self, hosts: int) -> None:
        if not 1 <= hosts <= MAX_HOSTS:
            raise ValueError(f"1 to {MAX_HOSTS} hosts")
        self.hosts = hosts
        self.run = f"{os.getpid():x}"
        self.bridge = f"sbr{self.run}"
        self.made: list[tuple[str, str]] = []  # ("netns" | "link", name), in the order made
        self.subnet: ipaddress.IPv4Network | None = None

    # -- names and addresses ------------------------------------------------
    def namespace(self, n: int) -> str:
        return f"streaming-h{n}-{self.run}"

    def veth(self, n: int) -> str:
        """The root namespace's end of host n's link (on the bridge)."""
        return f"sh{n}{self.run}"

    @property
    def gateway(self) -> str:
        assert self.subnet is not None
        return str(self.subnet.network_address + 1)

    def address(self, n: int) -> str:
        assert self.subnet is not None
        return str(self.subnet.network_address + 10 + n)

    def exec_prefix(self, n: int) -> list[str]:
        """The command prefix that runs a program inside host n (the pid stays the program's)."""
        return ["ip", "netns", "exec", self.namespace(n)]

    # -- life cycle ---------------------------------------------------------
    def _start(self) -> None:
        atexit.register(self.close)
        self._make()

    def _make(self) -> None:
        sweep_leftovers()
        self.subnet = free_subnet()
        ip("link", "add", self.bridge, "type", "bridge")
        self.made.append(("link", self.bridge))
        ip("addr", "add", f"{self.gateway}/24", "dev", self.bridge)
        ip("link", "set", self.bridge, "up")
        for n in range(1, self.hosts + 1):
            namespace, veth = self.namespace(n), self.veth(n)
            ip("netns", "add", namespace)
            self.made.append(("netns", namespace))
            ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", namespace)
            self.made.append(("link", veth))
            ip("link", "set", veth, "master", self.bridge, "up")
            ip("-n", namespace, "addr", "add", f"{self.address(n)}/24", "dev", "eth0")
            ip("-n", namespace, "link", "set", "eth0", "up")
            ip("-n", namespace, "link", "set", "lo", "up")

    def cut(self, n: int) -> None:
        """Take host n's link down (its end on the bridge): packets to and from it are dropped, nothing is closed."""
        ip("link", "set", self.veth(n), "down")

    def close(self) -> None:
        """Remove what was made, newest first; safe to call again (and from atexit)."""
        while self.made:
            kind, name = self.made.pop()
            # A veth pair goes with its namespace; deleting it again just fails quietly.
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                ip(kind, "del", name, check=False)
        atexit.unregister(self.close)

    def leftovers(self) -> list[str]:
        """Names of this run still present (empty once closed)."""
        names = [line.split()[0] for line in ip("netns", "list").splitlines()]
        names += [line.split(":")[1].strip().split("@")[0] for line in ip("-o", "link", "show").splitlines()]
        return [name for name in names if name.endswith(self.run) and (NAMESPACE.match(name) or LINK.match(name))]
