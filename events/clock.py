"""The one clock: every "now" in the bot, the scheduler and delivery comes from here.

In production it is the system clock (which Debian's ``faketime`` may shift for the whole
process). Tests and the sandbox move it forward with :meth:`Clock.advance`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    def __init__(self) -> None:
        self._offset = timedelta(0)

    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        return datetime.now(UTC) + self._offset

    @property
    def offset(self) -> timedelta:
        """How far this clock runs ahead of the process's own clock."""
        return self._offset

    def advance(self, delta: timedelta) -> None:
        """Move forward; the clock never goes back."""
        if delta < timedelta(0):
            raise ValueError("the clock only moves forward")
        self._offset += delta
