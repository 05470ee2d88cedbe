"""The feeds over HTTP, on the bot's own web server.

    GET /feeds/<token>.ics           a person's feed (the events they go or may go to, and if
                                     they chose so every event of their communities)
    GET /feeds/c/<token>.ics         a community's feed (for its admins to share)
    GET /events/<id>/<token>.ics     one event, for a token whose feed may show it

A malformed, unknown or revoked token, or an event the token may not see, is answered exactly
like a page that does not exist. Nothing here logs a URL or a token; the server's access log is
off (`App.run`).

An unchanged feed costs no rendering: its bytes are kept under the versions of its events and
how it is shown; on SQLite a link's answer is even given again from memory until this process
commits to a table feeds read (docs/feeds.md, Speed, says exactly what decides the bytes).
"""

from __future__ import annotations

import gzip
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit
from weakref import WeakValueDictionary

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from events.clock import Clock
from events.db.changes import Changes
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
KEPT_ANSWERS = 10_000
# A link answered from memory is asked of the database again after this long at the latest
# (time alone takes events out of a feed: the windows, the evidence of membership).
RECHECK = timedelta(seconds=60)
# How a feed is shown: its name, locale, discreet titles or not, the bot's username.
Style = tuple[str, str, bool, str]
# The tables a feed is read from: a commit to any of them may change some feed.
FEED_TABLES = ("events", "rsvps", "feed_tokens", "people", "communities", "hosts")


@dataclass(frozen=True)
class Body:
    data: bytes
    etag: str
    # The latest change of an event in it (whole seconds, UTC), None when it has none.
    changed: datetime | None
    _gzipped: list[bytes] = field(default_factory=list, compare=False)

    def gzipped(self) -> bytes:
        if not self._gzipped:
            self._gzipped.append(gzip.compress(self.data, mtime=0))
        return self._gzipped[0]


@dataclass(frozen=True)
class Answered:
    """A link's latest answer, and what must still hold to give it again without asking the
    database: no commit of this process since (`Changes`), not longer ago than `RECHECK`, the
    same bot username and, for a feed of all the person's communities, the same ones left
    after what Telegram told the process."""

    etag: str  # of its body, found among the bodies kept (`Feeds._by_etag`)
    last_modified: datetime
    changes: int | None
    checked_at: datetime
    username: str
    person_id: int | None = None
    known: tuple[int, ...] = ()  # the communities the database counts as the person's
    shown: tuple[int, ...] = ()  # those of them the feed shows


