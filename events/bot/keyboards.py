"""Keyboard builders, nothing else."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from events.bot.callbacks import (
    AskCallback,
    CalendarAction,
    CalendarCallback,
    CardCallback,
    EventsPageCallback,
    ForgetCallback,
    GroupLanguageCallback,
    LanguageCallback,
    LinkCallback,
    PinCallback,
    RemoveHostCallback,
    RsvpAnswer,
    RsvpCallback,
    SettingsAction,
    SettingsCallback,
    WizardAction,
    WizardCallback,
)
from events.i18n import N_

# A language is offered in its own name, whatever the current language is.
LANGUAGE_NAMES = {"id": "Bahasa Indonesia", "en": "English"}


def language_keyboard(*, group: bool = False) -> InlineKeyboardMarkup:
    """The languages, each in its own name: a person's, or (``group``) the group's."""
    builder = InlineKeyboardBuilder()
    for locale, name in LANGUAGE_NAMES.items():
        choice = GroupLanguageCallback if group else LanguageCallback
        builder.button(text=name, callback_data=choice(locale=locale))
    return builder.as_markup()


def wizard_keyboard(
    step: str,
    choices: Sequence[tuple[str, WizardAction, str]] = (),
    *,
    per_row: int = 2,
    back: bool = True,
    cancel: bool = True,
) -> InlineKeyboardMarkup:
    """A wizard question's buttons: its choices (label, action, value), then Back and Cancel."""
    builder = InlineKeyboardBuilder()
    for label, action, value in choices:
        builder.button(
            text=label, callback_data=WizardCallback(action=action, step=step, value=value)
        )
    builder.adjust(per_row)
    navigation = InlineKeyboardBuilder()
    if back:
        navigation.button(
            text=_("Back"), callback_data=WizardCallback(action=WizardAction.BACK, step=step)
        )
    if cancel:
        navigation.button(
            text=_("Cancel"), callback_data=WizardCallback(action=WizardAction.CANCEL, step=step)
        )
    builder.attach(navigation)
    return builder.as_markup()


def forget_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Yes, erase it all"), callback_data=ForgetCallback(erase=True))
    builder.button(text=_("Cancel"), callback_data=ForgetCallback(erase=False))
    builder.adjust(1)
    return builder.as_markup()


def pin_keyboard(event_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("📌 Pin it in the group"), callback_data=PinCallback(event_id=event_id))
    return builder.as_markup()


def hosts_keyboard(removable: Sequence[tuple[str, int, int]]) -> InlineKeyboardMarkup:
    """One remove button per host: (label, community id, person id)."""
    builder = InlineKeyboardBuilder()
    for label, community_id, person_id in removable:
        builder.button(
            text=label,
            callback_data=RemoveHostCallback(community_id=community_id, person_id=person_id),
        )
    builder.adjust(1)
    return builder.as_markup()


RSVP_LABELS = {
    RsvpAnswer.GOING: N_("Going"),
    RsvpAnswer.MAYBE: N_("Maybe"),
    RsvpAnswer.NOT_GOING: N_("Can't go"),
}


def rsvp_buttons(builder: InlineKeyboardBuilder, event_id: int) -> None:
    """The three answers, in the current gettext locale (the group's in a group post)."""
    for answer, label in RSVP_LABELS.items():
        builder.button(text=_(label), callback_data=RsvpCallback(event_id=event_id, answer=answer))


def card_keyboard(
    event_id: int, *, answers: bool, link: bool, ask: bool = False
) -> InlineKeyboardMarkup:
    """An event card's buttons: the three answers while they are open, Get the link for people
    going to an online event, Ask anonymously for people going to a Q&A session, and Add to
    calendar."""
    builder = InlineKeyboardBuilder()
    if answers:
        rsvp_buttons(builder, event_id)
    sizes = [3] if answers else []
    if link:
        builder.button(text=_("Get the link"), callback_data=LinkCallback(event_id=event_id))
        sizes.append(1)
    if ask:
        builder.button(text=_("Ask anonymously"), callback_data=AskCallback(event_id=event_id))
        sizes.append(1)
    add_to_calendar_button(builder, event_id)
    builder.adjust(*sizes, 1)
    return builder.as_markup()


