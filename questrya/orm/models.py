"""Thin SQLAlchemy tables: players, their chat accounts, their games, the games' facts,
notifications, unreachable chats, and the job outbox.

Rows only: the repositories translate them to and from domain objects.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, ClassVar, TypeAlias, TypeVar, cast

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Fixed constraint names, so migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

DISPLAY_NAME_LENGTH = 100
FACTS_TITLE_LENGTH = 300
URL_LENGTH = 500
REASON_LENGTH = 200
# Primary keys are INTEGER columns: 32 bits on PostgreSQL, which refuses a larger parameter.
MAX_ROW_ID = 2**31 - 1

# JSON everywhere; JSONB on PostgreSQL, its efficient binary form.
JsonValue = JSON().with_variant(postgresql.JSONB(), "postgresql")


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, stored and returned in UTC on every database."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: store timezone-aware datetimes only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        # SQLite keeps no zone; what it holds was written in UTC by process_bind_param.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base holding the naming convention and the datetime type."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime}


class PlayerRow(Base):
    """A person keeping a backlog."""

    __tablename__ = "players"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class AccountRow(Base):
    """One platform identity of a player; several per player once accounts are linked."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    player_id: Mapped[int] = mapped_column(ForeignKey("players.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(DISPLAY_NAME_LENGTH))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class GameRow(Base):
    """One game in one player's list."""

    __tablename__ = "games"
    __table_args__ = (
        UniqueConstraint("player_id", "title_folded"),
        Index("ix_games_player_id_status_rank_id", "player_id", "status_rank", "id"),
        CheckConstraint("rating BETWEEN 1 AND 10", name="rating_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    player_id: Mapped[int] = mapped_column(ForeignKey("players.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    title_folded: Mapped[str] = mapped_column(String(200))
    platform: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16))
    # Stored, not computed, so (player_id, status_rank, id) is an index order for paging.
    status_rank: Mapped[int] = mapped_column(SmallInteger)
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    added_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    added_in_platform: Mapped[str | None] = mapped_column(String(20))
    added_in_chat_id: Mapped[str | None] = mapped_column(String(64))
    lookup_state: Mapped[str] = mapped_column(String(16), server_default="pending")
    facts_id: Mapped[int | None] = mapped_column(
        ForeignKey("game_facts.id", ondelete="SET NULL"), index=True
    )


