"""Group chats: their feed switch and their members' sharing choice.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create group_feeds and group_members."""
    op.create_table(
        "group_feeds",
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("chat_id", sa.String(length=64), nullable=False),
        sa.Column("feed_enabled", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("platform", "chat_id", name=op.f("pk_group_feeds")),
    )
    op.create_table(
        "group_members",
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("chat_id", sa.String(length=64), nullable=False),
        sa.Column("player_id", sa.Integer(), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("shares", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["player_id"],
            ["players.id"],
            name=op.f("fk_group_members_player_id_players"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("platform", "chat_id", "player_id", name=op.f("pk_group_members")),
    )
    op.create_index(op.f("ix_group_members_player_id"), "group_members", ["player_id"])


def downgrade() -> None:
    """Drop both tables."""
    op.drop_index(op.f("ix_group_members_player_id"), table_name="group_members")
    op.drop_table("group_members")
    op.drop_table("group_feeds")
