"""A notification: a platform-neutral message for one chat, sent at most once per event."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from questrya.common.values import ChatAddress


class DeliveryState(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DROPPED = "dropped"  # the chat is gone (bot removed or blocked): never retried


@dataclass(frozen=True)
class Option:
    """A button or numbered answer under a notification: its label and the command it runs."""

    label: str
    command: str


@dataclass(eq=False)
class Notification:
    """A message for one chat about one event; `event_key` makes the event's message unique."""

    event_key: str
    address: ChatAddress
    text: str
    created_at: datetime
    options: tuple[Option, ...] = ()
    image_url: str | None = None
    state: DeliveryState = DeliveryState.PENDING
    attempts: int = 0
    sent_at: datetime | None = None
    drop_reason: str | None = None
    id: int | None = field(default=None)

    @property
    def is_settled(self) -> bool:
        """Sent or dropped: delivering it again would be a duplicate."""
        return self.state is not DeliveryState.PENDING

    def record_attempt(self) -> None:
        self.attempts += 1

    def mark_sent(self, *, on: datetime) -> None:
        self.state = DeliveryState.SENT
        self.sent_at = on

    def drop(self, *, reason: str) -> None:
        self.state = DeliveryState.DROPPED
        self.drop_reason = reason
