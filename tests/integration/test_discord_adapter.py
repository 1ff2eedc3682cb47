"""The Discord adapter in this process, on the real discord.py client against the fake Discord:
the paths the end-to-end tests cannot reach on demand (slow answers, bugs, public news after a
private "thinking", a slow poll and where it is noted, buttons anyone may press, someone else's
buttons on a public message), with the router on in-memory storage and the poll notes on the
session's Redis."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import discord
import pytest
import pytest_asyncio
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bots.chat import Choice, Reply, build_router
from bots.discord import responses
from bots.discord.buttons import NOT_YOURS
from bots.discord.client import QuestryaBot
from bots.discord.polls import PollVotes
from bots.discord.responses import APOLOGY, answer_command
from bots.messages import Poll
from questrya.common.values import ChatAddress
from questrya.notifications.domain import Notification, Option
from questrya.notifications.senders.discord import DiscordSender, use_discord_endpoints
from questrya.notifications.senders.poll_chats import PollChats
from tests.fakes import FakeUnitOfWork
from tests.fakes_servers import discord_payloads as shapes
from tests.fakes_servers.discord import FakeDiscord
from tests.fakes_servers.discord_polls import answer_texts
from tests.fakes_servers.discord_rest import DEFERRED_MESSAGE, DEFERRED_UPDATE, MESSAGE
from tests.held_poll_chats import HeldPollChats

pytestmark = pytest.mark.asyncio(loop_scope="module")
JSON = dict[str, Any]
NOTE_SECONDS = 2.0
STORAGE_DELAY = {"seconds": 0.0}  # the `slow` fixture makes storage take longer than the bot waits


class SlowUnitOfWork(FakeUnitOfWork):
    """In-memory storage that takes STORAGE_DELAY to open, like a busy database."""

    async def _begin(self) -> None:
        await asyncio.sleep(STORAGE_DELAY["seconds"])
        await super()._begin()


class BotWithTestCommands(QuestryaBot):
    """Questrya's bot plus commands only tests have: public news, a bug, a public message with
    its player's buttons, a vote answered as /tonight's and one answered as a private command's.
    All answer through the bot's own answer_command; the votes are noted as the bot's are."""

    async def setup_hook(self) -> None:
        async def news() -> Reply:
            await asyncio.sleep(STORAGE_DELAY["seconds"])
            return Reply("Big news for everyone", public=True)

        async def bug() -> Reply:
            await asyncio.sleep(STORAGE_DELAY["seconds"])
            raise RuntimeError("the database is on fire")

        @self.tree.command(name="announce", description="Public news")
        async def announce(interaction: discord.Interaction) -> None:
            await answer_command(interaction, "announce", news())

        @self.tree.command(name="boom", description="A bug")
        async def boom(interaction: discord.Interaction) -> None:
            await answer_command(interaction, "boom", bug())

        async def offer(text: str, choices: tuple[Choice, ...]) -> Reply:
            return Reply(text, choices=choices, public=True)

        @self.tree.command(name="offer", description="Public, with the player's buttons")
        async def offer_games(interaction: discord.Interaction) -> None:
            choices = (Choice("Hades", "/stats"),)
            await answer_command(interaction, "offer", offer("Pick one", choices))

        async def vote() -> Reply:
            await asyncio.sleep(STORAGE_DELAY["seconds"])
            poll = Poll("What shall we play tonight?", ("Hades", "Celeste"))
            return Reply(
                "What shall we play tonight?\n1. Hades\n2. Celeste", poll=poll, public=True
            )

        @self.tree.command(name="evening", description="A vote, as /tonight's")
        async def evening(interaction: discord.Interaction) -> None:
            answering = answer_command(interaction, "tonight", vote())
            await self.polls.answer(answering, interaction.channel_id)

        @self.tree.command(name="surprise", description="A vote, as a private command's")
        async def surprise(interaction: discord.Interaction) -> None:
            answering = answer_command(interaction, "stats", vote())
            await self.polls.answer(answering, interaction.channel_id)

        await super().setup_hook()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def fake() -> AsyncIterator[FakeDiscord]:
    saved = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    async with FakeDiscord() as server:
        use_discord_endpoints(server.url, server.gateway_url)
        try:
            yield server
        finally:
            Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def poll_chats(redis_server_url: str) -> AsyncIterator[HeldPollChats]:
    chats = HeldPollChats.connect(redis_server_url, "discord")
    yield chats
    await chats.aclose()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(fake: FakeDiscord, poll_chats: HeldPollChats) -> AsyncIterator[QuestryaBot]:
    uow = SlowUnitOfWork()
    router = build_router(lambda: uow)
    client = BotWithTestCommands(router, PollVotes(router, poll_chats))
    running = asyncio.create_task(client.start(fake.token))
    await fake.wait_until(lambda: bool(fake.gateway.live_sessions) and None in fake.commands)
    yield client
    await client.close()
    with contextlib.suppress(asyncio.CancelledError):
        await running


@pytest.fixture
def slow(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every answer takes "too long": the bot defers before it has the reply."""
    monkeypatch.setattr(responses, "DEFER_AFTER_SECONDS", 0.01)
    monkeypatch.setitem(STORAGE_DELAY, "seconds", 0.1)


