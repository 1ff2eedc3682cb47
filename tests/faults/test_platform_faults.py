"""Chat platforms and games databases failing, as the production worker meets them.

`/add` goes through the chat router in this process, as a Telegram, Discord or console player
typed it; real `questrya worker` processes (scheduler on) look the game up and push the answer
through the real senders, against the local fake Telegram Bot API, Discord REST API and RAWG.
The senders' own handling of each answer is tested in tests/integration; here the point is what
the worker and its job retries make of it: a 429 is waited out inside one run, a 500 that lasts
is left to the job's retry 10 s later, a 403 disables the chat for good, and a games database
that does not answer in time (the providers' 10 s read timeout) fails the run, whose retry
then completes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis
from rq.job import Job, JobStatus
from rq.results import Result

from bots.chat import build_router
from bots.console.app import console_speaker
from bots.messages import Speaker
from questrya.bootstrap import App, open_app
from questrya.common.jobs import METADATA_QUEUE
from questrya.settings import load_settings
from questrya.workers.queues import RETRY_ATTEMPTS
from tests.fakes_servers.discord import TOKEN as DISCORD_TOKEN
from tests.fakes_servers.discord import FakeDiscord
from tests.fakes_servers.discord_payloads import JSON
from tests.fakes_servers.rawg import FakeRawg
from tests.fakes_servers.telegram import Call, FakeBotApi
from tests.fakes_servers.telegram_methods import SEND_METHODS
from tests.faults.conftest import (
    HADES_JOB_ID,
    PLAYER,
    added_reply,
    assert_nothing_lost_nothing_twice,
    query,
    rawg_settings,
    read_ledger,
    retries_of,
    running_worker,
    searches,
    successful_runs,
    wait_until,
    worker_log,
)

pytestmark = [pytest.mark.faults, pytest.mark.e2e]

TOKEN = "123456:fault-token"
DISCORD_MESSAGES = "POST /channels/{channel_id}/messages"
ALICE = 4242
# Generous bounds for a loaded machine: a worker's start-up, and a retry that waits 10 s.
SETTLE_SECONDS = 45


@pytest.fixture
async def telegram() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(token=TOKEN) as api:
        api.private_chat(api.user(ALICE, "Alice"))
        yield api


@pytest.fixture
async def app(tmp_path: Path, redis_url: str) -> AsyncIterator[App]:
    """The bots' wiring on a fresh SQLite file in tmp_path, which the workers share."""
    settings = load_settings(_env_file=None, data_dir=tmp_path)
    async with open_app(settings, redis_url) as opened:
        yield opened


def telegram_settings(api: FakeBotApi) -> dict[str, str]:
    return {"QUESTRYA_TELEGRAM_TOKEN": api.token, "QUESTRYA_TELEGRAM_API_URL": api.base_url}


def discord_speaker(user: JSON, channel_id: str) -> Speaker:
    """A member typing in a server's channel: the push goes back to that channel."""
    return Speaker(
        platform="discord",
        user_id=user["id"],
        display_name=user["username"],
        chat_id=channel_id,
        is_group=True,
    )


def alice_on_telegram() -> Speaker:
    return Speaker(
        platform="telegram", user_id=str(ALICE), display_name="Alice", chat_id=str(ALICE)
    )


async def add(app: App, speaker: Speaker, title: str) -> None:
    reply = await build_router(app.uow_factory).handle_text(speaker, f"/add {title}")
    assert reply.text == added_reply(title)


def pushes(api: FakeBotApi) -> list[Call]:
    """Every attempt to post a message, answered or refused, in order."""
    return [call for call in api.calls if call.method in SEND_METHODS]


def settled(data_dir: Path) -> bool:
    """Every game looked up, and every notification sent or dropped."""
    pending_games = query(data_dir, "SELECT count(*) FROM games WHERE lookup_state = 'pending'")
    pending = query(data_dir, "SELECT count(*) FROM notifications WHERE state = 'pending'")
    notifications = query(data_dir, "SELECT count(*) FROM notifications")
    return pending_games == pending == [(0,)] and notifications != [(0,)]


def delivery_job(connection: redis.Redis, data_dir: Path) -> Job:
    [(notification_id,)] = query(data_dir, "SELECT id FROM notifications")
    return Job.fetch(f"deliver-notification-{notification_id}", connection=connection)


def lookup_job(connection: redis.Redis) -> Job:
    return Job.fetch(HADES_JOB_ID, connection=connection)


def result_types(job: Job) -> list[Result.Type]:
    """What the job's runs came to, oldest first; rq keeps no result for a failed run it
    retries, so a retry shows in `retries_left` (and the worker's log) instead."""
    return [result.type for result in reversed(job.results())]


