"""/myevents: hosts and admins manage the events they host — edit, cancel, duplicate, attendees,
and the check-in's feedback once an event is over.

Every button is user input: the event is reloaded and the presser's right to host in its
community checked on each press; anything else gets a polite refusal and changes nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router, html
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from events.bot.callbacks import ManageAction, ManageCallback
from events.bot.checkin import is_over, results_view
from events.bot.membership import Membership
from events.bot.notices import notice_key, people_to_tell
from events.bot.posts import PostUpdater, refresh_post
from events.bot.replies import Replies
from events.bot.routers.hosts import explain_hosting
from events.bot.routers.wizard import Wizard, hint, show
from events.bot.states import ManageEvent, NewEvent
from events.clock import Clock
from events.db.models import Community, Event, EventStatus, Person, Rsvp, RsvpStatus, Series
from events.db.rsvps import promote_waitlisted
from events.delivery import Delivery
from events.domain.events import Draft, Problem, check_start
from events.domain.series import occurrence_start
from events.formatting import format_datetime
from events.i18n import CatalogueI18n, Html, html_
from events.reminders import plan

log = logging.getLogger(__name__)

LISTED = 20  # upcoming events shown by /myevents
LISTED_ENDED = 10  # and events that ended lately
RECENT = timedelta(days=30)  # how lately: their check-in's results stay at hand
MAX_REASON = 500


# --- what a host may touch


async def hosted_event(
    session: AsyncSession, membership: Membership, person: Person, event_id: int
) -> Event | None:
    """The event, if it exists and the person may host in its community now."""
    event = await session.get(Event, event_id) if event_id > 0 else None
    if event is None or not await membership.can_host(session, event.community_id, person.id):
        return None
    return event


def refuse(query: CallbackQuery, replies: Replies) -> None:
    replies.add(query.answer(_("Only the hosts of this event can do that."), show_alert=True))


def is_open(event: Event, now: datetime) -> bool:
    """Still changeable: published and not over."""
    return event.status is EventStatus.PUBLISHED and event.ends_at > now


# --- the list and one event


async def listed_events(
    session: AsyncSession,
    membership: Membership,
    person: Person,
    now: datetime,
    *,
    open_only: bool = False,
) -> tuple[list[Event], list[Event]]:
    """Events the person hosts: those they created in communities they host in, and all of
    the communities they administer. Upcoming ones first (with ``open_only``, not cancelled
    ones), then those that ended within :data:`RECENT` and were not cancelled (newest first),
    for their check-in's results."""
    communities = await membership.communities_for_host(session, person.id)
    administered = [c.id for c in communities if await membership.is_admin(c.id, person.id)]
    hosted = [c.id for c in communities]
    if not hosted:
        return [], []
    theirs = or_(
        Event.community_id.in_(administered),
        (Event.community_id.in_(hosted)) & (Event.created_by == person.id),
    )
    upcoming = await session.scalars(
        select(Event)
        .where(
            Event.ends_at > now,
            Event.status == EventStatus.PUBLISHED
            if open_only
            else Event.status != EventStatus.DRAFT,
            theirs,
        )
        .order_by(Event.starts_at, Event.id)
        .limit(LISTED)
    )
    ended = await session.scalars(
        select(Event)
        .where(
            Event.ends_at <= now,
            Event.ends_at > now - RECENT,
            Event.status == EventStatus.PUBLISHED,
            theirs,
        )
        .order_by(Event.starts_at.desc(), Event.id.desc())
        .limit(LISTED_ENDED)
    )
    return list(upcoming), list(ended)


def when_of(event: Event, i18n: CatalogueI18n) -> str:
    return format_datetime(event.starts_at, event.timezone, i18n.current_locale)


