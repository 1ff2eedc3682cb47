"""What the notifications service returns."""

from __future__ import annotations

from questrya.common.schemas import QuestryaBase


class OptionRead(QuestryaBase):
    label: str
    command: str


class InboxMessage(QuestryaBase):
    """A pushed message waiting in a console chat's inbox."""

    id: int
    text: str
    options: list[OptionRead]
    image_url: str | None
