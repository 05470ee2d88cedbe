"""initial schema

People, communities, hosts, events, RSVPs, the delivery ledger, processed updates and
wizard state.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Enumerations are VARCHAR(16) columns guarded by a CHECK constraint (no native enum types).
CHAT_TYPES = ("group", "supergroup")
EVENT_KINDS = ("workshop", "webinar", "qa")
PLACES = ("online", "in_person", "both")
EVENT_STATUSES = ("draft", "published", "cancelled")
RSVP_STATUSES = ("going", "maybe", "declined", "waitlisted")
DELIVERY_STATUSES = ("pending", "sending", "sent", "blocked", "failed", "expired", "unknown")


def _enum_column(name: str, **kwargs: object) -> sa.Column:
    return sa.Column(name, sa.String(length=16), nullable=False, **kwargs)


def _one_of(table: str, column: str, values: Sequence[str]) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=op.f(f"ck_{table}_{column}"))


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "people",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("first_name", sa.String(length=255), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("language_code", sa.String(length=16), nullable=True),
        sa.Column("locale", sa.String(length=8), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("can_message", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("blocked_at", sa.DateTime(timezone=True), nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
    )

    op.create_table(
        "communities",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        _enum_column("chat_type"),
        sa.Column("is_forum", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("thread_id", sa.BigInteger(), nullable=True),
        sa.Column("locale", sa.String(length=8), server_default="id", nullable=False),
        sa.Column("timezone", sa.String(length=64), server_default="Asia/Jakarta", nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        *_timestamps(),
        _one_of("communities", "chat_type", CHAT_TYPES),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_communities")),
    )

    op.create_table(
        "hosts",
        sa.Column("community_id", sa.BigInteger(), nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=False),
        sa.Column("added_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_hosts_community_id_communities"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_hosts_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["added_by"],
            ["people.id"],
            name=op.f("fk_hosts_added_by_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("community_id", "person_id", name=op.f("pk_hosts")),
    )
    op.create_index(op.f("ix_hosts_person_id"), "hosts", ["person_id"])

    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("community_id", sa.BigInteger(), nullable=False),
        _enum_column("kind"),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        _enum_column("place"),
        sa.Column("location", sa.String(length=1024), nullable=True),
        sa.Column("join_link", sa.String(length=2048), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("rsvp_closes_at", sa.DateTime(timezone=True), nullable=True),
        _enum_column("status", server_default="draft"),
        sa.Column("revision", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("announcement_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("announcement_message_id", sa.BigInteger(), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        *_timestamps(),
        _one_of("events", "kind", EVENT_KINDS),
        _one_of("events", "place", PLACES),
        _one_of("events", "status", EVENT_STATUSES),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_events_ends_after_start")),
        sa.CheckConstraint(
            "capacity IS NULL OR capacity > 0", name=op.f("ck_events_capacity_positive")
        ),
        sa.CheckConstraint("revision >= 1", name=op.f("ck_events_revision_positive")),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_events_community_id_communities"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["people.id"],
            name=op.f("fk_events_created_by_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index(
        op.f("ix_events_community_id_starts_at"), "events", ["community_id", "starts_at"]
    )
    op.create_index(op.f("ix_events_status_starts_at"), "events", ["status", "starts_at"])

    op.create_table(
        "rsvps",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=False),
        _enum_column("status"),
        sa.Column("position", sa.BigInteger(), nullable=True),
        sa.Column("generation", sa.Integer(), server_default=sa.text("0"), nullable=False),
        *_timestamps(),
        _one_of("rsvps", "status", RSVP_STATUSES),
        sa.CheckConstraint("generation >= 0", name=op.f("ck_rsvps_generation_not_negative")),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_rsvps_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_rsvps_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rsvps")),
        sa.UniqueConstraint("event_id", "person_id", name=op.f("uq_rsvps_event_id_person_id")),
    )
    op.create_index(
        op.f("ix_rsvps_event_id_status_position"), "rsvps", ["event_id", "status", "position"]
    )
    op.create_index(op.f("ix_rsvps_person_id"), "rsvps", ["person_id"])

    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        _enum_column("status", server_default="pending"),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.String(length=255), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        *_timestamps(),
        _one_of("deliveries", "status", DELIVERY_STATUSES),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_deliveries_attempts_not_negative")),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_deliveries_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("person_id", "key", name=op.f("uq_deliveries_person_id_key")),
    )
    op.create_index(op.f("ix_deliveries_status_due_at"), "deliveries", ["status", "due_at"])

    op.create_table(
        "processed_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_processed_updates")),
    )
    op.create_index(
        op.f("ix_processed_updates_processed_at"), "processed_updates", ["processed_at"]
    )

    op.create_table(
        "fsm_states",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=255), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_fsm_states")),
    )


def downgrade() -> None:
    # Children first; indexes go with their tables.
    for table in (
        "fsm_states",
        "processed_updates",
        "deliveries",
        "rsvps",
        "events",
        "hosts",
        "communities",
        "people",
    ):
        op.drop_table(table)
