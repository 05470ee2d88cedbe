"""Anonymous questions to Q&A sessions: people going ask (/ask or Ask anonymously on the card),
hosts read them with /questions — the text and the time, never who asked.

A person may send :data:`MAX_QUESTIONS` per session; questions close when the session ends.
The author may withdraw their own question; a host may mark one answered.
"""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router, html
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.methods import SendMessage
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from events.bot.callbacks import (
    AskCallback,
    QuestionAction,
    QuestionCallback,
    QuestionsCallback,
)
from events.bot.cards import may_see
from events.bot.membership import Membership
from events.bot.replies import Replies
from events.clock import Clock
from events.db.models import Event, EventKind, EventStatus, Person, Question, Rsvp, RsvpStatus
from events.db.rsvps import rsvp_of
from events.formatting import format_time
from events.i18n import Html, html_

MAX_QUESTIONS = 5
MAX_LENGTH = 1000


class Asking(StatesGroup):
    question = State()


def open_for_questions(event: Event | None, now: datetime) -> bool:
    return (
        event is not None
        and event.kind is EventKind.QA
        and event.status is EventStatus.PUBLISHED
        and now < event.ends_at
    )


async def asked(session: AsyncSession, event_id: int, person_id: int) -> int:
    statement = select(func.count()).where(
        Question.event_id == event_id, Question.person_id == person_id
    )
    return int((await session.scalar(statement)) or 0)


async def refusal(
    session: AsyncSession,
    membership: Membership,
    event: Event | None,
    person: Person,
    now: datetime,
) -> str | None:
    """Why this person may not ask this session a question now (None: they may)."""
    if not open_for_questions(event, now) or event is None:
        return _("Questions for this session are closed.")
    rsvp = await rsvp_of(session, event.id, person.id)
    if rsvp is None or rsvp.status is not RsvpStatus.GOING:
        return _("Questions are for people going to the session.")
    if not await may_see(session, membership, event, person.id):
        return _("Questions are for people going to the session.")
    if await asked(session, event.id, person.id) >= MAX_QUESTIONS:
        return _("You have sent {count} questions to this session, the most there can be.").format(
            count=MAX_QUESTIONS
        )
    return None


async def begin(event: Event, person: Person, state: FSMContext, replies: Replies) -> None:
    await state.set_state(Asking.question)
    await state.update_data(event_id=event.id)
    text = html_(
        "Type your question for {title}. The host sees only the question, never who asked. "
        "/cancel to stop.",
        title=event.title,
    )
    replies.add(SendMessage(chat_id=person.id, text=text))


async def on_ask_button(
    query: CallbackQuery,
    callback_data: AskCallback,
    session: AsyncSession,
    person: Person,
    membership: Membership,
    clock: Clock,
    state: FSMContext,
    replies: Replies,
) -> None:
    event = await session.get(Event, callback_data.event_id)
    problem = await refusal(session, membership, event, person, clock.now())
    if problem is not None or event is None:
        replies.add(query.answer(problem, show_alert=True))
        return
    replies.add(query.answer())
    await begin(event, person, state, replies)


async def ask_command(
    message: Message,
    session: AsyncSession,
    person: Person,
    membership: Membership,
    clock: Clock,
    state: FSMContext,
    replies: Replies,
) -> None:
    statement = (
        select(Event)
        .join(Rsvp, Rsvp.event_id == Event.id)
        .where(
            Rsvp.person_id == person.id,
            Rsvp.status == RsvpStatus.GOING,
            Event.kind == EventKind.QA,
            Event.status == EventStatus.PUBLISHED,
            Event.ends_at > clock.now(),
        )
        .order_by(Event.starts_at, Event.id)
    )
    sessions = list((await session.scalars(statement)).all())
    if not sessions:
        text = html_("You can send questions to the Q&A sessions you are going to.")
        replies.add(message.answer(text))
        return
    if len(sessions) == 1:
        problem = await refusal(session, membership, sessions[0], person, clock.now())
        if problem is not None:
            replies.add(message.answer(Html(html.quote(problem))))
            return
        await begin(sessions[0], person, state, replies)
        return
    builder = InlineKeyboardBuilder()
    for event in sessions:
        builder.button(text=event.title, callback_data=AskCallback(event_id=event.id))
    builder.adjust(1)
    replies.add(
        message.answer(
            html_("Which session is your question for?"), reply_markup=builder.as_markup()
        )
    )


def withdraw_keyboard(question_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("Withdraw"),
        callback_data=QuestionCallback(action=QuestionAction.WITHDRAW, question_id=question_id),
    )
    return builder.as_markup()


async def on_question(
    message: Message,
    session: AsyncSession,
    person: Person,
    membership: Membership,
    clock: Clock,
    state: FSMContext,
    replies: Replies,
) -> None:
    data = await state.get_data()
    event = await session.get(Event, int(data.get("event_id", 0)))
    text = (message.text or "").strip()
    if not text or len(text) > MAX_LENGTH:
        hint = html_("A question is text of at most {count} characters.", count=MAX_LENGTH)
        replies.add(message.answer(hint))
        return
    problem = await refusal(session, membership, event, person, clock.now())
    await state.clear()
    if problem is not None or event is None:
        replies.add(message.answer(Html(html.quote(problem or ""))))
        return
    question = Question(event_id=event.id, person_id=person.id, text=text, created_at=clock.now())
    session.add(question)
    await session.flush()
    count = await asked(session, event.id, person.id)
    reply = html_("Sent, without your name ({count} of {most}).", count=count, most=MAX_QUESTIONS)
    replies.add(message.answer(reply, reply_markup=withdraw_keyboard(question.id)))


