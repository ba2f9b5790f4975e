import pytest

from tracker.schedule import Format, detect_format

from .support import FIXTURES


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("dst-day-frab.xml", Format.FRAB_XML),
        ("across-midnight-frab.json", Format.FRAB_JSON),
        ("schedule2-minimal.json", Format.SCHEDULE2),
        ("pretalx-wrong-vtimezone.ics", Format.ICAL),
        ("durations-eventfeed.json", Format.EVENTFEED),
    ],
)
def test_detect_format_reads_content(name: str, expected: Format) -> None:
    assert detect_format((FIXTURES / name).read_bytes()) == expected


def test_detect_format_ignores_bom_and_leading_space() -> None:
    content = b"\xef\xbb\xbf\r\n  BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"

    assert detect_format(content) == Format.ICAL


def test_detect_format_json_without_wrapper_is_recognized() -> None:
    content = b'{"conference": {"days": []}}'

    assert detect_format(content) == Format.FRAB_JSON