def event_list_keyboard(
    items: Sequence[tuple[str, int]], *, page: int | None = None, more: bool = False
) -> InlineKeyboardMarkup | None:
    """One button per event (label, event id) opening its card; with ``page``, Previous/Next."""
    builder = InlineKeyboardBuilder()
    for label, event_id in items:
        builder.button(text=label, callback_data=CardCallback(event_id=event_id))
    builder.adjust(1)
    if page is not None:
        navigation = InlineKeyboardBuilder()
        if page > 0:
            navigation.button(text=_("‹ Previous"), callback_data=EventsPageCallback(page=page - 1))
        if more:
            navigation.button(text=_("Next ›"), callback_data=EventsPageCallback(page=page + 1))
        builder.attach(navigation)
    markup = builder.as_markup()
    return markup if markup.inline_keyboard else None


def calendar_keyboard(
    *, discreet: bool, all_events: bool = False, communities: Sequence[tuple[str, int]] = ()
) -> InlineKeyboardMarkup:
    """/calendar: New link, Discreet titles and All my communities' events with a tick while
    they are on, and for an admin New link of each community feed (title, community id)."""
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("New link"), callback_data=CalendarCallback(action=CalendarAction.NEW_LINK)
    )
    label = _("Discreet titles")
    builder.button(
        text=f"✅ {label}" if discreet else label,
        callback_data=CalendarCallback(action=CalendarAction.DISCREET),
    )
    label = _("All my communities' events")
    builder.button(
        text=f"✅ {label}" if all_events else label,
        callback_data=CalendarCallback(action=CalendarAction.ALL_EVENTS),
    )
    for title, community_id in communities:
        builder.button(
            text=f"{_('New link')}: {title}",
            callback_data=CalendarCallback(
                action=CalendarAction.NEW_COMMUNITY_LINK, community_id=community_id
            ),
        )
    builder.adjust(1)
    return builder.as_markup()


def add_to_calendar_button(builder: InlineKeyboardBuilder, event_id: int) -> None:
    """Add to calendar, for an event card: the bot sends the event's .ics file."""
    builder.button(
        text=_("Add to calendar"),
        callback_data=CalendarCallback(action=CalendarAction.ADD, event_id=event_id),
    )


LEAD_LABELS = {
    86400: N_("1 day before"),
    10800: N_("3 hours before"),
    3600: N_("1 hour before"),
    900: N_("15 minutes before"),
}
"""The reminders one may choose (events/reminders.py's OFFSETS), as buttons say them."""


def _ticked(label: str, on: bool) -> str:
    return f"✅ {label}" if on else label


def _lead_buttons(
    builder: InlineKeyboardBuilder, chosen: Sequence[int] | None, community_id: int = 0
) -> None:
    """The four reminders and No reminders, ticked as ``chosen`` (None: nothing ticked)."""
    for lead, label in LEAD_LABELS.items():
        builder.button(
            text=_ticked(_(label), chosen is not None and lead in chosen),
            callback_data=SettingsCallback(
                action=SettingsAction.LEAD, lead=lead, community_id=community_id
            ),
        )
    builder.button(
        text=_ticked(_("No reminders"), chosen is not None and not chosen),
        callback_data=SettingsCallback(action=SettingsAction.NONE, community_id=community_id),
    )


def settings_keyboard(
    *,
    chosen: Sequence[int] | None,
    maybe: bool,
    own: bool,
    communities: Sequence[tuple[str, int]] = (),
) -> InlineKeyboardMarkup:
    """/settings: the reminders ticked as ``chosen``, No reminders, Reminders for "Maybe" too,
    Use my community's default while the person has their own choice (``own``), and for an
    admin the default of each community (title, community id)."""
    builder = InlineKeyboardBuilder()
    _lead_buttons(builder, chosen)
    builder.button(
        text=_ticked(_("Reminders for “Maybe” too"), maybe),
        callback_data=SettingsCallback(action=SettingsAction.MAYBE),
    )
    if own:
        builder.button(
            text=_("Use my community's default"),
            callback_data=SettingsCallback(action=SettingsAction.DEFAULT),
        )
    for title, community_id in communities:
        builder.button(
            text=_("Default of {community}").format(community=title),
            callback_data=SettingsCallback(action=SettingsAction.OPEN, community_id=community_id),
        )
    builder.adjust(2, 2, 1)
    return builder.as_markup()


def community_reminders_keyboard(chosen: Sequence[int], community_id: int) -> InlineKeyboardMarkup:
    """A community's default reminders, ticked, No reminders, and « Back to /settings."""
    builder = InlineKeyboardBuilder()
    _lead_buttons(builder, chosen, community_id)
    builder.button(
        text="« " + _("Back"), callback_data=SettingsCallback(action=SettingsAction.BACK)
    )
    builder.adjust(2, 2, 1)
    return builder.as_markup()
