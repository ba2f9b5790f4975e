"""Plain text from HTML abstracts, and URLs that are safe to link."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from ..safetext import bad_character

_BLOCKS = frozenset(
    {"address", "article", "blockquote", "br", "dd", "div", "dl", "dt", "footer", "h1", "h2", "h3", "h4", "h5", "h6"}
    | {"header", "hr", "ol", "p", "pre", "section", "table", "tr", "ul"}
)
_HIDDEN = frozenset({"script", "style", "template", "head", "title"})


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML fragment, with line breaks where blocks start and end."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCKS or tag == "li":
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def plain_text(value: str | None) -> str:
    """Text without markup: HTML tags dropped, entities decoded, indentation and blank-line runs tidied."""
    if not value:
        return ""
    extractor = _TextExtractor()
    extractor.feed(value)
    extractor.close()
    text = "".join(extractor.parts).replace("\r\n", "\n").replace("\r", "\n")
    # Pretty-printed XML indents continuation lines (39C3 uses 20 spaces); that indentation is not content.
    lines = [line.strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def safe_url(value: str | None, base: str = "") -> str:
    """An absolute http(s) URL, resolved against base; "" for anything else (javascript:, mailto:, junk)."""
    if not value or not value.strip():
        return ""
    try:
        url = urljoin(base, value.strip()) if base else value.strip()
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:  # "http://[::1": one bad URL drops that URL, not the whole schedule
        return ""
    if bad_character(url):  # a CR/LF or control character could end a line of a feed or a log
        return ""
    return url if parts.scheme in ("http", "https") and parts.hostname else ""


def as_text(value: object) -> str:
    """A JSON value as stripped text: strings as they are, numbers written out, anything else ""."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""
