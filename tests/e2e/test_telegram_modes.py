"""The other ways an operator runs the Telegram bot: webhook mode (`questrya telegram
--webhook-url URL`, behind a load balancer) and `questrya up` with a token set. Real processes,
the real python-telegram-bot inside them, the fake Bot API recording their calls.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.e2e.conftest import clean_environment
from tests.e2e.telegram_harness import (
    BOT_USERNAME,
    STARTUP_SECONDS,
    TOKEN,
    QuestryaProcesses,
    TelegramBotUnderTest,
    is_send_to,
    running_webhook_bot,
    shown_text,
)
from tests.fakes_servers.telegram import Call, FakeBotApi

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

WEBHOOK_SECRET = "e2e-webhook-secret_42"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def webhook(
    tmp_path_factory: pytest.TempPathFactory, redis_server_url: str
) -> AsyncIterator[tuple[TelegramBotUnderTest, str]]:
    data_dir = tmp_path_factory.mktemp("telegram-webhook")
    async with running_webhook_bot(data_dir, redis_server_url, WEBHOOK_SECRET) as running:
        yield running


async def test_webhook_mode_sets_its_webhook_and_answers_what_telegram_posts(
    webhook: tuple[TelegramBotUnderTest, str],
) -> None:
    bot, url = webhook
    wendy = bot.api.user(1701, "Wendy", "wendy")
    chat = bot.api.private_chat(wendy)

    bot.api.send_command(chat, wendy, "/start")
    statuses = await bot.api.deliver_to_webhook()
    reply = await bot.first_call("the answer", lambda call: is_send_to(call, chat) and call.ok)

    [set_webhook] = bot.api.calls_to("setWebhook")
    assert set_webhook.params["url"] == url
    assert set_webhook.params["secret_token"] == WEBHOOK_SECRET
    assert statuses == [200]
    assert shown_text(reply).startswith("Hi Wendy!"), bot.context()
    assert bot.api.calls_to("getUpdates") == []  # no polling beside the webhook
    assert [call.ok for call in bot.api.calls_to("setMyCommands")] == [True]


async def test_webhook_mode_refuses_posts_without_the_right_secret(
    webhook: tuple[TelegramBotUnderTest, str],
) -> None:
    bot, _ = webhook
    mallory = bot.api.user(1702, "Mallory", "mallory")
    chat = bot.api.private_chat(mallory)
    bot.api.send_command(chat, mallory, "/start")
    [update] = bot.api.pending_updates

    forged = await bot.api.post_to_webhook(update, "not-the-secret")
    unsigned = await bot.api.post_to_webhook(update, None)
    genuine = await bot.api.post_to_webhook(update, WEBHOOK_SECRET)
    await bot.first_call("the answer", lambda call: is_send_to(call, chat) and call.ok)

    assert (forged, unsigned, genuine) == (403, 403, 200)
    assert len(bot.sends_to(chat)) == 1, bot.context()  # only the genuine post was handled


async def test_webhook_mode_answers_an_update_telegram_delivers_twice_once(
    webhook: tuple[TelegramBotUnderTest, str],
) -> None:
    """Telegram delivers an update again when it did not get the answer to its call; the bot
    has handled it already and only says so with a 200."""
    bot, _ = webhook
    nora = bot.api.user(1703, "Nora", "nora")
    chat = bot.api.private_chat(nora)
    update_id = bot.api.send_command(chat, nora, "/add Hades")
    [update] = [u for u in bot.api.pending_updates if u["update_id"] == update_id]

    first = await bot.api.post_to_webhook(update, WEBHOOK_SECRET)
    again = await bot.api.post_to_webhook(update, WEBHOOK_SECRET)

    assert (first, again) == (200, 200)
    [answer] = bot.sends_to(chat)
    assert shown_text(answer).startswith("Added Hades to your backlog."), bot.context()
    assert bot.query("SELECT title FROM games WHERE title = 'Hades'") == [("Hades",)]


async def test_up_with_a_token_serves_the_bot_and_pushes_from_its_worker(tmp_path: Path) -> None:
    """`questrya up` with QUESTRYA_TELEGRAM_TOKEN and no terminal: a private Redis, a worker,
    the scheduler and the bot, until SIGTERM."""
    async with FakeBotApi(token=TOKEN, bot_username=BOT_USERNAME, long_poll_cap=0.5) as api:
        environment = clean_environment(
            tmp_path, QUESTRYA_TELEGRAM_TOKEN=TOKEN, QUESTRYA_TELEGRAM_API_URL=api.base_url
        ) | {"PTB_TIMEDELTA": "true"}
        processes = QuestryaProcesses(environment, tmp_path)
        bot = TelegramBotUnderTest(api, processes, tmp_path)
        user = api.user(1801, "Uma", "uma")
        chat = api.private_chat(user)
        try:
            processes.start("up")
            await bot.first_call("a getUpdates", _is_poll, timeout=STARTUP_SECONDS)
            reply = await bot.say(chat, user, "/add Hades")
            pushed = await bot.pushed(chat, "Hades (2020) · PC")
        finally:
            await processes.stop_all()

    assert shown_text(reply).startswith("Added Hades to your backlog.")
    assert pushed.params["reply_parameters"]["message_id"] == reply.result["message_id"]
    assert {"telegram.log", "worker.log", "scheduler.log"} <= log_names(tmp_path)


def log_names(directory: Path) -> set[str]:
    return {path.name for path in directory.glob("*.log")}


def _is_poll(call: Call) -> bool:
    return call.method == "getUpdates"
