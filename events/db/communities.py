"""Communities and their hosts: the rows behind the groups the bot serves. Never commits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from events.db.models import ChatType, Community, Event, Host, Person
from events.db.upsert import insert


@dataclass(frozen=True)
class GroupChat:
    """What Telegram tells about a group where the bot is."""

    id: int
    title: str
    chat_type: ChatType
    is_forum: bool


async def arrive(
    session: AsyncSession,
    chat: GroupChat,
    *,
    thread_id: int | None,
    locale: str,
    timezone: str,
) -> tuple[Community, bool]:
    """The community of a group the bot is in, and whether it has just arrived there.

    A new group gets a row; a group the bot had left becomes active again with the group's
    details as they are now (its settings kept, its posts going to ``thread_id``); a group it is
    in already is left alone (this update may be older than a rename handled before it). Two
    updates announcing the same arrival cannot both see it as new: the insert and the
    reactivation are single statements that only one transaction can win.
    """
    arrival = {
        "title": chat.title,
        "chat_type": chat.chat_type,
        "is_forum": chat.is_forum,
        # Posts go where the bot was set up: a topic of a forum, else the group (General).
        "thread_id": thread_id if chat.is_forum else None,
    }
    created = await session.scalar(
        insert(session, Community)
        .values(id=chat.id, **arrival, locale=locale, timezone=timezone)
        .on_conflict_do_nothing(index_elements=[Community.id])
        .returning(Community.id)
    )
    arrived = created is not None
    if not arrived:
        returned = await session.scalar(
            update(Community)
            .where(Community.id == chat.id, Community.active.is_(False))
            .values(**arrival, active=True)
            .returning(Community.id)
        )
        arrived = returned is not None
    community = await session.get(Community, chat.id, populate_existing=True)
    assert community is not None
    return community, arrived


async def deactivate(session: AsyncSession, community_ids: Iterable[int]) -> None:
    """The bot is no longer in these groups; their events and people's data stay."""
    ids = list(community_ids)
    if ids:
        await session.execute(update(Community).where(Community.id.in_(ids)).values(active=False))


async def retitle(session: AsyncSession, community_id: int, title: str) -> None:
    await session.execute(update(Community).where(Community.id == community_id).values(title=title))


async def move(session: AsyncSession, old_id: int, new_id: int) -> None:
    """A group upgraded to a supergroup: its community continues under the new id.

    The foreign keys follow the id (ON UPDATE CASCADE). If the new id has a community of its
    own already, the old one's events and hosts join it and the old row goes.
    """
    if old_id == new_id or not await _exists(session, old_id):
        return
    values = {"chat_type": ChatType.SUPERGROUP, "active": True}
    if not await _exists(session, new_id):
        await session.execute(
            update(Community).where(Community.id == old_id).values(id=new_id, **values)
        )
        return
    await session.execute(
        update(Event).where(Event.community_id == old_id).values(community_id=new_id)
    )
    already = select(Host.person_id).where(Host.community_id == new_id)
    await session.execute(
        update(Host)
        .where(Host.community_id == old_id, Host.person_id.not_in(already))
        .values(community_id=new_id)
    )
    await session.execute(delete(Community).where(Community.id == old_id))
    await session.execute(update(Community).where(Community.id == new_id).values(**values))


async def _exists(session: AsyncSession, community_id: int) -> bool:
    return bool(await session.scalar(select(exists().where(Community.id == community_id))))


async def active_communities(session: AsyncSession) -> list[Community]:
    return list(
        await session.scalars(
            select(Community).where(Community.active.is_(True)).order_by(Community.title)
        )
    )


async def hosted_by(session: AsyncSession, person_id: int) -> list[Community]:
    """Active communities where the person has a host row."""
    return list(
        await session.scalars(
            select(Community)
            .join(Host, Host.community_id == Community.id)
            .where(Host.person_id == person_id, Community.active.is_(True))
            .order_by(Community.title)
        )
    )


async def is_host(session: AsyncSession, community_id: int, person_id: int) -> bool:
    return bool(
        await session.scalar(
            select(exists().where(Host.community_id == community_id, Host.person_id == person_id))
        )
    )


async def add_host(
    session: AsyncSession, community_id: int, person_id: int, *, added_by: int | None
) -> bool:
    """Make the person a host; False if they were one already."""
    added = await session.scalar(
        insert(session, Host)
        .values(community_id=community_id, person_id=person_id, added_by=added_by)
        .on_conflict_do_nothing(index_elements=[Host.community_id, Host.person_id])
        .returning(Host.person_id)
    )
    return added is not None


async def remove_host(session: AsyncSession, community_id: int, person_id: int) -> bool:
    """The person is a host no more; False if they were not one."""
    removed = await session.scalar(
        delete(Host)
        .where(Host.community_id == community_id, Host.person_id == person_id)
        .returning(Host.person_id)
    )
    return removed is not None


async def hosts_of(session: AsyncSession, community_ids: Iterable[int]) -> dict[int, list[Person]]:
    """The hosts of each community, in the order they became hosts."""
    ids = list(community_ids)
    found: dict[int, list[Person]] = {community_id: [] for community_id in ids}
    if not ids:
        return found
    rows = await session.execute(
        select(Host.community_id, Person)
        .join(Person, Person.id == Host.person_id)
        .where(Host.community_id.in_(ids))
        .order_by(Host.created_at, Person.first_name)
    )
    for community_id, person in rows:
        found[community_id].append(person)
    return found
