"""The programme: each room's schedule kept current in Redis, now/next pushed
at talk boundaries (sync), and served over HTTP as JSON, RSS and iCalendar
(views), over the pure parsers of tracker.schedule.

Imports nothing from tracker.live or tracker.ops.
"""
