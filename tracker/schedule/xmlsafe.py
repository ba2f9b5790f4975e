"""XML parsing that refuses DTDs, so entity bombs and external entities never expand."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import NoReturn
from xml.parsers import expat

from .errors import ScheduleError


def _refuse_doctype(*_args: object) -> NoReturn:
    # Schedules never need a DTD; refusing it outright is what defusedxml's forbid_dtd does.
    raise ScheduleError("XML with a DOCTYPE is refused (entity expansion is not allowed)")


def parse_xml(content: bytes) -> ET.Element:
    """The root element of an XML document that has no DOCTYPE."""
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_doctype
    parser.ExternalEntityRefHandler = _refuse_doctype
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(content, True)
    except expat.ExpatError as exc:
        raise ScheduleError(f"malformed XML: {exc}") from None
    return builder.close()
