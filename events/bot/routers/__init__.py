"""One router per capability, assembled in the order they should be tried."""

from __future__ import annotations

from aiogram import Router

from events.bot.routers import errors, fallback, language, start


def get_routers() -> list[Router]:
    # The fallback comes last: it answers whatever no other router took.
    return [errors.router, start.router, language.router, fallback.router]
