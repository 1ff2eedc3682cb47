"""Use cases of players: who is speaking."""

from __future__ import annotations

from collections.abc import Collection

from questrya.common.text import clean_text, shorten
from questrya.unit_of_work import UnitOfWork
from questrya.users.domain import AccountKey, Player
from questrya.users.schemas import PlayerRead

MAX_DISPLAY_NAME = 100


async def register(
    *, uow: UnitOfWork, platform: str, external_id: str, display_name: str
) -> PlayerRead:
    """The player behind this account, created on their first command."""
    key = AccountKey(platform=platform, external_id=external_id)
    name = shorten(clean_text(display_name), MAX_DISPLAY_NAME) or external_id
    async with uow:
        account = await uow.players.find_account(key)
        if account is None or account.player_id is None:
            player = await uow.players.add(Player.first_seen(key, name))
            await uow.commit()
            return _read(player, name, is_new=True)
        if account.display_name != name:
            await uow.players.rename_account(key, name)
            await uow.commit()
    return PlayerRead(id=account.player_id, display_name=name, is_new=False)


async def display_names(
    *, uow: UnitOfWork, player_ids: Collection[int], platform: str
) -> dict[int, str]:
    """How each player is called on `platform` (their name on another platform if none)."""
    async with uow:
        return await uow.players.display_names(player_ids, platform)


def _read(player: Player, display_name: str, *, is_new: bool) -> PlayerRead:
    if player.id is None:
        raise RuntimeError("the repository returned a player without an id")
    return PlayerRead(id=player.id, display_name=display_name, is_new=is_new)
