"""Jobs of the notifications slice."""

from __future__ import annotations

from questrya.notifications import service as notification_service
from questrya.workers.runtime import JobContext, run_job


def deliver_notification(notification_id: int) -> str:
    """Send one recorded notification to its chat, unless it was sent already."""

    async def work(context: JobContext) -> str:
        return await notification_service.deliver(
            uow=context.uow_factory(), notification_id=notification_id, senders=context.senders
        )

    return run_job(work)
