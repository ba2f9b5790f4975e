"""Command line: `python -m tracker.agent [options]`."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence

from . import __version__
from .config import TOKEN_ENV, AgentConfig, resolve
from .loop import Agent
from .sources import TYPES, ConfigError, build_sources
from .transports import MODES, build_transport

log = logging.getLogger("tracker.agent")

# The tracker revoked the token: retrying cannot help (ops/encoder-agent.service does not restart on it).
EXIT_REVOKED = 3


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m tracker.agent",
        description="Read a streaming server's statistics and report them to the tracker.",
        epilog=f"The token comes from --token-file, ${TOKEN_ENV}, or the config file; "
        "never from the command line, where every user of the machine can read it.",
    )
    p.add_argument("-c", "--config", metavar="FILE", help="JSON config file (see the README)")
    p.add_argument("--tracker", metavar="URL", help="the tracker's base URL, e.g. https://streaming.example.org")
    p.add_argument("--token-file", metavar="FILE", help="file holding this encoder's token")
    p.add_argument("--room", help="the room this encoder streams")
    p.add_argument("--encoder", help="this encoder's name (default: the host name)")
    p.add_argument("--interval", type=int, metavar="SECONDS", help="seconds between heartbeats, 1-300 (default 10)")
    p.add_argument("--transport", choices=MODES, help="auto (default): websocket, falling back to HTTP")
    p.add_argument("--legacy", action="store_true", default=None, help="speak the old /tracker/endpoint/register")
    p.add_argument("--timeout", type=float, metavar="SECONDS", help="for every request (default 5)")
    kinds = ", ".join(t for t in TYPES if t != "static")
    p.add_argument("--source", action="append", metavar="TYPE=URL", help=f"a source to read, repeatable; TYPE: {kinds}")
    p.add_argument("--count", type=int, metavar="N", help="stop after N heartbeats")
    p.add_argument("--once", action="store_true", help="send one heartbeat; exit 0 if the tracker accepted it")
    p.add_argument("--dry-run", action="store_true", help="print the heartbeat that would be sent, send nothing")
    p.add_argument("-v", "--verbose", action="store_true", help="print a line for every heartbeat")
    p.add_argument("--version", action="version", version=f"encoder agent {__version__}")
    return p


def setup_logging() -> None:
    # journald stamps each line itself; a terminal or a file needs the time.
    fmt = "%(levelname)s %(message)s" if os.environ.get("JOURNAL_STREAM") else "%(asctime)s %(levelname)s %(message)s"
    logging.basicConfig(level=logging.INFO, format=fmt, stream=sys.stderr)
    # websockets logs every failed handshake itself; the agent's state line says it once.
    logging.getLogger("websockets").setLevel(logging.CRITICAL)


def build_agent(config: AgentConfig, *, verbose: bool, stop: threading.Event) -> Agent:
    return Agent(
        room=config.room,
        encoder=config.encoder,
        interval=config.interval,
        sources=build_sources(config.sources, timeout=config.timeout),
        transport=build_transport(config.transport, config.tracker, config.token, timeout=config.timeout),
        stop=stop,
        verbose=sys.stdout if verbose else None,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    setup_logging()
    stop = threading.Event()
    try:
        config = resolve(vars(args))
        agent = build_agent(config, verbose=args.verbose, stop=stop)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    if args.dry_run:
        print(json.dumps(agent.body(*agent.collect()), indent=2))
        agent.close()
        return 0
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    log.info(
        "encoder agent %s: %s in room %s, %d source(s), to %s over %s",
        __version__,
        config.encoder,
        config.room,
        len(agent.sources),
        config.tracker,
        config.transport,
    )
    ok = agent.run(count=1 if args.once else args.count)
    log.info("stopped")
    if agent.revoked:
        return EXIT_REVOKED
    return 0 if ok or not args.once else 1
