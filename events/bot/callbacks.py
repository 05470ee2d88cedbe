"""Callback data of inline buttons: short prefixes, small values, always under 64 bytes."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class LanguageCallback(CallbackData, prefix="lang"):
    locale: str


class GroupLanguageCallback(CallbackData, prefix="glang"):
    """The language of a group, chosen by one of its admins."""

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


class ManageAction(StrEnum):
    LIST = "l"  # back to /myevents
    OPEN = "o"  # one event and what can be done with it
    EDIT = "e"
    CANCEL = "c"  # asks for a reason first
    SKIP_REASON = "s"  # cancel without a reason
    KEEP = "k"  # do not cancel after all
    DUPLICATE = "d"
    ATTENDEES = "a"
    FEEDBACK = "f"  # the check-in's results, once the event is over
    ANNOUNCE = "n"  # a message to everyone going


class ManageCallback(CallbackData, prefix="m"):
    """A host's button in /myevents; the event is reloaded and the presser checked every time."""

    action: ManageAction
    event_id: int = 0


class AnnounceAction(StrEnum):
    PICK = "p"  # the event the message is for
    SEND = "s"
    CANCEL = "c"


class AnnounceCallback(CallbackData, prefix="an"):
    """/announce: a host's message to the people going. ``version`` names the preview a button
    belongs to, so the button of an earlier text no longer works."""

    action: AnnounceAction
    event_id: int
    version: int = 0


class ForgetCallback(CallbackData, prefix="fg"):
    """/forget's question: ``erase`` True for "Yes, erase it all", False for "Cancel"."""

    erase: bool


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


class CardCallback(CallbackData, prefix="card"):
    """Open an event's card in the private chat (from /events, /my, a promotion message)."""

    event_id: int


class LinkCallback(CallbackData, prefix="link"):
    """Get the link: the join link of an online event, for people going."""

    event_id: int


class EventsPageCallback(CallbackData, prefix="evp"):
    """A page of /events."""

    page: int


class TimezoneCallback(CallbackData, prefix="tz"):
    """A person's own time zone; an empty zone means "another one, I will type it"."""

    zone: str = ""


class CalendarAction(StrEnum):
    NEW_LINK = "n"  # revoke the person's feed link and make a new one
    DISCREET = "d"  # discreet titles on or off
    ADD = "a"  # an event's .ics file and Google Calendar link (event_id)
    NEW_COMMUNITY_LINK = "c"  # an admin renews a community's feed link (community_id)
    ALL_EVENTS = "e"  # every event of the person's communities in their feed, on or off


class CalendarCallback(CallbackData, prefix="cal"):
    """/calendar's buttons, and Add to calendar on an event card."""

    action: CalendarAction
    event_id: int = 0
    community_id: int = 0


class AskCallback(CallbackData, prefix="ask"):
    """Ask anonymously: a question to a Q&A session."""

    event_id: int


class QuestionAction(StrEnum):
    ANSWERED = "a"  # the host marks it answered
    WITHDRAW = "w"  # the author takes it back


class QuestionCallback(CallbackData, prefix="q"):
    action: QuestionAction
    question_id: int


class QuestionsCallback(CallbackData, prefix="qs"):
    """A host opens the questions of one session."""

    event_id: int


class CheckinAction(StrEnum):
    SCORE = "s"  # one of the five scores (score)
    COMMENT = "c"  # add a comment after answering


class CheckinCallback(CallbackData, prefix="ci"):
    """The anonymous after-session check-in: a score, or Add a comment."""

    action: CheckinAction
    event_id: int
    score: int = 0


class SettingsAction(StrEnum):
    LEAD = "l"  # a reminder offset on or off (lead: seconds before the start)
    NONE = "n"  # no reminders at all
    MAYBE = "m"  # reminders for "maybe" answers on or off (a person's own only)
    DEFAULT = "d"  # follow the community's default again (a person's own only)
    OPEN = "o"  # an admin opens a community's default reminders
    BACK = "b"  # back to the person's own settings


class SettingsCallback(CallbackData, prefix="set"):
    """/settings' buttons: the person's own reminders, or (``community_id``) the default of a
    community they administer; the presser is checked again on every tap."""

    action: SettingsAction
    lead: int = 0
    community_id: int = 0