async def noted_chat(poll_chats: PollChats, message: JSON) -> str | None:
    """The chat noted for the poll of `message`, once noted: the bot notes it after Discord
    has the message, so the fake may show it first. None if no note comes within NOTE_SECONDS."""
    deadline = asyncio.get_running_loop().time() + NOTE_SECONDS
    while (chat_id := await poll_chats.chat_of_latest(message["id"])) is None:
        if asyncio.get_running_loop().time() > deadline:
            return None
        await asyncio.sleep(0.01)
    return chat_id


async def in_server(fake: FakeDiscord, owner: str) -> tuple[JSON, JSON]:
    player = fake.user(owner)
    guild = await fake.add_guild(f"{owner}'s server", owner=player)
    return player, guild.channels[0]


async def test_a_slow_answer_is_deferred_then_edited_in(
    fake: FakeDiscord, bot: QuestryaBot, slow: None
) -> None:
    player, channel = await in_server(fake, "Sam")

    sent = await fake.run_command(player, channel, "stats")
    message = await fake.settled(sent)

    assert sent.response_type == DEFERRED_MESSAGE
    assert sent.response == {"type": DEFERRED_MESSAGE, "data": {"flags": shapes.EPHEMERAL}}
    assert message["flags"] == shapes.EPHEMERAL
    assert message["content"] == "No games yet. Add one with /add Hades.", fake.transcript()


async def test_a_slow_press_is_deferred_then_the_pressed_message_edited(
    fake: FakeDiscord, bot: QuestryaBot, slow: None
) -> None:
    player = fake.user("Pia")
    channel = fake.dm_channel(player)
    for number in range(11):
        # settled, not answered: a deferred /add is stored only after its defer is accepted,
        # and /backlog must see all eleven games to offer a next page.
        await fake.settled(await fake.run_command(player, channel, "add", {"title": f"G{number}"}))
    page = await fake.settled(await fake.run_command(player, channel, "backlog"))

    press = await fake.press(player, page, shapes.custom_ids(page)[0])
    edited = await fake.settled(press)

    assert press.response_type == DEFERRED_UPDATE
    assert edited["id"] == page["id"]
    assert edited["content"].startswith("Your games — open, page 2:")


async def test_public_news_after_a_private_thinking_replaces_it(
    fake: FakeDiscord, bot: QuestryaBot, slow: None
) -> None:
    player, channel = await in_server(fake, "Nia")

    sent = await fake.run_command(player, channel, "announce")
    message = await fake.settled(sent)

    assert sent.response_type == DEFERRED_MESSAGE  # privately: the reply was not known yet
    assert (message["content"], message["flags"]) == ("Big news for everyone", 0)
    assert [m["id"] for m in fake.channel_messages(channel["id"])] == [message["id"]]


