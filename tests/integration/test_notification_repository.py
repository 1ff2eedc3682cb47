"""SqlNotificationRepository against real SQLite and PostgreSQL databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from questrya.common.values import ChatAddress
from questrya.notifications.domain import DeliveryState, Notification, Option
from questrya.notifications.repository import SqlNotificationRepository

SessionFactory = async_sessionmaker[AsyncSession]
CREATED = datetime(2025, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
GROUP = ChatAddress(platform="telegram", chat_id="-1001234567890")
DM = ChatAddress(platform="discord", chat_id="112233445566778899")


@asynccontextmanager
async def notifications_in(
    session_factory: SessionFactory,
) -> AsyncIterator[SqlNotificationRepository]:
    """A repository on a fresh session, committed when the block ends without error."""
    async with session_factory() as session:
        yield SqlNotificationRepository(session)
        await session.commit()


def a_notification(event_key: str = "metadata:1", **fields: Any) -> Notification:
    defaults: dict[str, Any] = {
        "address": GROUP,
        "text": "Hades (2020) · PC, Switch",
        "created_at": CREATED,
    }
    return Notification(event_key=event_key, **(defaults | fields))


async def add(session_factory: SessionFactory, notification: Notification) -> Notification:
    async with notifications_in(session_factory) as repository:
        return await repository.add_once(notification)


async def test_add_once_then_get_round_trips_every_field(
    session_factory: SessionFactory,
) -> None:
    paris = timezone(timedelta(hours=2))
    notification = a_notification(
        text="Which one?\n1. Doom (1993)\n2. Doom (2016)",
        created_at=datetime(2025, 5, 1, 20, 0, 0, 250, tzinfo=paris),
        options=(Option("Doom (1993)", "/identify 7 doom"), Option("Doom (2016)", "/identify 7 d")),
        image_url="https://media.example/doom.jpg",
    )
    stored = await add(session_factory, notification)
    assert stored.id is not None

    async with notifications_in(session_factory) as repository:
        loaded = await repository.get(stored.id)

    assert loaded is not None
    assert (loaded.id, loaded.event_key, loaded.address) == (stored.id, "metadata:1", GROUP)
    assert loaded.text == notification.text
    assert loaded.options == notification.options
    assert loaded.image_url == notification.image_url
    assert loaded.created_at == notification.created_at
    assert loaded.created_at.tzinfo is UTC
    assert (loaded.state, loaded.attempts, loaded.sent_at, loaded.drop_reason) == (
        DeliveryState.PENDING,
        0,
        None,
        None,
    )


async def test_get_unknown_id_is_none(session_factory: SessionFactory) -> None:
    async with notifications_in(session_factory) as repository:
        assert await repository.get(404) is None


async def test_add_once_twice_for_one_event_keeps_the_first(
    session_factory: SessionFactory,
) -> None:
    first = await add(session_factory, a_notification(text="first"))
    second = await add(session_factory, a_notification(text="second", address=DM))

    assert second.id == first.id
    assert (second.text, second.address) == ("first", GROUP)


async def test_add_once_twice_in_one_transaction_keeps_one(
    session_factory: SessionFactory,
) -> None:
    async with notifications_in(session_factory) as repository:
        first = await repository.add_once(a_notification(text="first"))
        again = await repository.add_once(a_notification(text="again"))
        other = await repository.add_once(a_notification("metadata:2"))

    assert again.id == first.id
    assert again.text == "first"
    assert other.id != first.id


async def test_add_once_returns_the_state_of_a_stored_event(
    session_factory: SessionFactory,
) -> None:
    stored = await add(session_factory, a_notification())
    stored.record_attempt()
    stored.mark_sent(on=CREATED)
    async with notifications_in(session_factory) as repository:
        await repository.save(stored)

    again = await add(session_factory, a_notification())

    assert (again.id, again.state, again.is_settled) == (stored.id, DeliveryState.SENT, True)


async def test_save_records_a_delivery(session_factory: SessionFactory) -> None:
    stored = await add(session_factory, a_notification())
    assert stored.id is not None
    sent = CREATED + timedelta(seconds=3)

    stored.record_attempt()
    stored.record_attempt()
    stored.mark_sent(on=sent)
    async with notifications_in(session_factory) as repository:
        await repository.save(stored)

    async with notifications_in(session_factory) as repository:
        loaded = await repository.get(stored.id)
    assert loaded is not None
    assert (loaded.state, loaded.attempts, loaded.sent_at) == (DeliveryState.SENT, 2, sent)


async def test_save_records_a_drop_with_its_reason_cut_to_fit(
    session_factory: SessionFactory,
) -> None:
    stored = await add(session_factory, a_notification())
    assert stored.id is not None

    stored.record_attempt()
    stored.drop(reason="Forbidden: bot was kicked from the group chat " + "x" * 300)
    async with notifications_in(session_factory) as repository:
        await repository.save(stored)

    async with notifications_in(session_factory) as repository:
        loaded = await repository.get(stored.id)
    assert loaded is not None
    assert (loaded.state, loaded.attempts, loaded.sent_at) == (DeliveryState.DROPPED, 1, None)
    assert loaded.drop_reason is not None
    assert loaded.drop_reason.startswith("Forbidden: bot was kicked")
    assert len(loaded.drop_reason) == 200


async def test_save_of_an_unknown_notification_is_refused(
    session_factory: SessionFactory,
) -> None:
    ghost = a_notification()
    ghost.id = 404

    async with notifications_in(session_factory) as repository:
        with pytest.raises(LookupError):
            await repository.save(ghost)


async def test_a_chat_is_enabled_until_disabled(session_factory: SessionFactory) -> None:
    async with notifications_in(session_factory) as repository:
        assert not await repository.is_disabled(GROUP)
        await repository.disable(GROUP, reason="bot was kicked", on=CREATED)

    async with notifications_in(session_factory) as repository:
        assert await repository.is_disabled(GROUP)
        assert not await repository.is_disabled(DM)
        # Same chat id on another platform is another chat.
        assert not await repository.is_disabled(ChatAddress("discord", GROUP.chat_id))


async def test_a_disabled_chat_can_be_enabled_again(session_factory: SessionFactory) -> None:
    async with notifications_in(session_factory) as repository:
        await repository.disable(GROUP, reason="bot was kicked", on=CREATED)
    async with notifications_in(session_factory) as repository:
        assert await repository.enable(GROUP)
        assert not await repository.enable(DM)
    async with notifications_in(session_factory) as repository:
        assert not await repository.is_disabled(GROUP)


async def test_disable_is_idempotent(session_factory: SessionFactory) -> None:
    async with notifications_in(session_factory) as repository:
        await repository.disable(GROUP, reason="bot was kicked", on=CREATED)
        await repository.disable(GROUP, reason="again, same transaction", on=CREATED)

    async with notifications_in(session_factory) as repository:
        await repository.disable(GROUP, reason="again, later", on=CREATED + timedelta(hours=1))
        assert await repository.is_disabled(GROUP)


async def test_a_long_disable_reason_is_cut_to_fit(session_factory: SessionFactory) -> None:
    async with notifications_in(session_factory) as repository:
        await repository.disable(DM, reason="Forbidden " * 100, on=CREATED)

    async with notifications_in(session_factory) as repository:
        assert await repository.is_disabled(DM)
