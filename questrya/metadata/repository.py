"""Storage of game facts, shared by every player who has the game."""

from __future__ import annotations

import abc
from collections.abc import Collection
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Row, bindparam, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from questrya.metadata.domain import GameFacts
from questrya.orm.models import (
    FACTS_TITLE_LENGTH,
    URL_LENGTH,
    GameFactsRow,
    ScoreChangeRow,
    dialect_insert,
    table_of,
)


class FactsRepository(abc.ABC):
    @abc.abstractmethod
    async def upsert(self, facts: GameFacts) -> int:
        """Store or update the facts of (source, source_id); return their id."""

    @abc.abstractmethod
    async def get(self, facts_id: int) -> GameFacts | None:
        """The facts with this id, or None."""

    @abc.abstractmethod
    async def get_many(self, facts_ids: Collection[int]) -> dict[int, GameFacts]:
        """The facts of these ids, by id; ids with no facts are left out."""

    @abc.abstractmethod
    async def ids_released_on(self, day: date) -> list[int]:
        """The ids of the facts of games first released on `day`."""

    @abc.abstractmethod
    async def list_for_refresh(
        self, *, source: str, not_refreshed_on: date, after_id: int, limit: int
    ) -> list[tuple[int, str]]:
        """(facts id, source id) of one batch not refreshed on that day, by id after `after_id`."""

    @abc.abstractmethod
    async def count_for_refresh(self, *, source: str, not_refreshed_on: date) -> int:
        """How many facts of `source` are not yet refreshed on that day."""

    @abc.abstractmethod
    async def update_scores(self, scores: dict[int, int | None], *, refreshed_on: date) -> int:
        """Set critic scores (facts id -> score) and the refresh day in bulk statements, and
        record each score that changed; return how many changed."""


class SqlFactsRepository(FactsRepository):
    """Game facts stored with SQLAlchemy, in the caller's session and transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def upsert(self, facts: GameFacts) -> int:
        # One atomic statement: two workers storing the same game never collide.
        values = _row_values(facts)
        insert = dialect_insert(self._session, GameFactsRow).values(values)
        statement = insert.on_conflict_do_update(
            index_elements=[GameFactsRow.source, GameFactsRow.source_id],
            set_={name: insert.excluded[name] for name in values if name not in _KEY_COLUMNS}
            | {"updated_at": func.now()},
        ).returning(GameFactsRow.id)
        return (await self._session.execute(statement)).scalar_one()

    async def get(self, facts_id: int) -> GameFacts | None:
        return (await self.get_many([facts_id])).get(facts_id)

    async def get_many(self, facts_ids: Collection[int]) -> dict[int, GameFacts]:
        wanted = sorted(set(facts_ids))
        found: dict[int, GameFacts] = {}
        # One query for any real backlog; batches keep each under SQLite's bound-parameter limit.
        for start in range(0, len(wanted), GET_MANY_BATCH):
            rows = await self._session.execute(
                _FACTS_BY_IDS, {"facts_ids": wanted[start : start + GET_MANY_BATCH]}
            )
            found |= {row.id: _to_domain(row) for row in rows}
        return found

    async def ids_released_on(self, day: date) -> list[int]:
        ids = await self._session.scalars(
            select(GameFactsRow.id)
            .where(GameFactsRow.release_date == day)
            .order_by(GameFactsRow.id)
        )
        return list(ids)

    async def list_for_refresh(
        self, *, source: str, not_refreshed_on: date, after_id: int, limit: int
    ) -> list[tuple[int, str]]:
        rows = await self._session.execute(
            select(GameFactsRow.id, GameFactsRow.source_id)
            .where(
                GameFactsRow.source == source,
                GameFactsRow.id > after_id,
                _not_refreshed_on(not_refreshed_on),
            )
            .order_by(GameFactsRow.id)
            .limit(limit)
        )
        return [(facts_id, source_id) for facts_id, source_id in rows]

    async def count_for_refresh(self, *, source: str, not_refreshed_on: date) -> int:
        count = await self._session.scalar(
            select(func.count())
            .select_from(GameFactsRow)
            .where(GameFactsRow.source == source, _not_refreshed_on(not_refreshed_on))
        )
        return count or 0

    async def update_scores(self, scores: dict[int, int | None], *, refreshed_on: date) -> int:
        if not scores:
            return 0
        before = await self._scores_of(scores)
        changed = {i: new for i, new in scores.items() if i in before and before[i] != new}
        # Most nights change few scores: one statement marks the batch refreshed, and only the
        # changed rows are written one by one (as Core, an executemany, not the ORM's bulk path).
        connection = await self._session.connection()
        await connection.execute(
            update(GameFactsRow)
            .where(GameFactsRow.id.in_(sorted(scores)))
            .values(refreshed_on=refreshed_on, updated_at=func.now())
        )
        if changed:
            await connection.execute(
                _SET_SCORE, [{"b_id": i, "b_score": new} for i, new in changed.items()]
            )
            await connection.execute(
                insert(ScoreChangeRow),
                [_change(i, before[i], new, refreshed_on) for i, new in changed.items()],
            )
        return len(changed)

    async def _scores_of(self, facts_ids: Collection[int]) -> dict[int, int | None]:
        rows = await self._session.execute(
            select(GameFactsRow.id, GameFactsRow.critic_score).where(
                GameFactsRow.id.in_(sorted(facts_ids))
            )
        )
        return dict(rows.all())


def _not_refreshed_on(day: date) -> ColumnElement[bool]:
    return or_(GameFactsRow.refreshed_on.is_(None), GameFactsRow.refreshed_on != day)


_SET_SCORE = (
    update(GameFactsRow)
    .where(GameFactsRow.id == bindparam("b_id"))
    .values(critic_score=bindparam("b_score"))
)


def _change(facts_id: int, old: int | None, new: int | None, day: date) -> dict[str, object]:
    return {"facts_id": facts_id, "refreshed_on": day, "old_score": old, "new_score": new}


_KEY_COLUMNS = frozenset({"source", "source_id"})
GET_MANY_BATCH = 900  # under 999, the bound-parameter limit of SQLite builds before 3.32
# Built once, and read as plain rows on the table rather than as ORM objects: /next asks for
# the facts of every game it ranks, and loading each as an object cost more than the query.
_FACTS = table_of(GameFactsRow)
_FACTS_BY_IDS = select(_FACTS).where(_FACTS.c.id.in_(bindparam("facts_ids", expanding=True)))


def _row_values(facts: GameFacts) -> dict[str, Any]:
    """The columns facts write, by name. A too-long title is cut; a too-long URL is dropped,
    since a cut one would point nowhere."""
    return {
        "source": facts.source,
        "source_id": facts.source_id,
        "title": facts.title[:FACTS_TITLE_LENGTH],
        "release_date": facts.release_date,
        "platforms": list(facts.platforms),
        "genres": list(facts.genres),
        "cover_url": _fitting_url(facts.cover_url),
        "critic_score": facts.critic_score,
        "hours_to_beat": facts.hours_to_beat,
        "source_url": _fitting_url(facts.source_url),
    }


def _fitting_url(url: str | None) -> str | None:
    return url if url is not None and len(url) <= URL_LENGTH else None


def _to_domain(row: Row[Any]) -> GameFacts:
    return GameFacts(
        source=row.source,
        source_id=row.source_id,
        title=row.title,
        release_date=row.release_date,
        platforms=tuple(row.platforms),
        genres=tuple(row.genres),
        cover_url=row.cover_url,
        critic_score=row.critic_score,
        hours_to_beat=row.hours_to_beat,
        source_url=row.source_url,
    )
