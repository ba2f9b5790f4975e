"""Setup mistakes that parse but do not work, found before they bite.

Each problem is one line for the organiser, naming the file or room and key
like config errors do. The same functions feed Django's system checks
(`manage.py check`, and daphne's start-up for static files), `check_config`
and the operators' dashboard.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage

from tracker.config import SiteConfig
from tracker.programme import sync

# Room keys that browsers load as they are: a relative one resolves against
# whichever page shows it, and loads nothing.
BROWSER_URL_KEYS = ("preview", "irclog")
# What collectstatic leaves out by default.
COLLECTSTATIC_IGNORED = ["CVS", ".*", "*~"]


def is_web_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def config_problems(config: SiteConfig) -> list[str]:
    """URLs and paths in the rooms config that cannot work."""
    problems = []
    for room in config.rooms.values():
        where = f"room {room.name!r}"
        for key in BROWSER_URL_KEYS:
            value = room.settings.get(key) or ""
            if value and not is_web_url(value):
                problems.append(f"{where}: key {key!r}: {value!r} is not an absolute http(s) URL, so it shows nothing")
        schedule = room.settings.get("schedule") or ""
        if schedule and not schedule.startswith(("http://", "https://")):
            if not Path(schedule).is_absolute():
                problems.append(
                    f"{where}: key 'schedule': {schedule!r} is neither an http(s) URL nor an absolute file path "
                    "(a relative path depends on the directory the worker starts in)"
                )
            elif problem := sync.file_problem(schedule):
                problems.append(f"{where}: key 'schedule': file {schedule!r} {problem}")
    return problems


def unreadable_schedule_files(config: SiteConfig) -> list[str]:
    """Schedule files that exist but could never be read (a FIFO, a device, too big): a reload refuses them."""
    problems = []
    for room in config.rooms.values():
        schedule = room.settings.get("schedule") or ""
        if schedule.startswith(("http://", "https://")) or not Path(schedule).is_absolute():
            continue
        problem = sync.file_problem(schedule)
        if problem is not None and problem != sync.MISSING:
            problems.append(f"room {room.name!r}: key 'schedule': file {schedule!r} {problem}")
    return problems


def schedule_key_problems(health: dict[str, Any], config: SiteConfig) -> list[str]:
    """Rooms whose schedule-key matched no room of their source at the last sync."""
    problems = []
    for name, entry in sorted(health.items()):
        if name in config.rooms and not entry.get("error") and entry.get("events") == 0 and "names" in entry:
            names = ", ".join(repr(n) for n in entry["names"]) or "none"
            problems.append(
                f"room {name!r}: key 'schedule-key': {entry['key']!r} matches no room of the schedule "
                f"at the last sync; its rooms are {names}"
            )
    return problems


def static_problems() -> list[str]:
    """With hashed static names (production), files collectstatic has not collected.

    Without them every page that links a static file answers 500 ("Missing
    staticfiles manifest entry"); better said once at start-up.
    """
    storage = staticfiles_storage
    if not isinstance(storage, ManifestFilesMixin):  # development: files are served from the apps
        return []
    manifest, _ = storage.load_manifest()  # read now: the storage keeps what it read when created
    if not manifest:
        return [f"static files are not collected in {storage.location}: run `manage.py collectstatic --noinput`"]
    missing = sorted(
        path
        for finder in finders.get_finders()
        for path, _ in finder.list(COLLECTSTATIC_IGNORED)
        if path not in manifest
    )
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        return [f"static files changed since the last collectstatic ({shown}): run `manage.py collectstatic --noinput`"]
    return []
