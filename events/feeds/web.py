"""The feeds over HTTP, on the bot's own web server.

    GET /feeds/<token>.ics           a person's feed (the events they go or may go to, and if
                                     they chose so every event of their communities)
    GET /feeds/c/<token>.ics         a community's feed (for its admins to share)
    GET /events/<id>/<token>.ics     one event, for a token whose feed may show it

A malformed, unknown or revoked token, or an event the token may not see, is answered exactly
like a page that does not exist. Nothing here logs a URL or a token; the server's access log is
off (`App.run`).
"""

from __future__ import annotations

import gzip
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from events.clock import Clock
from events.db.engine import SQLITE_BEGIN_OPTION
from events.db.models import (
    Community,
    Event,
    EventStatus,
    FeedKind,
    FeedToken,
    Person,
    RsvpStatus,
)
from events.feeds import queries, tokens
from events.feeds.calendar import (
    DISCREET_TITLE,
    FeedEvent,
    RenderCache,
    build_calendar,
    etag,
)
from events.i18n import N_, catalogues, locale_for
from events.metrics import METRICS

log = logging.getLogger(__name__)

PERSONAL_NAME = N_("Community events")
COMMUNITY_NAME = N_("Events of {community}")
CACHE_CONTROL = "private, max-age=300"
KEPT_BODIES = 512


@dataclass(frozen=True)
class Body:
    data: bytes
    etag: str
    last_modified: datetime
    _gzipped: list[bytes] = field(default_factory=list, compare=False)

    def gzipped(self) -> bytes:
        if not self._gzipped:
            self._gzipped.append(gzip.compress(self.data, mtime=0))
        return self._gzipped[0]


@dataclass
class Feeds:
    """Everything the feed routes need; one per app."""

    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    secret: bytes
    public_url: str
    bot_username: Callable[[], Awaitable[str]]
    default_locale: str
    # Whether Telegram told this process that a person is not in a group (community id, person
    # id): such a community leaves the person's feed at once. The feeds never ask Telegram.
    absent: Callable[[int, int], bool] = field(default=lambda _community, _person: False)
    cache: RenderCache = field(default_factory=RenderCache)
    _bodies: OrderedDict[object, Body] = field(default_factory=OrderedDict, repr=False)

    @property
    def host(self) -> str:
        return urlsplit(self.public_url).hostname or "localhost"

    # The links people are given.
    def personal_url(self, token: str) -> str:
        return f"{self.public_url}/feeds/{token}.ics"

    def community_url(self, token: str) -> str:
        return f"{self.public_url}/feeds/c/{token}.ics"

    def event_url(self, event_id: int, token: str) -> str:
        return f"{self.public_url}/events/{event_id}/{token}.ics"

    def register(self, app: web.Application) -> None:
        app.router.add_get("/feeds/c/{token}.ics", counted("community", self.community_feed))
        app.router.add_get("/feeds/{token}.ics", counted("personal", self.personal_feed))
        app.router.add_get(
            "/events/{event_id:[0-9]{1,12}}/{token}.ics", counted("event", self.event_file)
        )

    async def body(
        self,
        events: Sequence[Event],
        *,
        name: str,
        locale: str,
        discreet: bool,
        since: datetime,
    ) -> Body:
        """The feed's bytes, rendered again only when one of its events changed."""
        feed_events = tuple(FeedEvent.of(event) for event in events)
        username = await self.bot_username()
        key = (name, locale, discreet, username, self.host, feed_events)
        body = self._bodies.get(key)
        if body is not None:
            self._bodies.move_to_end(key)
            return body
        data = build_calendar(
            feed_events,
            name=name,
            locale=locale,
            host=self.host,
            bot_username=username,
            discreet=discreet,
            cache=self.cache,
        )
        changes = [event.updated_at for event in feed_events]
        last = max([since, *changes]).astimezone(UTC).replace(microsecond=0)
        body = self._bodies[key] = Body(data, etag(data), last)
        if len(self._bodies) > KEPT_BODIES:
            self._bodies.popitem(last=False)
        return body

    async def _token(self, session: AsyncSession, request: web.Request) -> FeedToken:
        row = await tokens.find(session, request.match_info["token"])
        if row is None:
            raise web.HTTPNotFound()
        return row

    async def communities_of(self, session: AsyncSession, person_id: int) -> list[int]:
        """The communities whose every event a person's feed shows when they chose so: what the
        database knows them to be in, less any group Telegram told us they are not in."""
        known = await queries.member_communities(session, person_id, self.clock.now())
        return [c.id for c in known if not self.absent(c.id, person_id)]

    async def personal_feed(self, request: web.Request) -> web.StreamResponse:
        async with self._reading() as session:
            row = await self._token(session, request)
            if row.kind is not FeedKind.PERSONAL or row.person_id is None:
                raise web.HTTPNotFound()
            person = await session.get(Person, row.person_id)
            if person is None:
                raise web.HTTPNotFound()
            locale = locale_for(person.locale, person.language_code, self.default_locale)
            communities = await self.communities_of(session, person.id) if row.all_events else []
            events = await queries.personal_events(
                session, person.id, self.clock.now(), communities=communities
            )
        name = catalogues()[locale].gettext(PERSONAL_NAME)
        body = await self.body(
            events, name=name, locale=locale, discreet=row.discreet, since=row.created_at
        )
        return answer(request, body)

    async def community_feed(self, request: web.Request) -> web.StreamResponse:
        async with self._reading() as session:
            row = await self._token(session, request)
            if row.kind is not FeedKind.COMMUNITY or row.community_id is None:
                raise web.HTTPNotFound()
            community = await session.get(Community, row.community_id)
            if community is None:
                raise web.HTTPNotFound()
            events = await queries.community_events(session, community.id, self.clock.now())
        locale = community.locale
        name = catalogues()[locale].gettext(COMMUNITY_NAME).format(community=community.title)
        body = await self.body(
            events, name=name, locale=locale, discreet=False, since=row.created_at
        )
        return answer(request, body)

    async def event_file(self, request: web.Request) -> web.StreamResponse:
        event_id = int(request.match_info["event_id"])
        async with self._reading() as session:
            row = await self._token(session, request)
            event = await session.get(Event, event_id)
            if event is None or event.status is EventStatus.DRAFT:
                raise web.HTTPNotFound()
            if row.kind is FeedKind.PERSONAL and row.person_id is not None:
                person = await session.get(Person, row.person_id)
                if person is None or not await self._may_see(session, row, person.id, event):
                    raise web.HTTPNotFound()
                locale = locale_for(person.locale, person.language_code, self.default_locale)
            elif row.kind is FeedKind.COMMUNITY and row.community_id == event.community_id:
                community = await session.get(Community, event.community_id)
                locale = community.locale if community is not None else self.default_locale
            else:
                raise web.HTTPNotFound()
        words = catalogues()[locale]
        name = words.gettext(DISCREET_TITLE) if row.discreet else event.title
        body = await self.body(
            [event], name=name, locale=locale, discreet=row.discreet, since=row.created_at
        )
        response = answer(request, body)
        response.headers["Content-Disposition"] = f'attachment; filename="event-{event_id}.ics"'
        return response

    async def _may_see(
        self, session: AsyncSession, row: FeedToken, person_id: int, event: Event
    ) -> bool:
        """A personal token opens an event its feed may show."""
        answer = await queries.answer_of(session, person_id, event.id)
        if answer is not None:
            return answer is not RsvpStatus.DECLINED
        return row.all_events and event.community_id in await self.communities_of(
            session, person_id
        )

    def _reading(self) -> _ReadSession:
        return _ReadSession(self.sessions)