async def test_a_429_is_waited_out_within_the_run_and_the_push_arrives_once(
    tmp_path: Path, redis_url: str, app: App, telegram: FakeBotApi
) -> None:
    telegram.fail_next("sendMessage", 429, retry_after=1)
    await add(app, alice_on_telegram(), "Hades")

    with running_worker(tmp_path, redis_url, **telegram_settings(telegram)):
        await wait_until(
            lambda: settled(tmp_path), within=SETTLE_SECONDS, waiting_for="the push to settle"
        )
        await wait_until(
            lambda: delivery_job(app.connection, tmp_path).get_status() == JobStatus.FINISHED,
            within=SETTLE_SECONDS,
            waiting_for="the delivery job to finish",
        )

    refused, delivered = pushes(telegram)
    assert (refused.status, delivered.status) == (429, 200)
    # A lower bound the sender's own sleep guarantees: only a sender that did not wait fails it.
    assert delivered.time - refused.time >= 1.0
    assert delivered.params["text"].startswith("Hades (2020)")
    job = delivery_job(app.connection, tmp_path)
    assert result_types(job) == [Result.Type.SUCCESSFUL]  # one run: no job retry was needed
    assert job.retries_left == RETRY_ATTEMPTS
    assert query(tmp_path, "SELECT state, attempts FROM notifications") == [("sent", 1)]
    assert telegram.duplicates() == {}
    ledger = await read_ledger(app.settings.effective_database_url)
    assert_nothing_lost_nothing_twice(ledger, app.connection, games=[(str(ALICE), "Hades")])


async def test_a_500_that_outlasts_the_senders_tries_is_delivered_once_by_the_jobs_retry(
    tmp_path: Path, redis_url: str, app: App, telegram: FakeBotApi
) -> None:
    # The sender tries four times within one run (backing off 0.25, 0.5 and 1 s); all fail.
    telegram.fail_next("sendMessage", 500, times=4)
    await add(app, alice_on_telegram(), "Hades")

    with running_worker(tmp_path, redis_url, **telegram_settings(telegram)):
        await wait_until(
            lambda: settled(tmp_path), within=SETTLE_SECONDS, waiting_for="the retried push"
        )
        await wait_until(
            lambda: delivery_job(app.connection, tmp_path).get_status() == JobStatus.FINISHED,
            within=SETTLE_SECONDS,
            waiting_for="the delivery job to finish",
        )

    assert [call.status for call in pushes(telegram)] == [500, 500, 500, 500, 200]
    job = delivery_job(app.connection, tmp_path)
    assert result_types(job) == [Result.Type.SUCCESSFUL]
    assert job.retries_left == RETRY_ATTEMPTS - 1  # failed once, then the retry succeeded
    assert query(tmp_path, "SELECT state, attempts FROM notifications") == [("sent", 2)]
    assert "DeliveryFailed: Telegram unavailable" in worker_log(tmp_path)
    assert telegram.duplicates() == {}
    ledger = await read_ledger(app.settings.effective_database_url)
    assert_nothing_lost_nothing_twice(ledger, app.connection, games=[(str(ALICE), "Hades")])


async def test_a_403_disables_the_chat_and_nothing_is_tried_again(
    tmp_path: Path, redis_url: str, app: App, telegram: FakeBotApi
) -> None:
    telegram.block_chat(ALICE)  # Alice blocked the bot
    await add(app, alice_on_telegram(), "Hades")

    with running_worker(tmp_path, redis_url, **telegram_settings(telegram)):
        await wait_until(
            lambda: settled(tmp_path), within=SETTLE_SECONDS, waiting_for="the push to settle"
        )
        [refused] = pushes(telegram)
        assert refused.status == 403
        assert query(tmp_path, "SELECT platform, chat_id FROM disabled_chats") == [
            ("telegram", str(ALICE))
        ]
        # A later lookup for the same chat is dropped without a call to Telegram.
        await add(app, alice_on_telegram(), "Celeste")
        await wait_until(
            lambda: (
                query(tmp_path, "SELECT count(*) FROM notifications") == [(2,)]
                and settled(tmp_path)
            ),
            within=SETTLE_SECONDS,
            waiting_for="the second push to settle",
        )
        await wait_until(
            lambda: len(successful_runs(app.connection)) == 4,
            within=SETTLE_SECONDS,
            waiting_for="two lookups and two deliveries to finish",
        )

    assert pushes(telegram) == [refused]
    assert query(tmp_path, "SELECT state, attempts, drop_reason FROM notifications") == [
        ("dropped", 1, "Forbidden: bot was blocked by the user"),
        ("dropped", 0, "chat disabled"),
    ]
    runs = successful_runs(app.connection)
    assert set(runs.values()) == {1}
    for job_id in runs:  # finished, not failed: a retry could only post to a blocked chat
        job = Job.fetch(job_id, connection=app.connection)
        assert (result_types(job), job.retries_left) == ([Result.Type.SUCCESSFUL], RETRY_ATTEMPTS)
    assert query(tmp_path, "SELECT lookup_state FROM games") == [("found",), ("found",)]


