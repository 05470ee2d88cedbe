"""One router per capability, assembled in the order they should be tried."""

from __future__ import annotations

from aiogram import Router

from events.bot.routers import errors, fallback, language, start


def get_routers() -> list[Router]:
    """Fresh routers each time: a process may build more than one bot (tests, the sandbox)."""
    # The fallback comes last: it answers whatever no other router took.
    return [module.build_router() for module in (errors, start, language, fallback)]
