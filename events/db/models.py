"""Tables of the bot.

Conventions:
- Telegram ids are the primary keys of `Person` (user id) and `Community` (chat id), BigInteger.
- Every timestamp is a `UTCDateTime`: timezone-aware UTC in and out, naive values refused.
- Enumerations are StrEnums stored as short strings with a CHECK constraint, the same on
  SQLite and PostgreSQL (no native enum types).
- `created_at`/`updated_at` are filled on the Python side with the wall clock in UTC; times that
  rules depend on (due times, closing times) are always set explicitly by the caller.
- Relationships are many-to-one only and `lazy="raise"`: load them explicitly
  (`selectinload`/`joinedload`), there is no implicit I/O under asyncio.
- Deleting a person removes their RSVPs, deliveries and host roles (ON DELETE CASCADE).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from events.db.types import UTCDateTime, utcnow

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

DEFAULT_REMINDERS = "86400,3600"
"""One day and one hour before the start (events/reminders.py)."""

ENUM_LENGTH = 16
"""Width of every enum column; values must fit (checked when the type is built)."""


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}  # noqa: RUF012


class ChatType(StrEnum):
    GROUP = "group"
    SUPERGROUP = "supergroup"


class EventKind(StrEnum):
    WORKSHOP = "workshop"
    WEBINAR = "webinar"
    QA = "qa"


class Place(StrEnum):
    ONLINE = "online"
    IN_PERSON = "in_person"
    BOTH = "both"


class EventStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class Frequency(StrEnum):
    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    MONTHLY = "monthly"


class RsvpStatus(StrEnum):
    GOING = "going"
    MAYBE = "maybe"
    DECLINED = "declined"
    WAITLISTED = "waitlisted"


class FeedKind(StrEnum):
    PERSONAL = "personal"
    COMMUNITY = "community"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    BLOCKED = "blocked"
    FAILED = "failed"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


def _enum(enum_class: type[StrEnum], name: str) -> SAEnum:
    """A StrEnum stored as its values in a VARCHAR(ENUM_LENGTH) guarded by `ck_<table>_<name>`."""
    values = [member.value for member in enum_class]
    if max(len(value) for value in values) > ENUM_LENGTH:
        raise ValueError(f"{enum_class.__name__} has a value longer than {ENUM_LENGTH}")
    return SAEnum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=ENUM_LENGTH,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
    )


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(default=utcnow, sort_order=100)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, sort_order=101)


class Person(Timestamps, Base):
    """A Telegram user the bot has seen."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # Shown to hosts and admins of a community only (attendee lists).
    first_name: Mapped[str] = mapped_column(String(255))
    username: Mapped[str | None] = mapped_column(String(64))
    # What Telegram reports for the client; `locale` is the person's own choice.
    language_code: Mapped[str | None] = mapped_column(String(16))
    locale: Mapped[str | None] = mapped_column(String(8))
    timezone: Mapped[str | None] = mapped_column(String(64))
    # The person opened a private chat with the bot, so it may message them.
    can_message: Mapped[bool] = mapped_column(default=False, server_default=false())
    blocked_at: Mapped[datetime | None]
    # The person's own reminder offsets (seconds before the start, comma-separated, "" for
    # none); None follows the community's default (events/reminders.py).
    reminders: Mapped[str | None] = mapped_column(String(64))
    # Whether "maybe" answers get reminders too.
    remind_maybe: Mapped[bool] = mapped_column(default=False, server_default=false())


class Community(Timestamps, Base):
    """A Telegram group or supergroup the bot serves."""

    __tablename__ = "communities"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    title: Mapped[str] = mapped_column(String(255))
    chat_type: Mapped[ChatType] = mapped_column(_enum(ChatType, "chat_type"))
    is_forum: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Forum topic where posts go; None means the General topic or a plain group.
    thread_id: Mapped[int | None] = mapped_column(BigInteger)
    locale: Mapped[str] = mapped_column(String(8), default="id", server_default="id")
    timezone: Mapped[str] = mapped_column(
        String(64), default="Asia/Jakarta", server_default="Asia/Jakarta"
    )
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Reminder offsets of people who did not choose their own (seconds, comma-separated).
    reminders: Mapped[str] = mapped_column(
        String(64), default=DEFAULT_REMINDERS, server_default=DEFAULT_REMINDERS
    )


