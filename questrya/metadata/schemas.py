"""What the metadata service returns."""

from __future__ import annotations

from questrya.common.schemas import QuestryaBase


class ScoreRefreshRead(QuestryaBase):
    """What a score refresh did: games checked, and scores that changed (each one recorded)."""

    checked: int
    changed: int

    def add(self, *, checked: int, changed: int) -> ScoreRefreshRead:
        return ScoreRefreshRead(checked=self.checked + checked, changed=self.changed + changed)
