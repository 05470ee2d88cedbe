"""/settings in a private chat: when the person's reminders come (their own choice or their
community's default) and whether "maybe" answers get them too; for community admins also each
community's default.

Every tap stores the choice and re-plans the reminders of the events ahead in the same
transaction (events/reminders.py), so the next reminder already follows it. A tap on a
community's default is checked again: only that group's admins may change it.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from babel.lists import format_list
from sqlalchemy.ext.asyncio import AsyncSession

from events.bot.callbacks import SettingsAction, SettingsCallback
from events.bot.keyboards import community_reminders_keyboard, settings_keyboard
from events.bot.membership import Membership
from events.bot.replies import Replies
from events.clock import Clock
from events.db.models import DEFAULT_REMINDERS, Community, Person
from events.delivery import Delivery
from events.formatting import format_leads
from events.i18n import Html, html_
from events.reminders import (
    OFFSETS,
    format_offsets,
    parse_offsets,
    plan_community,
    plan_person,
)


def _leads_line(leads: Sequence[int], locale: str) -> Html:
    """ "Pengingat: 1 hari dan 1 jam sebelum acara." / "Reminders: none." """
    if not leads:
        return html_("Reminders: none.")
    return html_("Reminders: {leads} before the event.", leads=format_leads(leads, locale))


def _toast(leads: Sequence[int], locale: str) -> str:
    if not leads:
        return _("No reminders.")
    return _("Reminders: {leads} before the event.").format(leads=format_leads(leads, locale))


async def _communities(
    session: AsyncSession, person: Person, membership: Membership
) -> tuple[list[Community], list[Community]]:
    """The active communities the person is in, and those of them they administer."""
    standings = await membership.standings(session, person.id)
    mine = [c for c, standing in standings if standing.member or standing.admin]
    return mine, [c for c, standing in standings if standing.admin]


def _default(mine: Sequence[Community]) -> tuple[int, ...] | None:
    """The default the person follows: their communities' when they all agree (the bot's
    own when they are in none), None when the communities differ."""
    chosen = {parse_offsets(c.reminders) for c in mine} or {parse_offsets(DEFAULT_REMINDERS)}
    return chosen.pop() if len(chosen) == 1 else None


async def settings_view(
    session: AsyncSession, person: Person, membership: Membership, locale: str
) -> tuple[Html, InlineKeyboardMarkup]:
    """The /settings message: what is in effect, in words, and whose choice it is."""
    mine, administered = await _communities(session, person, membership)
    parts: list[Html]
    chosen: tuple[int, ...] | None
    if person.reminders is not None:
        chosen = parse_offsets(person.reminders)
        parts = [_leads_line(chosen, locale), html_("This is your own choice.")]
    else:
        chosen = _default(mine)
        if chosen is None:
            lines = [html_("You follow the default of each of your communities:")]
            for community in mine:
                leads = parse_offsets(community.reminders)
                lines.append(
                    html_(
                        "• {community}: {leads} before the event.",
                        community=community.title,
                        leads=format_leads(leads, locale),
                    )
                    if leads
                    else html_("• {community}: none.", community=community.title)
                )
            parts = [Html("\n".join(lines))]
        elif mine:
            titles = format_list([c.title for c in mine], locale=locale)
            parts = [
                _leads_line(chosen, locale),
                html_("This is the default of {communities}.", communities=titles),
            ]
        else:
            parts = [_leads_line(chosen, locale), html_("This is the default.")]
    parts.append(
        html_("Answers “Maybe” get reminders too.")
        if person.remind_maybe
        else html_("Answers “Maybe” get no reminders.")
    )
    parts.append(html_("Tap to choose when I remind you of the events you are going to."))
    markup = settings_keyboard(
        chosen=chosen,
        maybe=person.remind_maybe,
        own=person.reminders is not None,
        communities=[(c.title, c.id) for c in administered],
    )
    return Html("🔔 " + "\n\n".join(parts)), markup


def community_view(community: Community, locale: str) -> tuple[Html, InlineKeyboardMarkup]:
    """An admin's view of a community's default reminders."""
    leads = parse_offsets(community.reminders)
    if leads:
        first = html_(
            "Default reminders of {community}: {leads} before the event.",
            community=community.title,
            leads=format_leads(leads, locale),
        )
    else:
        first = html_("Default reminders of {community}: none.", community=community.title)
    text = "\n\n".join(
        (
            "🔔 " + first,
            html_(
                "Members who have not chosen their own reminders in /settings get these. "
                "A change applies at once to the events ahead."
            ),
        )
    )
    return Html(text), community_reminders_keyboard(leads, community.id)


def _redraw(
    query: CallbackQuery,
    replies: Replies,
    toast: str | None,
    view: tuple[Html, InlineKeyboardMarkup],
) -> None:
    """Answer the tap first, then show the message again as it now is."""
    replies.add(query.answer(toast))
    if isinstance(query.message, Message):
        text, markup = view
        replies.add(query.message.edit_text(text, reply_markup=markup))


def _toggled(current: Sequence[int], lead: int) -> tuple[int, ...]:
    chosen = set(current) ^ {lead}
    return parse_offsets(format_offsets(chosen))


async def show_settings(
    message: Message,
    session: AsyncSession,
    person: Person,
    membership: Membership,
    replies: Replies,
    locale: str,
) -> None:
    text, markup = await settings_view(session, person, membership, locale)
    replies.add(message.answer(text, reply_markup=markup))


async def change_own(
    query: CallbackQuery,
    callback_data: SettingsCallback,
    session: AsyncSession,
    person: Person,
    membership: Membership,
    delivery: Delivery,
    clock: Clock,
    replies: Replies,
    locale: str,
) -> None:
    action = callback_data.action
    if action is SettingsAction.LEAD:
        if callback_data.lead not in OFFSETS:
            replies.add(query.answer(_("This button no longer works."), show_alert=True))
            return
        if person.reminders is not None:
            current = parse_offsets(person.reminders)
        else:  # the first choice of one's own starts from the default in effect
            mine, _administered = await _communities(session, person, membership)
            current = _default(mine) or ()
        chosen = _toggled(current, callback_data.lead)
        person.reminders = format_offsets(chosen)
        toast = _toast(chosen, locale)
    elif action is SettingsAction.NONE:
        person.reminders = ""
        toast = _toast((), locale)
    elif action is SettingsAction.MAYBE:
        person.remind_maybe = not person.remind_maybe
        toast = (
            _("Reminders for “Maybe” on.")
            if person.remind_maybe
            else _("Reminders for “Maybe” off.")
        )
    elif action is SettingsAction.DEFAULT:
        person.reminders = None
        toast = _("You follow your community's default again.")
    else:  # BACK from a community's default: nothing changes
        _redraw(query, replies, None, await settings_view(session, person, membership, locale))
        return
    await session.flush()
    await plan_person(session, delivery, person.id, now=clock.now())
    _redraw(query, replies, toast, await settings_view(session, person, membership, locale))


async def change_community(
    query: CallbackQuery,
    callback_data: SettingsCallback,
    session: AsyncSession,
    person: Person,
    membership: Membership,
    delivery: Delivery,
    clock: Clock,
    replies: Replies,
    locale: str,
) -> None:
    community = await session.get(Community, callback_data.community_id)
    if (
        community is None
        or not community.active
        or not await membership.is_admin(community.id, person.id)
    ):
        replies.add(
            query.answer(
                _("Only the group's admins can change its default reminders."), show_alert=True
            )
        )
        return
    action = callback_data.action
    if action is SettingsAction.OPEN:
        _redraw(query, replies, None, community_view(community, locale))
        return
    if action is SettingsAction.LEAD and callback_data.lead in OFFSETS:
        chosen = _toggled(parse_offsets(community.reminders), callback_data.lead)
    elif action is SettingsAction.NONE:
        chosen = ()
    else:
        replies.add(query.answer(_("This button no longer works."), show_alert=True))
        return
    community.reminders = format_offsets(chosen)
    await session.flush()
    await plan_community(session, delivery, community.id, now=clock.now())
    _redraw(query, replies, _toast(chosen, locale), community_view(community, locale))


def build_router() -> Router:
    router = Router(name="settings")
    router.message.register(show_settings, Command("settings"), F.chat.type == "private")
    router.callback_query.register(change_own, SettingsCallback.filter(F.community_id == 0))
    router.callback_query.register(change_community, SettingsCallback.filter())
    return router
