"""Use cases of notifications: record one per event, and deliver it once."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from questrya.common.clock import Clock, utc_now
from questrya.common.jobs import NOTIFICATIONS_QUEUE, JobRequest
from questrya.common.values import ChatAddress
from questrya.notifications.domain import Notification, Option
from questrya.notifications.senders.base import ChatGone, DeliveryFailed, Sender
from questrya.unit_of_work import UnitOfWork

DELIVER_JOB = "questrya.workers.tasks.notifications.deliver_notification"

log = logging.getLogger(__name__)


async def notify(
    *,
    uow: UnitOfWork,
    event_key: str,
    address: ChatAddress,
    text: str,
    options: Sequence[tuple[str, str]] = (),
    image_url: str | None = None,
    clock: Clock = utc_now,
) -> int:
    """Record the message for `event_key` (once, however often asked) and queue its delivery."""
    async with uow:
        notification_id = await notify_within(
            uow,
            event_key=event_key,
            address=address,
            text=text,
            options=options,
            image_url=image_url,
            clock=clock,
        )
        await uow.commit()
    return notification_id


async def notify_within(
    uow: UnitOfWork,
    *,
    event_key: str,
    address: ChatAddress,
    text: str,
    options: Sequence[tuple[str, str]] = (),
    image_url: str | None = None,
    clock: Clock = utc_now,
) -> int:
    """`notify` inside a unit of work that the caller has open and commits: the delivery is
    queued only once that unit commits."""
    draft = Notification(
        event_key=event_key,
        address=address,
        text=text,
        created_at=clock(),
        options=tuple(Option(label, command) for label, command in options),
        image_url=image_url,
    )
    stored = await uow.notifications.add_once(draft)
    notification_id = _stored_id(stored)
    if not stored.is_settled:
        uow.enqueue_after_commit(delivery_job(notification_id))
    return notification_id


async def enable_chat(*, uow: UnitOfWork, address: ChatAddress) -> bool:
    """The bot is back in a chat it was removed or blocked from: deliver there again.
    Return whether the chat had been disabled."""
    async with uow:
        was_disabled = await uow.notifications.enable(address)
        await uow.commit()
    if was_disabled:
        log.info("deliveries to %s %s enabled again", address.platform, address.chat_id)
    return was_disabled


def delivery_job(notification_id: int) -> JobRequest:
    return JobRequest(
        function=DELIVER_JOB,
        job_id=f"deliver-notification-{notification_id}",
        queue=NOTIFICATIONS_QUEUE,
        args=(notification_id,),
    )


async def deliver(
    *,
    uow: UnitOfWork,
    notification_id: int,
    senders: Mapping[str, Sender],
    clock: Clock = utc_now,
) -> str:
    """Send a recorded notification unless it was already sent or dropped; return its state.

    ChatGone drops it and disables the chat; DeliveryFailed propagates so the job is retried.
    """
    notification = await _claim(uow, notification_id)
    if notification is None or notification.is_settled:
        return notification.state.value if notification else "missing"
    sender = senders.get(notification.address.platform)
    if sender is None:
        # A worker without this platform's token: another worker (or a later retry) can send it.
        raise DeliveryFailed(f"no sender for {notification.address.platform} on this worker")
    try:
        await sender.send(notification)
    except ChatGone as gone:
        return await _settle(uow, notification, gone=str(gone) or "chat gone", clock=clock)
    return await _settle(uow, notification, clock=clock)


async def _claim(uow: UnitOfWork, notification_id: int) -> Notification | None:
    """Load it, drop it if its chat is disabled, and count the attempt before sending."""
    async with uow:
        notification = await uow.notifications.get(notification_id)
        if notification is None or notification.is_settled:
            return notification
        if await uow.notifications.is_disabled(notification.address):
            notification.drop(reason="chat disabled")
        else:
            notification.record_attempt()
        await uow.notifications.save(notification)
        await uow.commit()
    return notification


async def _settle(
    uow: UnitOfWork, notification: Notification, *, gone: str | None = None, clock: Clock = utc_now
) -> str:
    async with uow:
        if gone is None:
            notification.mark_sent(on=clock())
        else:
            log.warning("dropping notification %s: %s", notification.id, gone)
            notification.drop(reason=gone[:200])
            await uow.notifications.disable(notification.address, reason=gone[:200], on=clock())
        await uow.notifications.save(notification)
        await uow.commit()
    return notification.state.value


def _stored_id(notification: Notification) -> int:
    if notification.id is None:
        raise RuntimeError("the repository returned a notification without an id")
    return notification.id
