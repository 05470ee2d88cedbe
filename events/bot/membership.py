"""Who belongs to a community and who may run it (CONTRACT §5).

Telegram is asked (getChatMember) when someone acts, and its answer is kept at most
:data:`CACHE_FOR` by the one clock. The bot's owners (`EVENTS_ADMIN_IDS`) are admins of every
community. A group that refuses the bot (kicked, chat not found) makes its community inactive;
no Telegram error reaches the handler that asked.

Handlers receive the one :class:`Membership` of the app as ``membership``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiogram import Bot
from aiogram.enums import ChatMemberStatus
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
)
from aiogram.types import ChatMember, ChatMemberRestricted, Message
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from events.clock import Clock
from events.db.communities import active_communities, deactivate, hosted_by, is_host
from events.db.models import Community
from events.db.unit import unit_of_work

log = logging.getLogger(__name__)

CACHE_FOR = timedelta(seconds=60)
# A lookup may run while the update holds SQLite's write lock: it must not take long.
LOOKUP_TIMEOUT = 5
# Lookups at once when checking many communities for one person.
PARALLEL_LOOKUPS = 8
_CACHE_PRUNE_SIZE = 10_000

_ADMINS = frozenset({ChatMemberStatus.CREATOR, ChatMemberStatus.ADMINISTRATOR})
_PRESENT = _ADMINS | {ChatMemberStatus.MEMBER}


def is_present(member: ChatMember) -> bool:
    """In the group (restricted members too, while they are in it)."""
    if isinstance(member, ChatMemberRestricted):
        return member.is_member
    return ChatMemberStatus(member.status) in _PRESENT


@dataclass(frozen=True)
class Standing:
    """A person's place in a group, as Telegram last told it."""

    admin: bool
    member: bool
    at: datetime | None = None  # None: not from Telegram, not kept

    @classmethod
    def of(cls, member: ChatMember, at: datetime) -> Standing:
        admin = ChatMemberStatus(member.status) in _ADMINS
        return cls(admin=admin, member=is_present(member), at=at)


NOBODY = Standing(admin=False, member=False)


