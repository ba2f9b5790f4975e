"""The run loop: read the sources, send a heartbeat, wait, again; log only what changes."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TextIO

from .backoff import Backoff
from .sources import Incomplete, Source, SourceError
from .transports import Ack, AuthRejected, Rejected, Replaced, Revoked, Transport, Unreachable

log = logging.getLogger("tracker.agent")

# The tracker refuses heartbeats beyond these (tracker/encoders/heartbeat.py, and its
# DATA_UPLOAD_MAX_MEMORY_SIZE for the body); tracker/tests/agent/test_limits.py compares.
MAX_STREAMS = 32
MAX_ERRORS = 16
MAX_REASON = 200
MAX_URL_LENGTH = 2048
MAX_BODY = 64 * 1024

# Waits after another connection with this token took over: 1-2 minutes (jitter), doubling to 15.
REPLACED_WAIT = 120.0
REPLACED_CAP = 900.0


class Agent:
    """One encoder's reporter. `beat` does one round; `run` repeats it until stopped.

    Logging is per state change: the first heartbeat that gets through, a
    switch between websocket and HTTP, the tracker becoming unreachable or
    refusing, a source failing or recovering. With `verbose` set, every
    heartbeat also prints `Registered <room> at <timestamp> result OK`.
    """

    def __init__(
        self,
        *,
        room: str,
        encoder: str,
        interval: int,
        sources: list[Source],
        transport: Transport,
        backoff: Backoff | None = None,
        replaced_backoff: Backoff | None = None,
        clock: Callable[[], float] = time.monotonic,
        stop: threading.Event | None = None,
        verbose: TextIO | None = None,
    ):
        self.room = room
        self.encoder = encoder
        self.interval = interval
        self.sources = sources
        self.transport = transport
        self.backoff = backoff or Backoff()
        # After a 4409 the other connection is most likely a second agent with this token:
        # reconnecting at once would replace it in turn, forever. Not reset by a heartbeat
        # that gets through, so two such agents take turns ever more rarely.
        self.replaced_backoff = replaced_backoff or Backoff(base=REPLACED_WAIT, cap=REPLACED_CAP)
        self.clock = clock
        self.stop = stop or threading.Event()
        self.verbose = verbose
        self.state: str | None = None
        self.failing: dict[str, str] = {}
        self.send_metrics = True
        self.metrics_warned = False
        self.ok = False
        self.revoked = False
        # Sources are read in parallel so one slow server does not delay the others' report.
        self.executor = ThreadPoolExecutor(max_workers=max(1, len(sources)), thread_name_prefix="source")

    # -- one heartbeat ----------------------------------------------------

    def collect(self) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
        """Every source's streams, and an error entry for each source that failed."""
        streams: list[dict[str, Any]] = []
        errors: list[dict[str, str]] = []
        futures = [(source, self.executor.submit(source.collect)) for source in self.sources]
        for source, future in futures:
            try:
                streams.extend(stream.to_json() for stream in future.result())
            except Incomplete as exc:  # what is there still plays; the missing ones degrade the encoder
                streams.extend(stream.to_json() for stream in exc.streams)
                errors.append({"source": source.name, "reason": exc.reason[:MAX_REASON]})
            except SourceError as exc:
                errors.append({"source": source.name, "reason": exc.reason[:MAX_REASON]})
            except Exception as exc:  # a bug in one source must not stop the others' reports
                if source.name not in self.failing:
                    log.exception("source %s crashed", source.name)
                errors.append({"source": source.name, "reason": f"internal error: {type(exc).__name__}"})
        if any(len(stream["url"]) > MAX_URL_LENGTH for stream in streams):
            # One such URL would get the whole heartbeat refused.
            errors.append({"source": "agent", "reason": f"a stream URL over {MAX_URL_LENGTH} characters is left out"})
            streams = [stream for stream in streams if len(stream["url"]) <= MAX_URL_LENGTH]
        if len(streams) > MAX_STREAMS:
            errors.append({"source": "agent", "reason": f"more than {MAX_STREAMS} streams; the rest are left out"})
            streams = streams[:MAX_STREAMS]
        self.note_sources(errors)
        return streams, errors[:MAX_ERRORS]

    def body(self, streams: list[dict[str, Any]], errors: list[dict[str, str]]) -> dict[str, Any]:
        body: dict[str, Any] = {"room": self.room, "encoder": self.encoder, "interval": self.interval}
        body["streams"] = streams
        if self.send_metrics:
            body["metrics"] = {"errors": errors}
        # Streams at the tracker's limits (32 URLs of 2048 characters) add up to more than
        # its body limit: the last ones are left out, and the errors say so.
        if len(json.dumps(body)) > MAX_BODY:
            if self.send_metrics:
                errors[MAX_ERRORS - 1 :] = [{"source": "agent", "reason": f"over {MAX_BODY} bytes: streams left out"}]
            while len(json.dumps(body)) > MAX_BODY and streams:
                streams.pop()
        return body

    def deliver(self, body: dict[str, Any]) -> Ack:
        """Send, dropping metrics for a tracker that predates them."""
        try:
            return self.transport.send(body)
        except Rejected as exc:
            if not (exc.unknown_metrics and "metrics" in body):
                raise
        self.send_metrics = False
        if not self.metrics_warned:
            self.metrics_warned = True
            log.warning("the tracker does not accept metrics (an older version): source errors stay in this log")
        return self.transport.send({key: value for key, value in body.items() if key != "metrics"})

    def beat(self) -> float:
        """Read, send, log; returns the seconds to wait before the next heartbeat."""
        body = self.body(*self.collect())
        try:
            ack = self.deliver(body)
        except Unreachable as exc:
            # A tracker that comes back may be a newer one: offer metrics again.
            self.send_metrics = True
            return self.failed(f"tracker unreachable: {exc.reason}", exc.reason, logging.WARNING)
        except Replaced as exc:
            delay = self.replaced_backoff.next()
            state = (
                f"replaced by another connection with this token ({exc.reason}): is a second agent running"
                f" with the same token? Waiting {delay:.0f} s before reconnecting"
            )
            return self.failed(state, exc.reason, logging.WARNING, delay=delay)
        except Revoked as exc:
            # Retrying cannot help: a revoked token never comes back. Stop, so the operator notices.
            self.revoked = True
            self.stop.set()
            state = f"token revoked by the tracker ({exc.reason}): stopping; give the encoder a new token and restart"
            return self.failed(state, exc.reason, logging.ERROR, delay=0.0)
        except AuthRejected as exc:
            return self.failed(f"token refused: {exc.reason}", exc.reason, logging.ERROR)
        except Rejected as exc:
            return self.failed(f"heartbeat refused: {exc.reason}", exc.reason, logging.ERROR)
        self.ok = True
        self.backoff.reset()
        state = f"reporting {self.room} as {self.encoder} over {self.transport.name}"
        websocket_error = getattr(self.transport, "websocket_error", None)
        if self.transport.name == "http" and websocket_error:
            state += f" (websocket unavailable: {websocket_error})"
        self.set_state(state)
        self.registered("OK")
        return ack.next or float(self.interval)

    def failed(self, state: str, reason: str, level: int, *, delay: float | None = None) -> float:
        """Log the failure; returns `delay`, or the next retry backoff when not given."""
        self.ok = False
        self.set_state(state, level)
        self.registered(f"ERROR {reason}")
        return self.backoff.next() if delay is None else delay

    # -- logging ----------------------------------------------------------

    def set_state(self, state: str, level: int = logging.INFO) -> None:
        if state != self.state:
            self.state = state
            log.log(level, "%s", state)

    def note_sources(self, errors: list[dict[str, str]]) -> None:
        failing = {error["source"]: error["reason"] for error in errors}
        for name, reason in failing.items():
            if self.failing.get(name) != reason:
                log.warning("source %s failing: %s", name, reason)
        for name in self.failing.keys() - failing.keys():
            log.info("source %s recovered", name)
        self.failing = failing

    def registered(self, result: str) -> None:
        if self.verbose is not None:
            stamp = datetime.now(UTC).isoformat(timespec="seconds")
            print(f"Registered {self.room} at {stamp} result {result}", file=self.verbose, flush=True)

    # -- the loop ---------------------------------------------------------

    def run(self, count: int | None = None) -> bool:
        """Heartbeat until `stop` is set (or `count` heartbeats); True if the last one got through.

        The next heartbeat is due `delay` after the previous one started, so
        slow sources do not make the interval drift.
        """
        sent = 0
        try:
            while not self.stop.is_set():
                started = self.clock()
                delay = self.beat()
                sent += 1
                if count is not None and sent >= count:
                    break
                self.stop.wait(max(0.0, started + delay - self.clock()))
        finally:
            self.close()
        return self.ok

    def close(self) -> None:
        self.transport.close()
        self.executor.shutdown(wait=False, cancel_futures=True)
