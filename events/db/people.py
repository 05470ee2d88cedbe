"""People: the Telegram users the bot has met."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from aiogram.types import User
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from events.db.models import Person
from events.db.upsert import insert


async def get_or_create_person(session: AsyncSession, user: User) -> Person:
    """The person for a Telegram user, created on first sight, details kept current.

    Two first updates of one person may arrive at once; the insert tolerates that.
    """
    return (await people_for(session, [user]))[user.id]


async def people_for(session: AsyncSession, users: Sequence[User]) -> dict[int, Person]:
    """:func:`get_or_create_person` for many users at once (one read; for those never seen one
    insert and one more read), by id."""
    latest = {user.id: user for user in users}
    found = await _people(session, latest)
    missing = [user for user in latest.values() if user.id not in found]
    if missing:
        await session.execute(
            insert(session, Person.__table__).on_conflict_do_nothing(index_elements=["id"]),
            [
                {
                    "id": user.id,
                    "first_name": user.first_name,
                    "username": user.username,
                    "language_code": user.language_code,
                }
                for user in missing
            ],
        )
        found.update(await _people(session, [user.id for user in missing]))
    for person in found.values():
        user = latest[person.id]
        if (person.first_name, person.username, person.language_code) != (
            user.first_name,
            user.username,
            user.language_code,
        ):
            person.first_name = user.first_name
            person.username = user.username
            person.language_code = user.language_code
    return found


async def _people(session: AsyncSession, ids: Iterable[int]) -> dict[int, Person]:
    statement = select(Person).where(Person.id.in_(list(ids)))
    return {person.id: person for person in (await session.scalars(statement)).all()}