async def test_a_quick_public_reply_is_public_at_once(fake: FakeDiscord, bot: QuestryaBot) -> None:
    player, channel = await in_server(fake, "Oli")

    sent = await fake.run_command(player, channel, "announce")
    message = await fake.settled(sent)

    assert sent.response_type == MESSAGE
    assert message["flags"] == 0


async def test_a_bug_is_logged_and_the_player_told_in_one_private_line(
    fake: FakeDiscord, bot: QuestryaBot, caplog: pytest.LogCaptureFixture
) -> None:
    player, channel = await in_server(fake, "Bo")

    with caplog.at_level(logging.ERROR, logger="bots.discord.responses"):
        sent = await fake.run_command(player, channel, "boom")
        message = await fake.settled(sent)

    assert (message["content"], message["flags"]) == (APOLOGY, shapes.EPHEMERAL)
    [record] = caplog.records
    assert "boom by" in record.getMessage()
    assert record.exc_info is not None
    assert "the database is on fire" in str(record.exc_info[1])


async def test_a_bug_after_a_defer_still_gets_the_apology(
    fake: FakeDiscord, bot: QuestryaBot, slow: None, caplog: pytest.LogCaptureFixture
) -> None:
    player, channel = await in_server(fake, "Cy")

    with caplog.at_level(logging.ERROR, logger="bots.discord.responses"):
        sent = await fake.run_command(player, channel, "boom")
        message = await fake.settled(sent)

    assert (message["content"], message["flags"]) == (APOLOGY, shapes.EPHEMERAL)


async def test_a_button_for_anyone_answers_the_presser_privately_in_a_server(
    fake: FakeDiscord, bot: QuestryaBot
) -> None:
    player, channel = await in_server(fake, "Ida")
    sender = DiscordSender(fake.token)
    choice = Option("Hades", "/play Hades")
    address = ChatAddress("discord", channel["id"])
    await sender.send(Notification("e", address, "Which one?", datetime.now(UTC), (choice,)))
    await sender.aclose()
    [pushed] = fake.channel_messages(channel["id"])

    press = await fake.press(player, pushed, "q|*|/play Hades")
    answer = await fake.settled(press)

    assert press.response_type == MESSAGE
    assert answer["flags"] == shapes.EPHEMERAL
    assert answer["content"].startswith('You have no game called "Hades"')
    assert fake.messages[channel["id"]][pushed["id"]]["content"] == "Which one?"  # unchanged


async def test_a_slow_vote_shows_its_thinking_publicly_then_the_poll(
    fake: FakeDiscord, bot: QuestryaBot, slow: None, poll_chats: PollChats
) -> None:
    player, channel = await in_server(fake, "Vic")

    sent = await fake.run_command(player, channel, "evening")
    message = await fake.settled(sent)

    assert sent.response == {"type": DEFERRED_MESSAGE}  # a public "thinking"
    assert answer_texts(message) == ["Hades", "Celeste"], fake.transcript()
    assert message["content"].startswith("What shall we play tonight?\n1. Hades")
    assert message["flags"] == 0
    assert [m["id"] for m in fake.channel_messages(channel["id"])] == [message["id"]]
    assert await noted_chat(poll_chats, message) == channel["id"]  # taps will count


async def test_a_slow_vote_after_a_private_thinking_is_noted_in_the_message_that_replaces_it(
    fake: FakeDiscord, bot: QuestryaBot, slow: None, poll_chats: PollChats
) -> None:
    player, channel = await in_server(fake, "Una")

    sent = await fake.run_command(player, channel, "surprise")
    message = await fake.settled(sent)

    assert sent.response == {"type": DEFERRED_MESSAGE, "data": {"flags": shapes.EPHEMERAL}}
    assert (answer_texts(message), message["flags"]) == (["Hades", "Celeste"], 0)
    assert await noted_chat(poll_chats, message) == channel["id"]


