"""/new: a host creates an event by answering one short question at a time.

Every step has Back and Cancel; wrong input gets a hint and the same step again; the draft lives
in the wizard's state (the database by default), so a restart loses nothing. The preview shows
the announcement exactly as members will see it, with a button per field, and Publish.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.methods import SendMessage
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from events.bot.callbacks import PinCallback, WizardAction, WizardCallback
from events.bot.keyboards import pin_keyboard, wizard_keyboard
from events.bot.membership import Membership
from events.bot.posts import announce
from events.bot.render import KIND_NAMES, PLACE_NAMES, Announcement
from events.bot.replies import Replies
from events.bot.routers.hosts import explain_hosting
from events.bot.routers.timezone import unknown_zone
from events.bot.states import STEPS, NewEvent
from events.clock import Clock
from events.config import Settings
from events.dates import parse_duration, parse_when, zone_from_text
from events.db.models import (
    Community,
    Event,
    EventKind,
    EventStatus,
    Frequency,
    Person,
    Place,
    Series,
)
from events.domain.events import (
    Draft,
    Problem,
    check_capacity,
    check_description,
    check_duration,
    check_link,
    check_location,
    check_start,
    check_title,
)
from events.domain.series import check_repeat_count
from events.formatting import format_date, format_datetime, zone_abbreviation
from events.i18n import LOCALES, N_, CatalogueI18n, html_

INDONESIAN_ZONES = {"WIB": "Asia/Jakarta", "WITA": "Asia/Makassar", "WIT": "Asia/Jayapura"}
DURATIONS = ((30, N_("30 min")), (60, N_("1 h")), (90, N_("1½ h")), (120, N_("2 h")))
FIELDS = {  # what the preview offers to change, in this order
    "community": N_("Community"),
    "kind": N_("Kind"),
    "title": N_("Title"),
    "description": N_("Description"),
    "timezone": N_("Time zone"),
    "when": N_("Date and time"),
    "duration": N_("Duration"),
    "place": N_("Place"),
    "capacity": N_("Capacity"),
    "repeat": N_("Repeat"),
}
REPEATS = {
    "none": N_("Does not repeat"),
    Frequency.WEEKLY.value: N_("Weekly"),
    Frequency.BIWEEKLY.value: N_("Every 2 weeks"),
    Frequency.MONTHLY.value: N_("Monthly"),
}


def step_name(state: State | str | None) -> str:
    raw = state.state if isinstance(state, State) else state
    return (raw or "").split(":", 1)[-1]


def step_of(name: str) -> State:
    return next(step for step in STEPS if step_name(step) == name)


WIZARD = StateFilter(*STEPS)


@dataclass
class Wizard:
    """One update's view of the wizard: the draft, and what it takes to ask a question."""

    state: FSMContext
    data: dict[str, Any]
    draft: Draft
    person: Person
    session: AsyncSession
    settings: Settings
    bot: Bot
    clock: Clock
    i18n: CatalogueI18n

    @classmethod
    async def load(cls, state: FSMContext, data: dict[str, Any]) -> Wizard:
        stored = await state.get_data()
        return cls(
            state=state,
            data=stored,
            draft=Draft.from_data(stored),
            person=data["person"],
            session=data["session"],
            settings=data["settings"],
            bot=data["bot"],
            clock=data["clock"],
            i18n=data["i18n"],
        )

    async def save(self, step: State) -> None:
        if step is NewEvent.preview:
            self.data.pop("where_again", None)
        await self.state.set_state(step)
        await self.state.set_data({**self.data, **self.draft.to_data()})

    # --- which step comes when

    def applies(self, step: State) -> bool:
        if step is NewEvent.community:
            return not self.data.get("single_community")
        if step is NewEvent.link:
            return self.draft.needs_link
        if step is NewEvent.location:
            return self.draft.needs_location
        if step is NewEvent.repeat:
            return not self.data.get("event_id")  # an existing event keeps its series
        if step is NewEvent.repeat_end:
            return self.draft.repeats and not self.data.get("event_id")
        return True

    def after(self, current: State) -> State:
        later = [step for step in STEPS[STEPS.index(current) + 1 :] if self.applies(step)]
        if self.data.get("editing"):
            # A new answer to "where" asks for the link and the place again.
            if self.data.get("where_again") and later[0] in (NewEvent.link, NewEvent.location):
                return later[0]
            # Back to the preview, unless the change needs a link or a place not given yet.
            if NewEvent.link in later and self.draft.join_link is None:
                return NewEvent.link
            if NewEvent.location in later and self.draft.location is None:
                return NewEvent.location
            if NewEvent.repeat_end in later and not (
                self.draft.repeat_until or self.draft.repeat_count
            ):
                return NewEvent.repeat_end
            if self.draft.local_start is None:
                return NewEvent.when  # a copied event waits for its new date
            return NewEvent.preview
        return later[0]

    def before(self, current: State) -> State | None:
        if self.data.get("editing") and self.draft.local_start is not None:
            return NewEvent.preview
        earlier = [step for step in STEPS[: STEPS.index(current)] if self.applies(step)]
        return earlier[-1] if earlier else None

    # --- the questions

    async def own_zone(self) -> str:
        if self.person.timezone:
            return self.person.timezone
        if self.draft.community_id is not None:
            community = await self.session.get(Community, self.draft.community_id)
            if community is not None:
                return community.timezone
        return self.settings.default_timezone

    async def question(self, step: State) -> tuple[str, InlineKeyboardMarkup]:
        if step is NewEvent.preview:
            return await self.preview()
        name, back = step_name(step), self.before(step) is not None
        choices: list[tuple[str, WizardAction, str]] = []
        per_row = 2
        if step is NewEvent.community:
            text = html_("Which community is this event for?")
            choices = [(title, WizardAction.PICK, str(cid)) for cid, title in self.communities]
            per_row = 1
        elif step is NewEvent.kind:
            text = html_("What kind of event is it?")
            choices = [(_(KIND_NAMES[kind]), WizardAction.PICK, kind.value) for kind in EventKind]
            per_row = 3
        elif step is NewEvent.title:
            text = html_("What is the title? At most 120 characters.")
        elif step is NewEvent.description:
            text = html_(
                "Describe the event in a few sentences (at most 2000 characters), or skip this."
            )
            choices = [(_("Skip"), WizardAction.SKIP, "")]
        elif step is NewEvent.timezone:
            zone = await self.own_zone()
            if zone not in INDONESIAN_ZONES.values():
                choices.append((zone, WizardAction.PICK, zone))
            choices += [(abbr, WizardAction.PICK, iana) for abbr, iana in INDONESIAN_ZONES.items()]
            choices.append((_("Other…"), WizardAction.OTHER, ""))
            text = html_(
                "Which time zone is the event in? Yours is {zone}. "
                "You can also type a city, for example Makassar or Amsterdam.",
                zone=zone_abbreviation(zone, self.clock.now()),
            )
            per_row = 4
        elif step is NewEvent.when:
            text = html_(
                "When does it start? Write the date and time, for example: "
                "besok jam 19.00, Sabtu 10.00 or 5 Desember 19:30."
            )
        elif step is NewEvent.duration:
            text = html_("How long does it last? Tap, or type it, for example 90 menit.")
            choices = [(_(label), WizardAction.PICK, str(minutes)) for minutes, label in DURATIONS]
            per_row = 4
        elif step is NewEvent.place:
            text = html_("Where does it take place?")
            choices = [(_(PLACE_NAMES[place]), WizardAction.PICK, place.value) for place in Place]
            per_row = 3
        elif step is NewEvent.link:
            text = html_(
                "Send the link to join online (it starts with https://). "
                "Only people who are going will get it."
            )
        elif step is NewEvent.location:
            text = html_("Where is it? Send the name of the place or its address.")
        elif step is NewEvent.repeat:
            text = html_("Does it repeat?")
            choices = [(_(label), WizardAction.PICK, value) for value, label in REPEATS.items()]
        elif step is NewEvent.repeat_end:
            text = html_(
                "Until when? Type the last date, for example 31 Desember, "
                "or how many times in all, for example 6."
            )
        else:
            text = html_("How many people can come? Type a number, or tap No limit.")
            choices = [(_("No limit"), WizardAction.PICK, "0")]
        return text, wizard_keyboard(name, choices, per_row=per_row, back=back)

    def means_no_limit(self, text: str) -> bool:
        """The "No limit" button typed instead of tapped, in either language."""
        typed = " ".join(text.lower().split())
        labels = (self.i18n.gettext("No limit", locale=locale).lower() for locale in LOCALES)
        return typed in labels

    @property
    def communities(self) -> list[tuple[int, str]]:
        return [(int(cid), title) for cid, title in self.data.get("communities", [])]

    async def preview(self) -> tuple[str, InlineKeyboardMarkup]:
        community = await self.session.get(Community, self.draft.community_id)
        if community is None:
            raise LookupError("the draft's community is gone")
        username = (await self.bot.me()).username or ""
        # The post in the group's language, the words around it in the host's.
        with self.i18n.use_locale(community.locale):
            post = Announcement.of_draft(self.draft).render(community.locale, username)
        parts = [
            html_("This is how members of {community} will see it:", community=community.title),
            "",
            post,
        ]
        if self.draft.needs_link and self.draft.join_link:
            link = html_(
                "Link to join (only people going get it): {link}", link=self.draft.join_link
            )
            parts += ["", link]
        existing = self.data.get("event_id")
        if self.draft.repeats and not existing:
            parts += ["", "🔁 " + self.repeat_summary()]
        hidden = {"repeat"} if existing else set()
        if self.data.get("single_community") or existing:
            hidden.add("community")
        fields = [field for field in FIELDS if field not in hidden]
        choices = [("✏️ " + _(FIELDS[field]), WizardAction.EDIT, field) for field in fields]
        if not existing:
            choices.append((_("Publish"), WizardAction.PUBLISH, ""))
        elif self.data.get("in_series"):
            choices.append((_("Save this occurrence"), WizardAction.PUBLISH, "one"))
            choices.append((_("Save this and following"), WizardAction.PUBLISH, "all"))
        else:
            choices.append((_("Save"), WizardAction.PUBLISH, "one"))
        return "\n".join(parts), wizard_keyboard("preview", choices, back=False)

    def repeat_summary(self) -> str:
        """How the draft repeats, in the host's words."""
        label = _(REPEATS[self.draft.repeat or "none"])
        if self.draft.repeat_count:
            return html_("{repeat}, {count} times", repeat=label, count=self.draft.repeat_count)
        if self.draft.repeat_until:
            zone = self.draft.timezone or "UTC"
            noon = datetime.combine(date.fromisoformat(self.draft.repeat_until), time(12))
            until = format_date(noon.replace(tzinfo=ZoneInfo(zone)), zone, self.i18n.current_locale)
            return html_("{repeat}, until {date}", repeat=label, date=until)
        return html_(REPEATS[self.draft.repeat or "none"])

    async def ask(self, step: State, replies: Replies, target: Message | CallbackQuery) -> None:
        """Move to `step` and ask its question: a tapped question turns into the next one, a
        typed answer gets the next question as a new message."""
        await self.save(step)
        text, markup = await self.question(step)
        show(replies, target, text, markup)


