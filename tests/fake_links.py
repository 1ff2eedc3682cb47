"""An in-memory link repository for service tests."""

from __future__ import annotations

import copy
import itertools
from datetime import datetime

from questrya.linking.domain import LinkCode
from questrya.linking.repository import LinkRepository
from questrya.users.domain import AccountKey


class FakeLinkRepository(LinkRepository):
    """Codes by id and refusals as (account, moment)."""

    def __init__(
        self, codes: dict[int, LinkCode], refusals: list[tuple[AccountKey, datetime]]
    ) -> None:
        self.codes = codes
        self.refusals = refusals
        self._ids = itertools.count(max(codes, default=0) + 1)

    async def add(self, link_code: LinkCode) -> LinkCode:
        assert all(c.code_hash != link_code.code_hash for c in self.codes.values())
        link_code.id = next(self._ids)
        self.codes[link_code.id] = copy.deepcopy(link_code)
        return link_code

    async def get_by_hash(self, code_hash: str) -> LinkCode | None:
        found = (c for c in self.codes.values() if c.code_hash == code_hash)
        return copy.deepcopy(next(found, None))

    async def claim(self, link_code: LinkCode, *, on: datetime) -> bool:
        stored = self.codes[link_code.id]  # type: ignore[index]
        if stored.used_at is not None:
            return False
        stored.used_at = link_code.used_at = on
        return True

    async def expire_unused(self, player_id: int, *, on: datetime) -> None:
        for code in self.codes.values():
            if code.player_id == player_id:
                _expire_if_usable(code, on)

    async def expire_by_hash(self, code_hash: str, *, on: datetime) -> None:
        for code in self.codes.values():
            if code.code_hash == code_hash:
                _expire_if_usable(code, on)

    async def forget_ended_before(self, moment: datetime) -> None:
        for code_id in [i for i, code in self.codes.items() if code.expires_at < moment]:
            del self.codes[code_id]

    async def refusals_since(self, key: AccountKey, since: datetime) -> list[datetime]:
        return sorted(on for account, on in self.refusals if account == key and on >= since)

    async def add_refusal(self, key: AccountKey, *, on: datetime) -> None:
        self.refusals.append((key, on))

    async def forget_refusals_before(self, key: AccountKey, moment: datetime) -> None:
        self.refusals[:] = [(a, on) for a, on in self.refusals if a != key or on >= moment]


def _expire_if_usable(code: LinkCode, on: datetime) -> None:
    if code.used_at is None and code.expires_at > on:
        code.expires_at = on
