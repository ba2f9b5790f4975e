"""How many sockets one process can hold, said once at start-up.

Every viewer's socket is an open file. The soft open-file limit (1,024 by
default) is raised to the hard one the service manager grants (the units
in ops/systemd set LimitNOFILE), and the log says what is in force, so a
capacity problem shows up in the first line rather than as refused
connections at the keynote.
"""

from __future__ import annotations

import logging
import resource

logger = logging.getLogger(__name__)

# Files a process needs besides viewers: Redis pools (200 connections per
# event loop), the database, logs, Python's own.
RESERVED_FILES = 300


def raise_open_file_limit() -> int:
    """Raise the soft open-file limit to the hard one; returns the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return soft


def log_capacity() -> None:
    limit = raise_open_file_limit()
    sockets = max(0, limit - RESERVED_FILES)
    if limit == resource.RLIM_INFINITY:
        logger.info("open-file limit: unlimited")
    elif sockets < 10_000:
        logger.warning("open-file limit %d: at most about %d sockets in this process (set LimitNOFILE)", limit, sockets)
    else:
        logger.info("open-file limit %d: up to about %d sockets in this process", limit, sockets)
