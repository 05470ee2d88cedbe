"""/calendar in a private chat: the person's feed three ways, a new link, discreet titles, every
event of their communities or only theirs; for community admins also their communities' feeds.
And Add to calendar: one event's .ics file."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote, urlencode

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.methods import SendDocument
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import gettext as _
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from events.bot.callbacks import CalendarAction, CalendarCallback
from events.bot.keyboards import calendar_keyboard
from events.bot.membership import Membership
from events.bot.replies import Replies
from events.clock import Clock
from events.db.models import Event, EventStatus, FeedKind, FeedToken, Person
from events.feeds import queries, tokens
from events.feeds.calendar import DISCREET_TITLE, build_calendar, deep_link
from events.feeds.web import Feeds
from events.i18n import Html, catalogues, html_


def webcal(url: str) -> str:
    """The same feed for Apple Calendar and Outlook, which subscribe to webcal:// links."""
    return "webcal://" + url.split("://", 1)[1]


def google_subscribe(url: str) -> str:
    """Google Calendar's "add by URL" for a feed."""
    return "https://calendar.google.com/calendar/r?cid=" + quote(webcal(url), safe="")


def _google_time(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def google_template(event: Event, bot_username: str, *, title: str, details: bool) -> str:
    """Google Calendar's "new event" page filled in with one event (never its join link)."""
    fields = {
        "action": "TEMPLATE",
        "text": title,
        "dates": f"{_google_time(event.starts_at)}/{_google_time(event.ends_at)}",
        "ctz": event.timezone,
        "details": deep_link(bot_username, event.id),
    }
    if details and event.location:
        fields["location"] = event.location
    return "https://calendar.google.com/calendar/render?" + urlencode(fields)


async def calendar_view(
    session: AsyncSession,
    person: Person,
    feeds: Feeds,
    membership: Membership,
    now: datetime,
    *,
    renew: bool = False,
    renew_community: int | None = None,
) -> tuple[Html, InlineKeyboardMarkup, FeedToken]:
    """The /calendar message; ``renew`` (``renew_community``) makes the person's (that
    community's) link anew first."""
    change = tokens.renew if renew else tokens.current
    row, token = await change(session, feeds.secret, FeedKind.PERSONAL, person.id, now)
    url = feeds.personal_url(token)
    parts = [
        html_("Your calendar: the events you are going to or may go to, for any calendar app."),
        html_("Address of the feed:\n{url}", url=url),
        html_("Apple Calendar, Outlook:\n{url}", url=webcal(url)),
        html_("Google Calendar:\n{url}", url=google_subscribe(url)),
        html_(
            "Keep these links to yourself: whoever has them sees your events. If one got out, "
            "tap New link and the old one stops working."
        ),
        html_("Discreet titles are on: your calendar shows only “Community session”.")
        if row.discreet
        else html_("Discreet titles are off: your calendar shows the events' titles."),
        await _all_events_line(session, person, row, feeds, membership, now),
    ]
    administered = await membership.admin_communities(session, person.id)
    for community in administered:
        change = tokens.renew if community.id == renew_community else tokens.current
        _row, community_token = await change(
            session, feeds.secret, FeedKind.COMMUNITY, community.id, now
        )
        parts.append(
            html_(
                "Feed of {community}, for you as an admin to share with its members:\n{url}",
                community=community.title,
                url=feeds.community_url(community_token),
            )
        )
    markup = calendar_keyboard(
        discreet=row.discreet,
        all_events=row.all_events,
        communities=[(c.title, c.id) for c in administered],
    )
    return Html("\n\n".join(parts)), markup, row


async def _all_events_line(
    session: AsyncSession,
    person: Person,
    row: FeedToken,
    feeds: Feeds,
    membership: Membership,
    now: datetime,
) -> Html:
    """Whether the feed holds every event of the person's communities, and which ones.

    The feed itself asks Telegram nothing; asking here (cached) keeps what the process knows
    fresh, so a group the person has left is out of their feed from now on."""
    if not row.all_events:
        return html_(
            "“All my communities' events” is off: your calendar shows only the events you are "
            "going to or may go to."
        )
    known = await queries.member_communities(session, person.id, now)
    communities = [
        c
        for c in await membership.member_of(session, person.id, known)
        if not feeds.absent(c.id, person.id)
    ]
    if not communities:
        return html_(
            "“All my communities' events” is on, but no community counts yet: one counts once "
            "you have answered one of its events."
        )
    return html_(
        "“All my communities' events” is on: your calendar also shows every upcoming event "
        "of {communities}.",
        communities=", ".join(c.title for c in communities),
    )


async def show_calendar(
    message: Message,
    session: AsyncSession,
    person: Person,
    feeds: Feeds,
    membership: Membership,
    clock: Clock,
    replies: Replies,
) -> None:
    text, markup, _row = await calendar_view(session, person, feeds, membership, clock.now())
    replies.add(message.answer(text, reply_markup=markup))


def redraw(
    query: CallbackQuery,
    replies: Replies,
    toast: str,
    text: str,
    markup: InlineKeyboardMarkup | None,
) -> None:
    """Answer a tap on the /calendar message and show it again as it now is."""
    replies.add(query.answer(toast))
    if isinstance(query.message, Message):
        replies.add(query.message.edit_text(text, reply_markup=markup))


async def new_link(
    query: CallbackQuery,
    session: AsyncSession,
    person: Person,
    feeds: Feeds,
    membership: Membership,
    clock: Clock,
    replies: Replies,
) -> None:
    text, markup, _row = await calendar_view(
        session, person, feeds, membership, clock.now(), renew=True
    )
    redraw(query, replies, _("New link made. The old one no longer works."), text, markup)


async def new_community_link(
    query: CallbackQuery,
    callback_data: CalendarCallback,
    session: AsyncSession,
    person: Person,
    feeds: Feeds,
    membership: Membership,
    clock: Clock,
    replies: Replies,
) -> None:
    if not await membership.is_admin(callback_data.community_id, person.id):
        replies.add(query.answer(_("This button no longer works."), show_alert=True))
        return
    text, markup, _row = await calendar_view(
        session, person, feeds, membership, clock.now(), renew_community=callback_data.community_id
    )
    redraw(query, replies, _("New link made. The old one no longer works."), text, markup)


async def toggle(
    query: CallbackQuery,
    callback_data: CalendarCallback,
    session: AsyncSession,
    person: Person,
    feeds: Feeds,
    membership: Membership,
    clock: Clock,
    replies: Replies,
) -> None:
    """Discreet titles, or all my communities' events, on or off."""
    row, _token = await tokens.current(
        session, feeds.secret, FeedKind.PERSONAL, person.id, clock.now()
    )
    if callback_data.action is CalendarAction.DISCREET:
        row.discreet = not row.discreet
        toast = _("Discreet titles on.") if row.discreet else _("Discreet titles off.")
    else:
        row.all_events = not row.all_events
        toast = (
            _("All my communities' events on.")
            if row.all_events
            else _("All my communities' events off.")
        )
    await session.flush()
    text, markup, _row = await calendar_view(session, person, feeds, membership, clock.now())
    redraw(query, replies, toast, text, markup)


async def _discreet(session: AsyncSession, person_id: int) -> bool:
    """The person's choice for their feed, without making a feed for them."""
    chosen = await session.scalar(
        select(FeedToken.discreet)
        .where(
            FeedToken.kind == FeedKind.PERSONAL,
            FeedToken.person_id == person_id,
            FeedToken.revoked_at.is_(None),
        )
        .order_by(FeedToken.id.desc())
        .limit(1)
    )
    return bool(chosen)


async def event_file(
    event: Event, locale: str, feeds: Feeds, *, discreet: bool, chat_id: int
) -> SendDocument:
    """The sendDocument of an event's .ics, with a Google Calendar button."""
    username = await feeds.bot_username()
    words = catalogues()[locale]
    title = words.gettext(DISCREET_TITLE) if discreet else event.title
    data = build_calendar(
        [event],
        name=title,
        locale=locale,
        host=feeds.host,
        bot_username=username,
        discreet=discreet,
        cache=feeds.cache,
    )
    google = google_template(event, username, title=title, details=not discreet)
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Google Calendar", url=google)]]
    )
    return SendDocument(
        chat_id=chat_id,
        document=BufferedInputFile(data, filename=f"event-{event.id}.ics"),
        caption=html_("Open the file to add the event to your calendar."),
        reply_markup=markup,
        protect_content=True,
    )


