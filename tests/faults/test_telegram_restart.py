"""`questrya telegram` killed with SIGKILL mid-traffic and started again: every update ends up
answered exactly once, none is skipped, and each command's effect is applied once.

Telegram keeps an update until the bot confirms it: by a later getUpdates offset when polling,
by a 2xx answer to the webhook call. The fake Bot API holds one call unanswered, so the bot is
at a known point when it dies:

- a reply in flight: its command's effect is committed, the answer not sent. After the restart
  the command runs again; the service refuses to apply it twice, and the player's one answer
  is that refusal ("Celeste is already in your list."), which is the truth;
- the getUpdates that would confirm a handled batch: every answer sent, nothing confirmed.
  After the restart the whole batch comes back, and each update is dropped as handled.

Each player is alone in a group, so each answer quotes the message it answers, and several
chats are being handled when the bot dies.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from questrya.notifications.senders.telegram_updates import HANDLED, KEY_PREFIX
from tests.e2e.conftest import clean_environment
from tests.e2e.telegram_harness import (
    BOT_USERNAME,
    STARTUP_SECONDS,
    TOKEN,
    QuestryaProcesses,
    TelegramBotUnderTest,
    free_port,
    is_send_to,
    shown_text,
)
from tests.fakes_servers.telegram import Call, FakeBotApi, Hold
from tests.fakes_servers.telegram_updates import JSON

pytestmark = [pytest.mark.faults, pytest.mark.e2e]

BOT_ID = TOKEN.partition(":")[0]
# Each player's commands, in order; `/done` comes after the `/add` it completes.
SCRIPT = ("/add Hades", "/add Celeste", "/done Hades 8")
PLAYERS = ((5101, "Ada"), (5102, "Bea"), (5103, "Cy"))
ANSWER_SECONDS = 30.0
CLAIM_LAPSE_SECONDS = 30.0  # Telegram's retries, until the dead instance's claim has lapsed


@dataclass(frozen=True)
class Typed:
    """One command a player typed: its update, and the message an answer must quote."""

    update_id: int
    chat: JSON
    message_id: int
    text: str
    player: int


@dataclass
class Traffic:
    """The fake Bot API, the bot process, and what the players typed."""

    api: FakeBotApi
    processes: QuestryaProcesses
    bot: TelegramBotUnderTest
    redis: redis.Redis
    typed: list[Typed]

    def type_script(self) -> None:
        """Every player types the script in their own group, players interleaved."""
        chats = {
            user_id: self.api.group_chat(-400_000 - user_id, f"{name}'s group")
            for user_id, name in PLAYERS
        }
        users = {user_id: self.api.user(user_id, name) for user_id, name in PLAYERS}
        for text in SCRIPT:
            for user_id, _ in PLAYERS:
                chat = chats[user_id]
                update_id = self.api.send_command(chat, users[user_id], text)
                message_id = self.api.messages(chat["id"])[-1]["message_id"]
                self.typed.append(Typed(update_id, chat, message_id, text, user_id))

    def typed_by(self, player: int, text: str) -> Typed:
        [typed] = [t for t in self.typed if (t.player, t.text) == (player, text)]
        return typed

    def answers(self) -> Counter[tuple[int, int]]:
        """(chat, message answered) -> how many successful answers quote it."""
        return Counter(
            (call.params["chat_id"], quoted)
            for call in self.api.calls
            if call.method in ("sendMessage", "sendPhoto")
            and call.ok
            and (quoted := (call.params.get("reply_parameters") or {}).get("message_id"))
        )

    def answer_to(self, typed: Typed) -> Call:
        [answer] = [
            call
            for call in self.api.calls
            if is_send_to(call, typed.chat)
            and call.ok
            and call.params["reply_parameters"]["message_id"] == typed.message_id
        ]
        return answer

    async def all_answered(self, *, confirmed: bool = True) -> None:
        """Until every typed message has an answer and (if `confirmed`) Telegram holds no
        update unconfirmed."""

        def done() -> bool | None:
            answered = self.answers()
            every = all(answered[(t.chat["id"], t.message_id)] for t in self.typed)
            settled = every and (not confirmed or not self.api.pending_updates)
            return True if settled else None

        await self.bot.wait_until("answer to every command", done, ANSWER_SECONDS)

    async def handled_marks(self, updates: Iterable[Typed]) -> None:
        """Until the bot has noted these updates handled (it does so right after answering)."""

        def marked() -> bool | None:
            states = [self.redis.get(f"{KEY_PREFIX}:{BOT_ID}:{t.update_id}") for t in updates]
            return True if all(state == HANDLED for state in states) else None

        await self.bot.wait_until("handled mark on each update", marked, ANSWER_SECONDS)

    def games(self) -> Counter[tuple[str, str, str]]:
        """(player, title, status) of every stored game, counted."""
        rows = self.bot.query(
            "SELECT a.external_id, g.title, g.status FROM games g"
            " JOIN accounts a ON a.player_id = g.player_id"
        )
        return Counter((player, title, status) for player, title, status in rows)


def expected_games() -> Counter[tuple[str, str, str]]:
    """One of each game the script adds, Hades completed."""
    return Counter(
        (str(user_id), title, status)
        for user_id, _ in PLAYERS
        for title, status in (("Hades", "completed"), ("Celeste", "backlog"))
    )


@contextlib.asynccontextmanager
async def traffic(data_dir: Path, redis_url: str, **settings: str) -> AsyncIterator[Traffic]:
    async with FakeBotApi(token=TOKEN, bot_username=BOT_USERNAME, long_poll_cap=0.5) as api:
        environment = clean_environment(
            data_dir,
            QUESTRYA_TELEGRAM_TOKEN=TOKEN,
            QUESTRYA_TELEGRAM_API_URL=api.base_url,
            QUESTRYA_REDIS_URL=redis_url,
            **settings,
        ) | {"PTB_TIMEDELTA": "true"}
        processes = QuestryaProcesses(environment, data_dir)
        bot = TelegramBotUnderTest(api, processes, data_dir)
        with contextlib.closing(redis.Redis.from_url(redis_url)) as connection:
            try:
                yield Traffic(api, processes, bot, connection, [])
            finally:
                await processes.stop_all()


async def start_polling_bot(traffic: Traffic) -> None:
    """`questrya telegram`, once it polls."""
    since = len(traffic.api.calls)
    traffic.processes.start("telegram")
    await traffic.bot.first_call("a getUpdates", _is_poll, since, STARTUP_SECONDS)


async def kill_bot_on(traffic: Traffic, hold: Hold) -> None:
    """SIGKILL the bot while the fake holds one of its calls; the call is dropped unread."""
    await traffic.processes.kill("telegram")
    hold.drop()


async def test_killed_with_a_reply_in_flight_it_finishes_what_it_had_not_answered(
    tmp_path: Path, redis_url: str
) -> None:
    async with traffic(tmp_path, redis_url) as run:
        await start_polling_bot(run)
        run.type_script()
        bea = PLAYERS[1][0]
        in_flight = run.typed_by(bea, "/add Celeste")
        held = run.api.hold_next("sendMessage", when=_quoting(in_flight))
        await held.reached(ANSWER_SECONDS)
        others = [t for t in run.typed if t.player != bea or t.text == "/add Hades"]
        await run.handled_marks(others)  # everything but Bea's last two, which wait on the held
        await kill_bot_on(run, held)
        assert run.api.pending_updates, "the batch was confirmed before it was handled"

        await start_polling_bot(run)
        await run.all_answered()

        assert set(run.answers().values()) == {1}, run.bot.context()
        assert shown_text(run.answer_to(in_flight)) == "Celeste is already in your list."
        assert run.games() == expected_games(), run.bot.context()


async def test_killed_before_confirming_a_handled_batch_it_drops_the_batch_redelivered(
    tmp_path: Path, redis_url: str
) -> None:
    async with traffic(tmp_path, redis_url) as run:
        await start_polling_bot(run)
        run.type_script()
        last = max(t.update_id for t in run.typed)
        confirm = run.api.hold_next("getUpdates", when=lambda p: (p.get("offset") or 0) > last)
        await confirm.reached(ANSWER_SECONDS)
        await run.all_answered(confirmed=False)
        await kill_bot_on(run, confirm)
        assert len(run.api.pending_updates) == len(run.typed)

        await start_polling_bot(run)
        await run.all_answered()
        ada = PLAYERS[0][0]
        late = await run.bot.say(run.typed_by(ada, "/add Hades").chat, run.api.users[ada], "/help")

        assert set(run.answers().values()) == {1}, run.bot.context()
        assert shown_text(late).startswith("Commands:")
        assert run.games() == expected_games(), run.bot.context()


async def test_webhook_instance_killed_mid_update_gets_it_again_and_answers_once(
    tmp_path: Path, redis_url: str
) -> None:
    port = free_port()
    webhook = [
        "--webhook-url",
        f"http://127.0.0.1:{port}/telegram",
    ]
    settings = {
        "QUESTRYA_TELEGRAM_WEBHOOK_LISTEN": "127.0.0.1",
        "QUESTRYA_TELEGRAM_WEBHOOK_PORT": str(port),
        "QUESTRYA_TELEGRAM_WEBHOOK_SECRET": "fault-test-secret",
    }
    async with traffic(tmp_path, redis_url, **settings) as run:
        await start_webhook_bot(run, webhook)
        dee = run.api.user(5201, "Dee")
        chat = run.api.private_chat(dee)
        run.api.send_command(chat, dee, "/add Hades")
        held = run.api.hold_next("sendMessage")
        delivery = asyncio.create_task(run.api.deliver_to_webhook())
        await held.reached(ANSWER_SECONDS)
        await kill_bot_on(run, held)
        assert await delivery == [None]  # no answer: Telegram keeps the update

        await start_webhook_bot(run, webhook)
        await deliver_until_accepted(run)

        [answer] = [call for call in run.bot.sends_to(chat) if call.ok]
        assert shown_text(answer) == "Hades is already in your list.", run.bot.context()
        assert run.games() == Counter({("5201", "Hades", "backlog"): 1})


async def start_webhook_bot(traffic: Traffic, arguments: list[str]) -> None:
    """`questrya telegram --webhook-url …`, once it has set its webhook."""
    since = len(traffic.api.calls)
    traffic.processes.start("telegram", *arguments)
    await traffic.bot.first_call("setWebhook", _is_set_webhook, since, STARTUP_SECONDS)


async def deliver_until_accepted(traffic: Traffic) -> None:
    """Deliver the pending updates again and again, as Telegram retries, until accepted."""
    async with asyncio.timeout(CLAIM_LAPSE_SECONDS):
        while traffic.api.pending_updates:
            await traffic.api.deliver_to_webhook()
            await asyncio.sleep(0.5)


def _quoting(typed: Typed) -> Callable[[JSON], bool]:
    """Whether a send's parameters answer `typed`."""

    def quotes(params: JSON) -> bool:
        reply = params.get("reply_parameters") or {}
        quoted = reply.get("message_id")
        return params.get("chat_id") == typed.chat["id"] and quoted == typed.message_id

    return quotes


def _is_poll(call: Call) -> bool:
    return call.method == "getUpdates"


def _is_set_webhook(call: Call) -> bool:
    return call.method == "setWebhook"
