"""Account links: one-time link codes (hashed) and the refused codes counted against guessing.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create link_codes and link_refusals."""
    op.create_table(
        "link_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("player_id", sa.Integer(), nullable=False),
        sa.Column("issued_by_platform", sa.String(length=20), nullable=False),
        sa.Column("issued_by_external_id", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["player_id"],
            ["players.id"],
            name=op.f("fk_link_codes_player_id_players"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_link_codes_code_hash")),
    )
    op.create_index(op.f("ix_link_codes_player_id"), "link_codes", ["player_id"])
    op.create_index(op.f("ix_link_codes_expires_at"), "link_codes", ["expires_at"])
    op.create_table(
        "link_refusals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("refused_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_refusals")),
    )
    op.create_index(
        "ix_link_refusals_account", "link_refusals", ["platform", "external_id", "refused_at"]
    )


def downgrade() -> None:
    """Drop both tables."""
    op.drop_index("ix_link_refusals_account", table_name="link_refusals")
    op.drop_table("link_refusals")
    op.drop_index(op.f("ix_link_codes_expires_at"), table_name="link_codes")
    op.drop_index(op.f("ix_link_codes_player_id"), table_name="link_codes")
    op.drop_table("link_codes")