async def not_a_question(message: Message, replies: Replies) -> None:
    hint = html_("A question is text of at most {count} characters.", count=MAX_LENGTH)
    replies.add(message.answer(hint))


async def hosted_sessions(
    session: AsyncSession, membership: Membership, person: Person, now: datetime
) -> list[Event]:
    communities = [c.id for c in await membership.communities_for_host(session, person.id)]
    if not communities:
        return []
    statement = (
        select(Event)
        .where(
            Event.community_id.in_(communities),
            Event.kind == EventKind.QA,
            Event.status == EventStatus.PUBLISHED,
            Event.ends_at > now,
        )
        .order_by(Event.starts_at, Event.id)
    )
    return list((await session.scalars(statement)).all())


async def questions_of(
    session: AsyncSession, event: Event, locale: str
) -> tuple[Html, InlineKeyboardMarkup | None]:
    """The session's questions for its host: text and time, never the author."""
    statement = (
        select(Question)
        .where(Question.event_id == event.id)
        .order_by(Question.created_at, Question.id)
    )
    found = list((await session.scalars(statement)).all())
    if not found:
        return html_("No questions for {title} yet.", title=event.title), None
    lines = [html_("Questions for {title}:", title=event.title), ""]
    builder = InlineKeyboardBuilder()
    for number, question in enumerate(found, start=1):
        when = format_time(question.created_at, event.timezone, locale)
        mark = "✅ " if question.answered_at is not None else ""
        lines.append(f"{number}. {mark}{html.quote(when)} — {html.quote(question.text)}")
        if question.answered_at is None:
            builder.button(
                text=_("Answered: {number}").format(number=number),
                callback_data=QuestionCallback(
                    action=QuestionAction.ANSWERED, question_id=question.id
                ),
            )
    builder.adjust(3)
    markup = builder.as_markup()
    return Html("\n".join(lines)), markup if markup.inline_keyboard else None


async def questions_command(
    message: Message,
    session: AsyncSession,
    person: Person,
    membership: Membership,
    clock: Clock,
    replies: Replies,
    locale: str,
) -> None:
    found = await hosted_sessions(session, membership, person, clock.now())
    if not found:
        replies.add(message.answer(html_("You host no Q&A session that is open now.")))
        return
    if len(found) == 1:
        text, markup = await questions_of(session, found[0], locale)
        replies.add(message.answer(text, reply_markup=markup))
        return
    builder = InlineKeyboardBuilder()
    for event in found:
        builder.button(text=event.title, callback_data=QuestionsCallback(event_id=event.id))
    builder.adjust(1)
    replies.add(message.answer(html_("Which session?"), reply_markup=builder.as_markup()))


async def on_questions(
    query: CallbackQuery,
    callback_data: QuestionsCallback,
    session: AsyncSession,
    person: Person,
    membership: Membership,
    replies: Replies,
    locale: str,
) -> None:
    event = await session.get(Event, callback_data.event_id)
    if event is None or not await membership.can_host(session, event.community_id, person.id):
        replies.add(query.answer(_("Only the hosts of this session can do that."), show_alert=True))
        return
    replies.add(query.answer())
    text, markup = await questions_of(session, event, locale)
    replies.add(SendMessage(chat_id=person.id, text=text, reply_markup=markup))


async def on_question_button(
    query: CallbackQuery,
    callback_data: QuestionCallback,
    session: AsyncSession,
    person: Person,
    membership: Membership,
    clock: Clock,
    replies: Replies,
    locale: str,
) -> None:
    question = await session.get(Question, callback_data.question_id)
    event = await session.get(Event, question.event_id) if question is not None else None
    if question is None or event is None:
        replies.add(query.answer(_("This question is no longer there."), show_alert=True))
        return
    if callback_data.action is QuestionAction.WITHDRAW:
        if question.person_id != person.id:
            replies.add(query.answer(_("This button no longer works."), show_alert=True))
            return
        await session.delete(question)
        replies.add(query.answer(_("Withdrawn.")))
        if isinstance(query.message, Message):
            replies.add(query.message.edit_text(html_("You withdrew this question.")))
        return
    if not await membership.can_host(session, event.community_id, person.id):
        replies.add(query.answer(_("Only the hosts of this session can do that."), show_alert=True))
        return
    if question.answered_at is None:
        question.answered_at = clock.now()
        await session.flush()
    replies.add(query.answer(_("Marked answered.")))
    if isinstance(query.message, Message):
        text, markup = await questions_of(session, event, locale)
        replies.add(query.message.edit_text(text, reply_markup=markup))


def build_router() -> Router:
    router = Router(name="qa")
    private = F.chat.type == "private"
    router.message.register(ask_command, Command("ask"), private)
    router.message.register(questions_command, Command("questions"), private)
    router.message.register(
        on_question, StateFilter(Asking.question), private, F.text, ~F.text.startswith("/")
    )
    router.message.register(not_a_question, StateFilter(Asking.question), private, ~F.text)
    router.callback_query.register(on_ask_button, AskCallback.filter())
    router.callback_query.register(on_questions, QuestionsCallback.filter())
    router.callback_query.register(on_question_button, QuestionCallback.filter())
    return router
