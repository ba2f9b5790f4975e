"""The tracker's part of /readyz: not draining, config loaded, Redis reachable.

Site warnings (no live worker, Redis without persistence) ride along without
turning the process unready: see tracker.ops.site_health."""

from __future__ import annotations

import logging
import time

from redis.exceptions import RedisError

from common.health import Findings
from tracker.config import ConfigError, get_config
from tracker.encoders import store
from tracker.live.draining import draining
from tracker.ops import site_health

logger = logging.getLogger(__name__)


async def tracker_readiness() -> tuple[Findings, Findings]:
    problems: Findings = {}
    warnings: Findings = {}
    if draining():
        problems["draining"] = "stopping"  # load balancers: send nobody new here
    try:
        get_config()
    except ConfigError as exc:
        logger.warning("not ready: %s", exc)
        problems["config"] = "invalid"
    try:
        warnings = await site_health.warnings(store.get_redis(), now=time.time())
    except (RedisError, OSError) as exc:
        problems["redis"] = type(exc).__name__
    return problems, warnings
