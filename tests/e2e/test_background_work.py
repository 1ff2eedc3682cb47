"""Background work as a user and an operator see it: lookups pushed back into the chat."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from rq import Queue
from rq_scheduler import Scheduler

from questrya.common.jobs import SCORES_QUEUE
from questrya.workers.schedules import ANNOUNCE_RELEASES_JOB, NIGHTLY_REFRESH_ID, RELEASE_DAYS_ID
from tests.e2e.conftest import rq_worker_burst, run_questrya

pytestmark = pytest.mark.e2e

HADES_LINE = "Hades (2020) · PC"


def test_up_answers_at_once_then_pushes_the_catalog_facts(tmp_path: Path, redis_url: str) -> None:
    result = run_questrya(
        tmp_path, "up", "--user", "alice", stdin="/add hades\n", QUESTRYA_REDIS_URL=redis_url
    )
    lines = result.stdout.splitlines()
    assert len(lines) == 2, result.stderr  # the answer, then the push; else stderr says why
    assert lines[0] == "Added hades to your backlog. I'll look up its details."
    assert lines[1].startswith(HADES_LINE)
    assert "Nintendo Switch" in lines[1]


def test_up_with_its_own_private_redis(tmp_path: Path) -> None:
    result = run_questrya(tmp_path, "up", "--user", "alice", stdin="/add Celeste\n")
    lines = result.stdout.splitlines()
    assert len(lines) == 2, result.stderr
    assert lines[0].startswith("Added Celeste")
    assert lines[1].startswith("Celeste (2018)")


def test_an_operators_plain_rq_worker_runs_the_consoles_jobs(
    tmp_path: Path, redis_url: str
) -> None:
    first = run_questrya(
        tmp_path, "console", "--user", "alice", stdin="/add Hades\n", QUESTRYA_REDIS_URL=redis_url
    )
    assert first.stdout.splitlines() == ["Added Hades to your backlog. I'll look up its details."]
    assert "is a worker running?" in first.stderr
    rq_worker_burst(tmp_path, redis_url)
    later = run_questrya(
        tmp_path, "console", "--user", "alice", stdin="", QUESTRYA_REDIS_URL=redis_url
    )
    assert later.stdout.splitlines()[0].startswith(HADES_LINE)
    again = run_questrya(
        tmp_path, "console", "--user", "alice", stdin="", QUESTRYA_REDIS_URL=redis_url
    )
    assert again.stdout == ""  # pushed once, printed once


def test_an_ambiguous_title_pushes_a_choice_answered_by_number(
    tmp_path: Path, redis_url: str
) -> None:
    run_questrya(
        tmp_path, "console", "--user", "al", stdin="/add Doom\n", QUESTRYA_REDIS_URL=redis_url
    )
    rq_worker_burst(tmp_path, redis_url)
    shown = run_questrya(
        tmp_path, "console", "--user", "al", stdin="", QUESTRYA_REDIS_URL=redis_url
    )
    assert shown.stdout.splitlines()[0] == "Which Doom did you mean?"
    assert "  1. Doom (1993)" in shown.stdout


def test_restarting_the_scheduler_keeps_one_of_each_nightly_job(
    tmp_path: Path, redis_url: str
) -> None:
    for _ in range(3):
        run_questrya(tmp_path, "scheduler", "--burst", QUESTRYA_REDIS_URL=redis_url)
    scheduler = Scheduler(connection=redis.Redis.from_url(redis_url))
    for job_id in (NIGHTLY_REFRESH_ID, RELEASE_DAYS_ID):
        nightly = [job for job in scheduler.get_jobs() if job.id == job_id]
        assert len(nightly) == 1
        assert nightly[0].meta.get("cron_string") == "0 3 * * *"


def test_scores_refresh_on_demand_checks_each_game_once_a_day(tmp_path: Path) -> None:
    run_questrya(tmp_path, "console", "--user", "alice", stdin="/add Hades\n/add Celeste\n")
    first = run_questrya(tmp_path, "scores", "refresh")
    again = run_questrya(tmp_path, "scores", "refresh")
    assert first.stdout.startswith("Checked 2 games today")
    assert "Refreshing scores" in first.stderr
    assert again.stdout.startswith("Checked 0 games today")


def test_on_its_release_day_a_wished_for_game_is_announced_once(
    tmp_path: Path, redis_url: str
) -> None:
    run_questrya(
        tmp_path, "console", "--user", "ana", stdin="/wish Tunic\n", QUESTRYA_REDIS_URL=redis_url
    )
    rq_worker_burst(tmp_path, redis_url)  # the lookup links the game to its facts
    today = datetime.now(UTC).date().isoformat()
    with contextlib.closing(sqlite3.connect(tmp_path / "questrya.db")) as database:
        database.execute("UPDATE game_facts SET release_date = ?", (today,))
        database.commit()
    queue = Queue(SCORES_QUEUE, connection=redis.Redis.from_url(redis_url))
    for _ in range(2):  # the nightly job, run twice the same day
        queue.enqueue(ANNOUNCE_RELEASES_JOB)
        rq_worker_burst(tmp_path, redis_url)

    shown = run_questrya(tmp_path, "console", "--user", "ana", QUESTRYA_REDIS_URL=redis_url)
    lines = shown.stdout.splitlines()
    assert lines[0].startswith("Tunic (2022)")  # the lookup's own message
    assert lines[1] == "🎉 ana, Tunic is out today: it's on your wishlist."
    assert lines.count(lines[1]) == 1
