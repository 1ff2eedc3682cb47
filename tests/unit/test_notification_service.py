"""Notifications: recorded once per event, delivered once, dropped when the chat is gone."""

from __future__ import annotations

import pytest

from questrya.common.values import ChatAddress
from questrya.notifications import service
from questrya.notifications.senders.base import DeliveryFailed
from tests.fake_provider import RecordingSender
from tests.fakes import FakeUnitOfWork

CHAT = ChatAddress("console", "group:friends")


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def sender() -> RecordingSender:
    return RecordingSender()


async def notify(uow: FakeUnitOfWork, event: str = "event-1") -> int:
    return await service.notify(uow=uow, event_key=event, address=CHAT, text="Bob finished Celeste")


async def deliver(uow: FakeUnitOfWork, sender: RecordingSender, notification_id: int) -> str:
    return await service.deliver(
        uow=uow, notification_id=notification_id, senders={"console": sender}
    )


async def test_one_event_is_recorded_once(uow: FakeUnitOfWork) -> None:
    first, second = await notify(uow), await notify(uow)
    assert first == second
    assert len(uow.committed_notifications) == 1
    assert list(uow.job_queue.jobs) == [f"deliver-notification-{first}"]


async def test_delivering_twice_sends_once(uow: FakeUnitOfWork, sender: RecordingSender) -> None:
    notification_id = await notify(uow)
    assert await deliver(uow, sender, notification_id) == "sent"
    assert await deliver(uow, sender, notification_id) == "sent"
    assert [n.text for n in sender.sent] == ["Bob finished Celeste"]
    assert uow.committed_notifications[notification_id].attempts == 1


async def test_a_sent_event_is_not_queued_again(
    uow: FakeUnitOfWork, sender: RecordingSender
) -> None:
    notification_id = await notify(uow)
    await deliver(uow, sender, notification_id)
    uow.job_queue.jobs.clear()
    await notify(uow)
    assert uow.job_queue.jobs == {}


async def test_a_gone_chat_is_disabled_and_never_retried(
    uow: FakeUnitOfWork, sender: RecordingSender
) -> None:
    sender.gone = True
    first = await notify(uow, "event-1")
    assert await deliver(uow, sender, first) == "dropped"
    sender.gone = False
    second = await notify(uow, "event-2")
    assert await deliver(uow, sender, second) == "dropped"
    assert sender.sent == []


async def test_a_chat_enabled_again_gets_new_messages(
    uow: FakeUnitOfWork, sender: RecordingSender
) -> None:
    sender.gone = True
    await deliver(uow, sender, await notify(uow, "event-1"))
    sender.gone = False
    assert await service.enable_chat(uow=uow, address=CHAT)
    assert await deliver(uow, sender, await notify(uow, "event-2")) == "sent"
    assert not await service.enable_chat(uow=uow, address=CHAT)


async def test_a_platform_without_sender_is_retried_later(uow: FakeUnitOfWork) -> None:
    notification_id = await notify(uow)
    with pytest.raises(DeliveryFailed):
        await service.deliver(uow=uow, notification_id=notification_id, senders={})
    assert uow.committed_notifications[notification_id].state.value == "pending"


async def test_a_missing_notification_is_skipped(
    uow: FakeUnitOfWork, sender: RecordingSender
) -> None:
    assert await deliver(uow, sender, 404) == "missing"
