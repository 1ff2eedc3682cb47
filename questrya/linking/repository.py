"""Storage of link codes and refused attempts: the abstract repository and its SQL version.

Nothing here commits; the unit of work does, once per use case.
"""

from __future__ import annotations

import abc
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from questrya.linking.domain import LinkCode
from questrya.orm.models import AccountRow, LinkCodeRow, LinkRefusalRow
from questrya.users.domain import AccountKey


class LinkRepository(abc.ABC):
    """All queries on link codes and on the codes refused to each account."""

    @abc.abstractmethod
    async def add(self, link_code: LinkCode) -> LinkCode:
        """Store a new code and give it its id."""

    @abc.abstractmethod
    async def get_by_hash(self, code_hash: str) -> LinkCode | None:
        """The code whose hash is `code_hash`, used or not, or None."""

    @abc.abstractmethod
    async def claim(self, link_code: LinkCode, *, on: datetime) -> bool:
        """Mark the code used, unless it was already: True for the one caller that used it."""

    @abc.abstractmethod
    async def expire_unused(self, player_id: int, *, on: datetime) -> None:
        """End the player's codes that are still usable (a new one replaces them)."""

    @abc.abstractmethod
    async def expire_by_hash(self, code_hash: str, *, on: datetime) -> None:
        """End the code with this hash if it is still usable (it was shown to others)."""

    @abc.abstractmethod
    async def forget_ended_before(self, moment: datetime) -> None:
        """Delete every code that expired before `moment`."""

    @abc.abstractmethod
    async def refusals_since(self, key: AccountKey, since: datetime) -> list[datetime]:
        """When codes typed by the account were refused, at or after `since`, oldest first.

        Holds the account until the transaction ends, so two attempts from one account are
        counted one after the other, never side by side.
        """

    @abc.abstractmethod
    async def add_refusal(self, key: AccountKey, *, on: datetime) -> None:
        """Record that a code typed by the account was refused."""

    @abc.abstractmethod
    async def forget_refusals_before(self, key: AccountKey, moment: datetime) -> None:
        """Delete the account's refusals older than `moment`: they no longer count."""


class SqlLinkRepository(LinkRepository):
    """Link codes and refusals stored with SQLAlchemy, in the caller's session and transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, link_code: LinkCode) -> LinkCode:
        row = _to_row(link_code)
        self._session.add(row)
        await self._session.flush()
        link_code.id = row.id
        return link_code

    async def get_by_hash(self, code_hash: str) -> LinkCode | None:
        row = await self._session.scalar(
            select(LinkCodeRow).where(LinkCodeRow.code_hash == code_hash)
        )
        return None if row is None else _to_domain(row)

    async def claim(self, link_code: LinkCode, *, on: datetime) -> bool:
        # Conditional, so of two accounts typing one code at once only one gets it: the other
        # waits for the row, then finds it used.
        claimed_id = await self._session.scalar(
            update(LinkCodeRow)
            .where(LinkCodeRow.id == link_code.id, LinkCodeRow.used_at.is_(None))
            .values(used_at=on)
            .returning(LinkCodeRow.id)
        )
        if claimed_id is None:
            return False
        link_code.used_at = on
        return True

    async def expire_unused(self, player_id: int, *, on: datetime) -> None:
        await self._session.execute(
            update(LinkCodeRow)
            .where(LinkCodeRow.player_id == player_id, _usable(on))
            .values(expires_at=on)
        )

    async def expire_by_hash(self, code_hash: str, *, on: datetime) -> None:
        await self._session.execute(
            update(LinkCodeRow)
            .where(LinkCodeRow.code_hash == code_hash, _usable(on))
            .values(expires_at=on)
        )

    async def forget_ended_before(self, moment: datetime) -> None:
        await self._session.execute(delete(LinkCodeRow).where(LinkCodeRow.expires_at < moment))

    async def refusals_since(self, key: AccountKey, since: datetime) -> list[datetime]:
        # FOR UPDATE on the account's row on PostgreSQL; on SQLite every writing transaction
        # is already one at a time (BEGIN IMMEDIATE).
        await self._session.execute(
            select(AccountRow.id)
            .where(AccountRow.platform == key.platform, AccountRow.external_id == key.external_id)
            .with_for_update()
        )
        moments = await self._session.scalars(
            select(LinkRefusalRow.refused_at)
            .where(_refusals_of(key), LinkRefusalRow.refused_at >= since)
            .order_by(LinkRefusalRow.refused_at)
        )
        return list(moments)

    async def add_refusal(self, key: AccountKey, *, on: datetime) -> None:
        self._session.add(
            LinkRefusalRow(platform=key.platform, external_id=key.external_id, refused_at=on)
        )
        await self._session.flush()

    async def forget_refusals_before(self, key: AccountKey, moment: datetime) -> None:
        await self._session.execute(
            delete(LinkRefusalRow).where(_refusals_of(key), LinkRefusalRow.refused_at < moment)
        )


def _usable(on: datetime) -> ColumnElement[bool]:
    return and_(LinkCodeRow.used_at.is_(None), LinkCodeRow.expires_at > on)


def _refusals_of(key: AccountKey) -> ColumnElement[bool]:
    return and_(
        LinkRefusalRow.platform == key.platform, LinkRefusalRow.external_id == key.external_id
    )


def _to_row(link_code: LinkCode) -> LinkCodeRow:
    return LinkCodeRow(
        code_hash=link_code.code_hash,
        player_id=link_code.player_id,
        issued_by_platform=link_code.issued_by.platform,
        issued_by_external_id=link_code.issued_by.external_id,
        issued_at=link_code.issued_at,
        expires_at=link_code.expires_at,
        used_at=link_code.used_at,
    )


def _to_domain(row: LinkCodeRow) -> LinkCode:
    return LinkCode(
        id=row.id,
        code_hash=row.code_hash,
        player_id=row.player_id,
        issued_by=AccountKey(row.issued_by_platform, row.issued_by_external_id),
        issued_at=row.issued_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
    )
