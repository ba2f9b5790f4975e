from datetime import UTC, datetime

from django import template

register = template.Library()


@register.filter
def utc_clock(value: str) -> str:
    """ "2025-12-27T14:30:00Z" -> "14:30 UTC": the no-JavaScript reading of a <time>;
    the page's script shows it in the viewer's own time zone."""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%H:%M UTC")
