"""APScheduler 3 wakes the bot when something falls due; the database stays the source of truth."""

from __future__ import annotations

from datetime import UTC

from apscheduler.schedulers.asyncio import AsyncIOScheduler


def build_scheduler() -> AsyncIOScheduler:
    """An in-memory scheduler: jobs carry ids only, and are re-planned from the database."""
    return AsyncIOScheduler(timezone=UTC)