async def test_a_reply_without_a_poll_is_not_noted(
    fake: FakeDiscord, bot: QuestryaBot, poll_chats: PollChats
) -> None:
    player, channel = await in_server(fake, "Ola")

    message = await fake.settled(await fake.run_command(player, channel, "announce"))

    assert await noted_chat(poll_chats, message) is None


async def test_taps_heard_before_the_latest_poll_is_noted_wait_for_its_note(
    fake: FakeDiscord, bot: QuestryaBot, poll_chats: HeldPollChats, caplog: pytest.LogCaptureFixture
) -> None:
    player, channel = await in_server(fake, "Wes")
    older = await fake.settled(await fake.run_command(player, channel, "evening"))
    assert await noted_chat(poll_chats, older) == channel["id"]
    caplog.set_level(logging.DEBUG, logger="bots.discord.polls")

    with poll_chats.holding():
        latest = await fake.settled(await fake.run_command(player, channel, "evening"))
        heard = asyncio.gather(*(bot.wait_for("raw_poll_vote_add") for _ in range(2)))
        await fake.tap_poll(player, older, 1)
        await fake.tap_poll(player, latest, 1)
        await heard
        await asyncio.sleep(0.1)  # time enough to read the notes, had the taps not waited
        assert not tap_records(caplog), caplog.text
    outcomes = await wait_for_tap_records(caplog, 2)

    assert f"a tap on {older['id']} is not on the channel's latest poll" in outcomes
    assert any(f"a tap on poll {latest['id']} was not counted:" in text for text in outcomes)


async def test_a_poll_noted_after_a_later_one_does_not_displace_it(
    fake: FakeDiscord, bot: QuestryaBot, poll_chats: HeldPollChats
) -> None:
    player, channel = await in_server(fake, "Vik")

    with poll_chats.holding(notes=1):  # the older poll's note is slow to be written
        older = await fake.settled(await fake.run_command(player, channel, "evening"))
        latest = await fake.settled(await fake.run_command(player, channel, "evening"))
        assert await noted_chat(poll_chats, latest) == channel["id"]
        written = poll_chats.written
    await wait_for_notes(poll_chats, written + 1)

    assert await poll_chats.chat_of_latest(latest["id"]) == channel["id"]
    assert await poll_chats.chat_of_latest(older["id"]) is None


async def wait_for_notes(poll_chats: HeldPollChats, count: int) -> None:
    deadline = asyncio.get_running_loop().time() + NOTE_SECONDS
    while poll_chats.written < count:
        assert asyncio.get_running_loop().time() < deadline, "a held note was never written"
        await asyncio.sleep(0.01)


def tap_records(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What the bot logged about taps: counted (here refused: storage has no vote open), or
    not on the latest poll."""
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("a tap on")]


async def wait_for_tap_records(caplog: pytest.LogCaptureFixture, count: int) -> list[str]:
    deadline = asyncio.get_running_loop().time() + NOTE_SECONDS
    while len(records := tap_records(caplog)) < count:
        assert asyncio.get_running_loop().time() < deadline, caplog.text
        await asyncio.sleep(0.01)
    return records


async def test_someone_elses_button_on_a_public_message_is_refused_privately(
    fake: FakeDiscord, bot: QuestryaBot
) -> None:
    ann, channel = await in_server(fake, "Ann")
    ben = fake.user("Ben")
    offered = await fake.settled(await fake.run_command(ann, channel, "offer"))

    refused = await fake.settled(await fake.press(ben, offered, f"q|{ann['id']}|/stats"))
    accepted = await fake.settled(await fake.press(ann, offered, f"q|{ann['id']}|/stats"))

    assert offered["flags"] == 0  # the whole channel sees it, and its buttons
    assert (refused["content"], refused["flags"]) == (NOT_YOURS, shapes.EPHEMERAL)
    assert refused["id"] != offered["id"]
    assert accepted["id"] == offered["id"]  # Ann's own press answers in place
    assert accepted["content"] == "No games yet. Add one with /add Hades."
