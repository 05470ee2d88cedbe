"""reminders, broadcasts, check-ins, whole-community feeds

Reminder choices of people (`people.reminders`, `people.remind_maybe`) and the default of a
community (`communities.reminders`); an index on `deliveries.key` (re-planning an event's
reminders finds its rows by key); `broadcasts` (a host's message to the people going); the
anonymous after-session check-in (`checkin_answers`, `checkin_comments`,
`checkin_responders`); `feed_tokens.all_events` (a personal feed with every upcoming event of
the person's communities).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _event_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["event_id"], ["events.id"], name=op.f(f"fk_{table}_event_id_events"), ondelete="CASCADE"
    )


def upgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("reminders", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column("remind_maybe", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("communities") as batch:
        batch.add_column(
            sa.Column(
                "reminders", sa.String(length=64), server_default="86400,3600", nullable=False
            )
        )
    with op.batch_alter_table("feed_tokens") as batch:
        batch.add_column(
            sa.Column("all_events", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_index(op.f("ix_deliveries_key"), "deliveries", ["key"])
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("host_id", sa.BigInteger(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _event_fk("broadcasts"),
        sa.ForeignKeyConstraint(
            ["host_id"],
            ["people.id"],
            name=op.f("fk_broadcasts_host_id_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcasts")),
    )
    op.create_index(op.f("ix_broadcasts_event_id"), "broadcasts", ["event_id"])
    op.create_table(
        "checkin_answers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name=op.f("ck_checkin_answers_score_range")),
        _event_fk("checkin_answers"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkin_answers")),
    )
    op.create_index(op.f("ix_checkin_answers_event_id"), "checkin_answers", ["event_id"])
    op.create_table(
        "checkin_comments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        _event_fk("checkin_comments"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkin_comments")),
    )
    op.create_index(op.f("ix_checkin_comments_event_id"), "checkin_comments", ["event_id"])
    op.create_table(
        "checkin_responders",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=False),
        sa.Column("commented", sa.Boolean(), server_default=sa.false(), nullable=False),
        _event_fk("checkin_responders"),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_checkin_responders_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", "person_id", name=op.f("pk_checkin_responders")),
    )
    op.create_index(op.f("ix_checkin_responders_person_id"), "checkin_responders", ["person_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_checkin_responders_person_id"), table_name="checkin_responders")
    op.drop_table("checkin_responders")
    op.drop_index(op.f("ix_checkin_comments_event_id"), table_name="checkin_comments")
    op.drop_table("checkin_comments")
    op.drop_index(op.f("ix_checkin_answers_event_id"), table_name="checkin_answers")
    op.drop_table("checkin_answers")
    op.drop_index(op.f("ix_broadcasts_event_id"), table_name="broadcasts")
    op.drop_table("broadcasts")
    op.drop_index(op.f("ix_deliveries_key"), table_name="deliveries")
    with op.batch_alter_table("feed_tokens") as batch:
        batch.drop_column("all_events")
    with op.batch_alter_table("communities") as batch:
        batch.drop_column("reminders")
    with op.batch_alter_table("people") as batch:
        batch.drop_column("remind_maybe")
        batch.drop_column("reminders")