class GameFactsRow(Base):
    """What a games database knows of one game; shared by every player who has it."""

    __tablename__ = "game_facts"
    __table_args__ = (
        UniqueConstraint("source", "source_id"),
        # The nightly refresh walks one source's rows in id order, a batch at a time.
        Index("ix_game_facts_source_id_order", "source", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(FACTS_TITLE_LENGTH))
    release_date: Mapped[date | None] = mapped_column(index=True)  # release-day lookups
    platforms: Mapped[list[str]] = mapped_column(JsonValue)
    genres: Mapped[list[str]] = mapped_column(JsonValue)
    cover_url: Mapped[str | None] = mapped_column(String(URL_LENGTH))
    critic_score: Mapped[int | None] = mapped_column(SmallInteger)
    hours_to_beat: Mapped[float | None] = mapped_column(Float)
    source_url: Mapped[str | None] = mapped_column(String(URL_LENGTH))
    refreshed_on: Mapped[date | None]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class NotificationRow(Base):
    """One message for one chat; `event_key` makes it unique per event."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_key: Mapped[str] = mapped_column(String(200), unique=True)
    platform: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    # A list of [label, command] pairs.
    options: Mapped[list[list[str]]] = mapped_column(JsonValue)
    image_url: Mapped[str | None] = mapped_column(String(URL_LENGTH))
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    drop_reason: Mapped[str | None] = mapped_column(String(REASON_LENGTH))


class DisabledChatRow(Base):
    """A chat the bot can no longer reach (removed or blocked): nothing more is sent there."""

    __tablename__ = "disabled_chats"

    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(String(REASON_LENGTH))
    disabled_at: Mapped[datetime]


class JobOutboxRow(Base):
    """A job recorded with the transaction that asked for it, until it is known to be queued."""

    __tablename__ = "job_outbox"

    job_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    function: Mapped[str] = mapped_column(String(200))
    queue: Mapped[str] = mapped_column(String(50))
    args: Mapped[list[Any]] = mapped_column(JsonValue)
    recorded_at: Mapped[datetime] = mapped_column(index=True)


class GroupFeedRow(Base):
    """A group chat's feed switch: whether members' completions are posted there."""

    __tablename__ = "group_feeds"

    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    feed_enabled: Mapped[bool] = mapped_column(default=False)
    changed_at: Mapped[datetime | None]


class GroupMemberRow(Base):
    """A player seen in a group chat, and whether they share their completions there."""

    __tablename__ = "group_members"

    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    player_id: Mapped[int] = mapped_column(
        ForeignKey("players.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    joined_at: Mapped[datetime]
    shares: Mapped[bool] = mapped_column(default=False)


class ScoreChangeRow(Base):
    """A critic score the nightly refresh changed: what it was, what it became, and when."""

    __tablename__ = "score_changes"

    facts_id: Mapped[int] = mapped_column(
        ForeignKey("game_facts.id", ondelete="CASCADE"), primary_key=True
    )
    refreshed_on: Mapped[date] = mapped_column(primary_key=True)
    old_score: Mapped[int | None] = mapped_column(SmallInteger)
    new_score: Mapped[int | None] = mapped_column(SmallInteger)


class GroupPollRow(Base):
    """A vote on what a group plays tonight: /vote and taps on the native poll count here."""

    __tablename__ = "group_polls"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(64))
    question: Mapped[str] = mapped_column(String(300))
    options: Mapped[list[str]] = mapped_column(JsonValue)
    created_by: Mapped[int] = mapped_column(ForeignKey("players.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]

    __table_args__ = (Index("ix_group_polls_chat", "platform", "chat_id", "id"),)


class GroupPollVoteRow(Base):
    """One member's vote in a group poll; voting again replaces it."""

    __tablename__ = "group_poll_votes"

    poll_id: Mapped[int] = mapped_column(
        ForeignKey("group_polls.id", ondelete="CASCADE"), primary_key=True
    )
    player_id: Mapped[int] = mapped_column(
        ForeignKey("players.id", ondelete="CASCADE"), primary_key=True
    )
    option: Mapped[int] = mapped_column(SmallInteger)
    voted_at: Mapped[datetime]


class LinkCodeRow(Base):
    """A one-time code letting another account join a player; only the code's hash is kept."""

    __tablename__ = "link_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    player_id: Mapped[int] = mapped_column(ForeignKey("players.id", ondelete="CASCADE"), index=True)
    issued_by_platform: Mapped[str] = mapped_column(String(20))
    issued_by_external_id: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime]
    # Ended codes are forgotten a while after they expire.
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]


class LinkRefusalRow(Base):
    """A link code refused to an account (wrong, expired or used), counted to stop guessing."""

    __tablename__ = "link_refusals"
    __table_args__ = (Index("ix_link_refusals_account", "platform", "external_id", "refused_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(64))
    refused_at: Mapped[datetime]


def table_of(row_class: type[Base]) -> Table:
    """The table a row class is declared on, typed as one, for Core statements on it."""
    return cast(Table, row_class.__table__)  # a declared class's is always a Table


DialectInsert: TypeAlias = postgresql.Insert | sqlite.Insert
Statement = TypeVar("Statement")
InsertInto: TypeAlias = Callable[[type[Base] | Table], DialectInsert]
_INSERTS: dict[str, InsertInto] = {
    "postgresql": postgresql.insert,
    "sqlite": sqlite.insert,
}


def dialect_insert(session: AsyncSession, table: type[Base] | Table) -> DialectInsert:
    """An INSERT on `table` in the session's dialect, for its ON CONFLICT clauses."""
    return _INSERTS[session.get_bind().dialect.name](table)


def insert_built_once(
    build: Callable[[InsertInto], Statement],
) -> Callable[[AsyncSession], Statement]:
    """`build(insert)` for each dialect, once; the result gives a session its dialect's statement.

    For the INSERTs commands run: building one (ON CONFLICT, RETURNING) costs more than SQLite
    takes to run it, and a statement built once also keeps its cache key.
    """
    statements = {name: build(insert) for name, insert in _INSERTS.items()}
    return lambda session: statements[session.get_bind().dialect.name]
