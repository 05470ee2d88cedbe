"""/forget in a private chat: the person's own data erased, after one confirmation (CONTRACT §5).

The question says what goes and what stays; "Yes, erase it all" erases it in one transaction
(events/db/forget.py), frees their seats for the people waiting and refreshes the counts of the
group posts; "Cancel" changes nothing. Either way the question's buttons are gone afterwards.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from events.bot.callbacks import ForgetCallback
from events.bot.keyboards import forget_keyboard
from events.bot.posts import PostUpdater
from events.bot.replies import Replies
from events.db.communities import hosted_by
from events.db.forget import erase
from events.db.models import Person
from events.delivery import Delivery
from events.i18n import Html, html_


def question() -> Html:
    lines = [
        html_("🗑 Erase your data?"),
        html_("This erases, for good:"),
        html_("• your answers to every event (a seat you hold goes to the first person waiting)"),
        html_("• your anonymous questions"),
        html_(
            "• the note that you answered a check-in (the scores and comments stay: "
            "nothing ties them to you)"
        ),
        html_("• your calendar links (calendar apps stop getting your events)"),
        html_("• the reminders and messages waiting for you, and the record of those sent"),
        html_("• your language, time zone and reminder choices"),
        html_(
            "Your name stays where Telegram shows it; you can go on using the bot "
            "from a blank page."
        ),
    ]
    return Html("\n".join([lines[0], "", *lines[1:-1], "", lines[-1]]))


async def ask(message: Message, replies: Replies) -> None:
    replies.add(message.answer(question(), reply_markup=forget_keyboard()))


async def answer(
    query: CallbackQuery,
    callback_data: ForgetCallback,
    session: AsyncSession,
    person: Person,
    delivery: Delivery,
    posts: PostUpdater,
    state: FSMContext,
    replies: Replies,
) -> None:
    if not callback_data.erase:
        replies.add(query.answer(_("Nothing was erased.")))
        if isinstance(query.message, Message):
            replies.add(query.message.edit_text(html_("Nothing was erased.")))
        return
    erased = await erase(session, person, delivery)
    await state.clear()
    for event_id in erased.events:
        posts.request_after_commit(session, event_id)
    lines = [html_("Done: your data is erased.")]
    if await hosted_by(session, person.id):
        lines.append(
            html_(
                "The events you host stay with their communities; a group admin can take your "
                "host rights with /removehost."
            )
        )
    replies.add(query.answer(_("Done: your data is erased.")))
    if isinstance(query.message, Message):
        replies.add(query.message.edit_text(Html("\n\n".join(lines))))


def build_router() -> Router:
    router = Router(name="forget")
    router.message.register(ask, Command("forget"), F.chat.type == "private")
    router.callback_query.register(
        answer, ForgetCallback.filter(), F.message.chat.type == "private"
    )
    return router
