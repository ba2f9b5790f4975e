"""What one viewer socket, and one client address, may cost everyone else.

A viewer's page sends a handful of frames a minute (a watch, a health report
every 30 s, a snapshot request after a gap); a socket that sends more is
broken or hostile and is closed. One address may hold only so many sockets
and be counted as only so many viewers in each web process, so one machine
cannot inflate a room's count or its playback-health figures. The venue's
networks are exempt: the whole hall may sit behind one NAT address.
"""

from __future__ import annotations

import asyncio
import weakref

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

    def admit(self, address: str, socket: object, *, limit: int) -> bool:
        held = self.sockets.setdefault(address, set())
        if len(held) >= limit:
            if not held:
                del self.sockets[address]
            return False
        held.add(socket)
        return True

    def count_tab(self, address: str, socket: object, room: str, tab: str, *, limit: int) -> bool:
        """Whether the socket's tab may be counted as a viewer; a tab already counted always may."""
        counted = self.tabs.setdefault(address, {})
        counted.pop(socket, None)
        if (room, tab) not in counted.values() and len(set(counted.values())) >= limit:
            if not counted:
                del self.tabs[address]
            return False
        counted[socket] = (room, tab)
        return True

    def release(self, address: str, socket: object) -> None:
        self.sockets.get(address, set()).discard(socket)
        self.tabs.get(address, {}).pop(socket, None)
        if not self.sockets.get(address, True):
            del self.sockets[address]
        if not self.tabs.get(address, True):
            del self.tabs[address]


_limits: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AddressLimits] = weakref.WeakKeyDictionary()


def address_limits() -> AddressLimits:
    """The limits of the running event loop (one per process in production), like live.get_hub()."""
    loop = asyncio.get_running_loop()
    limits = _limits.get(loop)
    if limits is None:
        limits = _limits[loop] = AddressLimits()
    return limits
