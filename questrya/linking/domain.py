"""Linking accounts: the one-time code, its expiry, the limit on refused codes, and who may join
whom. Pure Python.

A code is 8 characters from an alphabet without look-alikes (no 0/O, 1/I/L), drawn by `secrets`:
31^8, about 8.5e11 codes (~40 bits). With at most 5 refused codes per account in 15 minutes and
10 minutes of life, guessing one is hopeless; only its SHA-256 hash is stored.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from questrya.common.errors import (
    AlreadyLinked,
    InvalidLinkCode,
    InvalidLinkCodeFormat,
    NothingToUnlink,
    PlatformAlreadyLinked,
)
from questrya.users.domain import AccountKey, Player

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
CODE_LIFETIME = timedelta(minutes=10)
# Ended codes are kept a while, so a reused or replaced one gets its own answer, not "wrong".
CODE_RETENTION = timedelta(days=1)
MAX_REFUSALS = 5
REFUSAL_WINDOW = timedelta(minutes=15)
_SEPARATORS = str.maketrans("", "", " -_.")


def new_code() -> str:
    """A fresh random code, as stored and compared: "K7QM4XPA"."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def shown(code: str) -> str:
    """How a code is shown to the player: two groups of four, "K7QM-4XPA"."""
    half = CODE_LENGTH // 2
    return f"{code[:half]}-{code[half:]}"


def read_code(typed: str) -> str:
    """A code as typed ("k7qm 4xpa", "K7QM-4XPA") in its stored form; refuses other shapes."""
    code = typed.translate(_SEPARATORS).upper()
    if len(code) != CODE_LENGTH or any(char not in CODE_ALPHABET for char in code):
        raise InvalidLinkCodeFormat(f"A link code is {CODE_LENGTH} letters and digits.")
    return code


def hash_code(code: str) -> str:
    """What is stored of a code: its SHA-256, so the table never holds a usable code."""
    return hashlib.sha256(code.encode("ascii")).hexdigest()


@dataclass(eq=False)
class LinkCode:
    """A one-time code that lets another account join `player_id`'s backlog."""

    code_hash: str
    player_id: int
    issued_by: AccountKey
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    id: int | None = None

    @classmethod
    def issue(cls, *, code: str, player_id: int, issued_by: AccountKey, on: datetime) -> LinkCode:
        """The stored side of a new code, valid for CODE_LIFETIME from `on`."""
        return cls(
            code_hash=hash_code(code),
            player_id=player_id,
            issued_by=issued_by,
            issued_at=on,
            expires_at=on + CODE_LIFETIME,
        )

    def check_usable(self, *, on: datetime) -> None:
        """Refuse a code that was used already, or whose time has run out."""
        if self.used_at is not None:
            raise InvalidLinkCode("used")
        if on >= self.expires_at:
            raise InvalidLinkCode("expired")

    @property
    def valid_minutes(self) -> int:
        return math.ceil((self.expires_at - self.issued_at) / timedelta(minutes=1))


def require_usable(link_code: LinkCode | None, *, on: datetime) -> LinkCode:
    """The code found for what was typed, if it can still be used; `wrong` if none was found."""
    if link_code is None:
        raise InvalidLinkCode("wrong")
    link_code.check_usable(on=on)
    return link_code


def wait_after_refusals(refused_at: Iterable[datetime], *, now: datetime) -> timedelta | None:
    """How long an account must wait before its next code is even looked at, or None.

    MAX_REFUSALS refusals within REFUSAL_WINDOW close the door; it opens again when enough of
    them are older than the window.
    """
    recent = sorted(moment for moment in refused_at if moment > now - REFUSAL_WINDOW)
    if len(recent) < MAX_REFUSALS:
        return None
    return recent[len(recent) - MAX_REFUSALS] + REFUSAL_WINDOW - now


def whole_minutes(wait: timedelta) -> int:
    """A wait rounded up to whole minutes, at least one, as told to the player."""
    return max(1, math.ceil(wait / timedelta(minutes=1)))


def require_joinable(
    link_code: LinkCode, owner: Player, joining: Player, *, typed_by: AccountKey
) -> None:
    """Refuse joining a player to itself, or giving one player two accounts on a platform."""
    if owner.id == joining.id:
        raise AlreadyLinked(own_code=link_code.issued_by == typed_by)
    owned = {account.key.platform for account in owner.accounts}
    clash = sorted(owned & {account.key.platform for account in joining.accounts})
    if clash:
        raise PlatformAlreadyLinked(clash[0])


def require_linked(player: Player) -> None:
    """Refuse /unlink from an account that is its player's only one."""
    if len(player.accounts) < 2:
        raise NothingToUnlink()
