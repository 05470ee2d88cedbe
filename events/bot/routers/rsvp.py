"""Members answer events (Going / Maybe / Can't go), open event cards, get join links, and see
their events: /start e<id>, /events, /my.

A tap answers privately (the toast) and never names anyone in the group; the group post's
counts are refreshed by the post updater, in the post's turn.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiogram import Bot, F, Router, html
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.methods import AnswerCallbackQuery, SendMessage
from aiogram.types import CallbackQuery, Message, Update
from aiogram.utils.i18n import gettext as _
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from events.bot.callbacks import (
    CardCallback,
    EventsPageCallback,
    LinkCallback,
    RsvpAnswer,
    RsvpCallback,
)
from events.bot.cards import (
    STATUS_NAMES,
    card_is_open,
    has_link,
    may_see,
    not_available,
    render_card,
    viewer_zone,
)
from events.bot.keyboards import event_list_keyboard
from events.bot.membership import Membership
from events.bot.posts import PostUpdater
from events.bot.render import event_link
from events.bot.replies import Replies
from events.clock import Clock
from events.db.communities import active_communities, is_host
from events.db.models import Community, Event, EventStatus, Person, Rsvp, RsvpStatus
from events.db.rsvps import Outcome, answer, lock_event, rsvp_of
from events.delivery import Delivery
from events.formatting import format_datetime, format_short_date
from events.i18n import CatalogueI18n, Html, html_

PAGE_SIZE = 5
GROUP_LIST_SIZE = 10

WANTED = {
    RsvpAnswer.GOING: RsvpStatus.GOING,
    RsvpAnswer.MAYBE: RsvpStatus.MAYBE,
    RsvpAnswer.NOT_GOING: RsvpStatus.DECLINED,
}


def toast(outcome: Outcome) -> str:
    """The person's new status, in the current locale (at most 200 characters)."""
    if outcome.status is RsvpStatus.GOING:
        return _("You're going. See you there!")
    if outcome.status is RsvpStatus.WAITLISTED:
        return _("The event is full: you're on the waitlist, number {position}.").format(
            position=outcome.position or 0
        )
    if outcome.status is RsvpStatus.MAYBE:
        return _("Your answer: maybe.")
    return _("Your answer: can't go.")


def in_private(query: CallbackQuery) -> bool:
    return query.message is not None and query.message.chat.type == "private"


def on_its_post(event: Event | None, chat_id: int) -> bool:
    """Whether a tap in a group came from the event's own post there: then the tapper is in the
    group (CONTRACT §5)."""
    return event is not None and chat_id in (event.community_id, event.announcement_chat_id)


def refusal(event: Event | None, allowed: bool, now: datetime) -> str | None:
    """Why a tap on the event cannot be taken (an alert), if it cannot."""
    if event is None or not allowed:
        return _("I can't find that event.")
    if event.status is EventStatus.CANCELLED:
        return _("This event was cancelled.")
    if not card_is_open(event, now):
        return _("This event is over: answers are closed.")
    return None


async def answer_tap(
    query: CallbackQuery,
    outcome: Outcome,
    person: Person,
    event_id: int,
    bot: Bot,
    *,
    private: bool,
) -> AnswerCallbackQuery:
    """The toast telling the person where their answer landed."""
    if not private and not person.can_message:
        # The only way to reach someone who never opened a private chat (CONTRACT §1).
        username = (await bot.me()).username or ""
        return query.answer(toast(outcome), url=event_link(username, event_id))
    return query.answer(toast(outcome))


async def on_answer(
    query: CallbackQuery,
    callback_data: RsvpCallback,
    session: AsyncSession,
    person: Person,
    membership: Membership,
    delivery: Delivery,
    posts: PostUpdater,
    clock: Clock,
    replies: Replies,
    bot: Bot,
    locale: str,
    event_update: Update,
) -> None:
    event = await lock_event(session, callback_data.event_id)
    private = in_private(query)
    if private or query.message is None:
        allowed = await may_see(session, membership, event, person.id)
    else:
        allowed = on_its_post(event, query.message.chat.id)
        if allowed and event is not None:
            membership.note_member(event.community_id, person.id)
    refused = refusal(event, allowed, clock.now())
    if refused is not None or event is None:
        replies.add(query.answer(refused, show_alert=True))
        return
    wanted = WANTED[callback_data.answer]
    outcome = await answer(
        session, event, person.id, wanted, delivery, arrival=event_update.update_id
    )
    if outcome.changed:
        posts.request_after_commit(session, event.id)
    replies.add(await answer_tap(query, outcome, person, event.id, bot, private=private))
    if private and outcome.changed and isinstance(query.message, Message):
        if is_card(query.message, event.id):
            text, markup = await render_card(
                session, event, person, locale, now_open=True, now=clock.now()
            )
            replies.add(query.message.edit_text(text, reply_markup=markup))
        else:  # Can't make it, under a reminder: its buttons are spent
            replies.add(query.message.edit_reply_markup(reply_markup=None))