async def list_view(
    session: AsyncSession, membership: Membership, person: Person, clock: Clock, i18n: CatalogueI18n
) -> tuple[Html, InlineKeyboardMarkup | None]:
    upcoming, ended = await listed_events(session, membership, person, clock.now())
    if not upcoming and not ended:
        return html_("You have no upcoming events. Create one with /new."), None
    lines = [html_("Your events — tap one to manage it:"), ""]
    if not upcoming:
        lines.append(html_("You have no upcoming events. Create one with /new."))
    builder = InlineKeyboardBuilder()
    for number, event in enumerate(upcoming + ended, start=1):
        if number == len(upcoming) + 1:
            lines += ["", html_("Ended in the last {days} days:", days=RECENT.days)]
        line = html_(
            "{number}. {title} — {when}",
            number=number,
            title=event.title,
            when=when_of(event, i18n),
        )
        if event.status is EventStatus.CANCELLED:
            line = Html(line + " " + html_("(cancelled)"))
        lines.append(line)
        builder.button(
            text=f"{number}. {event.title}"[:60],
            callback_data=ManageCallback(action=ManageAction.OPEN, event_id=event.id),
        )
    builder.adjust(1)
    return Html("\n".join(lines)), builder.as_markup()


async def answer_counts(session: AsyncSession, event_id: int) -> dict[RsvpStatus, list[str]]:
    """Names by answer, in the order people answered (the waitlist in its order)."""
    rows = await session.execute(
        select(Rsvp.status, Person.first_name)
        .join(Person, Person.id == Rsvp.person_id)
        .where(Rsvp.event_id == event_id)
        .order_by(Rsvp.position, Rsvp.id)
    )
    names: dict[RsvpStatus, list[str]] = {status: [] for status in RsvpStatus}
    for status, name in rows:
        names[status].append(name)
    return names


async def card_view(
    session: AsyncSession, event: Event, clock: Clock, i18n: CatalogueI18n
) -> tuple[Html, InlineKeyboardMarkup]:
    community = await session.get(Community, event.community_id)
    names = await answer_counts(session, event.id)
    lines = [
        html.bold(html.quote(event.title)),
        html_(
            "{community} · {when}",
            community=community.title if community else "",
            when=when_of(event, i18n),
        ),
    ]
    if event.status is EventStatus.CANCELLED:
        lines.append("❌ " + html_("Cancelled."))
    lines.append(
        html_(
            "Going: {going} · Maybe: {maybe} · Waitlist: {waitlisted}",
            going=len(names[RsvpStatus.GOING]),
            maybe=len(names[RsvpStatus.MAYBE]),
            waitlisted=len(names[RsvpStatus.WAITLISTED]),
        )
    )
    if event.series_id is not None:
        lines.append("🔁 " + html_("Part of a repeating event."))
    builder = InlineKeyboardBuilder()

    def button(label: str, action: ManageAction, event_id: int = event.id) -> None:
        builder.button(text=label, callback_data=ManageCallback(action=action, event_id=event_id))

    sizes = []
    if is_open(event, clock.now()):
        button(_("Edit"), ManageAction.EDIT)
        button(_("Cancel event"), ManageAction.CANCEL)
        sizes.append(2)
    button(_("Duplicate"), ManageAction.DUPLICATE)
    button(_("Attendees"), ManageAction.ATTENDEES)
    sizes.append(2)
    if is_over(event, clock.now()):
        button(_("Feedback"), ManageAction.FEEDBACK)
        sizes.append(1)
    if is_open(event, clock.now()):
        button(_("Announce"), ManageAction.ANNOUNCE)
        sizes.append(1)
    button("« " + _("All my events"), ManageAction.LIST, 0)
    sizes.append(1)
    builder.adjust(*sizes)
    return Html("\n".join(lines)), builder.as_markup()


async def attendees_view(session: AsyncSession, event: Event) -> tuple[Html, InlineKeyboardMarkup]:
    names = await answer_counts(session, event.id)
    lines = [html.bold(html.quote(event.title))]
    titles = {
        RsvpStatus.GOING: html_("Going ({count}):", count=len(names[RsvpStatus.GOING])),
        RsvpStatus.MAYBE: html_("Maybe ({count}):", count=len(names[RsvpStatus.MAYBE])),
        RsvpStatus.WAITLISTED: html_(
            "Waitlist ({count}):", count=len(names[RsvpStatus.WAITLISTED])
        ),
    }
    for status in titles:
        lines += ["", titles[status]]
        people = names[status]
        lines += [
            html_("{number}. {name}", number=n, name=name) for n, name in enumerate(people, start=1)
        ] or ["—"]
    lines += ["", html_("Only hosts and admins of the group see these names.")]
    builder = InlineKeyboardBuilder()
    builder.button(
        text="« " + _("Back"),
        callback_data=ManageCallback(action=ManageAction.OPEN, event_id=event.id),
    )
    return Html("\n".join(lines)), builder.as_markup()


