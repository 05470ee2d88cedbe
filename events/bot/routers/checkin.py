"""The after-session check-in in the private chat: a score tapped, then a comment if wished.

Every tap is checked again (going to that event, the event over and not cancelled, within
:data:`events.bot.checkin.OPEN_FOR` of its end); a second answer changes nothing. The message
then thanks the person and offers **Add a comment**, and nothing else: not the score given.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.methods import SendMessage
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from events.bot.callbacks import CheckinAction, CheckinCallback
from events.bot.checkin import (
    MAX_COMMENT,
    MIN_ANSWERS,
    SCORES,
    comment_keyboard,
    record_comment,
    record_score,
    refusal,
    responder,
)
from events.bot.replies import Replies
from events.bot.states import Checkin
from events.clock import Clock
from events.db.models import Event, Person
from events.domain.events import utf16_length
from events.i18n import html_


async def on_checkin(
    query: CallbackQuery,
    callback_data: CheckinCallback,
    session: AsyncSession,
    person: Person,
    clock: Clock,
    state: FSMContext,
    replies: Replies,
) -> None:
    event = await session.get(Event, callback_data.event_id)
    problem = await refusal(session, event, person.id, clock.now())
    if problem is not None or event is None:
        replies.add(query.answer(problem, show_alert=True))
        return
    if callback_data.action is CheckinAction.SCORE:
        await on_score(query, callback_data.score, event, session, person, replies)
    else:
        await on_comment_button(query, event, session, person, state, replies)


async def on_score(
    query: CallbackQuery,
    score: int,
    event: Event,
    session: AsyncSession,
    person: Person,
    replies: Replies,
) -> None:
    if score not in SCORES:
        replies.add(query.answer(_("This button no longer works."), show_alert=True))
        return
    if not await record_score(session, event.id, person.id, score):
        replies.add(query.answer(_("You already answered."), show_alert=True))
        return
    replies.add(query.answer(_("Thank you!")))
    text = html_(
        "Thank you for answering about {title}. Your answer is kept without your name.",
        title=event.title,
    )
    markup = comment_keyboard(event.id)
    if isinstance(query.message, Message):
        replies.add(query.message.edit_text(text, reply_markup=markup))
    else:
        replies.add(SendMessage(chat_id=person.id, text=text, reply_markup=markup))


async def on_comment_button(
    query: CallbackQuery,
    event: Event,
    session: AsyncSession,
    person: Person,
    state: FSMContext,
    replies: Replies,
) -> None:
    answered = await responder(session, event.id, person.id)
    if answered is None:
        replies.add(query.answer(_("Tap a number first."), show_alert=True))
        return
    if answered.commented:
        replies.add(query.answer(_("You already added a comment."), show_alert=True))
        return
    replies.add(query.answer())
    await state.set_state(Checkin.comment)
    await state.set_data({"event_id": event.id})
    text = html_(
        "Type your comment about {title} (at most {most} characters). The host sees it "
        "without your name, and only once at least {least} people have answered. "
        "/cancel to stop.",
        title=event.title,
        most=MAX_COMMENT,
        least=MIN_ANSWERS,
    )
    replies.add(SendMessage(chat_id=person.id, text=text))


async def on_comment(
    message: Message,
    session: AsyncSession,
    person: Person,
    clock: Clock,
    state: FSMContext,
    replies: Replies,
) -> None:
    text = (message.text or "").strip()
    if text.startswith("/"):
        await state.clear()  # another command: the comment is dropped, the command runs
        raise SkipHandler
    if not text:
        replies.add(message.answer(html_("That was empty. Type your comment, or /cancel to stop.")))
        return
    if utf16_length(text) > MAX_COMMENT:
        hint = html_(
            "That is longer than {most} characters. Please shorten it, or /cancel to stop.",
            most=MAX_COMMENT,
        )
        replies.add(message.answer(hint))
        return
    data = await state.get_data()
    await state.clear()
    event = await session.get(Event, int(data.get("event_id", 0)))
    problem = await refusal(session, event, person.id, clock.now())
    if problem is not None or event is None:
        replies.add(message.answer(html_("This check-in is closed.")))
        return
    if not await record_comment(session, event.id, person.id, text):
        replies.add(message.answer(html_("You already added a comment.")))
        return
    reply = html_(
        "Thank you. Your comment is kept without your name; the host sees it once at least "
        "{least} people have answered.",
        least=MIN_ANSWERS,
    )
    replies.add(message.answer(reply))


async def not_a_comment(message: Message, replies: Replies) -> None:
    replies.add(message.answer(html_("A comment can only be text. Type it, or /cancel to stop.")))


def build_router() -> Router:
    router = Router(name="checkin")
    private = F.chat.type == "private"
    router.message.register(on_comment, StateFilter(Checkin.comment), private, F.text)
    router.message.register(not_a_comment, StateFilter(Checkin.comment), private, ~F.text)
    router.callback_query.register(on_checkin, CheckinCallback.filter())
    return router
