"""The anonymous after-session check-in: one tap, "How was the session?" 1–5, a comment if wished.

One ledger row per person going (``checkin:<event>``, CONTRACT §3), due an hour after the end,
planned with the reminders (events/reminders.py); the text is decided when it is sent. What is
stored keeps the answer apart from the person: a score (``CheckinAnswer``) and a comment
(``CheckinComment``) carry only the event, and ``CheckinResponder`` says only that someone
answered (so nobody answers twice), never what.
Hosts see the average, the spread and the comments once at least :data:`MIN_ANSWERS` people
answered; before that only how many did. See docs/checkin.md.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from aiogram import html
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.numbers import format_decimal
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from events.bot.callbacks import CheckinAction, CheckinCallback
from events.db.models import (
    CheckinAnswer,
    CheckinComment,
    CheckinResponder,
    Event,
    EventStatus,
    Person,
    RsvpStatus,
)
from events.db.rsvps import rsvp_of
from events.db.upsert import insert
from events.delivery import OutgoingMessage
from events.domain.events import utf16_length
from events.formatting import LOCALES
from events.i18n import Html, html_

MIN_ANSWERS = 5  # hosts see nothing but the count below this many answers
OPEN_FOR = timedelta(days=7)  # answers are taken this long after the end
MAX_COMMENT = 500  # characters of a comment
SCORES = range(1, 6)
BAR = 8  # blocks of the longest possible bar in the results
COMMENTS_ROOM = 3000  # UTF-16 units of comments in one results message (Telegram: 4096)


def is_over(event: Event, now: datetime) -> bool:
    """Ended, and not cancelled: the events that have a check-in."""
    return event.status is EventStatus.PUBLISHED and event.ends_at <= now


def takes_checkins(event: Event | None, now: datetime) -> bool:
    return event is not None and is_over(event, now) and now < event.ends_at + OPEN_FOR


async def refusal(
    session: AsyncSession, event: Event | None, person_id: int, now: datetime
) -> str | None:
    """Why this person may not answer this event's check-in now (None: they may)."""
    if event is None or not takes_checkins(event, now):
        return _("This check-in is closed.")
    rsvp = await rsvp_of(session, event.id, person_id)
    if rsvp is None or rsvp.status is not RsvpStatus.GOING:
        return _("The check-in is for people who went to the session.")
    return None


async def responder(
    session: AsyncSession, event_id: int, person_id: int
) -> CheckinResponder | None:
    return await session.get(CheckinResponder, (event_id, person_id))


async def record_score(session: AsyncSession, event_id: int, person_id: int, score: int) -> bool:
    """Keep one score of this person for this event; False if they had answered already.

    The responder row and the score are written together (the update's one transaction); the
    responder's key decides a race between two taps, so only one score is ever kept.
    """
    added = await session.scalar(
        insert(session, CheckinResponder)
        .values(event_id=event_id, person_id=person_id, commented=False)
        .on_conflict_do_nothing()
        .returning(CheckinResponder.person_id)
    )
    if added is None:
        return False
    session.add(CheckinAnswer(event_id=event_id, score=score))
    await session.flush()
    return True


async def record_comment(session: AsyncSession, event_id: int, person_id: int, text: str) -> bool:
    """Keep this person's one comment for this event; False if they may not (not answered,
    or commented already)."""
    marked = await session.scalar(
        update(CheckinResponder)
        .where(
            CheckinResponder.event_id == event_id,
            CheckinResponder.person_id == person_id,
            CheckinResponder.commented.is_(False),
        )
        .values(commented=True)
        .returning(CheckinResponder.person_id)
    )
    if marked is None:
        return False
    session.add(CheckinComment(event_id=event_id, text=text))
    await session.flush()
    return True


def anonymity_line() -> Html:
    return html_(
        "Your answer is anonymous: the host sees only the average and the comments, and only "
        "once at least {count} people have answered.",
        count=MIN_ANSWERS,
    )