# --- handlers


async def my_events(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    person: Person,
    membership: Membership,
    clock: Clock,
    i18n: CatalogueI18n,
    replies: Replies,
) -> None:
    if await state.get_state() == ManageEvent.reason.state:
        await state.clear()
    if not await membership.communities_for_host(session, person.id):
        replies.add(message.answer(explain_hosting()))
        return
    text, markup = await list_view(session, membership, person, clock, i18n)
    replies.add(message.answer(text, reply_markup=markup))


async def on_manage(
    query: CallbackQuery,
    callback_data: ManageCallback,
    state: FSMContext,
    replies: Replies,
    **data: Any,
) -> None:
    session: AsyncSession = data["session"]
    person: Person = data["person"]
    membership: Membership = data["membership"]
    clock: Clock = data["clock"]
    i18n: CatalogueI18n = data["i18n"]
    action = callback_data.action
    if action is ManageAction.LIST:
        text, markup = await list_view(session, membership, person, clock, i18n)
        show(replies, query, text, markup)
        return
    event = await hosted_event(session, membership, person, callback_data.event_id)
    if event is None:
        refuse(query, replies)
        return
    if action is ManageAction.OPEN:
        text, markup = await card_view(session, event, clock, i18n)
        show(replies, query, text, markup)
    elif action is ManageAction.ATTENDEES:
        text, markup = await attendees_view(session, event)
        show(replies, query, text, markup)
    elif action is ManageAction.FEEDBACK:
        if not is_over(event, clock.now()):
            replies.add(query.answer(_("Feedback opens when the event is over."), show_alert=True))
            return
        text = await results_view(session, event, i18n.current_locale)
        show(replies, query, text, back_markup(event.id))
    elif action is ManageAction.EDIT:
        await start_edit(event, query, state, replies, data)
    elif action is ManageAction.DUPLICATE:
        await start_duplicate(event, query, state, replies, data)
    elif action is ManageAction.ANNOUNCE:
        # (the announcing itself lives in its own router)
        from events.bot.routers.announce import start_from_card

        await start_from_card(event, query, state, replies, data)
    elif action is ManageAction.CANCEL:
        await ask_reason(event, query, state, replies, clock)
    elif action is ManageAction.KEEP:
        if await asked_reason_for(state, event.id):
            await state.clear()
        text, markup = await card_view(session, event, clock, i18n)
        show(replies, query, text, markup)
    elif action is ManageAction.SKIP_REASON:
        if not await asked_reason_for(state, event.id):
            replies.add(query.answer(_("This button no longer works."), show_alert=True))
            return
        await state.clear()
        await cancel_event(event, None, query, replies, data)


async def asked_reason_for(state: FSMContext, event_id: int) -> bool:
    """The host is being asked why this very event is cancelled."""
    if await state.get_state() != ManageEvent.reason.state:
        return False
    return (await state.get_data()).get("event_id") == event_id


# --- cancelling


async def ask_reason(
    event: Event, query: CallbackQuery, state: FSMContext, replies: Replies, clock: Clock
) -> None:
    if not is_open(event, clock.now()):
        replies.add(query.answer(_("This event can no longer be changed."), show_alert=True))
        return
    await state.set_state(ManageEvent.reason)
    await state.set_data({"event_id": event.id})
    text = html_(
        "Cancel {title}? Everyone going, maybe or on the waitlist will be told. "
        "Type a reason they will read, or tap Skip.",
        title=event.title,
    )
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("Skip"),
        callback_data=ManageCallback(action=ManageAction.SKIP_REASON, event_id=event.id),
    )
    builder.button(
        text=_("Keep the event"),
        callback_data=ManageCallback(action=ManageAction.KEEP, event_id=event.id),
    )
    show(replies, query, text, builder.as_markup())


