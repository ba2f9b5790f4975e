import pytest

from tracker.schedule.text import as_text, plain_text, safe_url


def test_plain_text_drops_tags_scripts_and_decodes_entities() -> None:
    html = '<p>Hi <b>there</b> &amp; &eacute;</p><script>alert("x")</script><style>p {}</style><img src=x onerror=a()>'

    text = plain_text(html)

    assert text == "Hi there & é"


def test_plain_text_turns_list_items_into_lines() -> None:
    text = plain_text("<p>Topics:</p><ul><li>one</li><li>two</li></ul>")

    assert text == "Topics:\n\n- one\n\n- two"


def test_plain_text_keeps_plain_text_lines_and_strips_indentation() -> None:
    text = plain_text("First.\r\n\r\n\r\n                    Second, indented.\r\nThird")

    assert text == "First.\n\nSecond, indented.\nThird"


def test_plain_text_survives_broken_attribute_quotes() -> None:
    # From the LSWT description: a link whose href opens with a typographic quote that never closes.
    text = plain_text("<p>am <a href=”https://example.org/campus/>Mediencampus Villa Ida</a>.stattfinden.</p>")

    assert text == "am Mediencampus Villa Ida.stattfinden."


@pytest.mark.parametrize("value", [None, "", "   "])
def test_plain_text_empty_input_is_empty(value: str | None) -> None:
    assert plain_text(value) == ""


@pytest.mark.parametrize(
    ("value", "base", "expected"),
    [
        ("https://example.org/a", "", "https://example.org/a"),
        ("/system/logo.png", "https://fahrplan.example/camp/", "https://fahrplan.example/system/logo.png"),
        ("talk/1/", "https://example.org/conf/", "https://example.org/conf/talk/1/"),
        ("javascript:alert(1)", "", ""),
        ("mailto:someone@example.org", "", ""),
        ("relative/without/base", "", ""),
        ("", "https://example.org/", ""),
    ],
)
def test_safe_url_keeps_only_absolute_http_urls(value: str, base: str, expected: str) -> None:
    assert safe_url(value, base) == expected


@pytest.mark.parametrize(("value", "expected"), [(" x ", "x"), (12, "12"), (True, ""), (None, ""), ({"a": 1}, "")])
def test_as_text_reads_json_scalars(value: object, expected: str) -> None:
    assert as_text(value) == expected
