"""One place per field: the record's stored fields and their types come from the
Record dataclass, and a heartbeat's fields reach the record by name."""

from __future__ import annotations

import dataclasses
import json

import pytest

from testing.factories import stream
from tracker.encoders.heartbeat import Heartbeat
from tracker.encoders.state_machine import (
    RECORD_FIELDS,
    Identity,
    Record,
    State,
    Thresholds,
    Unreadable,
    after_heartbeat,
    record_fields,
)

IDENTITY = Identity(name="cam", room="example", role="encoder", grace=5)
THRESHOLDS = Thresholds(silence=30, no_streams=60)


def a_record(**changes) -> Record:
    record, _ = after_heartbeat(
        None, Heartbeat("example", "cam", 10, [stream()]), identity=IDENTITY, thresholds=THRESHOLDS, now=100.0
    )
    return dataclasses.replace(record, **changes)


def test_every_field_of_the_dataclass_is_stored_and_read_with_its_type():
    assert RECORD_FIELDS.keys() == {f.name for f in dataclasses.fields(Record)}
    assert RECORD_FIELDS["since"] == (int, float)
    assert RECORD_FIELDS["empty_since"] == (int, float, type(None))
    assert RECORD_FIELDS["state"] == (str,)
    assert RECORD_FIELDS["streams"] == (list,)


# A field added the way the next one will be: one line in the dataclass, with a default.
@dataclasses.dataclass(frozen=True)
class NextRecord(Record):
    viewers_peak: int = 0


def test_a_field_added_in_the_dataclass_alone_is_stored_and_read_back():
    record = NextRecord(**vars(a_record()), viewers_peak=42)

    assert record_fields(NextRecord)["viewers_peak"] == (int,)
    assert NextRecord.from_json(record.to_json()) == record


def test_a_record_written_before_a_field_existed_reads_with_its_default():
    older = a_record().to_json()

    assert NextRecord.from_json(older).viewers_peak == 0
    assert NextRecord.from_json(older).streams == a_record().streams


def test_the_new_fields_type_is_held_too():
    text = json.dumps({**json.loads(a_record().to_json()), "viewers_peak": "many"})

    with pytest.raises(Unreadable, match="viewers_peak"):
        NextRecord.from_json(text)


@pytest.mark.parametrize("field", ["seq", "streams", "room"])
def test_a_text_without_a_field_every_record_has_is_not_ours(field: str):
    data = json.loads(a_record().to_json())
    del data[field]

    with pytest.raises(Unreadable, match="not a record's fields"):
        Record.from_json(json.dumps(data))


def test_a_record_of_the_first_version_still_reads():
    data = json.loads(a_record().to_json())
    for later in ("counted", "totals", "stats", "empty_since", "resumed"):
        del data[later]

    assert Record.from_json(json.dumps(data)).state == State.UP


def test_every_field_the_heartbeat_shares_with_the_record_is_carried_over():
    sent = Heartbeat(
        "example",
        "cam",
        7,
        [stream()],
        {"silence": 1},
        counted=[stream("rtmp://x/loop")],
        totals={"clients": 3, "bandwidth": 9},
        stats={"cpu": 5},
    )
    record, _ = after_heartbeat(None, sent, identity=IDENTITY, thresholds=THRESHOLDS, now=100.0)

    shared = {f.name for f in dataclasses.fields(Heartbeat)} & RECORD_FIELDS.keys()
    assert shared == {"room", "interval", "streams", "metrics", "counted", "totals", "stats"}
    assert {name: getattr(record, name) for name in shared - {"room"}} == {
        name: getattr(sent, name) for name in shared - {"room"}
    }
