"""Recurring jobs, registered with rq-scheduler under fixed ids.

Registering cancels the previous copy first, so restarting the scheduler any number of times
leaves exactly one of each.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

from rq_scheduler import Scheduler

from questrya.common.jobs import METADATA_QUEUE, SCORES_QUEUE

NIGHTLY_REFRESH_ID = "questrya-nightly-score-refresh"
OUTBOX_RELAY_ID = "questrya-outbox-relay"
RELEASE_DAYS_ID = "questrya-release-days"
REFRESH_SCORES_JOB = "questrya.workers.tasks.scores.refresh_scores"
ANNOUNCE_RELEASES_JOB = "questrya.workers.tasks.releases.announce_releases"
RELAY_OUTBOX_JOB = "questrya.workers.tasks.outbox.relay_outbox"
RELAY_INTERVAL_SECONDS = 60


def register_schedules(scheduler: Scheduler, *, nightly_at: time) -> None:
    """(Re)register the nightly score refresh and release days (cron, UTC) and the outbox
    relay."""
    for job_id in (NIGHTLY_REFRESH_ID, RELEASE_DAYS_ID, OUTBOX_RELAY_ID):
        if job_id in scheduler:
            scheduler.cancel(job_id)
    scheduler.cron(
        f"{nightly_at.minute} {nightly_at.hour} * * *",
        func=REFRESH_SCORES_JOB,
        id=NIGHTLY_REFRESH_ID,
        queue_name=SCORES_QUEUE,
        use_local_timezone=False,
        timeout=3600,
    )
    scheduler.cron(
        f"{nightly_at.minute} {nightly_at.hour} * * *",
        func=ANNOUNCE_RELEASES_JOB,
        id=RELEASE_DAYS_ID,
        queue_name=SCORES_QUEUE,
        use_local_timezone=False,
        timeout=3600,
    )
    scheduler.schedule(
        scheduled_time=datetime.now(UTC),
        func=RELAY_OUTBOX_JOB,
        id=OUTBOX_RELAY_ID,
        interval=RELAY_INTERVAL_SECONDS,
        repeat=None,
        queue_name=METADATA_QUEUE,
    )
