"""A stand-in for the previous generation's register clients, in Python 3's standard library.

It behaves as their loop did: every second, for each comma-separated group,
POST the form (secret, group, data, and the fake client's REMOTE_ADDR "IP to
pretend to be"; urlencoded in that order, bitrates as floats), print
`Registered <group> at <local time> result <body>`, and raise (exiting) on
any HTTP error status. Run it as `python -m tracker.tests.legacy.original_client --server URL --secret S --group G`.
"""

from __future__ import annotations

import argparse
import datetime
import json
import time
import urllib.error
import urllib.request
from urllib.parse import urlencode

# (component name, clients, consumption bitrate, stream bitrate), as the fake client reported.
FAKE_COMPONENTS = [("http-ogg-high", 4, 1e6, 2e6)]


def original_data(components: list[tuple[str, int, float, float]]) -> dict:
    """`data` as the clients built it: per-name figures from flumotion's component names, plus overall sums."""
    data = {"overall_clients": 0, "overall_bitrate": 0, "overall_cbitrate": 0}
    for component, clients, consumption, stream_bitrate in components:
        name = component.replace("http-", "").replace("-", "_")
        data[f"{name}_clients"] = int(clients)
        data[f"{name}_bitrate"] = float(consumption)
        data[f"{name}_cbitrate"] = float(consumption)  # the clients sent consumption here too
        data["overall_clients"] += clients
        data["overall_bitrate"] += consumption
        data["overall_cbitrate"] += clients * stream_bitrate
    return data


def original_form(data: dict, *, secret: str, group: str, **extra: str) -> str:
    """The body Python 2's urllib.urlencode made of the clients' tuple of pairs (quote_plus, in order)."""
    return urlencode((("secret", secret), ("group", group), ("data", json.dumps(data)), *extra.items()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", default="http://localhost:8000/tracker/endpoint/register")
    parser.add_argument("--secret", required=True)
    parser.add_argument("--group", default="example")
    parser.add_argument("--ip", default="", help="sent as REMOTE_ADDR, which the server must ignore")
    args = parser.parse_args()
    while True:
        data = original_data(FAKE_COMPONENTS)
        for group in args.group.split(","):
            body = original_form(data, secret=args.secret, group=group, REMOTE_ADDR=args.ip).encode()
            try:
                # urlopen with data: a POST with Content-Type application/x-www-form-urlencoded.
                answer = urllib.request.urlopen(args.server, body)
            except urllib.error.HTTPError as error:
                print(error)
                print(error.read())
                raise
            print(
                "Registered", group, "at", datetime.datetime.now(), "result", answer.read().decode().strip(), flush=True
            )
        time.sleep(1)


if __name__ == "__main__":
    main()
