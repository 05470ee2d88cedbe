"""/timezone: the zone a person sees every date and time in."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from events.bot.callbacks import TimezoneCallback
from events.bot.replies import Replies
from events.bot.states import TimezoneQuestion
from events.clock import Clock
from events.config import Settings
from events.dates import zone_from_text
from events.db.models import Person
from events.formatting import zone_abbreviation
from events.i18n import Html, html_
from events.zones import JAKARTA, JAYAPURA, MAKASSAR

ONE_TAP = {"WIB": JAKARTA, "WITA": MAKASSAR, "WIT": JAYAPURA}


def zone_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for label, zone in ONE_TAP.items():
        builder.button(text=label, callback_data=TimezoneCallback(zone=zone))
    builder.button(text=_("Other…"), callback_data=TimezoneCallback())
    builder.adjust(4)
    return builder.as_markup()


def zone_name(zone: str, clock: Clock) -> str:
    """ "WITA (Asia/Makassar)"; a zone without an abbreviation of its own is named once."""
    abbreviation = zone_abbreviation(zone, clock.now())
    return zone if abbreviation == zone else f"{abbreviation} ({zone})"


def saved(person: Person, zone: str, clock: Clock) -> Html:
    person.timezone = zone
    return html_("Done. I will show you dates and times in {zone}.", zone=zone_name(zone, clock))


def unknown_zone() -> Html:
    return html_(
        "I do not know that time zone. Try a city, for example Makassar or Amsterdam, "
        "or a name such as Asia/Jakarta."
    )


async def ask_zone(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    person: Person,
    settings: Settings,
    clock: Clock,
    replies: Replies,
) -> None:
    if command.args:  # "/timezone Amsterdam"
        zone = zone_from_text(command.args)
        replies.add(message.answer(saved(person, zone, clock) if zone else unknown_zone()))
        return
    await state.clear()
    current = zone_name(person.timezone or settings.default_timezone, clock)
    text = html_("I show you dates and times in {zone}. Which time zone are you in?", zone=current)
    replies.add(message.answer(text, reply_markup=zone_keyboard()))


async def choose_zone(
    query: CallbackQuery,
    callback_data: TimezoneCallback,
    state: FSMContext,
    person: Person,
    clock: Clock,
    replies: Replies,
) -> None:
    if not callback_data.zone:
        await state.set_state(TimezoneQuestion.city)
        text = html_(
            "Type your city or time zone, for example Makassar, Singapore or Europe/Amsterdam."
        )
        replies.add(query.answer())
        if isinstance(query.message, Message):
            replies.add(query.message.edit_text(text))
        return
    zone = zone_from_text(callback_data.zone)
    if zone != callback_data.zone:
        replies.add(query.answer(_("This button no longer works."), show_alert=True))
        return
    await state.clear()
    text = saved(person, zone, clock)
    replies.add(query.answer(_("Time zone: {zone}").format(zone=zone_name(zone, clock))))
    if isinstance(query.message, Message):
        replies.add(query.message.edit_text(text))


async def typed_zone(
    message: Message, state: FSMContext, person: Person, clock: Clock, replies: Replies
) -> None:
    zone = zone_from_text(message.text or "")
    if zone is None:
        replies.add(message.answer(unknown_zone()))
        return
    await state.clear()
    replies.add(message.answer(saved(person, zone, clock)))


def build_router() -> Router:
    router = Router(name="timezone")
    private = F.chat.type == "private"
    router.message.register(ask_zone, Command("timezone"), private)
    router.message.register(
        typed_zone, TimezoneQuestion.city, private, F.text, ~F.text.startswith("/")
    )
    router.callback_query.register(choose_zone, TimezoneCallback.filter())
    return router
