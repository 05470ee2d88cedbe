"""/announce: a host's message to everyone going to one of their events.

The host picks the event (with one open event, straight to it; **Announce** on an event in
/myevents leads to the same place), types the message, sees it as the people going will, and
sends it: a ``broadcasts`` row and one ``announce:<broadcast id>`` ledger row per person going,
in one transaction (``events.bot.announcements`` renders them). The state lives in the same
storage as the wizard's; ``/cancel`` leaves at any step, and another command typed instead
drops the message and runs. Every button reloads the event and checks the presser again.
"""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from events.bot.announcements import announce_key, announcement_text, people_going, plural_html
from events.bot.callbacks import AnnounceAction, AnnounceCallback
from events.bot.membership import Membership
from events.bot.replies import Replies
from events.bot.routers.manage import hosted_event, is_open, listed_events, refuse
from events.bot.routers.wizard import show
from events.bot.states import Announcing
from events.clock import Clock
from events.db.models import Broadcast, Event, Person
from events.db.rsvps import lock_event
from events.delivery import Delivery
from events.delivery.progress import PROGRESS_THRESHOLD
from events.domain.events import MAX_ANNOUNCEMENT, Problem, check_announcement
from events.i18n import Html, html_

ANNOUNCING = StateFilter(Announcing.text, Announcing.preview)


# --- what the host reads


def not_a_host() -> Html:
    return html_(
        "Only hosts and admins of a group can send a message to the people going to its events."
    )


def closed() -> Html:
    return html_("This event is cancelled or over: messages can no longer be sent for it.")


def nobody_going(title: str) -> Html:
    return html_(
        "Nobody is going to {title} yet, so there is no one to send a message to.", title=title
    )


def ask_for_text(title: str, going: int) -> Html:
    ask = plural_html(
        ngettext(
            "Type the message for the {count} person going to {title}.",
            "Type the message for the {count} people going to {title}.",
            going,
        ),
        going,
        title=title,
    )
    rules = html_(
        "Plain text, at most {most} characters; line breaks are kept. /cancel to stop.",
        most=MAX_ANNOUNCEMENT,
    )
    return Html(f"{ask}\n{rules}")


def not_usable(problem: Problem | None) -> Html:
    """What is wrong with what the host sent; the same step waits for another try."""
    if problem is Problem.EMPTY:
        return html_("That was empty. Type the message for the people going, or /cancel.")
    if problem is Problem.TOO_LONG:
        return html_(
            "That is too long: a message can have at most {most} characters. "
            "Shorten it and send it again, or /cancel.",
            most=MAX_ANNOUNCEMENT,
        )
    return html_(
        "Only text can be sent to the people going: no photos, stickers or files. "
        "Type the message, or /cancel."
    )


