"""Storage of notifications and of chats that can no longer be reached."""

from __future__ import annotations

import abc
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from questrya.common.values import ChatAddress
from questrya.notifications.domain import DeliveryState, Notification, Option
from questrya.orm.models import REASON_LENGTH, DisabledChatRow, NotificationRow, dialect_insert


class NotificationRepository(abc.ABC):
    @abc.abstractmethod
    async def add_once(self, notification: Notification) -> Notification:
        """Store `notification` unless one with its event key exists; return the stored one."""

    @abc.abstractmethod
    async def get(self, notification_id: int) -> Notification | None:
        """The notification with this id, or None."""

    @abc.abstractmethod
    async def save(self, notification: Notification) -> None:
        """Write back state, attempts, sent_at and drop_reason."""

    @abc.abstractmethod
    async def is_disabled(self, address: ChatAddress) -> bool:
        """Whether deliveries to this chat were stopped (the bot was removed or blocked)."""

    @abc.abstractmethod
    async def disable(self, address: ChatAddress, *, reason: str, on: datetime) -> None:
        """Stop deliveries to this chat; idempotent."""

    @abc.abstractmethod
    async def enable(self, address: ChatAddress) -> bool:
        """Deliver to this chat again (the bot is back in it); whether it was disabled."""


class SqlNotificationRepository(NotificationRepository):
    """Notifications and disabled chats stored with SQLAlchemy, in the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        # Kept for save(), which else selects again a row the session has already dropped.
        self._loaded: dict[int, NotificationRow] = {}

    async def add_once(self, notification: Notification) -> Notification:
        # ON CONFLICT DO NOTHING: a second worker handling the same event stores nothing new,
        # and gets no row back; only then is the stored one selected.
        inserted = await self._session.scalars(
            dialect_insert(self._session, NotificationRow)
            .values(_row_values(notification))
            .on_conflict_do_nothing(index_elements=[NotificationRow.event_key])
            .returning(NotificationRow)
        )
        row = inserted.one_or_none()
        if row is None:
            stored = await self._session.scalars(
                select(NotificationRow).where(NotificationRow.event_key == notification.event_key)
            )
            row = stored.one()
        return self._keep(row)

    async def get(self, notification_id: int) -> Notification | None:
        row = await self._session.get(NotificationRow, notification_id)
        return None if row is None else self._keep(row)

    async def save(self, notification: Notification) -> None:
        row = self._loaded.get(notification.id or 0) or await self._session.get(
            NotificationRow, notification.id
        )
        if row is None:
            raise LookupError(f"notification {notification.id} is not stored")
        row.state = notification.state.value
        row.attempts = notification.attempts
        row.sent_at = notification.sent_at
        row.drop_reason = _fit_reason(notification.drop_reason)

    async def is_disabled(self, address: ChatAddress) -> bool:
        row = await self._session.get(DisabledChatRow, (address.platform, address.chat_id))
        return row is not None

    async def disable(self, address: ChatAddress, *, reason: str, on: datetime) -> None:
        await self._session.execute(
            dialect_insert(self._session, DisabledChatRow)
            .values(
                platform=address.platform,
                chat_id=address.chat_id,
                reason=reason[:REASON_LENGTH],
                disabled_at=on,
            )
            .on_conflict_do_nothing(
                index_elements=[DisabledChatRow.platform, DisabledChatRow.chat_id]
            )
        )

    async def enable(self, address: ChatAddress) -> bool:
        result = await self._session.execute(
            delete(DisabledChatRow).where(
                DisabledChatRow.platform == address.platform,
                DisabledChatRow.chat_id == address.chat_id,
            )
        )
        return bool(getattr(result, "rowcount", 0))

    def _keep(self, row: NotificationRow) -> Notification:
        self._loaded[row.id] = row
        return _to_domain(row)


def _fit_reason(reason: str | None) -> str | None:
    # A platform's error text, only ever logged or shown to operators: cut, not refused.
    return None if reason is None else reason[:REASON_LENGTH]


def _row_values(notification: Notification) -> dict[str, Any]:
    return {
        "event_key": notification.event_key,
        "platform": notification.address.platform,
        "chat_id": notification.address.chat_id,
        "text": notification.text,
        "options": [[option.label, option.command] for option in notification.options],
        "image_url": notification.image_url,
        "state": notification.state.value,
        "attempts": notification.attempts,
        "created_at": notification.created_at,
        "sent_at": notification.sent_at,
        "drop_reason": _fit_reason(notification.drop_reason),
    }


def _to_domain(row: NotificationRow) -> Notification:
    return Notification(
        id=row.id,
        event_key=row.event_key,
        address=ChatAddress(platform=row.platform, chat_id=row.chat_id),
        text=row.text,
        created_at=row.created_at,
        options=tuple(Option(label=label, command=command) for label, command in row.options),
        image_url=row.image_url,
        state=DeliveryState(row.state),
        attempts=row.attempts,
        sent_at=row.sent_at,
        drop_reason=row.drop_reason,
    )
