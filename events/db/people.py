"""People: the Telegram users the bot has met."""

from __future__ import annotations

from aiogram.types import User
from sqlalchemy.ext.asyncio import AsyncSession

from events.db.models import Person
from events.db.upsert import insert


async def get_or_create_person(session: AsyncSession, user: User) -> Person:
    """The person for a Telegram user, created on first sight, details kept current.

    Two first updates of one person may arrive at once; the insert tolerates that.
    """
    person = await session.get(Person, user.id)
    if person is None:
        await session.execute(
            insert(session, Person)
            .values(
                id=user.id,
                first_name=user.first_name,
                username=user.username,
                language_code=user.language_code,
            )
            .on_conflict_do_nothing(index_elements=[Person.id])
        )
        person = await session.get(Person, user.id)
        assert person is not None
        return person
    if (person.first_name, person.username, person.language_code) != (
        user.first_name,
        user.username,
        user.language_code,
    ):
        person.first_name = user.first_name
        person.username = user.username
        person.language_code = user.language_code
    return person