async def on_reason(message: Message, state: FSMContext, replies: Replies, **data: Any) -> None:
    text = (message.text or "").strip()
    if text.startswith("/"):
        await state.clear()  # another command: the cancelling is dropped, the command not
        raise SkipHandler
    stored = await state.get_data()
    await state.clear()
    event = await hosted_event(
        data["session"], data["membership"], data["person"], int(stored.get("event_id", 0))
    )
    if event is None:
        replies.add(message.answer(html_("Only the hosts of this event can do that.")))
        return
    if not text:
        replies.add(message.answer(hint(Problem.EMPTY)))
        return
    await cancel_event(event, text[:MAX_REASON], message, replies, data)


async def cancel_event(
    event: Event,
    reason: str | None,
    target: Message | CallbackQuery,
    replies: Replies,
    data: dict[str, Any],
) -> None:
    session: AsyncSession = data["session"]
    clock: Clock = data["clock"]
    if not is_open(event, clock.now()):
        show(replies, target, html_("This event can no longer be changed."))
        return
    event.status = EventStatus.CANCELLED
    event.cancel_reason = reason
    event.revision += 1
    await session.flush()
    await plan(session, data["delivery"], event, now=clock.now())  # drops every reminder
    told = await tell_people(event, data)
    await update_post(event, data)
    text = html_(
        "{title} is cancelled. The group post says so, and {count} people will be told.",
        title=event.title,
        count=told,
    )
    show(replies, target, text, back_markup(event.id))


def back_markup(event_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text="« " + _("Back"),
        callback_data=ManageCallback(action=ManageAction.OPEN, event_id=event_id),
    )
    return builder.as_markup()


async def tell_people(event: Event, data: dict[str, Any]) -> int:
    """One notice per person going, maybe or waitlisted, for the event's current revision."""
    delivery: Delivery = data["delivery"]
    session: AsyncSession = data["session"]
    people = await people_to_tell(session, event.id)
    if people:
        await delivery.enqueue_batch(
            session,
            key=notice_key(event),
            person_ids=people,
            expires_at=event.ends_at,
            host_id=data["person"].id,
        )
    return len(people)


async def update_post(event: Event, data: dict[str, Any]) -> None:
    """Bring the group post in line with the event; a failure is logged, not fatal."""
    session: AsyncSession = data["session"]
    posts: PostUpdater | None = data.get("posts")
    if posts is not None:
        posts.request_after_commit(session, event.id)  # with its counts, in its turn
        return
    community = await session.get(Community, event.community_id)
    if community is None:
        return
    bot: Bot = data["bot"]
    try:
        await refresh_post(bot, event, community, data["i18n"])
    except TelegramAPIError as exc:
        log.warning("could not update the post of event %s: %s", event.id, exc)


# --- editing and duplicating through the wizard


async def start_edit(
    event: Event, query: CallbackQuery, state: FSMContext, replies: Replies, data: dict[str, Any]
) -> None:
    clock: Clock = data["clock"]
    if not is_open(event, clock.now()):
        replies.add(query.answer(_("This event can no longer be changed."), show_alert=True))
        return
    community = await data["session"].get(Community, event.community_id)
    await state.set_state(None)
    await state.set_data(
        {
            "communities": [[event.community_id, community.title if community else ""]],
            "single_community": True,
            "editing": True,
            "event_id": event.id,
            "in_series": event.series_id is not None,
        }
    )
    wizard = await Wizard.load(state, data)
    wizard.draft = Draft.of_event(event)
    await wizard.ask(NewEvent.preview, replies, query)


async def start_duplicate(
    event: Event, query: CallbackQuery, state: FSMContext, replies: Replies, data: dict[str, Any]
) -> None:
    """The wizard with a copy of the event; it asks for the new date first, then the preview."""
    membership: Membership = data["membership"]
    communities = await membership.communities_for_host(data["session"], data["person"].id)
    await state.set_state(None)
    await state.set_data(
        {
            "communities": [[c.id, c.title] for c in communities],
            "single_community": len(communities) == 1,
            "editing": True,
        }
    )
    wizard = await Wizard.load(state, data)
    draft = Draft.of_event(event)
    draft.local_start = None
    wizard.draft = draft
    await wizard.ask(NewEvent.when, replies, query)


