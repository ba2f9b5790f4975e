"""An outage of our own store is not an encoder outage: after it, judging resumes with grace."""

from testing.factories import report, stream
from tracker.encoders import ingest, store
from tracker.encoders.outage import StoreWatch
from tracker.encoders.state_machine import State

STREAM = stream()


async def test_after_an_outage_no_encoder_turns_late_before_an_interval_plus_grace(redis_client):
    redis = store.get_redis()
    await report("example", "cam", STREAM, interval=10, now=1000.0)  # grace 1: late due at 1010.5
    # Redis was away from 1005 to 1030: the heartbeats at 1010 and 1020 were refused.

    await ingest.grant_recovery_grace(redis, now=1030.0)
    early = await ingest.sweep(redis, now=1041.499)
    late = await ingest.sweep(redis, now=1041.5)  # 1030 + grace 1 + interval 10 + tolerance 0.5
    down = await ingest.sweep(redis, now=1042.0)  # a grace later, as always

    assert early == []
    assert [(t.old, t.new) for t in late + down] == [(State.UP, State.LATE), (State.LATE, State.DOWN)]
    assert await store.next_deadline(redis) is None


async def test_a_heartbeat_after_the_outage_judges_by_the_heartbeat_again(redis_client):
    redis = store.get_redis()
    await report("example", "cam", STREAM, interval=10, now=1000.0)
    await ingest.grant_recovery_grace(redis, now=1030.0)

    await report("example", "cam", STREAM, interval=2, now=1031.0)

    assert await store.next_deadline(redis) == 1033.5  # its own interval, no grace left over


async def test_recovery_grace_leaves_down_encoders_down_and_says_nothing_to_viewers(redis_client):
    redis = store.get_redis()
    await report("example", "gone", STREAM, interval=10, now=1000.0)
    await ingest.sweep(redis, now=1010.5)
    await ingest.sweep(redis, now=1011.0)
    await report("example", "cam", STREAM, interval=10, now=1020.0)
    versions, logged = redis_client.get("streaming:version"), redis_client.xlen("streaming:log:example")

    await ingest.grant_recovery_grace(redis, now=1030.0)

    records = {r.name: r for r in await store.read_records(redis)}
    assert (records["gone"].state, records["gone"].resumed) == (State.DOWN, 0.0)
    assert (records["cam"].state, records["cam"].resumed) == (State.UP, 1030.0)
    assert redis_client.get("streaming:version") == versions  # viewers' rooms did not change
    assert redis_client.xlen("streaming:log:example") == logged  # no transition


async def test_disconnected_encoder_gets_the_same_grace(redis_client):
    redis = store.get_redis()
    await report("example", "cam", STREAM, interval=10, now=1000.0)
    record = await store.read_record(redis, "example/cam")
    await ingest.disconnect(redis, identity=_identity(record), now=1001.0, since=1000.0)

    await ingest.grant_recovery_grace(redis, now=1030.0)

    assert await store.next_deadline(redis) == 1041.0  # 1030 + interval 10 + grace 1


async def test_store_watch_reports_a_failed_call_until_dealt_with(redis_client):
    redis = store.get_redis()
    watch = StoreWatch()
    assert await watch.outage_ended(redis) is False

    watch.failed()
    first = await watch.outage_ended(redis)
    watch.dealt_with()

    assert first is True
    assert await watch.outage_ended(redis) is False


async def test_store_watch_notices_a_redis_that_restarted_while_no_worker_ran(redis_client):
    redis = store.get_redis()
    await StoreWatch().outage_ended(redis)  # a worker saw this Redis run
    redis_client.set("streaming:redis-run-id", "an-earlier-run")  # as a restart restores it from disk

    assert await StoreWatch().outage_ended(redis) is True  # the next worker to start


def _identity(record):
    from tracker.encoders.state_machine import Identity

    return Identity(name=record.name, room=record.room, role=record.role, grace=record.grace)