def show(
    replies: Replies,
    target: Message | CallbackQuery,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    if isinstance(target, CallbackQuery):
        replies.add(target.answer())
        if isinstance(target.message, Message):
            replies.add(target.message.edit_text(text, reply_markup=markup))
            return
        replies.add(SendMessage(chat_id=target.from_user.id, text=text, reply_markup=markup))
        return
    replies.add(target.answer(text, reply_markup=markup))


def hint(problem: Problem | str) -> str:
    """What to tell a host whose answer could not be used; the same question follows."""
    hints = {
        Problem.EMPTY: html_("That was empty."),
        Problem.TOO_LONG: html_("That is too long."),
        Problem.NOT_A_LINK: html_("That does not look like a link: it should start with https://"),
        Problem.NOT_A_NUMBER: html_("Please type a number."),
        Problem.NOT_POSITIVE: html_("It has to be more than zero."),
        Problem.TOO_LARGE: html_("That is more than I can take."),
        Problem.IN_THE_PAST: html_("That moment has already passed."),
        "date": html_(
            "I could not read a date and time in that. Try for example: "
            "besok jam 19.00, Sabtu 10.00 or 5 Desember 19:30."
        ),
        "duration": html_(
            "I could not read a duration in that. Try for example 90 menit or 2 jam."
        ),
        "zone": unknown_zone(),
        "text": html_("Please answer with text."),
        "repeat_end": html_(
            "I could not read that. Type a date after the first one, for example 31 Desember, "
            "or a number of times from 2 to 52."
        ),
        "buttons": html_("Please tap one of the buttons."),
    }
    return hints[problem]


async def again(
    wizard: Wizard, step: State, problem: Problem | str, message: Message, replies: Replies
) -> None:
    text, markup = await wizard.question(step)
    replies.add(message.answer(hint(problem) + "\n\n" + text, reply_markup=markup))


# --- entering and leaving


async def start_new(
    message: Message, state: FSMContext, membership: Membership, replies: Replies, **data: Any
) -> None:
    session: AsyncSession = data["session"]
    person: Person = data["person"]
    communities = await membership.communities_for_host(session, person.id)
    if not communities:
        await state.clear()
        replies.add(message.answer(explain_hosting()))
        return
    await state.set_state(None)
    await state.set_data(
        {
            "communities": [[c.id, c.title] for c in communities],
            "single_community": len(communities) == 1,
        }
    )
    wizard = await Wizard.load(state, data)
    if len(communities) == 1:
        wizard.draft.community_id = communities[0].id
    first = wizard.after(STEPS[0]) if wizard.data["single_community"] else NewEvent.community
    await wizard.ask(first, replies, message)


async def cancel(message: Message, state: FSMContext, replies: Replies) -> None:
    if await state.get_state() is None:
        replies.add(message.answer(html_("There is nothing to cancel.")))
        return
    await state.clear()
    replies.add(message.answer(html_("Cancelled. Nothing was saved.")))


async def other_command(message: Message, replies: Replies) -> None:
    """A command typed mid-wizard: ask before throwing the draft away."""
    markup = wizard_keyboard(
        "leave",
        [(_("Leave it"), WizardAction.LEAVE, ""), (_("Continue"), WizardAction.STAY, "")],
        back=False,
        cancel=False,
    )
    text = html_("You are in the middle of creating an event. Leave it? The draft will be lost.")
    replies.add(message.answer(text, reply_markup=markup))


async def leave_or_stay(
    query: CallbackQuery,
    callback_data: WizardCallback,
    state: FSMContext,
    replies: Replies,
    **data: Any,
) -> None:
    current = await state.get_state()
    if callback_data.action is WizardAction.LEAVE or current is None:
        await state.clear()
        show(replies, query, html_("Left. Send the command again."))
        return
    wizard = await Wizard.load(state, data)
    await wizard.ask(step_of(step_name(current)), replies, query)


# --- buttons


async def on_button(
    query: CallbackQuery,
    callback_data: WizardCallback,
    state: FSMContext,
    replies: Replies,
    **data: Any,
) -> None:
    current = await state.get_state()
    if current is None or step_name(current) != callback_data.step:
        replies.add(query.answer(_("This button no longer works."), show_alert=True))
        return
    wizard = await Wizard.load(state, data)
    step, action, value = step_of(callback_data.step), callback_data.action, callback_data.value
    if action is WizardAction.CANCEL:
        await state.clear()
        show(replies, query, html_("Cancelled. Nothing was saved."))
        return
    if action is WizardAction.BACK:
        previous = wizard.before(step)
        await wizard.ask(previous or step, replies, query)
        return
    if action is WizardAction.EDIT and value in FIELDS:
        wizard.data["editing"] = True
        wizard.data["where_again"] = value == "place"
        await wizard.ask(step_of(value), replies, query)
        return
    if action is WizardAction.PUBLISH and step is NewEvent.preview:
        if wizard.data.get("event_id"):
            # (the editing side lives with the rest of managing events)
            from events.bot.routers.manage import save_edit

            await save_edit(wizard, query, replies, data, following=value == "all")
            return
        await publish(wizard, query, replies, data["membership"])
        return
    if action is WizardAction.OTHER:
        text = html_(
            "Type a city or a time zone name, for example Makassar, Singapore or Europe/Amsterdam."
        )
        show(replies, query, text, wizard_keyboard(callback_data.step))
        return
    if step is NewEvent.when and action in (WizardAction.YES, WizardAction.CHANGE):
        if action is WizardAction.YES and wizard.data.get("pending_start"):
            wizard.draft.local_start, wizard.draft.timezone = wizard.data.pop("pending_start")
            await wizard.ask(wizard.after(step), replies, query)
        else:
            await wizard.ask(step, replies, query)
        return
    if not pick(wizard, step, action, value):
        replies.add(query.answer(_("This button no longer works."), show_alert=True))
        return
    await wizard.ask(wizard.after(step), replies, query)


def pick(wizard: Wizard, step: State, action: WizardAction, value: str) -> bool:
    """Apply a tapped choice to the draft; False when it is not a choice of this step."""
    draft = wizard.draft
    if step is NewEvent.description and action is WizardAction.SKIP:
        draft.description = None
        return True
    if action is not WizardAction.PICK:
        return False
    if step is NewEvent.community and value in {str(cid) for cid, _title in wizard.communities}:
        draft.community_id = int(value)
    elif step is NewEvent.kind and value in set(EventKind):
        draft.kind = EventKind(value)
    elif step is NewEvent.timezone and zone_from_text(value) == value:
        draft.timezone = value
    elif step is NewEvent.duration and value in {str(minutes) for minutes, _label in DURATIONS}:
        draft.duration_minutes = int(value)
    elif step is NewEvent.place and value in set(Place):
        draft.place = Place(value)
    elif step is NewEvent.capacity and value == "0":
        draft.capacity, draft.unlimited = None, True
    elif step is NewEvent.repeat and value in REPEATS:
        draft.repeat = value
        if value == "none":
            draft.repeat_until = draft.repeat_count = None
    else:
        return False
    return True


# --- typed answers


CHECKS: dict[State, tuple[Callable[[str], Any], str]] = {
    NewEvent.title: (check_title, "title"),
    NewEvent.description: (check_description, "description"),
    NewEvent.link: (check_link, "join_link"),
    NewEvent.location: (check_location, "location"),
    NewEvent.capacity: (check_capacity, "capacity"),
}


def read_answer(step: State, text: str) -> tuple[str, Any] | Problem | str:
    """The draft field and value a typed answer gives, or what is wrong with it."""
    if step is NewEvent.timezone:
        zone = zone_from_text(text)
        return ("timezone", zone) if zone else "zone"
    if step is NewEvent.duration:
        checked = check_duration(parse_duration(text))
        if checked is Problem.NOT_A_NUMBER:
            return "duration"
        if isinstance(checked, Problem):
            return checked
        return ("duration_minutes", int(checked.total_seconds() // 60))
    check, field = CHECKS[step]
    value = check(text)
    return value if isinstance(value, Problem) else (field, value)


async def on_text(message: Message, state: FSMContext, replies: Replies, **data: Any) -> None:
    wizard = await Wizard.load(state, data)
    step = step_of(step_name(await state.get_state()))
    if step is NewEvent.when:
        await read_start(wizard, message, replies)
        return
    if step is NewEvent.repeat_end:
        await read_repeat_end(wizard, message, replies)
        return
    if step not in CHECKS and step not in (NewEvent.timezone, NewEvent.duration):
        await again(wizard, step, "buttons", message, replies)
        return
    text = message.text or ""
    if step is NewEvent.capacity and wizard.means_no_limit(text):
        wizard.draft.capacity, wizard.draft.unlimited = None, True
        await wizard.ask(wizard.after(step), replies, message)
        return
    answer = read_answer(step, text)
    if not isinstance(answer, tuple):
        await again(wizard, step, answer, message, replies)
        return
    field, value = answer
    setattr(wizard.draft, field, value)
    if field == "capacity":
        wizard.draft.unlimited = False
    await wizard.ask(wizard.after(step), replies, message)


async def read_start(wizard: Wizard, message: Message, replies: Replies) -> None:
    """Read the start, then echo the reading back in full before moving on."""
    zone = wizard.draft.timezone or await wizard.own_zone()
    now = wizard.clock.now()
    starts_at = parse_when(message.text or "", now=now, tz=zone)
    if starts_at is None:
        await again(wizard, NewEvent.when, "date", message, replies)
        return
    if isinstance(check_start(starts_at, now), Problem):
        await again(wizard, NewEvent.when, Problem.IN_THE_PAST, message, replies)
        return
    named_zone = str(starts_at.tzinfo)  # a zone written in the text wins
    reading = Draft()
    reading.set_start(starts_at, named_zone)
    wizard.data["pending_start"] = [reading.local_start, named_zone]
    await wizard.save(NewEvent.when)
    locale = wizard.i18n.current_locale
    text = html_("{when} — is that right?", when=format_datetime(starts_at, named_zone, locale))
    markup = wizard_keyboard(
        "when",
        [(_("Yes, correct"), WizardAction.YES, ""), (_("Change"), WizardAction.CHANGE, "")],
    )
    replies.add(message.answer(text, reply_markup=markup))


async def read_repeat_end(wizard: Wizard, message: Message, replies: Replies) -> None:
    """A number of times, or the last date an occurrence may start on."""
    text = message.text or ""
    draft = wizard.draft
    count = check_repeat_count(text)
    if count is not None:
        draft.repeat_count, draft.repeat_until = count, None
        await wizard.ask(wizard.after(NewEvent.repeat_end), replies, message)
        return
    zone = draft.timezone or await wizard.own_zone()
    first = draft.starts_at
    until = parse_when(text, now=wizard.clock.now(), tz=zone)
    if until is None and first is not None:
        # A bare date: read it with the first occurrence's time of day.
        until = parse_when(f"{text} {first.strftime('%H.%M')}", now=wizard.clock.now(), tz=zone)
    if until is None or first is None or until.date() <= first.date():
        await again(wizard, NewEvent.repeat_end, "repeat_end", message, replies)
        return
    draft.repeat_until, draft.repeat_count = until.date().isoformat(), None
    await wizard.ask(wizard.after(NewEvent.repeat_end), replies, message)


async def not_text(message: Message, state: FSMContext, replies: Replies, **data: Any) -> None:
    wizard = await Wizard.load(state, data)
    await again(wizard, step_of(step_name(await state.get_state())), "text", message, replies)


# --- publishing


async def publish(
    wizard: Wizard, query: CallbackQuery, replies: Replies, membership: Membership
) -> None:
    draft, session, person = wizard.draft, wizard.session, wizard.person
    community = await session.get(Community, draft.community_id)
    if (
        community is None
        or not community.active
        or not await membership.can_host(session, community.id, person.id)
    ):
        await wizard.state.clear()
        show(replies, query, html_("You can no longer create events for that community."))
        return
    starts_at = draft.starts_at
    if starts_at is None or isinstance(check_start(starts_at, wizard.clock.now()), Problem):
        wizard.data["editing"] = True
        await wizard.save(NewEvent.when)
        text, markup = await wizard.question(NewEvent.when)
        show(replies, query, hint(Problem.IN_THE_PAST) + "\n\n" + text, markup)
        return
    fields = Announcement.of_draft(draft)
    event = Event(
        community_id=community.id,
        kind=fields.kind,
        title=fields.title,
        description=fields.description,
        timezone=fields.timezone,
        starts_at=fields.starts_at,
        ends_at=fields.starts_at + fields.duration,
        place=fields.place,
        location=fields.location,
        join_link=draft.join_link if draft.needs_link else None,
        capacity=fields.capacity,
        status=EventStatus.PUBLISHED,
        created_by=person.id,
    )
    if draft.repeats and draft.local_start is not None:
        series = Series(
            community_id=community.id,
            frequency=Frequency(draft.repeat),
            timezone=fields.timezone,
            anchor_start=draft.local_start,
            anchor_index=0,
            until=draft.repeat_until,
            count=draft.repeat_count,
            created_by=person.id,
        )
        session.add(series)
        await session.flush()
        event.series_id, event.series_index = series.id, 0
    session.add(event)
    await session.flush()
    if not await announce(wizard.bot, session, event, community, wizard.i18n):
        text = html_(
            "I cannot post in {community} any more: I am no longer in that group.",
            community=community.title,
        )
        show(replies, query, text)
        return
    await wizard.state.clear()
    text = html_("Published in {community}. 🎉", community=community.title)
    show(replies, query, text, pin_keyboard(event.id))


async def pin(
    query: CallbackQuery,
    callback_data: PinCallback,
    session: AsyncSession,
    person: Person,
    membership: Membership,
    bot: Bot,
    replies: Replies,
) -> None:
    event = await session.get(Event, callback_data.event_id)
    if (
        event is None
        or event.announcement_message_id is None
        or event.announcement_chat_id is None
        or not await membership.can_host(session, event.community_id, person.id)
    ):
        replies.add(query.answer(_("This button no longer works."), show_alert=True))
        return
    try:
        await bot.pin_chat_message(
            event.announcement_chat_id, event.announcement_message_id, disable_notification=True
        )
    except TelegramAPIError:
        text = _("I could not pin it: I need to be a group admin who may pin messages.")
        replies.add(query.answer(text, show_alert=True))
        return
    replies.add(query.answer(_("Pinned.")))
    if isinstance(query.message, Message):
        replies.add(query.message.edit_reply_markup(reply_markup=None))


def build_router() -> Router:
    router = Router(name="wizard")
    private = F.chat.type == "private"
    router.message.register(cancel, Command("cancel"), private)
    router.message.register(other_command, WIZARD, private, F.text.startswith("/"))
    router.message.register(start_new, Command("new"), private)
    router.message.register(on_text, WIZARD, private, F.text)
    router.message.register(not_text, WIZARD, private)
    router.callback_query.register(
        leave_or_stay,
        WizardCallback.filter(F.action.in_({WizardAction.LEAVE, WizardAction.STAY})),
    )
    router.callback_query.register(on_button, WizardCallback.filter())
    router.callback_query.register(pin, PinCallback.filter())
    return router
