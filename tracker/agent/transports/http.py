"""Heartbeats as `POST /tracker/api/heartbeat` with a bearer token (stdlib urllib)."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from typing import Any

from .base import Ack, Rejected, Unreachable, next_interval, rejection


class NoRedirects(urllib.request.HTTPRedirectHandler):
    """Refuse redirects: urllib would resend the Authorization header to wherever
    it points, and turn the POST into a GET. A redirect means a wrong tracker URL."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise Rejected(f"HTTP {code}: the tracker redirects to {newurl}; use that as the tracker URL")


def opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(NoRedirects())


def post(url: str, data: bytes, headers: dict[str, str], *, timeout: float) -> tuple[int, bytes]:
    """POST and return (status, body) for any HTTP answer; raises Unreachable when there is none."""
    request = urllib.request.Request(url, data=data, headers={"User-Agent": "encoder-agent", **headers})
    try:
        with opener().open(request, timeout=timeout) as response:
            return response.status, response.read(65536)
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read(65536)
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError | socket.timeout):
            raise Unreachable(f"no answer from {url} within {timeout:g} s") from None
        raise Unreachable(f"cannot reach {url}: {exc.reason}") from None
    except OSError as exc:  # timeouts while reading, resets
        raise Unreachable(f"cannot reach {url}: {exc or type(exc).__name__}") from None


class HttpTransport:
    name = "http"

    def __init__(self, tracker: str, token: str, *, timeout: float = 5.0):
        self.url = tracker.rstrip("/") + "/tracker/api/heartbeat"
        self.token = token
        self.timeout = timeout

    def send(self, body: dict[str, Any]) -> Ack:
        status, answer = post(
            self.url,
            json.dumps(body).encode(),
            {"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"},
            timeout=self.timeout,
        )
        try:
            decoded = json.loads(answer)
        except ValueError:
            decoded = None
        if status == 200 and isinstance(decoded, dict) and decoded.get("ok") is True:
            return Ack(next_interval(decoded))
        if status >= 500 or status in (409, 429):
            # The tracker is restarting or overloaded, or another sender with this
            # token raced this heartbeat (409): retry later, as when it is down.
            raise Unreachable(f"HTTP {status} from {self.url}")
        if status == 200:
            raise Unreachable(f"unexpected answer from {self.url}: {answer[:200]!r}")
        raise rejection(status, decoded)

    def close(self) -> None:
        pass  # one request per heartbeat: nothing stays open