def _seconds(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)


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
    # This process's commits to FEED_TABLES, when it is the only writer (SQLite): an unchanged
    # feed is then answered from memory. None: every request asks the database.
    changes: Changes | None = None
    cache: RenderCache = field(default_factory=RenderCache)
    _bodies: OrderedDict[object, Body] = field(default_factory=OrderedDict, repr=False)
    _answers: OrderedDict[str, Answered] = field(default_factory=OrderedDict, repr=False)
    # The bodies still kept, by ETag: an answer holds no body of its own, so memory stays
    # bounded by KEPT_BODIES.
    _by_etag: WeakValueDictionary[str, Body] = field(
        default_factory=WeakValueDictionary, repr=False
    )

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

    def _kept(self, key: object) -> Body | None:
        body = self._bodies.get(key)
        if body is not None:
            self._bodies.move_to_end(key)
        return body

    def _render(self, key: object, events: Sequence[Event], style: Style) -> Body:
        """The feed's bytes from its events, kept under ``key``."""
        name, locale, discreet, username = style
        feed_events = [FeedEvent.of(event) for event in events]
        data = build_calendar(
            feed_events,
            name=name,
            locale=locale,
            host=self.host,
            bot_username=username,
            discreet=discreet,
            cache=self.cache,
        )
        changed = max((event.updated_at for event in feed_events), default=None)
        body = Body(data, etag(data), None if changed is None else _seconds(changed))
        self._bodies[key] = body
        self._by_etag[body.etag] = body
        if len(self._bodies) > KEPT_BODIES:
            self._bodies.popitem(last=False)
        return body

    async def _feed(
        self,
        session: AsyncSession,
        versions: Sequence[queries.Version],
        style: Style,
    ) -> tuple[object, Body | None, list[Event]]:
        """The kept body of a feed with these events' versions, or the events to render it."""
        key = (style, self.host, tuple(versions))
        body = self._kept(key)
        if body is not None:
            return key, body, []
        return key, None, await queries.events_by_id(session, [v.id for v in versions])

    def _fresh(self, token_hash: str, username: str) -> tuple[Answered, Body] | None:
        """The link's latest answer, if nothing it depends on can have changed since."""
        if self.changes is None:
            return None
        answered = self._answers.get(token_hash)
        if (
            answered is None
            or answered.changes != self.changes.count
            or answered.username != username
            or not answered.checked_at <= self.clock.now() < answered.checked_at + RECHECK
        ):
            return None
        if answered.person_id is not None:
            person_id = answered.person_id
            shown = tuple(c for c in answered.known if not self.absent(c, person_id))
            if shown != answered.shown:
                return None
        body = self._by_etag.get(answered.etag)
        if body is None:
            return None
        self._answers.move_to_end(token_hash)
        return answered, body

    def _remember(self, token_hash: str, body: Body, since: datetime, **facts: Any) -> Answered:
        """The link's answer now. Last-Modified stays while the bytes do; bytes new to this
        process are modified now at the earliest, since an event leaving a feed changes no
        event's time (a client asking If-Modified-Since alone must not get a 304 then)."""
        previous = self._answers.get(token_hash)
        now = facts["checked_at"]
        if previous is not None and previous.etag == body.etag:
            last_modified = previous.last_modified
        else:
            moments = [_seconds(since), _seconds(now)]
            last_modified = max(moments if body.changed is None else [*moments, body.changed])
        answered = Answered(etag=body.etag, last_modified=last_modified, **facts)
        self._answers[token_hash] = answered
        self._answers.move_to_end(token_hash)
        if len(self._answers) > KEPT_ANSWERS:
            self._answers.popitem(last=False)
        return answered

    def _token_hash(self, request: web.Request) -> str:
        token = request.match_info["token"]
        if not tokens.well_formed(token):
            raise web.HTTPNotFound()
        return tokens.token_hash(token)

    async def _token(self, session: AsyncSession, request: web.Request) -> FeedToken:
        row = await tokens.find(session, request.match_info["token"])
        if row is None:
            raise web.HTTPNotFound()
        return row

    async def communities_of(self, session: AsyncSession, person_id: int) -> list[int]:
        """The communities whose every event a person's feed shows when they chose so: what the
        database knows them to be in, less any group Telegram told us they are not in."""
        known = await queries.member_community_ids(session, person_id, self.clock.now())
        return [c for c in known if not self.absent(c, person_id)]

    async def personal_feed(self, request: web.Request) -> web.StreamResponse:
        hashed = self._token_hash(request)
        username = await self.bot_username()
        fresh = self._fresh(hashed, username)
        if fresh is not None:
            return answer(request, fresh[1], fresh[0].last_modified)
        changes = None if self.changes is None else self.changes.count  # before reading
        now = self.clock.now()
        async with self._reading() as session:
            link = await queries.personal_link(session, hashed)
            if link is None:
                raise web.HTTPNotFound()
            person_id = link.person_id
            known = (
                await queries.member_community_ids(session, person_id, now)
                if link.all_events
                else []
            )
            shown = [c for c in known if not self.absent(c, person_id)]
            versions = await queries.personal_versions(session, person_id, now, communities=shown)
            locale = locale_for(link.locale, link.language_code, self.default_locale)
            name = catalogues()[locale].gettext(PERSONAL_NAME)
            style = (name, locale, link.discreet, username)
            key, body, events = await self._feed(session, versions, style)
        if body is None:
            body = self._render(key, events, style)
        answered = self._remember(
            hashed,
            body,
            link.created_at,
            changes=changes,
            checked_at=now,
            username=username,
            person_id=person_id,
            known=tuple(known),
            shown=tuple(shown),
        )
        return answer(request, body, answered.last_modified)

    async def community_feed(self, request: web.Request) -> web.StreamResponse:
        hashed = self._token_hash(request)
        username = await self.bot_username()
        fresh = self._fresh(hashed, username)
        if fresh is not None:
            return answer(request, fresh[1], fresh[0].last_modified)
        changes = None if self.changes is None else self.changes.count  # before reading
        now = self.clock.now()
        async with self._reading() as session:
            link = await queries.community_link(session, hashed)
            if link is None:
                raise web.HTTPNotFound()
            versions = await queries.community_versions(session, link.community_id, now)
            locale = link.locale
            name = catalogues()[locale].gettext(COMMUNITY_NAME).format(community=link.title)
            style = (name, locale, False, username)
            key, body, events = await self._feed(session, versions, style)
        if body is None:
            body = self._render(key, events, style)
        answered = self._remember(
            hashed, body, link.created_at, changes=changes, checked_at=now, username=username
        )
        return answer(request, body, answered.last_modified)

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
        style = (name, locale, row.discreet, await self.bot_username())
        key = (style, self.host, FeedEvent.of(event))
        body = self._kept(key) or self._render(key, [event], style)
        last_modified = max([_seconds(row.created_at), *filter(None, [body.changed])])
        response = answer(request, body, last_modified)
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


def answer(request: web.Request, body: Body, last_modified: datetime) -> web.Response:
    """The feed with its validators, or 304 when the client has it already; gzip if asked."""
    compressed = "gzip" in request.headers.get("Accept-Encoding", "").lower()
    tag = body.etag[:-1] + '-gz"' if compressed else body.etag
    headers = {
        "ETag": tag,
        "Last-Modified": format_datetime(last_modified, usegmt=True),
        "Cache-Control": CACHE_CONTROL,
        "Vary": "Accept-Encoding",
    }
    none_match = request.headers.get("If-None-Match")
    if (none_match is not None and _matches(none_match, tag)) or _not_modified_since(
        request, last_modified
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
