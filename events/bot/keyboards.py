"""Keyboard builders, nothing else."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from events.bot.callbacks import (
    LanguageCallback,
    PinCallback,
    RemoveHostCallback,
    RsvpAnswer,
    RsvpCallback,
    WizardAction,
    WizardCallback,
)
from events.i18n import N_

# A language is offered in its own name, whatever the current language is.
LANGUAGE_NAMES = {"id": "Bahasa Indonesia", "en": "English"}


def language_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for locale, name in LANGUAGE_NAMES.items():
        builder.button(text=name, callback_data=LanguageCallback(locale=locale))
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
