"""Scheduled work that several workers may start at once, done by one of them.

On PostgreSQL a job's transaction first takes a transaction-level advisory lock
(``pg_try_advisory_xact_lock(job, key)``): the worker that gets it does the work, any other
skips it, and the lock goes with the transaction's end (commit, rollback or a dropped
connection), so a worker that dies holding it strands nothing. On SQLite there is one process
and every transaction already holds the only write lock: the lock is always granted.

Each job has its own constant (the first key); the second key narrows the lock to one thing
the job works on (a series), so workers may do different things of one job side by side.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# The first key of each job's lock; never reuse or renumber one (old and new workers may run
# side by side during an upgrade).
SERIES_EXTEND = 0x45560001  # events.bot.occurrences: creating a series' next occurrences
MIGRATIONS = 0x45560002  # events.db.migrations.env: one upgrade at a time (waited for)


async def try_job_lock(session: AsyncSession, job: int, key: int = 0) -> bool:
    """Take the lock of ``job`` on ``key`` for the rest of ``session``'s transaction; False
    when another transaction holds it (then leave the work to that one)."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    statement = text(
        "SELECT pg_try_advisory_xact_lock(CAST(:job AS integer), CAST(:key AS integer))"
    )
    return bool(await session.scalar(statement, {"job": job, "key": key}))
