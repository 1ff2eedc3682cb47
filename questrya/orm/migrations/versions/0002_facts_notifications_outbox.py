"""Game facts and the games' lookup state; notifications and unreachable chats; the job outbox.

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-01 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# As in the models: JSON, stored as JSONB on PostgreSQL.
JSON_VALUE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Create the facts, notifications, disabled chats and outbox tables; link games to facts."""
    _create_game_facts()
    _link_games_to_facts()
    _create_notifications()
    _create_disabled_chats()
    _create_job_outbox()


def downgrade() -> None:
    """Drop what this revision added."""
    op.drop_index(op.f("ix_job_outbox_recorded_at"), table_name="job_outbox")
    op.drop_table("job_outbox")
    op.drop_table("disabled_chats")
    op.drop_table("notifications")
    with op.batch_alter_table("games") as batch:
        batch.drop_index(op.f("ix_games_facts_id"))
        batch.drop_constraint(op.f("fk_games_facts_id_game_facts"), type_="foreignkey")
        batch.drop_column("facts_id")
        batch.drop_column("lookup_state")
    op.drop_index("ix_game_facts_source_id_order", table_name="game_facts")
    op.drop_table("game_facts")


def _create_game_facts() -> None:
    op.create_table(
        "game_facts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_id", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("release_date", sa.Date(), nullable=True),
        sa.Column("platforms", JSON_VALUE, nullable=False),
        sa.Column("genres", JSON_VALUE, nullable=False),
        sa.Column("cover_url", sa.String(length=500), nullable=True),
        sa.Column("critic_score", sa.SmallInteger(), nullable=True),
        sa.Column("hours_to_beat", sa.Float(), nullable=True),
        sa.Column("source_url", sa.String(length=500), nullable=True),
        sa.Column("refreshed_on", sa.Date(), nullable=True),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_game_facts")),
        sa.UniqueConstraint("source", "source_id", name=op.f("uq_game_facts_source_source_id")),
    )
    op.create_index("ix_game_facts_source_id_order", "game_facts", ["source", "id"])


def _link_games_to_facts() -> None:
    # Batch mode: SQLite cannot add a foreign key to an existing table, so the table is copied.
    with op.batch_alter_table("games") as batch:
        batch.add_column(
            sa.Column(
                "lookup_state", sa.String(length=16), server_default="pending", nullable=False
            )
        )
        batch.add_column(sa.Column("facts_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_games_facts_id_game_facts"),
            "game_facts",
            ["facts_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index(op.f("ix_games_facts_id"), ["facts_id"])


def _create_notifications() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_key", sa.String(length=200), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("chat_id", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("options", JSON_VALUE, nullable=False),
        sa.Column("image_url", sa.String(length=500), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("drop_reason", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("event_key", name=op.f("uq_notifications_event_key")),
    )


def _create_disabled_chats() -> None:
    op.create_table(
        "disabled_chats",
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("chat_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "chat_id", name=op.f("pk_disabled_chats")),
    )


def _create_job_outbox() -> None:
    op.create_table(
        "job_outbox",
        sa.Column("job_id", sa.String(length=200), nullable=False),
        sa.Column("function", sa.String(length=200), nullable=False),
        sa.Column("queue", sa.String(length=50), nullable=False),
        sa.Column("args", JSON_VALUE, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_job_outbox")),
    )
    op.create_index(op.f("ix_job_outbox_recorded_at"), "job_outbox", ["recorded_at"])