def apply_draft(event: Event, draft: Draft, *, start: bool = True) -> None:
    """Copy the draft's fields onto the event (its start too unless ``start`` is False)."""
    duration = draft.duration or (event.ends_at - event.starts_at)
    if start and draft.starts_at is not None and draft.timezone:
        event.timezone = draft.timezone
        event.starts_at = draft.starts_at.astimezone(ZoneInfo("UTC"))
    if draft.kind is not None:
        event.kind = draft.kind
    event.title = draft.title or event.title
    event.description = draft.description
    event.ends_at = event.starts_at + duration
    if draft.place is not None:
        event.place = draft.place
    event.location = draft.location if draft.needs_location else None
    event.join_link = draft.join_link if draft.needs_link else None
    event.capacity = None if draft.unlimited else draft.capacity


def what_matters(event: Event) -> tuple[Any, ...]:
    """What attendees are told about when it changes: time, place, link."""
    return (
        event.starts_at,
        event.ends_at,
        event.timezone,
        event.place,
        event.location,
        event.join_link,
    )


async def save_one(event: Event, draft: Draft, data: dict[str, Any], *, start: bool = True) -> int:
    before, capacity = what_matters(event), event.capacity
    times = (event.starts_at, event.ends_at)
    apply_draft(event, draft, start=start)
    event.revision += 1
    await data["session"].flush()
    if (event.starts_at, event.ends_at) != times:
        now = data["clock"].now()
        await plan(data["session"], data["delivery"], event, now=now)  # reminders move along
    if capacity is not None and (event.capacity is None or event.capacity > capacity):
        await promote_waitlisted(data["session"], event, data["delivery"])  # seats opened
    told = await tell_people(event, data) if what_matters(event) != before else 0
    await update_post(event, data)
    return told


async def save_edit(
    wizard: Wizard,
    query: CallbackQuery,
    replies: Replies,
    data: dict[str, Any],
    *,
    following: bool,
) -> None:
    """Save the preview's changes to the event (and, with ``following``, to the later
    occurrences of its series and the occurrences still to come)."""
    session, clock = wizard.session, wizard.clock
    event = await hosted_event(
        session, data["membership"], wizard.person, int(wizard.data.get("event_id", 0))
    )
    if event is None or not is_open(event, clock.now()):
        await wizard.state.clear()
        show(replies, query, html_("This event can no longer be changed."))
        return
    draft = wizard.draft
    starts_at = draft.starts_at
    moved = starts_at != event.starts_at  # an unchanged start may have begun already
    if starts_at is None or (moved and isinstance(check_start(starts_at, clock.now()), Problem)):
        await wizard.save(NewEvent.when)
        text, markup = await wizard.question(NewEvent.when)
        show(replies, query, hint(Problem.IN_THE_PAST) + "\n\n" + text, markup)
        return
    told = await save_one(event, draft, data)
    changed = 1
    if following and event.series_id is not None and event.series_index is not None:
        series = await session.get(Series, event.series_id)
        if series is not None and draft.local_start is not None and draft.timezone:
            series.anchor_start, series.anchor_index = draft.local_start, event.series_index
            series.timezone = draft.timezone
            later = await session.scalars(
                select(Event)
                .where(
                    Event.series_id == series.id,
                    Event.series_index > event.series_index,
                    Event.status == EventStatus.PUBLISHED,
                )
                .order_by(Event.series_index)
            )
            for occurrence in later.all():
                assert occurrence.series_index is not None
                new_start = occurrence_start(
                    series.frequency,
                    series.anchor_start,
                    series.anchor_index,
                    occurrence.series_index,
                    series.timezone,
                )
                occurrence.timezone = series.timezone
                occurrence.starts_at = new_start.astimezone(ZoneInfo("UTC"))
                told += await save_one(occurrence, draft, data, start=False)
                changed += 1
    await wizard.state.clear()
    if changed > 1:
        text = html_(
            "Saved for {events} events. Their group posts are updated; {count} people will "
            "be told.",
            events=changed,
            count=told,
        )
    else:
        text = html_("Saved. The group post is updated; {count} people will be told.", count=told)
    show(replies, query, text, back_markup(event.id))


def build_router() -> Router:
    router = Router(name="manage")
    private = F.chat.type == "private"
    router.message.register(my_events, Command("myevents"), private)
    router.message.register(on_reason, StateFilter(ManageEvent.reason), private, F.text)
    router.callback_query.register(on_manage, ManageCallback.filter())
    return router
