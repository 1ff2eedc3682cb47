"""Storage of players and their accounts: the abstract repository and its SQL implementation."""

from __future__ import annotations

import abc
from collections.abc import Collection
from typing import Any

from sqlalchemy import Row, bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from questrya.orm.models import DISPLAY_NAME_LENGTH, AccountRow, PlayerRow, table_of
from questrya.users.domain import Account, AccountKey, Player


class PlayerRepository(abc.ABC):
    """All queries on players and accounts."""

    @abc.abstractmethod
    async def find_account(self, key: AccountKey) -> Account | None:
        """The account `key` alone (with its player's id), or None: every command asks."""

    @abc.abstractmethod
    async def get_by_account(self, key: AccountKey) -> Player | None:
        """The player who owns the account `key`, or None."""

    @abc.abstractmethod
    async def add(self, player: Player) -> Player:
        """Store a new player with its accounts; if one of the accounts was stored meanwhile
        (two first commands at once), return the player that owns it instead."""

    @abc.abstractmethod
    async def rename_account(self, key: AccountKey, display_name: str) -> None:
        """Record a new display name for an account."""

    @abc.abstractmethod
    async def get(self, player_id: int) -> Player | None:
        """The player with this id and its accounts, or None if it has no account."""

    @abc.abstractmethod
    async def move_accounts(self, *, from_player_id: int, to_player_id: int) -> None:
        """Give every account of one player to another (linking makes them one player)."""

    @abc.abstractmethod
    async def detach_account(self, key: AccountKey) -> Player:
        """Give the account `key` a new player of its own (unlinking), and return that player."""

    @abc.abstractmethod
    async def display_names(self, player_ids: Collection[int], platform: str) -> dict[int, str]:
        """Each player's name on `platform`, or on their first account if none is there."""


class SqlPlayerRepository(PlayerRepository):
    """Players and accounts stored with SQLAlchemy, in the caller's session and transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def find_account(self, key: AccountKey) -> Account | None:
        rows = await self._session.execute(
            _ACCOUNT_BY_KEY, {"platform": key.platform, "external_id": key.external_id}
        )
        row = rows.one_or_none()
        return None if row is None else _to_domain(row)

    async def get_by_account(self, key: AccountKey) -> Player | None:
        # One query: the account named by `key`, joined to every account of its player.
        named = aliased(AccountRow)
        rows = (
            await self._session.scalars(
                select(AccountRow)
                .join(named, named.player_id == AccountRow.player_id)
                .where(named.platform == key.platform, named.external_id == key.external_id)
                .order_by(AccountRow.id)
            )
        ).all()
        if not rows:
            return None
        return Player(id=rows[0].player_id, accounts=[_to_domain(row) for row in rows])

    async def add(self, player: Player) -> Player:
        try:
            # A savepoint, so losing the race leaves the surrounding transaction usable.
            async with self._session.begin_nested():
                player_id = await self._insert(player)
        except IntegrityError:
            owner = await self._owner_of_any(player)
            if owner is None:
                raise
            return owner
        player.id = player_id
        for account in player.accounts:
            account.player_id = player_id
        return player

    async def rename_account(self, key: AccountKey, display_name: str) -> None:
        await self._session.execute(
            update(AccountRow)
            .where(AccountRow.platform == key.platform, AccountRow.external_id == key.external_id)
            .values(display_name=_fit_display_name(display_name))
        )

    async def display_names(self, player_ids: Collection[int], platform: str) -> dict[int, str]:
        if not player_ids:
            return {}
        rows = await self._session.execute(
            select(AccountRow.player_id, AccountRow.platform, AccountRow.display_name)
            .where(AccountRow.player_id.in_(sorted(player_ids)))
            .order_by(AccountRow.id)
        )
        names: dict[int, str] = {}
        for player_id, account_platform, display_name in rows:
            if account_platform == platform or player_id not in names:
                names[player_id] = display_name
        return names

    async def get(self, player_id: int) -> Player | None:
        rows = (
            await self._session.scalars(
                select(AccountRow).where(AccountRow.player_id == player_id).order_by(AccountRow.id)
            )
        ).all()
        if not rows:
            return None
        return Player(id=player_id, accounts=[_to_domain(row) for row in rows])

    async def move_accounts(self, *, from_player_id: int, to_player_id: int) -> None:
        await self._session.execute(
            update(AccountRow)
            .where(AccountRow.player_id == from_player_id)
            .values(player_id=to_player_id)
        )

    async def detach_account(self, key: AccountKey) -> Player:
        player_row = PlayerRow()
        self._session.add(player_row)
        await self._session.flush()
        await self._session.execute(
            update(AccountRow)
            .where(AccountRow.platform == key.platform, AccountRow.external_id == key.external_id)
            .values(player_id=player_row.id)
        )
        player = await self.get(player_row.id)
        if player is None:
            raise LookupError(f"no account {key.platform}:{key.external_id} to detach")
        return player

    async def _insert(self, player: Player) -> int:
        player_row = PlayerRow()
        self._session.add(player_row)
        await self._session.flush()
        self._session.add_all(_to_row(account, player_row.id) for account in player.accounts)
        await self._session.flush()
        return player_row.id

    async def _owner_of_any(self, player: Player) -> Player | None:
        for account in player.accounts:
            owner = await self.get_by_account(account.key)
            if owner is not None:
                return owner
        return None


# Built once: the statement every command runs first (constructing it costs as much as running
# it). On the table: a plain row, for the ORM's bookkeeping of a loaded object costs as much again.
_ACCOUNTS = table_of(AccountRow)
_ACCOUNT_BY_KEY = select(_ACCOUNTS).where(
    _ACCOUNTS.c.platform == bindparam("platform"),
    _ACCOUNTS.c.external_id == bindparam("external_id"),
)


def _fit_display_name(display_name: str) -> str:
    # Only ever shown back in chat, so a long name is cut rather than refused.
    return display_name[:DISPLAY_NAME_LENGTH]


def _to_row(account: Account, player_id: int) -> AccountRow:
    return AccountRow(
        player_id=player_id,
        platform=account.key.platform,
        external_id=account.key.external_id,
        display_name=_fit_display_name(account.display_name),
    )


def _to_domain(row: AccountRow | Row[Any]) -> Account:
    return Account(
        key=AccountKey(platform=row.platform, external_id=row.external_id),
        display_name=row.display_name,
        player_id=row.player_id,
    )