def preview_markup(event_id: int, version: int, going: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    send = ngettext("Send to {count} person", "Send to {count} people", going)
    builder.button(
        text=send.format(count=going),
        callback_data=AnnounceCallback(
            action=AnnounceAction.SEND, event_id=event_id, version=version
        ),
    )
    builder.button(
        text=_("Cancel"),
        callback_data=AnnounceCallback(
            action=AnnounceAction.CANCEL, event_id=event_id, version=version
        ),
    )
    builder.adjust(1)
    return builder.as_markup()


# --- entering


async def leave_announcing(state: FSMContext) -> None:
    if await state.get_state() in (Announcing.text.state, Announcing.preview.state):
        await state.clear()


async def begin(
    event: Event,
    target: Message | CallbackQuery,
    state: FSMContext,
    replies: Replies,
    session: AsyncSession,
) -> None:
    """Ask for the message for this event (nothing is kept when nobody is going)."""
    going = await people_going(session, event.id)
    if not going:
        await leave_announcing(state)
        if isinstance(target, CallbackQuery):
            toast = _("Nobody is going yet, so there is no one to send a message to.")
            replies.add(target.answer(toast, show_alert=True))
        else:
            replies.add(target.answer(nobody_going(event.title)))
        return
    await state.set_state(Announcing.text)
    await state.set_data({"event_id": event.id, "version": 0})
    show(replies, target, ask_for_text(event.title, len(going)))


async def announce_command(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    person: Person,
    membership: Membership,
    clock: Clock,
    replies: Replies,
) -> None:
    await leave_announcing(state)
    if not await membership.communities_for_host(session, person.id):
        replies.add(message.answer(not_a_host()))
        return
    events, _ended = await listed_events(session, membership, person, clock.now(), open_only=True)
    if not events:
        replies.add(message.answer(html_("You host no upcoming event to send a message about.")))
        return
    if len(events) == 1:
        await begin(events[0], message, state, replies, session)
        return
    builder = InlineKeyboardBuilder()
    for event in events:
        builder.button(
            text=event.title[:60],
            callback_data=AnnounceCallback(action=AnnounceAction.PICK, event_id=event.id),
        )
    builder.adjust(1)
    text = html_("Which event is your message for? It goes to the people going.")
    replies.add(message.answer(text, reply_markup=builder.as_markup()))


async def start_from_card(
    event: Event, query: CallbackQuery, state: FSMContext, replies: Replies, data: dict[str, Any]
) -> None:
    """**Announce** on an event in /myevents (its presser already checked)."""
    if not is_open(event, data["clock"].now()):
        replies.add(query.answer(_("This event can no longer be changed."), show_alert=True))
        return
    await begin(event, query, state, replies, data["session"])


# --- typed answers


async def on_text(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    person: Person,
    membership: Membership,
    clock: Clock,
    replies: Replies,
) -> None:
    """The message (at the preview: a new text instead of the one shown)."""
    stored = await state.get_data()
    event = await hosted_event(session, membership, person, int(stored.get("event_id", 0)))
    if event is None or not is_open(event, clock.now()):
        await state.clear()
        replies.add(message.answer(not_a_host() if event is None else closed()))
        return
    checked = check_announcement(message.text or "")
    if isinstance(checked, Problem):
        replies.add(message.answer(not_usable(checked)))
        return
    going = await people_going(session, event.id)
    if not going:
        await state.clear()
        replies.add(message.answer(nobody_going(event.title)))
        return
    version = int(stored.get("version", 0)) + 1
    await state.set_state(Announcing.preview)
    await state.set_data({"event_id": event.id, "text": checked, "version": version})
    intro = html_(
        "This is how the people going will see it (in their own language). "
        "Send it, or type the message again to change it:"
    )
    text = Html(f"{intro}\n\n{announcement_text(event.title, checked)}")
    replies.add(message.answer(text, reply_markup=preview_markup(event.id, version, len(going))))


async def other_command(message: Message, state: FSMContext) -> None:
    """A command instead of the message: the message is dropped, the command runs."""
    await state.clear()
    raise SkipHandler


async def not_text(message: Message, replies: Replies) -> None:
    replies.add(message.answer(not_usable(None)))


# --- buttons


async def on_button(
    query: CallbackQuery,
    callback_data: AnnounceCallback,
    state: FSMContext,
    replies: Replies,
    **data: Any,
) -> None:
    session: AsyncSession = data["session"]
    if callback_data.action is AnnounceAction.PICK:
        event = await hosted_event(
            session, data["membership"], data["person"], callback_data.event_id
        )
        if event is None:
            refuse(query, replies)
            return
        await start_from_card(event, query, state, replies, data)
        return
    if callback_data.action is AnnounceAction.SEND and callback_data.event_id > 0:
        # A second tap on Send waits here for the first to commit, then finds the flow over.
        await lock_event(session, callback_data.event_id)
    stored = await state.get_data()
    if (
        await state.get_state() != Announcing.preview.state
        or stored.get("event_id") != callback_data.event_id
        or stored.get("version") != callback_data.version
    ):
        replies.add(query.answer(_("This button no longer works."), show_alert=True))
        return
    await state.clear()
    if callback_data.action is AnnounceAction.CANCEL:
        show(replies, query, html_("Cancelled. Nothing was sent."))
        return
    await send(callback_data.event_id, str(stored.get("text", "")), query, replies, data)


async def send(
    event_id: int, text: str, query: CallbackQuery, replies: Replies, data: dict[str, Any]
) -> None:
    session: AsyncSession = data["session"]
    person: Person = data["person"]
    clock: Clock = data["clock"]
    delivery: Delivery = data["delivery"]
    event = await hosted_event(session, data["membership"], person, event_id)
    if event is None:
        refuse(query, replies)
        return
    if not is_open(event, clock.now()):
        show(replies, query, closed())
        return
    going = await people_going(session, event.id)
    if not going:
        show(replies, query, nobody_going(event.title))
        return
    broadcast = Broadcast(event_id=event.id, host_id=person.id, text=text, created_at=clock.now())
    session.add(broadcast)
    await session.flush()
    await delivery.enqueue_batch(
        session,
        key=announce_key(broadcast.id),
        person_ids=going,
        expires_at=event.ends_at,
        host_id=person.id,
    )
    answer = plural_html(
        ngettext(
            "On its way to the {count} person going to {title}.",
            "On its way to the {count} people going to {title}.",
            len(going),
        ),
        len(going),
        title=event.title,
    )
    if len(going) > PROGRESS_THRESHOLD:
        answer = Html(answer + " " + html_("The next message shows how the sending goes."))
    # The preview turns into the answer above what was sent (an edit: the progress message
    # may follow at once without crowding the private chat).
    show(replies, query, Html(f"{answer}\n\n{announcement_text(event.title, text)}"))


def build_router() -> Router:
    router = Router(name="announce")
    private = F.chat.type == "private"
    router.message.register(announce_command, Command("announce"), private)
    router.message.register(other_command, ANNOUNCING, private, F.text.startswith("/"))
    router.message.register(on_text, ANNOUNCING, private, F.text)
    router.message.register(not_text, ANNOUNCING, private)
    router.callback_query.register(on_button, AnnounceCallback.filter())
    return router
