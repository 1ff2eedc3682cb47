"""Group polls and their votes; release dates indexed; the score changes of nightly refreshes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# As in the models: JSON, stored as JSONB on PostgreSQL.
JSON_VALUE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Create group_polls, group_poll_votes and score_changes; index release dates."""
    op.create_index(op.f("ix_game_facts_release_date"), "game_facts", ["release_date"])
    op.create_table(
        "score_changes",
        sa.Column("facts_id", sa.Integer(), nullable=False),
        sa.Column("refreshed_on", sa.Date(), nullable=False),
        sa.Column("old_score", sa.SmallInteger(), nullable=True),
        sa.Column("new_score", sa.SmallInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["facts_id"],
            ["game_facts.id"],
            name=op.f("fk_score_changes_facts_id_game_facts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("facts_id", "refreshed_on", name=op.f("pk_score_changes")),
    )
    op.create_table(
        "group_polls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("chat_id", sa.String(length=64), nullable=False),
        sa.Column("question", sa.String(length=300), nullable=False),
        sa.Column("options", JSON_VALUE, nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["players.id"],
            name=op.f("fk_group_polls_created_by_players"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_polls")),
    )
    op.create_index("ix_group_polls_chat", "group_polls", ["platform", "chat_id", "id"])
    op.create_table(
        "group_poll_votes",
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("player_id", sa.Integer(), nullable=False),
        sa.Column("option", sa.SmallInteger(), nullable=False),
        sa.Column("voted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["poll_id"],
            ["group_polls.id"],
            name=op.f("fk_group_poll_votes_poll_id_group_polls"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["player_id"],
            ["players.id"],
            name=op.f("fk_group_poll_votes_player_id_players"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("poll_id", "player_id", name=op.f("pk_group_poll_votes")),
    )


def downgrade() -> None:
    """Drop the three tables and the index."""
    op.drop_table("score_changes")
    op.drop_table("group_poll_votes")
    op.drop_index("ix_group_polls_chat", table_name="group_polls")
    op.drop_table("group_polls")
    op.drop_index(op.f("ix_game_facts_release_date"), table_name="game_facts")
