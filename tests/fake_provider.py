"""A games database in memory, and a sender that records, for service tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from questrya.metadata.domain import GameFacts
from questrya.notifications.domain import Notification
from questrya.notifications.senders.base import ChatGone

HADES = GameFacts(
    source="fake",
    source_id="hades",
    title="Hades",
    release_date=date(2020, 9, 17),
    platforms=("PC", "Nintendo Switch"),
    genres=("Roguelike",),
    cover_url="https://img.example/hades.jpg",
    critic_score=93,
    hours_to_beat=22,
)
HADES_II = GameFacts(source="fake", source_id="hades-ii", title="Hades II", critic_score=95)
DOOM_1993 = GameFacts(
    source="fake", source_id="doom-1993", title="Doom", release_date=date(1993, 12, 10)
)
DOOM_2016 = GameFacts(
    source="fake", source_id="doom-2016", title="Doom", release_date=date(2016, 5, 13)
)


class FakeProvider:
    name = "fake"
    attribution = "Data: Fake"

    def __init__(
        self, games: Sequence[GameFacts] = (HADES, HADES_II, DOOM_1993, DOOM_2016)
    ) -> None:
        self.games = {facts.source_id: facts for facts in games}
        self.searches: list[str] = []
        self.score_requests: list[list[str]] = []

    async def search(self, title: str, *, limit: int = 10) -> Sequence[GameFacts]:
        self.searches.append(title)
        words = set(title.casefold().split())
        return [g for g in self.games.values() if words & set(g.title.casefold().split())][:limit]

    async def details(self, source_id: str) -> GameFacts | None:
        return self.games.get(source_id)

    async def critic_scores(self, source_ids: Sequence[str]) -> dict[str, int | None]:
        self.score_requests.append(list(source_ids))
        return {sid: (g.critic_score if (g := self.games.get(sid)) else None) for sid in source_ids}

    async def aclose(self) -> None:
        return None


class RecordingSender:
    """Records what it sends; can be told the chat is gone."""

    platform = "console"

    def __init__(self) -> None:
        self.sent: list[Notification] = []
        self.gone = False

    async def send(self, notification: Notification) -> None:
        if self.gone:
            raise ChatGone("403 Forbidden: bot was kicked")
        self.sent.append(notification)

    async def aclose(self) -> None:
        return None