class Membership:
    def __init__(
        self,
        bot: Bot,
        clock: Clock,
        sessions: async_sessionmaker[AsyncSession],
        owners: Iterable[int] = (),
    ) -> None:
        self._bot = bot
        self._clock = clock
        self._sessions = sessions
        self.owners = frozenset(owners)
        self._cache: dict[tuple[int, int], Standing] = {}

    # ------------------------------------------------------------------ one person, one group

    async def is_admin(self, community_id: int, user_id: int) -> bool:
        """An administrator or the creator of the group, or an owner of the bot."""
        if user_id in self.owners:
            return True
        return (await self._standing(community_id, user_id)).admin

    async def is_member(self, community_id: int, user_id: int) -> bool:
        """In the group now (restricted members too, while they are in it)."""
        return (await self._standing(community_id, user_id)).member

    async def sent_by_admin(self, message: Message) -> bool:
        """The sender of a group message is one of its admins; an anonymous admin writes as
        the group itself (``sender_chat`` is the group)."""
        if message.sender_chat is not None:
            return message.sender_chat.id == message.chat.id
        if message.from_user is None:
            return False
        return await self.is_admin(message.chat.id, message.from_user.id)

    async def can_host(self, session: AsyncSession, community_id: int, person_id: int) -> bool:
        """May create and manage the community's events: a host of it, or an admin."""
        community = await session.get(Community, community_id)
        if community is None or not community.active:
            return False
        if await is_host(session, community_id, person_id):
            return True
        return await self.is_admin(community_id, person_id)

    async def bot_is_in(self, chat_id: int, *, claimed: bool) -> bool:
        """Whether the bot is in the group now, as Telegram says (never cached); ``claimed``
        (what an update said) when Telegram cannot be asked."""
        member, gone = await self._ask(chat_id, self._bot.id)
        if gone:
            return False
        return claimed if member is None else is_present(member)

    def note_member(self, community_id: int, user_id: int) -> None:
        """The person just tapped a button of the group's post: a member, for now."""
        cached = self._fresh(community_id, user_id)
        if cached is None or not cached.member:
            admin = cached.admin if cached is not None else False
            self._keep(community_id, user_id, Standing(admin, True, self._clock.now()))

    def remember(self, community_id: int, member: ChatMember) -> None:
        """What Telegram told about a person (a lookup or a ``chat_member`` update)."""
        self._keep(community_id, member.user.id, Standing.of(member, self._clock.now()))

    def forget(self, community_id: int) -> None:
        """Drop what is known about a group (it moved, or the bot left it)."""
        for key in [key for key in self._cache if key[0] == community_id]:
            del self._cache[key]

    async def _standing(self, community_id: int, user_id: int) -> Standing:
        standing, lost = await self._lookup(community_id, user_id)
        if lost:
            async with unit_of_work(self._sessions) as session:
                await deactivate(session, [community_id])
        return standing

    # ------------------------------------------------------------------ one person, all groups

    async def admin_communities(self, session: AsyncSession, person_id: int) -> list[Community]:
        """Active communities whose group has the person as an admin (owners: all of them)."""
        communities = await active_communities(session)
        return await self._administered(session, person_id, communities)

    async def communities_for_host(self, session: AsyncSession, person_id: int) -> list[Community]:
        """Active communities where the person may create events: host rows, then groups
        where they are an admin; by title."""
        hosted = await hosted_by(session, person_id)
        known = {community.id for community in hosted}
        others = [c for c in await active_communities(session) if c.id not in known]
        administered = await self._administered(session, person_id, others)
        return sorted([*hosted, *administered], key=lambda community: community.title.casefold())

    async def member_of(
        self, session: AsyncSession, person_id: int, communities: Sequence[Community]
    ) -> list[Community]:
        """Those of the communities whose group has the person in it now, in the same order."""
        found = await self._standings(session, person_id, communities)
        return [community for community, standing in found if standing.member]

    def said_absent(self, community_id: int, user_id: int) -> bool:
        """Telegram's latest word this process kept (of any age) is that the person is not in
        the group: for readers that must not ask Telegram themselves (the feeds)."""
        seen = self._cache.get((community_id, user_id))
        return seen is not None and seen.at is not None and not seen.member

    async def standings(
        self, session: AsyncSession, person_id: int
    ) -> list[tuple[Community, Standing]]:
        """The person's standing in the group of every active community (an owner is an admin
        of each); groups lost to the bot are left out."""
        found = await self._standings(session, person_id, await active_communities(session))
        if person_id in self.owners:
            return [(c, Standing(True, standing.member, standing.at)) for c, standing in found]
        return found

    async def _administered(
        self, session: AsyncSession, person_id: int, communities: Sequence[Community]
    ) -> list[Community]:
        if person_id in self.owners:
            return list(communities)
        found = await self._standings(session, person_id, communities)
        return [community for community, standing in found if standing.admin]

    async def _standings(
        self, session: AsyncSession, person_id: int, communities: Sequence[Community]
    ) -> list[tuple[Community, Standing]]:
        gate = asyncio.Semaphore(PARALLEL_LOOKUPS)

        async def lookup(community: Community) -> tuple[Standing, bool]:
            async with gate:
                return await self._lookup(community.id, person_id)

        # Lookups run in tasks of their own: they never touch the database; what they learnt
        # about lost groups is written here, in the caller's transaction.
        results = await asyncio.gather(*(lookup(community) for community in communities))
        lost = [c.id for c, (_, gone) in zip(communities, results, strict=True) if gone]
        if lost:
            await deactivate(session, lost)
        return [
            (community, standing)
            for community, (standing, gone) in zip(communities, results, strict=True)
            if not gone
        ]

    # ------------------------------------------------------------------ Telegram and the cache

    def _fresh(self, community_id: int, user_id: int) -> Standing | None:
        cached = self._cache.get((community_id, user_id))
        if cached is None or cached.at is None or self._clock.now() - cached.at >= CACHE_FOR:
            return None
        return cached

    def _keep(self, community_id: int, user_id: int, standing: Standing) -> None:
        if len(self._cache) >= _CACHE_PRUNE_SIZE:
            now = self._clock.now()
            for key, seen in list(self._cache.items()):
                if seen.at is None or now - seen.at >= CACHE_FOR:
                    del self._cache[key]
        self._cache[(community_id, user_id)] = standing

    async def _lookup(self, community_id: int, user_id: int) -> tuple[Standing, bool]:
        """The person's standing (cached), and whether the bot has lost the group."""
        cached = self._fresh(community_id, user_id)
        if cached is not None:
            return cached, False
        member, gone = await self._ask(community_id, user_id)
        if gone:
            self.forget(community_id)
            return NOBODY, True
        if member is None:
            return NOBODY, False
        self.remember(community_id, member)
        return self._cache[(community_id, user_id)], False

    async def _ask(self, chat_id: int, user_id: int) -> tuple[ChatMember | None, bool]:
        """getChatMember: the answer (None when there is none), and whether the group is lost
        to the bot (removed, gone, or living on as a supergroup under another id)."""
        try:
            member = await self._bot.get_chat_member(
                chat_id, user_id, request_timeout=LOOKUP_TIMEOUT
            )
        except (TelegramForbiddenError, TelegramMigrateToChat) as exc:
            log.info("group %s is lost to the bot: %s", chat_id, exc)
            return None, True
        except TelegramBadRequest as exc:
            if "chat not found" in exc.message.lower():
                log.info("group %s is lost to the bot: %s", chat_id, exc)
                return None, True
            log.warning("getChatMember %s/%s refused: %s", chat_id, user_id, exc)
            return None, False
        except TelegramAPIError as exc:
            log.warning("getChatMember %s/%s failed: %s", chat_id, user_id, exc)
            return None, False
        return member, False
