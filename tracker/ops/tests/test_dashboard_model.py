"""Unit tests of the dashboard's pure functions (dashboard-model.js), run in real Chromium."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

MODEL = Path(__file__).resolve().parents[2] / "static" / "tracker" / "dashboard-model.js"


@pytest.fixture(scope="module")
def blank_page(browser: Browser) -> Iterator[Page]:
    """One page for the module: pure functions need no page of their own (a context costs ~0.2 s of CPU)."""
    context = browser.new_context()
    yield context.new_page()
    context.close()


@pytest.fixture
def model(blank_page: Page):
    page = blank_page
    # The module as the dashboard imports it (it imports nothing itself), afresh for each test.
    page.evaluate(
        "async (source) => { window.model = await import(`data:text/javascript,${encodeURIComponent(source)}`); }",
        MODEL.read_text(),
    )

    def call(function: str, *args):
        return page.evaluate("([f, args]) => window.model[f](...args)", [function, list(args)])

    return call


def encoder(name: str, state: str, since: float = 0, room: str = "a", role: str = "encoder") -> dict:
    return {"room": room, "name": name, "state": state, "since": since, "role": role}


def test_order_puts_worst_state_first_then_longest_problem(model):
    records = [
        encoder("ok", "up", since=1),
        encoder("late-new", "late", since=50),
        encoder("late-old", "late", since=10),
        encoder("gone", "disconnected", since=90),
        encoder("dead", "down", since=99),
        encoder("meh", "degraded", since=5),
    ]

    ordered = model("orderRooms", [{"name": "a"}], records)

    assert [e["name"] for e in ordered[0]["encoders"]] == ["dead", "gone", "meh", "late-old", "late-new", "ok"]
    assert ordered[0]["state"] == "down"


def test_order_keeps_healthy_encoders_in_role_and_name_order(model):
    records = [
        encoder("b", "up", since=1, role="encoder"),
        encoder("z", "up", since=2, role="collector"),
        encoder("a", "up", since=3, role="encoder"),
    ]

    ordered = model("orderRooms", [{"name": "a"}], records)

    assert [e["name"] for e in ordered[0]["encoders"]] == ["z", "a", "b"]


def test_order_moves_the_worst_room_to_the_top(model):
    rooms = [{"name": "r1"}, {"name": "r2"}, {"name": "r3"}, {"name": "r4"}]
    records = [
        encoder("cam", "up", room="r1"),
        encoder("cam", "late", since=20, room="r2"),
        encoder("cam", "down", since=30, room="r3"),
        encoder("cam", "late", since=10, room="r4"),
    ]

    ordered = model("orderRooms", rooms, records)

    assert [(r["room"]["name"], r["state"]) for r in ordered] == [
        ("r3", "down"),
        ("r4", "late"),
        ("r2", "late"),
        ("r1", "up"),
    ]


def test_order_keeps_config_order_among_equal_rooms_and_puts_empty_rooms_last(model):
    rooms = [{"name": "empty"}, {"name": "r2"}, {"name": "r1"}]
    records = [encoder("cam", "up", room="r1"), encoder("cam", "up", room="r2"), encoder("x", "up", room="unknown")]

    ordered = model("orderRooms", rooms, records)

    assert [(r["room"]["name"], r["state"]) for r in ordered] == [("r2", "up"), ("r1", "up"), ("empty", "empty")]


def test_a_room_with_a_schedule_problem_comes_after_encoder_problems_and_before_healthy_rooms(model, blank_page: Page):
    page = blank_page
    rooms = [{"name": n} for n in ("fine", "late-room", "no-key", "broken-feed", "ok-schedule")]
    records = [encoder("cam", "up", room="fine"), encoder("cam", "late", since=5, room="late-room")]
    schedules = {
        "no-key": {"events": 0, "key": "Hall 9", "names": ["Saal 1"], "ok_at": 1},
        "broken-feed": {"error": "HTTP 500", "error_at": 1, "events": 3},
        "ok-schedule": {"events": 12, "ok_at": 1},
    }

    troubled = page.evaluate("(s) => [...window.model.scheduleTrouble(s)]", schedules)
    ordered = page.evaluate(
        "([rooms, records, s]) => window.model.orderRooms(rooms, records, {}, window.model.scheduleTrouble(s))",
        [rooms, records, schedules],
    )

    assert sorted(troubled) == ["broken-feed", "no-key"]
    assert [(r["room"]["name"], r["state"]) for r in ordered] == [
        ("late-room", "late"),
        ("no-key", "empty"),
        ("broken-feed", "empty"),
        ("fine", "up"),
        ("ok-schedule", "empty"),
    ]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (7.50043, "8 s"),
        (59.4, "59 s"),
        (60, "1 min"),
        (450, "7 min 30 s"),
        (754, "13 min"),
        (3600, "1 h"),
        (7500, "2 h 5 min"),
        (86400, "1 d"),
        (3 * 86400 + 4 * 3600 + 100, "3 d 4 h"),
        (-3, "0 s"),
    ],
)
def test_duration_reads_in_at_most_two_whole_units(model, seconds, text):
    assert model("duration", seconds) == text


def test_ago_says_just_now_under_a_second(model):
    assert (model("ago", 0.4), model("ago", 90)) == ("just now", "1 min 30 s ago")


@pytest.mark.parametrize(
    ("bits", "text"),
    [
        (0, "0 bit/s"),
        (999, "999 bit/s"),
        (128_000, "128 kbit/s"),
        (1_500, "1.5 kbit/s"),
        (4_500_000, "4.5 Mbit/s"),
        (12_345_678, "12.3 Mbit/s"),
        (2_000_000_000, "2 Gbit/s"),
    ],
)
def test_rate_reads_in_si_units(model, bits, text):
    assert model("rate", bits) == text


def test_stream_text_names_format_quality_clients_and_both_rates(model):
    measured = {"format": "hls", "quality": "1080p", "clients": 12, "bitrate": 4_500_000, "bandwidth": 50_000_000}
    estimated = {"format": "audio", "clients": 2, "bitrate": 128_000}
    idle = {"format": "webm", "quality": "sd", "clients": 0, "bitrate": 800_000}

    texts = [model("streamText", s) for s in (measured, estimated, idle)]

    assert texts == [
        "hls 1080p · 12 clients · encoding 4.5 Mbit/s · out 50 Mbit/s",
        "audio · 2 clients · encoding 128 kbit/s · out ≈ 256 kbit/s",
        "webm sd · 0 clients · encoding 800 kbit/s",
    ]


def test_playback_text_says_how_many_tabs_report(model):
    reporting = {"viewers": 12, "health": {"playing": 7, "buffering": 2}}
    silent = {"viewers": 3, "health": {}}

    texts = [model("playbackText", f) for f in (reporting, silent, None)]

    assert texts == [
        "12 tabs on this site · 9 reporting: 7 playing, 2 buffering",
        "3 tabs on this site · no tab reports playback",
        "no tabs on this site",
    ]


def test_streaming_text_counts_the_streaming_servers_clients_of_live_encoders(model):
    records = [
        {**encoder("a", "up"), "totals": {"clients": 40}},
        {**encoder("b", "late"), "streams": [{"clients": 2}, {"clients": 3}]},
        {**encoder("c", "down"), "totals": {"clients": 99}},
    ]
    assert model("streamingText", records) == "45 clients of the streaming servers"
    assert model("streamingText", [encoder("c", "down")]) == ""


def test_order_puts_the_worst_room_state_first_whatever_its_encoders(model):
    rooms = [{"name": "backup-lost"}, {"name": "dark"}, {"name": "fine"}, {"name": "quiet"}]
    records = [
        encoder("c", "down", since=5, room="backup-lost"),
        encoder("a", "up", room="backup-lost"),
        encoder("cam", "late", since=50, room="dark"),
        encoder("cam", "up", room="fine"),
    ]
    states = {
        "backup-lost": {"state": "redundancy-lost"},
        "dark": {"state": "off-air-talk"},
        "fine": {"state": "on-air"},
        "quiet": {"state": "off-air"},
    }

    ordered = model("orderRooms", rooms, records, states)

    assert [(r["room"]["name"], r["roomState"]) for r in ordered] == [
        ("dark", "off-air-talk"),
        ("backup-lost", "redundancy-lost"),
        ("fine", "on-air"),  # fine rooms alike: config order among equal encoders
        ("quiet", "off-air"),
    ]


def test_room_state_text_says_why_and_failing_text_gives_the_evidence(model):
    judged = {"state": "redundancy-lost", "reasons": ["c down"]}
    assert model("roomStateText", judged) == "on air, redundancy lost — c down"
    viewers = {
        "clients": 4,
        "failing": 3,
        "evidence": [
            {"address": "127.0.0.2", "tabs": 1, "format": "hls", "error": "manifestLoadError"},
            {"address": "127.0.0.3", "tabs": 4, "format": "hls", "error": "manifestLoadError"},
            {"address": "127.0.0.4", "tabs": 1, "format": "webm", "error": ""},
        ],
    }
    assert model("failingText", viewers) == (
        "3 clients failing of 4 reporting (distinct addresses) · hls: manifestLoadError (2) · webm: no error given (1)"
    )


def test_title_and_favicon_count_unacknowledged_problems_and_say_the_acknowledged_apart(model):
    records = [encoder("a", "down", since=10), encoder("b", "late", since=20), encoder("c", "up")]
    acks = {"a/a": {"state": "down", "since": 10, "by": "op"}}
    states = {"r1": {"state": "off-air-talk"}, "r2": {"state": "no-encoders"}, "r3": {"state": "on-air"}}

    problems = model("problemCounts", records, states, acks)
    title = model("titleText", problems["counts"], {"rooms": problems["rooms"], "acked": problems["acked"]})

    assert problems["open"] == 3  # two rooms, one encoder nobody is on
    assert title == "(1 off air during a talk, 1 no encoders (setup); 1 late; 1 acknowledged) Dashboard"


def test_title_follows_the_worst_states_not_only_down(model):
    assert model("titleText", {"up": 3}) == "Dashboard"
    assert model("titleText", {"up": 3, "late": 1}) == "(1 late) Dashboard"
    assert model("titleText", {"late": 2, "down": 1, "degraded": 1}) == "(1 down, 1 degraded, 2 late) Dashboard"
    assert model("titleText", {"up": 3}, {"connected": False}) == "(disconnected) Dashboard"


def test_acknowledgement_holds_only_for_the_problem_it_was_given_for(model):
    ack = {"state": "down", "since": 100, "by": "op"}

    same = model("acknowledged", ack, encoder("cam", "down", since=100))
    later = model("acknowledged", ack, encoder("cam", "down", since=200))
    recovered = model("acknowledged", ack, encoder("cam", "up", since=100))

    assert (same, later, recovered) == (True, False, False)


def test_silence_covers_encoder_or_its_room_until_it_ends(model):
    silences = {"a": {"until": 200, "by": "op"}, "b/cam": {"until": 150, "by": "op"}}

    assert model("silenceFor", silences, "a", "cam", 100)["until"] == 200
    assert model("silenceFor", silences, "b", "cam", 100)["until"] == 150
    assert model("silenceFor", silences, "b", "cam", 150) is None
    assert model("silenceFor", silences, "c", "cam", 100) is None


def test_filter_shows_rooms_by_name_or_title_and_encoders_by_name(model):
    room = {"name": "hall-1", "title": "Großer Saal"}
    records = [encoder("hall-1-hd", "up"), encoder("hall-1-sd", "up"), encoder("collector", "down")]

    results = [model("filterRoom", text, room, records) for text in ("", "saal", "sd", "HALL hd", "lounge")]

    assert results == [
        {"room": True, "encoders": ["hall-1-hd", "hall-1-sd", "collector"]},
        {"room": True, "encoders": ["hall-1-hd", "hall-1-sd", "collector"]},  # the title: the whole room
        {"room": True, "encoders": ["hall-1-sd"]},
        {"room": True, "encoders": ["hall-1-hd"]},  # every word, in any field, any case
        {"room": False, "encoders": []},
    ]
