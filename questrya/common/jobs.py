"""The port through which services ask for background work.

Services describe a job; the workers package decides how it is queued (RQ on Redis). Jobs are
named by dotted path so a plain `rq worker` can import them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

# Queue names, shared by the services that ask for work and the workers that listen.
NOTIFICATIONS_QUEUE = "notifications"
METADATA_QUEUE = "metadata"
SCORES_QUEUE = "scores"
ALL_QUEUES = (NOTIFICATIONS_QUEUE, METADATA_QUEUE, SCORES_QUEUE)

MAX_JOB_ID_LENGTH = 120
_NOT_IN_JOB_ID = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True)
class JobRequest:
    """A job to run after the current unit of work commits.

    `job_id` is derived from the event it handles, so asking twice queues it once.
    """

    function: str
    job_id: str
    queue: str
    args: tuple[Any, ...] = field(default=())


def job_id(*parts: object) -> str:
    """A job id from the parts of the event it handles: the same event, the same id.

    RQ accepts only letters, digits, "-" and "_"; anything else becomes "_", and a long id is
    shortened with a digest so two events never share an id.
    """
    readable = _NOT_IN_JOB_ID.sub("_", "-".join(str(part) for part in parts))
    if len(readable) <= MAX_JOB_ID_LENGTH:
        return readable
    digest = hashlib.sha256(readable.encode()).hexdigest()[:16]
    return f"{readable[: MAX_JOB_ID_LENGTH - 17]}-{digest}"


class JobQueueUnavailable(Exception):
    """The queue could not be reached; the caller records the job as not yet queued."""


class JobQueue(Protocol):
    """Something that queues jobs; enqueueing an id that is already queued is a no-op."""

    def enqueue(self, job: JobRequest) -> None:
        """Queue `job`; raise `JobQueueUnavailable` if the queue cannot be reached."""
        ...
