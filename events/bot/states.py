"""The steps of the host's wizard, in the order they are asked."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class NewEvent(StatesGroup):
    community = State()
    kind = State()
    title = State()
    description = State()
    timezone = State()
    when = State()
    duration = State()
    place = State()
    link = State()
    location = State()
    capacity = State()
    repeat = State()
    repeat_end = State()
    preview = State()


class ManageEvent(StatesGroup):
    reason = State()  # a host cancelling an event may say why


class Announcing(StatesGroup):
    """/announce: the host types a message for the people going, then sees it and sends it."""

    text = State()
    preview = State()


STEPS: tuple[State, ...] = (
    NewEvent.community,
    NewEvent.kind,
    NewEvent.title,
    NewEvent.description,
    NewEvent.timezone,
    NewEvent.when,
    NewEvent.duration,
    NewEvent.place,
    NewEvent.link,
    NewEvent.location,
    NewEvent.capacity,
    NewEvent.repeat,
    NewEvent.repeat_end,
    NewEvent.preview,
)


class TimezoneQuestion(StatesGroup):
    city = State()  # the person tapped "Other…" and types a city or zone name


class Checkin(StatesGroup):
    comment = State()  # the person tapped "Add a comment" and types it
