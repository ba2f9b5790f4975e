"""What one viewer socket, and one client address, may cost everyone else.

A viewer's page sends a handful of frames a minute (a watch, a health report
every 30 s, a snapshot request after a gap); a socket that sends more is
broken or hostile and is closed. One client (an IPv4 address, an IPv6 /64:
common.addresses.client_key) may hold only so many sockets and be counted as
only so many viewers in each web process, and its playback health counts
once per room, so one machine cannot inflate a room's count or its
playback-health figures. The venue's networks are exempt: the whole hall
may sit behind one NAT address. Viewers' reports have budgets kept in Redis
(tracker.live.viewer_reports): they outlive a socket.
"""

from __future__ import annotations

from common.addresses import client_key
from common.per_loop import PerLoop

# Frames a viewer socket may send: this many a second on average, BURST at once.
FRAMES_PER_SECOND = 10
BURST = 20
MAX_FRAME_BYTES = 4 * 1024


class FrameBudget:
    """A token bucket, refilled at `rate` a second up to `burst` (a viewer's by default)."""

    def __init__(self, now: float, *, rate: float = FRAMES_PER_SECOND, burst: int = BURST) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.at = float(burst), now

    def spend(self, now: float) -> bool:
        """Whether one more frame is within budget (and take it)."""
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def too_big(text: str | None, data: bytes | None, limit: int = MAX_FRAME_BYTES) -> bool:
    if data is not None:
        return len(data) > limit
    # A character is at most 4 bytes: encode only frames that might be too big.
    return text is not None and len(text) * 4 > limit and len(text.encode()) > limit


class AddressLimits:
    """The viewer sockets of each client address in this process, and the tabs they are counted as."""

    def __init__(self) -> None:
        self.sockets: dict[str, set[object]] = {}
        # address -> socket -> (room, tab) it is counted as
        self.tabs: dict[str, dict[object, tuple[str, str]]] = {}
        # (client, room) -> the one socket whose playback health counts for that client there
        self.health: dict[tuple[str, str], object] = {}
        self.health_held: dict[object, tuple[str, str]] = {}

    def admit(self, address: str, socket: object, *, limit: int) -> bool:
        address = client_key(address)
        held = self.sockets.setdefault(address, set())
        if len(held) >= limit:
            if not held:
                del self.sockets[address]
            return False
        held.add(socket)
        return True

    def count_tab(self, address: str, socket: object, room: str, tab: str, *, limit: int) -> bool:
        """Whether the socket's tab may be counted as a viewer; a tab already counted always may."""
        address = client_key(address)
        counted = self.tabs.setdefault(address, {})
        counted.pop(socket, None)
        if (room, tab) not in counted.values() and len(set(counted.values())) >= limit:
            if not counted:
                del self.tabs[address]
            return False
        counted[socket] = (room, tab)
        return True

    def counts_health(self, address: str, socket: object, room: str) -> bool:
        """Whether this socket's playback health counts: one per client (an IPv6 /64 is one) and room.

        A client with many tabs is one viewer's experience; counted per tab, one
        machine could make a room look failing.
        """
        where = (client_key(address), room)
        if self.health_held.get(socket, where) != where:  # it watches another room now
            self.release_health(socket)
        holder = self.health.setdefault(where, socket)
        if holder is socket:
            self.health_held[socket] = where
        return holder is socket

    def release_health(self, socket: object) -> None:
        where = self.health_held.pop(socket, None)
        if where is not None and self.health.get(where) is socket:
            del self.health[where]

    def release(self, address: str, socket: object) -> None:
        address = client_key(address)
        self.release_health(socket)
        self.sockets.get(address, set()).discard(socket)
        self.tabs.get(address, {}).pop(socket, None)
        if not self.sockets.get(address, True):
            del self.sockets[address]
        if not self.tabs.get(address, True):
            del self.tabs[address]


_limits: PerLoop[AddressLimits] = PerLoop(AddressLimits)


def address_limits() -> AddressLimits:
    """The limits of the running event loop (one per process in production), like live.get_hub()."""
    return _limits.get()