async def test_on_discord_a_429_is_waited_out_and_a_server_that_removed_the_bot_is_disabled(
    tmp_path: Path, redis_url: str, app: App
) -> None:
    async with FakeDiscord() as discord:
        owner = discord.user("Bea")
        kept, left = await discord.add_guild("kept", owner), await discord.add_guild("left", owner)
        kept_channel, left_channel = kept.channels[0]["id"], left.channels[0]["id"]
        discord.fail_next(DISCORD_MESSAGES, retry_after=1.0, channel_id=kept_channel)
        discord.remove_bot_from(left.id)
        await add(app, discord_speaker(owner, kept_channel), "Hades")
        await add(app, discord_speaker(owner, left_channel), "Celeste")

        settings = {
            "QUESTRYA_DISCORD_TOKEN": DISCORD_TOKEN,
            "QUESTRYA_DISCORD_API_URL": discord.url,
        }
        with running_worker(tmp_path, redis_url, **settings):
            await wait_until(
                lambda: (
                    query(tmp_path, "SELECT count(*) FROM notifications") == [(2,)]
                    and settled(tmp_path)
                ),
                within=SETTLE_SECONDS,
                waiting_for="both pushes to settle",
            )
            await wait_until(
                lambda: len(successful_runs(app.connection)) == 4,
                within=SETTLE_SECONDS,
                waiting_for="two lookups and two deliveries to finish",
            )

        posts = discord.calls_to(DISCORD_MESSAGES)
        assert sorted((c.params["channel_id"], c.status) for c in posts) == sorted(
            [(kept_channel, 429), (kept_channel, 200), (left_channel, 403)]
        )
        refused, delivered = [c for c in posts if c.params["channel_id"] == kept_channel]
        assert delivered.time - refused.time >= 1.0  # waited as asked (a lower bound)
        assert len(discord.channel_messages(kept_channel)) == 1
        assert discord.channel_messages(left_channel) == []

    assert query(tmp_path, "SELECT chat_id, state, attempts FROM notifications ORDER BY id") == [
        (kept_channel, "sent", 1),
        (left_channel, "dropped", 1),
    ]
    assert query(tmp_path, "SELECT platform, chat_id FROM disabled_chats") == [
        ("discord", left_channel)
    ]
    runs = successful_runs(app.connection)
    assert set(runs.values()) == {1}
    for job_id in runs:  # each ran once and finished: neither was left to a job retry
        assert Job.fetch(job_id, connection=app.connection).retries_left == RETRY_ATTEMPTS


async def test_a_games_database_that_does_not_answer_is_retried_and_the_lookup_completes(
    tmp_path: Path, redis_url: str, app: App, fake_rawg: FakeRawg
) -> None:
    fake_rawg.hang_next(1)
    await add(app, console_speaker(PLAYER, None), "Hades")

    with running_worker(tmp_path, redis_url, **rawg_settings(fake_rawg)):
        await wait_until(
            lambda: lookup_job(app.connection).get_status() == JobStatus.SCHEDULED,
            within=SETTLE_SECONDS,
            waiting_for="the lookup to time out and be scheduled for a retry",
        )
        assert query(tmp_path, "SELECT lookup_state FROM games") == [("pending",)]
        # The 500 test above lets the worker's scheduler fire a retry after its 10 s; this one
        # moves it onto its queue at once with rq's registry API, to spare those 10 s.
        retries_of(METADATA_QUEUE, app.connection).requeue(HADES_JOB_ID)
        await wait_until(
            lambda: (
                settled(tmp_path)
                and delivery_job(app.connection, tmp_path).get_status() == JobStatus.FINISHED
            ),
            within=SETTLE_SECONDS,
            waiting_for="the retried lookup to complete and its push to be delivered",
        )

    assert searches(fake_rawg) == 2  # the one that hung, then the retry's
    assert "ProviderError: rawg: GET" in worker_log(tmp_path)
    assert "timed out" in worker_log(tmp_path)
    lookup = lookup_job(app.connection)
    assert result_types(lookup) == [Result.Type.SUCCESSFUL]
    assert lookup.retries_left == RETRY_ATTEMPTS - 1
    ledger = await read_ledger(app.settings.effective_database_url)
    [hades] = ledger.games
    assert ledger.about_game(hades.id)[0].event_key == f"game-{hades.id}-facts-rawg-hades-2"
    assert_nothing_lost_nothing_twice(ledger, app.connection, games=[(PLAYER, "Hades")])