def scores_keyboard(event_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for score in SCORES:
        builder.button(
            text=str(score),
            callback_data=CheckinCallback(
                action=CheckinAction.SCORE, event_id=event_id, score=score
            ),
        )
    builder.adjust(len(SCORES))
    return builder.as_markup()


def comment_keyboard(event_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("Add a comment"),
        callback_data=CheckinCallback(action=CheckinAction.COMMENT, event_id=event_id),
    )
    return builder.as_markup()


async def render_checkin(session: AsyncSession, person: Person, key: str) -> OutgoingMessage | None:
    """``checkin:<event>``: "How was it?" with five buttons, to a person who went.

    Nothing to say if the event is gone or cancelled, the person is no longer going, or they
    have answered already.
    """
    _kind, event_id = key.split(":")
    event = await session.get(Event, int(event_id))
    if event is None or event.status is not EventStatus.PUBLISHED:
        return None
    rsvp = await rsvp_of(session, event.id, person.id)
    if rsvp is None or rsvp.status is not RsvpStatus.GOING:
        return None
    if await responder(session, event.id, person.id) is not None:
        return None
    lines = [
        html.bold(html_("How was {title}?", title=event.title)),
        html_("Tap a number: 1 is poor, 5 is very good."),
        "",
        anonymity_line(),
    ]
    return OutgoingMessage(text="\n".join(lines), reply_markup=scores_keyboard(event.id))


# --- what hosts see


@dataclass(frozen=True)
class Results:
    counts: dict[int, int]  # score -> how many gave it
    comments: list[str]  # in random order

    @property
    def answers(self) -> int:
        return sum(self.counts.values())

    @property
    def shown(self) -> bool:
        return self.answers >= MIN_ANSWERS

    def average(self) -> Decimal:
        total = sum(score * count for score, count in self.counts.items())
        return (Decimal(total) / Decimal(self.answers)).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )


async def results(session: AsyncSession, event_id: int) -> Results:
    """The scores counted and, once they may be shown, the comments shuffled: never in an
    order that could be laid beside a list of attendees."""
    rows = await session.execute(
        select(CheckinAnswer.score, func.count())
        .where(CheckinAnswer.event_id == event_id)
        .group_by(CheckinAnswer.score)
    )
    counts = {score: 0 for score in SCORES}
    for score, count in rows:
        counts[int(score)] = int(count)
    found = Results(counts=counts, comments=[])
    if not found.shown:
        return found
    statement = select(CheckinComment.text).where(CheckinComment.event_id == event_id)
    comments = list(await session.scalars(statement))
    random.SystemRandom().shuffle(comments)
    return Results(counts=counts, comments=comments)


def format_average(value: Decimal, locale: str) -> str:
    """One decimal in the locale's way: "4,2" / "4.2"."""
    return format_decimal(value, format="0.0", locale=locale if locale in LOCALES else "id")


def bar(count: int, answers: int) -> str:
    return "█" * round(BAR * count / answers) if answers else ""


async def results_view(session: AsyncSession, event: Event, locale: str) -> Html:
    """The check-in's results for a host: counts only below :data:`MIN_ANSWERS` answers."""
    found = await results(session, event.id)
    lines = [html.bold(html_("Feedback on {title}", title=event.title)), ""]
    if not found.shown:
        lines.append(
            html_(
                "{count} of at least {least} answers so far: results are shown once {least} "
                "people have answered.",
                count=found.answers,
                least=MIN_ANSWERS,
            )
        )
        return Html("\n".join(lines))
    lines.append(
        html_(
            "Average: {average} of 5 ({count} answers).",
            average=format_average(found.average(), locale),
            count=found.answers,
        )
    )
    for score in reversed(SCORES):
        count = found.counts[score]
        parts = (f"{score} ★", bar(count, found.answers), str(count))
        lines.append(" ".join(part for part in parts if part))
    lines.append("")
    if not found.comments:
        lines.append(html_("No comments."))
    else:
        lines.append(html_("Comments ({count}), in random order:", count=len(found.comments)))
        room = COMMENTS_ROOM
        left_out = 0
        for comment in found.comments:
            line = "• " + html.quote(comment)
            if utf16_length(line) > room:
                left_out += 1
                continue
            room -= utf16_length(line)
            lines.append(line)
        if left_out:
            lines.append(html_("Not shown for lack of room: {count}.", count=left_out))
    lines += ["", html_("Nobody's name is kept with a score or a comment.")]
    return Html("\n".join(lines))
