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
    NewEvent.preview,
)
