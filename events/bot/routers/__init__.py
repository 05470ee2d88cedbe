"""One router per capability, assembled in the order they should be tried."""

from __future__ import annotations

from aiogram import Router

from events.bot.routers import (
    announce,
    checkin,
    community,
    errors,
    fallback,
    forget,
    hosts,
    language,
    manage,
    qa,
    rsvp,
    settings,
    start,
    timezone,
    wizard,
)
from events.feeds import bot as calendar


def get_routers() -> list[Router]:
    """Fresh routers each time: a process may build more than one bot (tests, the sandbox)."""
    # The wizard comes first: a command typed in the middle of it asks before leaving it.
    # The check-in's comment comes next: a command typed instead of a comment drops it first.
    # The fallback comes last: it answers whatever no other router took.
    order = (
        errors,
        wizard,
        checkin,
        manage,
        announce,
        rsvp,
        qa,
        start,
        language,
        timezone,
        calendar,
        settings,
        forget,
        community,
        hosts,
        fallback,
    )
    return [module.build_router() for module in order]
