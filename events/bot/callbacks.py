"""Callback data of inline buttons: short prefixes, small values, always under 64 bytes."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class LanguageCallback(CallbackData, prefix="lang"):
    locale: str


class WizardAction(StrEnum):
    PICK = "p"  # a choice at the current step; the value says which
    BACK = "b"
    CANCEL = "c"
    SKIP = "s"
    YES = "y"  # the reading of the date is right
    CHANGE = "ch"  # the reading of the date is wrong: ask again
    OTHER = "o"  # another time zone: the host will type it
    EDIT = "e"  # from the preview: change one field (value)
    PUBLISH = "pub"
    LEAVE = "l"  # leave the wizard for another command
    STAY = "st"


class WizardCallback(CallbackData, prefix="w"):
    action: WizardAction
    step: str  # the step the button belongs to: a button of an earlier step no longer works
    value: str = ""


class PinCallback(CallbackData, prefix="pin"):
    event_id: int


class RemoveHostCallback(CallbackData, prefix="unhost"):
    community_id: int
    person_id: int


class RsvpAnswer(StrEnum):
    GOING = "g"
    MAYBE = "m"
    NOT_GOING = "n"


class RsvpCallback(CallbackData, prefix="r"):
    """An answer to an event, from its group post or its card in a private chat."""

    event_id: int
    answer: RsvpAnswer