async def send_event_file(
    bot: Bot, chat_id: int, event: Event, locale: str, feeds: Feeds, *, discreet: bool = False
) -> None:
    """Send an event's .ics file to a private chat (for callers outside an update)."""
    await bot(await event_file(event, locale, feeds, discreet=discreet, chat_id=chat_id))


async def add_to_calendar(
    query: CallbackQuery,
    callback_data: CalendarCallback,
    session: AsyncSession,
    person: Person,
    feeds: Feeds,
    membership: Membership,
    replies: Replies,
    locale: str,
) -> None:
    event = await session.get(Event, callback_data.event_id)
    if (
        event is None
        or event.status is EventStatus.DRAFT
        or not await membership.is_member(event.community_id, person.id)
    ):
        replies.add(query.answer(_("This button no longer works."), show_alert=True))
        return
    discreet = await _discreet(session, person.id)
    replies.add(query.answer())
    replies.add(await event_file(event, locale, feeds, discreet=discreet, chat_id=person.id))


def build_router() -> Router:
    router = Router(name="calendar")
    router.message.register(show_calendar, Command("calendar"), F.chat.type == "private")
    router.callback_query.register(
        new_link, CalendarCallback.filter(F.action == CalendarAction.NEW_LINK)
    )
    router.callback_query.register(
        toggle,
        CalendarCallback.filter(F.action.in_({CalendarAction.DISCREET, CalendarAction.ALL_EVENTS})),
    )
    router.callback_query.register(
        new_community_link,
        CalendarCallback.filter(F.action == CalendarAction.NEW_COMMUNITY_LINK),
    )
    router.callback_query.register(
        add_to_calendar, CalendarCallback.filter(F.action == CalendarAction.ADD)
    )
    return router
