"""The one clock: every "now" in the bot, the scheduler and delivery comes from here.

In production it is the system clock (which Debian's ``faketime`` may shift for the whole
process). Tests and the sandbox move it forward with :meth:`Clock.advance`; whoever plans work
by it (the delivery wake-up) hears of every move through :meth:`Clock.subscribe`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

log = logging.getLogger(__name__)


class Clock:
    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._listeners: list[Callable[[], None]] = []

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
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:
                log.exception("a clock listener failed")

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener()`` whenever the clock moves; returns the call that unsubscribes."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def to_process(self, instant: datetime) -> datetime:
        """The process-clock instant (``datetime.now(UTC)``) at which this clock shows
        ``instant``: what a timer of the process, such as APScheduler's, must wait for."""
        return instant - self._offset
