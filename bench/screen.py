"""Scenario 3: heartbeat to screen.

One operator socket on /ws/ops/ (logged in with a session the harness
made) and one encoder connection to the same daphne, in a process of their
own. Each sample POSTs a heartbeat that changes the `screen` room (a
fresh marker in its stream URL) and times from just before the POST until
the watcher's socket has the message. Samples are sent one at a time,
`spacing` apart; bounded by count and by time.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from websockets.asyncio.client import connect

from .common import percentile
from .httpclient import HttpConnection, heartbeat_body, heartbeat_headers


async def measure(
    port: int, token: str, session: str, samples: int, spacing: float, time_limit: float, public: bool = True
) -> dict[str, Any]:
    """With `public` each sample changes the stream URL (viewers get the room message too); without, only
    its client count, which only operators are sent (the keynote's viewers are not disturbed)."""
    http = HttpConnection("127.0.0.1", port)
    headers = heartbeat_headers(token)
    to_screen, post_only, lost = [], [], 0
    stop_at = time.monotonic() + time_limit
    async with connect(
        f"ws://127.0.0.1:{port}/ws/ops/",
        origin=f"http://127.0.0.1:{port}",
        additional_headers={"Cookie": f"sessionid={session}"},
        compression=None,
        open_timeout=10,
    ) as ws:
        await asyncio.wait_for(ws.recv(), 10)  # snapshot
        for count in range(samples):
            if time.monotonic() > stop_at:
                break
            if public:
                marker = f"mk-{uuid.uuid4().hex[:12]}"
                body = heartbeat_body("screen", "screen-1", count, f"https://cdn.example/screen/{marker}.m3u8")
            else:
                clients = 1_000_000 + count  # a count no earlier sample sent: a change, found by its value
                marker = f'"clients":{clients},'
                body = heartbeat_body("screen", "screen-1", clients, "https://cdn.example/screen/steady.m3u8")
            t0 = time.monotonic()
            status, _ = await http.request("POST", "/tracker/api/heartbeat", body=body, headers=headers)
            post_only.append(time.monotonic() - t0)
            if status != 200:
                raise RuntimeError(f"heartbeat answered {status}")
            try:
                while True:
                    text = await asyncio.wait_for(ws.recv(), 5)
                    if marker in text:
                        to_screen.append(time.monotonic() - t0)
                        break
            except TimeoutError:
                lost += 1
            await asyncio.sleep(spacing)
    await http.close()
    return {"to_screen": to_screen, "post": post_only, "lost": lost}


def screen_process(conn, *args) -> None:
    conn.send(asyncio.run(measure(*args)))
    conn.close()


def run(
    ctx,
    *,
    port: int,
    token: str,
    session: str,
    samples: int,
    spacing: float = 0.01,
    time_limit: float = 30,
    log=print,
) -> dict[str, Any]:
    parent, child = ctx.Pipe()
    process = ctx.Process(target=screen_process, args=(child, port, token, session, samples, spacing, time_limit))
    process.start()
    try:
        if not parent.poll(time_limit + 30):
            raise TimeoutError("heartbeat-to-screen measurement did not finish")
        result = parent.recv()
    finally:
        process.join(5)
        if process.is_alive():
            process.kill()
            process.join()
    row = {
        "samples": len(result["to_screen"]),
        "lost": result["lost"],
        "p50": percentile(result["to_screen"], 50),
        "p99": percentile(result["to_screen"], 99),
        "post_p50": percentile(result["post"], 50),
    }
    log(
        f"  heartbeat to screen: {row['samples']} samples, p50 {row['p50'] * 1000:.1f} ms, "
        f"p99 {row['p99'] * 1000:.1f} ms "
        f"(POST alone p50 {row['post_p50'] * 1000:.1f} ms), lost {row['lost']}"
    )
    return row
