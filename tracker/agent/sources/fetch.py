"""Reading a streaming server's status over HTTP (stdlib urllib only)."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request

from .base import SourceError

MAX_BYTES = 4 * 1024 * 1024  # a status page is kilobytes; anything bigger is the wrong URL

# Streaming servers sit on the encoder machine or its LAN: an http_proxy set
# for the machine's outgoing traffic must not catch them.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def fetch(url: str, *, timeout: float, headers: dict[str, str] | None = None) -> bytes:
    """The body at `url`; raises SourceError with a reason a person can act on."""
    request = urllib.request.Request(url, headers={"User-Agent": "encoder-agent", **(headers or {})})
    try:
        with _opener.open(request, timeout=timeout) as response:
            body = response.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise SourceError(f"HTTP {exc.code} from {url}") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError | socket.timeout):
            raise SourceError(f"no answer from {url} within {timeout:g} s") from None
        raise SourceError(f"cannot reach {url}: {exc.reason}") from None
    except TimeoutError:
        raise SourceError(f"no answer from {url} within {timeout:g} s") from None
    except OSError as exc:  # connection reset in the middle of the body, and the like
        raise SourceError(f"cannot read {url}: {exc}") from None
    if len(body) > MAX_BYTES:
        raise SourceError(f"{url} is larger than {MAX_BYTES} bytes")
    return body
