"""What a string from outside may contain, checked once for every place it goes.

Client and schedule text ends up in JSON (for browsers and for Redis's Lua
cjson, which refuses unpaired UTF-16 surrogates), in Redis (UTF-8 only), in
HTML, XML (which forbids most control characters and U+FFFE/U+FFFF) and
iCalendar (where CR/LF would start a new property). The characters none of
them can carry safely are refused at the door for client input, with the
field named, and stripped from schedule text, which we only relay.
"""

from __future__ import annotations

import json
import re
from typing import Any


class InvalidField(ValueError):
    """One field of the input is wrong; `field` names it as a path."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# C0 and C1 controls, DEL, unpaired (any, in a Python str) surrogates, and the
# two noncharacters XML forbids. Tab and newline are allowed in multi-line text only.
_FORBIDDEN = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff"
FORBIDDEN_IN_LINE = re.compile(f"[\t\n\r{_FORBIDDEN}]")
FORBIDDEN_IN_TEXT = re.compile(f"[\r{_FORBIDDEN}]")


def bad_character(value: str, *, multiline: bool = False) -> str | None:
    """A description of the first character `value` may not contain, or None."""
    found = (FORBIDDEN_IN_TEXT if multiline else FORBIDDEN_IN_LINE).search(value)
    return None if found is None else f"must not contain the character U+{ord(found.group()):04X}"


def check_text(field: str, value: Any, *, multiline: bool = False) -> str:
    """`value` if it is a string every output can carry; InvalidField naming `field` otherwise."""
    if not isinstance(value, str):
        raise InvalidField(field, "must be a string")
    if problem := bad_character(value, multiline=multiline):
        raise InvalidField(field, problem)
    return value


def check_tree(value: Any, path: str = "body") -> None:
    """Check every string (keys too) of decoded JSON; InvalidField names the first bad one by its path."""
    if isinstance(value, str):
        check_text(path, value)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_tree(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        for name, item in value.items():
            if bad_character(name):
                raise InvalidField(path, f"has a key that {bad_character(name)}")
            check_tree(item, name if path == "body" else f"{path}.{name}")


def clean(value: str, *, multiline: bool = True) -> str:
    """Schedule text without the characters no output may carry (CR/LF become one newline)."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return (FORBIDDEN_IN_TEXT if multiline else FORBIDDEN_IN_LINE).sub("" if multiline else " ", value)


def escaped_bytes(value: str) -> int:
    """The bytes `value` takes as a JSON string with every non-ASCII character escaped, quotes not counted.

    The most it takes anywhere: a character outside the Basic Multilingual
    Plane is 4 bytes in UTF-8 and 12 escaped (a surrogate pair), so caps
    meant for what is sent are checked on this, never on characters.
    """
    return len(json.dumps(value)) - 2
