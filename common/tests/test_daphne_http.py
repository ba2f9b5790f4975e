"""Daphne's requests leave form bodies to the application (the site's own parse is the one that counts)."""

import inspect

from daphne.http_protocol import WebRequest
from twisted.web import http

from common.daphne_http import skip_form_parsing


def test_a_daphne_request_does_not_parse_its_form_body():
    skip_form_parsing()
    request = WebRequest.__new__(WebRequest)  # without a connection: only the switch is looked at

    request._parsePOSTFormSubmission = True  # what Twisted's Request.__init__ assigns to every request

    assert request._parsePOSTFormSubmission is False


def test_twisted_still_parses_forms_only_when_its_switch_says_so():
    # Fails on a Twisted release that renames the switch: skip_form_parsing would do nothing there.
    assert "self._parsePOSTFormSubmission" in inspect.getsource(http.Request.requestReceived)
