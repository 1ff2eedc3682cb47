"""Alembic environment: runs the migrations on the connection `upgrade_database` hands in.

`upgrade_database` opens an async engine and calls Alembic through `connection.run_sync`, so
migrations run inside whatever event loop is already running (bots, workers, tests).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from questrya.orm.models import Base


def run_migrations(connection: Connection) -> None:
    """Run the pending migrations in the caller's transaction."""
    context.configure(connection=connection, target_metadata=Base.metadata)
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if context.is_offline_mode() or not isinstance(_connection, Connection):
    raise RuntimeError("Run migrations with questrya.orm.database.upgrade_database(url).")
run_migrations(_connection)
