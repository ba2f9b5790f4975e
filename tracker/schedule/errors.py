"""The one exception the schedule layer raises for bad input."""


class ScheduleError(ValueError):
    """A schedule could not be read; the message names the source item that is wrong."""
