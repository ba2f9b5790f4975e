"""Daphne's requests leave form bodies to the application (the site's own parse is the one that counts)."""

from daphne.http_protocol import WebRequest

from common.daphne_http import skip_form_parsing


def test_a_daphne_request_does_not_parse_its_form_body():
    skip_form_parsing()
    request = WebRequest.__new__(WebRequest)  # without a connection: only the switch is looked at

    request._parsePOSTFormSubmission = True  # what Twisted's Request.__init__ assigns to every request

    assert request._parsePOSTFormSubmission is False
