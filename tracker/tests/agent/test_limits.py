"""The agent's limits are the tracker's: whatever the agent sends at its
limits the tracker takes, and one step past them the tracker refuses, so the
agent neither loses a heartbeat to a 400/413 nor leaves out what would fit.
The agent runs without the tracker's code, so its copies are compared here."""

from __future__ import annotations

import json

import pytest
from django.conf import settings

from testing.factories import heartbeat, stream
from tracker.agent import config, loop
from tracker.agent.loop import Agent
from tracker.agent.sources import build_sources
from tracker.agent.sources.base import SourceError, clean_quality
from tracker.agent.transports import HttpTransport
from tracker.config import GLOBAL_DEFAULTS
from tracker.encoders import heartbeat as tracker_heartbeat
from tracker.encoders.heartbeat import InvalidField, parse_heartbeat


class Failing:
    """A source that cannot be read, for a reason this long."""

    def __init__(self, name: str, reason: str):
        self.name, self.reason = name, reason

    def collect(self):
        raise SourceError(self.reason)


def agent(*sources) -> Agent:
    # Never sends: the tests read what it would send.
    return Agent(room="example", encoder="cam-1", interval=10, sources=list(sources), transport=HttpTransport("x", "t"))


def static(count: int, url_length: int = 40) -> list:
    streams = [{"format": "hls", "url": f"https://cdn.example/{i:04}/".ljust(url_length, "x")} for i in range(count)]
    return build_sources([{"type": "static", "streams": streams}], timeout=1)


def what_the_agent_sends(agent: Agent) -> dict:
    return json.loads(json.dumps(agent.body(*agent.collect())))


def refused_field(body: dict) -> str | None:
    try:
        parse_heartbeat(body)
    except InvalidField as exc:
        return exc.field
    return None


def test_the_most_streams_the_agent_sends_the_tracker_takes_and_one_more_it_refuses():
    body = what_the_agent_sends(agent(*static(loop.MAX_STREAMS + 8)))

    assert len(body["streams"]) == loop.MAX_STREAMS
    assert refused_field(body) is None
    assert refused_field(heartbeat(*[stream()] * (loop.MAX_STREAMS + 1))) == "streams"


def test_the_most_source_errors_the_agent_sends_the_tracker_takes_and_one_more_it_refuses():
    failing = [Failing("s" * 64 if i == 0 else f"source-{i}", "why " * 100) for i in range(loop.MAX_ERRORS + 4)]
    body = what_the_agent_sends(agent(*failing))
    errors = body["metrics"]["errors"]

    assert len(errors) == loop.MAX_ERRORS and len(errors[0]["source"]) == 64
    assert {len(error["reason"]) for error in errors} == {loop.MAX_REASON}
    assert refused_field(body) is None
    one_more = {"metrics": {"errors": [*errors, errors[0]]}}
    longer = {"metrics": {"errors": [{"source": "s", "reason": "x" * (loop.MAX_REASON + 1)}]}}
    assert refused_field(heartbeat(stream(), **one_more)) == "metrics.errors"
    assert refused_field(heartbeat(stream(), **longer)) == "metrics.errors[0].reason"


def test_a_source_name_the_agent_refuses_is_one_the_tracker_would_refuse():
    with pytest.raises(config.ConfigError, match="1-64"):
        build_sources([{"type": "static", "name": "s" * 65, "streams": []}], timeout=1)
    errors = {"errors": [{"source": "s" * 65, "reason": "down"}]}

    assert refused_field(heartbeat(stream(), metrics=errors)) == "metrics.errors[0].source"


def test_the_largest_heartbeat_the_agent_sends_fits_the_trackers_body_limit():
    # 32 URLs of the longest length the tracker takes are more than 64 KiB together.
    longest = agent(*static(loop.MAX_STREAMS, url_length=tracker_heartbeat.MAX_URL_LENGTH))
    too_long = agent(*static(2, url_length=tracker_heartbeat.MAX_URL_LENGTH + 1), *static(1))

    body = what_the_agent_sends(longest)
    kept = what_the_agent_sends(too_long)

    assert loop.MAX_BODY == settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert len(json.dumps(body)) <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert 28 <= len(body["streams"]) < loop.MAX_STREAMS  # only what does not fit is left out
    assert body["metrics"]["errors"] == [{"source": "agent", "reason": "over 65536 bytes: streams left out"}]
    assert refused_field(body) is None
    assert refused_field(kept) is None and len(kept["streams"]) == 1
    assert loop.MAX_URL_LENGTH == tracker_heartbeat.MAX_URL_LENGTH


@pytest.mark.parametrize("name", ["cam-1", "c", "c" * 64, "c" * 65, "", "cam 1", "cam-1\n", "kamera-ü", "a/b"])
def test_encoder_names_the_agent_accepts_are_those_the_tracker_accepts(name):
    by_agent = config.ENCODER_NAME.match(name) is not None
    by_tracker = refused_field(heartbeat(stream(), encoder=name)) is None

    assert by_agent == by_tracker


def test_intervals_the_agent_accepts_are_those_the_tracker_accepts():
    agent_range = (config.MIN_INTERVAL, config.MAX_INTERVAL)
    tracker_range = (tracker_heartbeat.MIN_INTERVAL, tracker_heartbeat.MAX_INTERVAL)

    assert agent_range == tracker_range
    assert refused_field(heartbeat(stream(), interval=config.MIN_INTERVAL - 1)) == "interval"
    assert refused_field(heartbeat(stream(), interval=config.MAX_INTERVAL + 1)) == "interval"


@pytest.mark.parametrize("label", ["HD", "1080p60", "x" * 40, "ünïcode", "a b/c", "--", "720p (backup)"])
def test_quality_labels_the_agent_makes_are_ones_the_tracker_takes(label):
    quality = clean_quality(label)

    assert quality is None or refused_field(heartbeat(stream(quality=quality))) is None


def test_the_agent_at_its_fastest_stays_under_the_trackers_default_rate():
    # At the shortest interval one heartbeat is at most four sends: the websocket,
    # then HTTP, each once more without metrics for a tracker that predates them.
    sends_per_second = 4 / config.MIN_INTERVAL

    assert sends_per_second <= GLOBAL_DEFAULTS["heartbeat-rate"]
