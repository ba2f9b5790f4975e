import re

from django import template

from frontend.extras import moment, zone
from frontend.programme import day_label

register = template.Library()

register.filter("day_label", day_label)


@register.filter
def clock(value: str, timezone: str = "UTC") -> str:
    """ "2025-12-27T14:30:00Z" -> "15:30" in the event's time zone: the no-JavaScript reading
    of a <time>; the page's clock (common/clock.js) shows it in the zone and format the viewer chose."""
    parsed = moment(value)
    return parsed.astimezone(zone(timezone)).strftime("%H:%M") if parsed else ""


# One language tag ("de", "en-GB"); schedules also say "de, en", which names no single language.
LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*\Z")


@register.filter
def lang(value: object) -> str:
    """The talk's language as an HTML lang value, or "" when the schedule gives none or several."""
    text = value.strip() if isinstance(value, str) else ""
    return text.lower() if LANGUAGE_TAG.match(text) else ""