def is_card(message: Message, event_id: int) -> bool:
    """Whether the message is the event's card (it has the three answers), not a reminder."""
    going = RsvpCallback(event_id=event_id, answer=RsvpAnswer.GOING).pack()
    rows = message.reply_markup.inline_keyboard if message.reply_markup else []
    return any(button.callback_data == going for row in rows for button in row)


async def show_card(
    chat_id: int,
    event_id: int,
    session: AsyncSession,
    person: Person,
    membership: Membership,
    clock: Clock,
    replies: Replies,
    locale: str,
) -> None:
    event = await session.get(Event, event_id)
    if not await may_see(session, membership, event, person.id) or event is None:
        replies.add(SendMessage(chat_id=chat_id, text=not_available()))
        return
    now = clock.now()
    text, markup = await render_card(
        session, event, person, locale, now_open=card_is_open(event, now), now=now
    )
    replies.add(SendMessage(chat_id=chat_id, text=text, reply_markup=markup))


async def on_deep_link(
    message: Message, command: CommandObject, person: Person, **data: Any
) -> None:
    event_id = int((command.args or "e0")[1:])
    await show_card(
        message.chat.id,
        event_id,
        data["session"],
        person,
        data["membership"],
        data["clock"],
        data["replies"],
        data["locale"],
    )


async def on_card(
    query: CallbackQuery, callback_data: CardCallback, person: Person, **data: Any
) -> None:
    replies: Replies = data["replies"]
    replies.add(query.answer())
    await show_card(
        person.id,
        callback_data.event_id,
        data["session"],
        person,
        data["membership"],
        data["clock"],
        replies,
        data["locale"],
    )


async def on_link(
    query: CallbackQuery,
    callback_data: LinkCallback,
    session: AsyncSession,
    person: Person,
    membership: Membership,
    clock: Clock,
    replies: Replies,
) -> None:
    """The join link, as a new protected message, to people going only (CONTRACT §1, §5)."""
    event = await session.get(Event, callback_data.event_id)
    rsvp = await rsvp_of(session, callback_data.event_id, person.id)
    if (
        event is None
        or event.status is not EventStatus.PUBLISHED
        or not has_link(event)
        or clock.now() >= event.ends_at
        or rsvp is None
        or rsvp.status is not RsvpStatus.GOING
        or not await may_see(session, membership, event, person.id)
    ):
        replies.add(query.answer(_("The link is only for people who are going."), show_alert=True))
        return
    replies.add(query.answer(_("I sent you the link.")))
    text = html_("The link to join {title}:", title=event.title)
    link = html.quote(event.join_link or "")
    replies.add(SendMessage(chat_id=person.id, text=Html(text + "\n" + link), protect_content=True))


async def member_communities(
    session: AsyncSession, membership: Membership, person_id: int
) -> list[int]:
    """Active communities the person belongs to (or hosts in)."""
    found = []
    for community in await active_communities(session):
        if await is_host(session, community.id, person_id) or await membership.is_member(
            community.id, person_id
        ):
            found.append(community.id)
    return found


