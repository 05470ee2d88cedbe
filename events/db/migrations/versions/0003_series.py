"""recurring events and cancellation reasons

A `series` table; events gain `series_id`, `series_index` (unique together) and
`cancel_reason`.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FREQUENCIES = ("weekly", "biweekly", "monthly")


def upgrade() -> None:
    allowed = ", ".join(f"'{value}'" for value in FREQUENCIES)
    op.create_table(
        "series",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("community_id", sa.BigInteger(), nullable=False),
        sa.Column("frequency", sa.String(length=16), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("anchor_start", sa.String(length=32), nullable=False),
        sa.Column("anchor_index", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("until", sa.String(length=10), nullable=True),
        sa.Column("count", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(f"frequency IN ({allowed})", name=op.f("ck_series_frequency")),
        sa.CheckConstraint("count IS NULL OR count > 0", name=op.f("ck_series_count_positive")),
        sa.CheckConstraint("anchor_index >= 0", name=op.f("ck_series_anchor_index_not_negative")),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_series_community_id_communities"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["people.id"],
            name=op.f("fk_series_created_by_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_series")),
    )
    op.create_index(op.f("ix_series_community_id"), "series", ["community_id"])
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("cancel_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("series_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("series_index", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_events_series_id_series"),
            "series",
            ["series_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_unique_constraint(
            op.f("uq_events_series_id_series_index"), ["series_id", "series_index"]
        )


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_constraint(op.f("uq_events_series_id_series_index"), type_="unique")
        batch.drop_constraint(op.f("fk_events_series_id_series"), type_="foreignkey")
        batch.drop_column("series_index")
        batch.drop_column("series_id")
        batch.drop_column("cancel_reason")
    op.drop_index(op.f("ix_series_community_id"), table_name="series")
    op.drop_table("series")