class _ReadSession:
    """A read-only session (a deferred transaction on SQLite); a database that does not
    answer is a 503 without the request's URL in the log."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._session = sessions()

    async def __aenter__(self) -> AsyncSession:
        try:
            await self._session.connection(execution_options={SQLITE_BEGIN_OPTION: "DEFERRED"})
        except SQLAlchemyError as exc:
            await self._session.close()
            log.warning("feed: the database did not answer (%s)", type(exc).__name__)
            raise web.HTTPServiceUnavailable() from None
        return self._session

    async def __aexit__(self, kind: object, exc: BaseException | None, _tb: object) -> None:
        await self._session.close()
        if isinstance(exc, SQLAlchemyError):
            log.warning("feed: the database failed (%s)", type(exc).__name__)
            raise web.HTTPServiceUnavailable() from None


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def counted(kind: str, handler: Handler) -> Handler:
    """``handler``, counting its answers by feed kind and status code (`events.metrics`)."""

    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            METRICS.feed_requests.inc(kind=kind, code=str(exc.status))
            raise
        except Exception:
            METRICS.feed_requests.inc(kind=kind, code="500")
            raise
        METRICS.feed_requests.inc(kind=kind, code=str(response.status))
        return response

    return handle


def _matches(header: str, tag: str) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 13.1.2)."""
    wanted = tag.removeprefix("W/")
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == wanted:
            return True
    return False


def _not_modified_since(request: web.Request, last_modified: datetime) -> bool:
    header = request.headers.get("If-Modified-Since")
    if not header or "If-None-Match" in request.headers:
        return False
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return last_modified <= since


def answer(request: web.Request, body: Body) -> web.Response:
    """The feed with its validators, or 304 when the client has it already; gzip if asked."""
    compressed = "gzip" in request.headers.get("Accept-Encoding", "").lower()
    tag = body.etag[:-1] + '-gz"' if compressed else body.etag
    headers = {
        "ETag": tag,
        "Last-Modified": format_datetime(body.last_modified, usegmt=True),
        "Cache-Control": CACHE_CONTROL,
        "Vary": "Accept-Encoding",
    }
    none_match = request.headers.get("If-None-Match")
    if (none_match is not None and _matches(none_match, tag)) or _not_modified_since(
        request, body.last_modified
    ):
        return web.Response(status=304, headers=headers)
    if compressed:
        headers["Content-Encoding"] = "gzip"
    response = web.Response(
        body=body.gzipped() if compressed else body.data,
        headers=headers,
        content_type="text/calendar",
        charset="utf-8",
    )
    return response


def username_of(bot: object) -> Callable[[], Awaitable[str]]:
    """The bot's username, as aiogram keeps it after the first getMe."""

    async def username() -> str:
        me = await bot.me()  # type: ignore[attr-defined]
        return str(me.username or "")

    return username