async def events_page(
    session: AsyncSession,
    membership: Membership,
    clock: Clock,
    person: Person,
    locale: str,
    page: int,
) -> tuple[Html, Any]:
    communities = await member_communities(session, membership, person.id)
    statement = (
        select(Event)
        .where(
            Event.community_id.in_(communities),
            Event.status == EventStatus.PUBLISHED,
            Event.starts_at > clock.now(),
        )
        .order_by(Event.starts_at, Event.id)
        .offset(page * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    )
    found = list((await session.scalars(statement)).all()) if communities else []
    if not found:
        if page == 0:
            return html_("There are no upcoming events in your groups yet."), None
        return html_("There are no more events."), event_list_keyboard([], page=page)
    shown = found[:PAGE_SIZE]
    items = [
        (f"{e.title} — {format_short_date(e.starts_at, viewer_zone(person, e), locale)}", e.id)
        for e in shown
    ]
    text = html_("Upcoming events in your groups (page {page}):", page=page + 1)
    return text, event_list_keyboard(items, page=page, more=len(found) > PAGE_SIZE)


async def list_events(
    message: Message,
    session: AsyncSession,
    membership: Membership,
    clock: Clock,
    person: Person,
    replies: Replies,
    locale: str,
) -> None:
    text, markup = await events_page(session, membership, clock, person, locale, 0)
    replies.add(message.answer(text, reply_markup=markup))


async def on_page(
    query: CallbackQuery,
    callback_data: EventsPageCallback,
    session: AsyncSession,
    membership: Membership,
    clock: Clock,
    person: Person,
    replies: Replies,
    locale: str,
) -> None:
    page = max(0, callback_data.page)
    text, markup = await events_page(session, membership, clock, person, locale, page)
    replies.add(query.answer())
    if isinstance(query.message, Message):
        replies.add(query.message.edit_text(text, reply_markup=markup))


async def my_events(
    message: Message,
    session: AsyncSession,
    clock: Clock,
    person: Person,
    replies: Replies,
    locale: str,
) -> None:
    statement = (
        select(Event, Rsvp)
        .join(Rsvp, Rsvp.event_id == Event.id)
        .where(
            Rsvp.person_id == person.id,
            Rsvp.status != RsvpStatus.DECLINED,
            Event.status == EventStatus.PUBLISHED,
            Event.starts_at > clock.now(),
        )
        .order_by(Event.starts_at, Event.id)
    )
    rows = (await session.execute(statement)).all()
    if not rows:
        replies.add(message.answer(html_("You have no upcoming events. See /events.")))
        return
    lines = [html_("Your upcoming events:")]
    items = []
    for event, rsvp in rows:
        if rsvp.status is RsvpStatus.WAITLISTED:
            status = _("on the waitlist")
        else:
            status = _(STATUS_NAMES[rsvp.status])
        when = format_short_date(event.starts_at, viewer_zone(person, event), locale)
        lines.append(
            f"• {html.bold(html.quote(event.title))} — {html.quote(when)} — {html.quote(status)}"
        )
        items.append((event.title, event.id))
    lines += ["", html_("Open one to change your answer.")]
    replies.add(message.answer("\n".join(lines), reply_markup=event_list_keyboard(items)))


async def list_group_events(
    message: Message,
    session: AsyncSession,
    clock: Clock,
    replies: Replies,
    bot: Bot,
    i18n: CatalogueI18n,
) -> None:
    """/events in a group: the group's upcoming events, each with its private link; counts and
    names stay out of it."""
    community = await session.get(Community, message.chat.id)
    if community is None or not community.active:
        return
    statement = (
        select(Event)
        .where(
            Event.community_id == community.id,
            Event.status == EventStatus.PUBLISHED,
            Event.starts_at > clock.now(),
        )
        .order_by(Event.starts_at, Event.id)
        .limit(GROUP_LIST_SIZE)
    )
    found = list((await session.scalars(statement)).all())
    username = (await bot.me()).username or ""
    with i18n.use_locale(community.locale):
        if not found:
            text = html_("There are no upcoming events here yet.")
        else:
            lines = [html_("Upcoming events (open one in a private chat to answer):")]
            for event in found:
                when = format_datetime(event.starts_at, event.timezone, community.locale)
                title = html.link(html.quote(event.title), event_link(username, event.id))
                lines.append(f"• {title} — {html.quote(when)}")
            text = Html("\n".join(lines))
    replies.add(message.answer(text))


def build_router() -> Router:
    router = Router(name="rsvp")
    private = F.chat.type == "private"
    router.callback_query.register(on_answer, RsvpCallback.filter())
    router.message.register(
        on_deep_link,
        CommandStart(deep_link=True, magic=F.args.regexp(r"^e\d{1,12}$")),
        private,
    )
    router.callback_query.register(on_card, CardCallback.filter())
    router.callback_query.register(on_link, LinkCallback.filter())
    router.message.register(list_events, Command("events"), private)
    router.callback_query.register(on_page, EventsPageCallback.filter())
    router.message.register(my_events, Command("my"), private)
    router.message.register(list_group_events, Command("events"), F.chat.type != "private")
    return router
