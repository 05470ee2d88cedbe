"""calendar feed tokens

A `feed_tokens` table: the secret of a personal or community feed URL, kept as its hash.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FEED_KINDS = ("personal", "community")


def upgrade() -> None:
    allowed = ", ".join(f"'{value}'" for value in FEED_KINDS)
    op.create_table(
        "feed_tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=True),
        sa.Column("community_id", sa.BigInteger(), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("seed", sa.String(length=64), nullable=False),
        sa.Column("discreet", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(f"kind IN ({allowed})", name=op.f("ck_feed_tokens_kind")),
        sa.CheckConstraint(
            "(kind = 'personal' AND person_id IS NOT NULL AND community_id IS NULL)"
            " OR (kind = 'community' AND community_id IS NOT NULL AND person_id IS NULL)",
            name=op.f("ck_feed_tokens_one_owner"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_feed_tokens_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_feed_tokens_community_id_communities"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_feed_tokens_token_hash")),
    )
    op.create_index(op.f("ix_feed_tokens_person_id"), "feed_tokens", ["person_id"])
    op.create_index(op.f("ix_feed_tokens_community_id"), "feed_tokens", ["community_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_feed_tokens_community_id"), table_name="feed_tokens")
    op.drop_index(op.f("ix_feed_tokens_person_id"), table_name="feed_tokens")
    op.drop_table("feed_tokens")
