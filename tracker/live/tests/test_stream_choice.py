"""Fairness of stream choice: viewers arriving between heartbeats spread over endpoints."""

from hypothesis import given
from hypothesis import strategies as st

from tracker.encoders.state_machine import Record, State
from tracker.live.public_rooms import pick_stream


def endpoint(number: int, clients: int) -> Record:
    stream = {"format": "hls", "quality": "hd", "url": f"https://e{number}/x.m3u8", "clients": clients, "bitrate": 1}
    return Record(
        room="example",
        name=f"e{number}",
        role="endpoint",
        state=State.UP,
        since=0,
        last_seen=0,
        interval=10,
        grace=5,
        streams=[stream],
    )


def hand_out(records: list[Record], viewers: int) -> dict[str, int]:
    assigned: dict[str, int] = {}
    for _ in range(viewers):
        url = pick_stream(records, room="example", assigned=assigned)["url"]
        assigned[url] = assigned.get(url, 0) + 1
    return assigned


def test_equal_endpoints_share_viewers_evenly():
    assigned = hand_out([endpoint(n, 0) for n in range(3)], 100)

    assert sorted(assigned.values()) == [33, 33, 34]


@given(clients=st.lists(st.integers(0, 500), min_size=1, max_size=6), viewers=st.integers(0, 2000))
def test_viewers_fill_the_emptiest_endpoints_first(clients, viewers):
    records = [endpoint(n, c) for n, c in enumerate(clients)]

    assigned = hand_out(records, viewers)

    loads = [c + assigned.get(f"https://e{n}/x.m3u8", 0) for n, c in enumerate(clients)]
    # Every endpoint that got viewers is at most one above the least loaded one.
    given_some = [load for n, load in enumerate(loads) if assigned.get(f"https://e{n}/x.m3u8")]
    assert all(load <= min(loads) + 1 for load in given_some)
    assert sum(assigned.values()) == viewers


def test_endpoints_not_live_or_in_other_rooms_get_nobody():
    down = Record(**{**endpoint(1, 0).__dict__, "state": State.DOWN})
    elsewhere = Record(**{**endpoint(2, 0).__dict__, "room": "hall-2"})

    assert pick_stream([down, elsewhere, endpoint(3, 99)], room="example")["url"] == "https://e3/x.m3u8"