def _community_fk() -> ForeignKey:
    # ON UPDATE CASCADE lets a group that migrates to a supergroup keep its rows.
    return ForeignKey("communities.id", ondelete="CASCADE", onupdate="CASCADE")


class Host(Base):
    """A person allowed to create and manage events in a community."""

    __tablename__ = "hosts"

    community_id: Mapped[int] = mapped_column(BigInteger, _community_fk(), primary_key=True)
    person_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_by: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("people.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    person: Mapped[Person] = relationship(foreign_keys=[person_id], lazy="raise")


class Series(Timestamps, Base):
    """A recurring event: how its occurrences follow each other and when they stop.

    Occurrence n starts at ``anchor_start`` moved by ``n - anchor_index`` steps, as a
    wall-clock time in ``timezone``; each occurrence is an `Event` of its own.
    """

    __tablename__ = "series"
    __table_args__ = (
        CheckConstraint("count IS NULL OR count > 0", name="count_positive"),
        CheckConstraint("anchor_index >= 0", name="anchor_index_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    community_id: Mapped[int] = mapped_column(BigInteger, _community_fk(), index=True)
    frequency: Mapped[Frequency] = mapped_column(_enum(Frequency, "frequency"))
    timezone: Mapped[str] = mapped_column(String(64))
    # ISO wall-clock time (no offset) of occurrence `anchor_index`, in `timezone`.
    anchor_start: Mapped[str] = mapped_column(String(32))
    anchor_index: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # The last day (local, ISO date) an occurrence may start on, or how many there are.
    until: Mapped[str | None] = mapped_column(String(10))
    count: Mapped[int | None] = mapped_column(Integer)
    # False once no more occurrences are to be created.
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    created_by: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("people.id", ondelete="SET NULL")
    )


class Event(Timestamps, Base):
    """A workshop, webinar or Q&A session of a community."""

    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        CheckConstraint("revision >= 1", name="revision_positive"),
        Index(None, "community_id", "starts_at"),
        Index(None, "status", "starts_at"),
        UniqueConstraint("series_id", "series_index"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    community_id: Mapped[int] = mapped_column(BigInteger, _community_fk())
    kind: Mapped[EventKind] = mapped_column(_enum(EventKind, "kind"))
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    # IANA zone the event is presented in; starts_at/ends_at are UTC instants.
    timezone: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    place: Mapped[Place] = mapped_column(_enum(Place, "place"))
    location: Mapped[str | None] = mapped_column(String(1024))
    join_link: Mapped[str | None] = mapped_column(String(2048))
    capacity: Mapped[int | None] = mapped_column(Integer)
    rsvp_closes_at: Mapped[datetime | None]
    status: Mapped[EventStatus] = mapped_column(
        _enum(EventStatus, "status"), default=EventStatus.DRAFT, server_default="draft"
    )
    # Bumped on every edit; notices are keyed by it (`notice:<event>:<revision>`).
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    # The post in the community's group announcing the event.
    announcement_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    announcement_message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_by: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("people.id", ondelete="SET NULL")
    )
    # What the host told attendees when cancelling (shown in the cancellation notice).
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    # An occurrence of a recurring event: its series and its place in it (0 = the first).
    series_id: Mapped[int | None] = mapped_column(ForeignKey("series.id", ondelete="SET NULL"))
    series_index: Mapped[int | None] = mapped_column(Integer)

    community: Mapped[Community] = relationship(lazy="raise")


class Rsvp(Timestamps, Base):
    """One person's answer for one event."""

    __tablename__ = "rsvps"
    __table_args__ = (
        UniqueConstraint("event_id", "person_id"),
        CheckConstraint("generation >= 0", name="generation_not_negative"),
        Index(None, "event_id", "status", "position"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[RsvpStatus] = mapped_column(_enum(RsvpStatus, "status"))
    # Order among the event's answers, lower first (first come, first served): the update_id
    # of the tap that gave the answer, so the order people tapped in, across workers. The
    # waitlist is the waitlisted rows ordered by position.
    position: Mapped[int | None] = mapped_column(BigInteger)
    # Bumped when the row is promoted from the waitlist (`promotion:<event>:<generation>`).
    generation: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))

    event: Mapped[Event] = relationship(lazy="raise")
    person: Mapped[Person] = relationship(lazy="raise")


class Delivery(Base):
    """The ledger: one row per message to one person, unique per (person, key)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("person_id", "key"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index(None, "status", "due_at"),
        Index(None, "key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("people.id", ondelete="CASCADE"))
    # Names exactly one message, e.g. `reminder:12:3600`, `notice:12:3`.
    key: Mapped[str] = mapped_column(String(64))
    status: Mapped[DeliveryStatus] = mapped_column(
        _enum(DeliveryStatus, "status"), default=DeliveryStatus.PENDING, server_default="pending"
    )
    due_at: Mapped[datetime]
    # After this instant the message is no longer worth sending (e.g. the event has started).
    expires_at: Mapped[datetime | None]
    # A claimed (`sending`) row belongs to its claimer (a running sender's id) until then.
    lease_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(32))
    # When the HTTP call of the current claim started (written before it); None: not tried yet.
    tried_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(String(255))
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    person: Mapped[Person] = relationship(lazy="raise")


class FeedToken(Base):
    """The secret in a calendar feed's URL, kept only as its SHA-256 (docs/feeds.md).

    A personal feed belongs to a person, a community feed to a community; a revoked token
    answers 404 like any missing page.
    """

    __tablename__ = "feed_tokens"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'personal' AND person_id IS NOT NULL AND community_id IS NULL)"
            " OR (kind = 'community' AND community_id IS NOT NULL AND person_id IS NULL)",
            name="one_owner",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[FeedKind] = mapped_column(_enum(FeedKind, "kind"))
    person_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    community_id: Mapped[int | None] = mapped_column(BigInteger, _community_fk(), index=True)
    # SHA-256 (hex) of the token; the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Random bytes (hex) the token is derived from with the bot's secret.
    seed: Mapped[str] = mapped_column(String(64))
    discreet: Mapped[bool] = mapped_column(default=False, server_default=false())
    # A personal feed with every upcoming event of the person's communities, not only theirs.
    all_events: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class ProcessedUpdate(Base):
    """Telegram update ids already handled (webhook retries are de-duplicated)."""

    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    processed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class FsmState(Base):
    """Wizard state of one aiogram storage key."""

    __tablename__ = "fsm_states"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(255))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Question(Base):
    """An anonymous question to a Q&A session. The author is kept only so they can withdraw
    it and so /forget can erase it; hosts never see who asked."""

    __tablename__ = "questions"
    __table_args__ = (Index(None, "event_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]


class Broadcast(Base):
    """A host's message to everyone going to an event (``announce:<id>``)."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    host_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("people.id", ondelete="SET NULL")
    )
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class CheckinAnswer(Base):
    """One score of the after-session check-in. Nothing ties it to who gave it: not a person,
    not a time (the order of ids is all there is)."""

    __tablename__ = "checkin_answers"
    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    score: Mapped[int] = mapped_column(Integer)


class CheckinComment(Base):
    """A comment of the check-in, kept apart from the scores so neither points at the other."""

    __tablename__ = "checkin_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)


class CheckinResponder(Base):
    """Who answered the check-in of an event (so nobody answers twice), never what."""

    __tablename__ = "checkin_responders"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    commented: Mapped[bool] = mapped_column(default=False, server_default=false())
