"""Players and the chat accounts they use.

A player is the person; an account is one identity on one platform. Each account starts with
its own player; linking moves accounts to one player (at most one per platform), and unlinking
gives an account a player of its own again.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AccountKey:
    """An account's identity on its platform: ("telegram", "12345")."""

    platform: str
    external_id: str


@dataclass(eq=False)
class Account:
    """One platform identity of a player."""

    key: AccountKey
    display_name: str
    player_id: int | None = None


@dataclass(eq=False)
class Player:
    """A person keeping a backlog, with the accounts that act for them."""

    accounts: list[Account]
    id: int | None = None

    @classmethod
    def first_seen(cls, key: AccountKey, display_name: str) -> Player:
        """A new player, created on their first command from `key`."""
        return cls(accounts=[Account(key=key, display_name=display_name)])
