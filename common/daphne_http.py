"""Daphne's HTTP requests, without the form parsing nobody reads.

Twisted's `Request.requestReceived` parses the Content-Type of every POST
with the standard library's email package, and a form body into
`request.args`; daphne never reads `args` (it hands the raw body to the
application, where Django parses it once more). The email parse alone was a
tenth of a heartbeat's CPU in the profile (docs/performance.md). Twisted
keeps the switch in `_parsePOSTFormSubmission`, set per request from an
argument daphne never passes; a read-only class attribute turns it off.
Twisted is pinned exactly (requirements.in); should a release drop the
name, the attribute is inert and requests are parsed as before, which
common/tests/test_daphne_http.py notices.
"""

from __future__ import annotations


def skip_form_parsing() -> None:
    """Make daphne's requests skip Twisted's form parsing (call once, before serving)."""
    from daphne.http_protocol import WebRequest  # type: ignore[import-untyped]

    # A data descriptor wins over the instance attribute Twisted's __init__ assigns.
    WebRequest._parsePOSTFormSubmission = property(lambda request: False, lambda request, value: None)
