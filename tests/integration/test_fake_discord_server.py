"""The fake Discord against the real, unmodified discord.py client, in this process: login,
gateway, command sync, interactions and their callbacks, followups, channel messages, polls,
429s."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Mapping
from typing import Literal

import aiohttp
import discord
import pytest
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from tests.fakes_servers import discord_payloads as shapes
from tests.fakes_servers.discord import FakeDiscord
from tests.fakes_servers.discord_polls import answer_texts
from tests.fakes_servers.discord_rest import (
    CHOICES,
    DEFERRED_MESSAGE,
    MESSAGE,
    UPDATE,
)

CHANNEL_MESSAGES = "POST /channels/{channel_id}/messages"


class TinyBot(discord.Client):
    """A bot with /echo (a button that edits its message), /slow (defers), /pick
    (autocomplete) and /vote (a poll, three ways), registered and synced the usual way."""

    def __init__(self) -> None:
        # No servers at start: waiting 2 s for their GUILD_CREATEs would only slow the tests.
        super().__init__(intents=discord.Intents.default(), guild_ready_timeout=0.1)
        self.tree = app_commands.CommandTree(self)
        self.slow_done = asyncio.Event()
        self.refusals: list[discord.HTTPException] = []

    async def setup_hook(self) -> None:
        tree = self.tree

        @tree.command(description="Say it back")
        async def echo(
            interaction: discord.Interaction, text: str, times: app_commands.Range[int, 1, 3] = 1
        ) -> None:
            view = discord.ui.View(timeout=None)
            view.add_item(discord.ui.Button(label="Again", custom_id="again"))
            await interaction.response.send_message(
                " ".join([text] * times), view=view, ephemeral=True
            )

        @tree.command(description="Takes its time")
        async def slow(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True)
            await interaction.followup.send("finally")
            self.slow_done.set()

        async def complete(
            interaction: discord.Interaction, typed: str
        ) -> list[app_commands.Choice[str]]:
            return [
                app_commands.Choice(name=f"{typed} {n}", value=f"{typed}-{n}") for n in range(3)
            ]

        @tree.command(description="Pick one")
        @app_commands.autocomplete(title=complete)
        async def pick(interaction: discord.Interaction, title: str) -> None:
            await interaction.response.send_message(title)

        @tree.command(description="Open a vote")
        async def vote(
            interaction: discord.Interaction,
            how: Literal["at once", "deferred", "followup"] = "at once",
        ) -> None:
            if how == "at once":
                await interaction.response.send_message("Tonight?", poll=tonight_poll())
                return
            await interaction.response.defer(thinking=True)
            if how == "deferred":
                await interaction.edit_original_response(content="Tonight?", poll=tonight_poll())
                return
            try:
                await interaction.followup.send(poll=tonight_poll())
            except discord.HTTPException as refused:
                self.refusals.append(refused)
                await interaction.followup.send("no poll")

        await tree.sync()

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        if interaction.type is discord.InteractionType.component:
            await interaction.response.edit_message(content="pressed", view=None)


def tonight_poll(*answers: str) -> discord.Poll:
    poll = discord.Poll("What shall we play?", dt.timedelta(hours=4))
    for answer in answers or ("Hades", "Celeste"):
        poll.add_answer(text=answer)
    return poll


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        monkeypatch.setattr(Route, "BASE", server.api_url)
        monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(server.gateway_url))
        yield server


@pytest.fixture
async def bot(fake: FakeDiscord) -> AsyncIterator[TinyBot]:
    client = TinyBot()
    running = asyncio.create_task(client.start(fake.token))
    try:
        await asyncio.wait_for(client.wait_until_ready(), 10)
        yield client
    finally:
        await client.close()
        with contextlib.suppress(asyncio.CancelledError):
            await running


async def test_login_identify_ready_and_command_sync(fake: FakeDiscord, bot: TinyBot) -> None:
    assert bot.user is not None
    assert str(bot.user.id) == fake.bot["id"]
    assert bot.application_id == int(fake.application_id)
    [session] = fake.gateway.live_sessions
    identify = next(f.payload for f in fake.gateway.frames if f.payload.get("op") == 2)
    assert identify["d"]["token"] == fake.token
    assert identify["d"]["intents"] == discord.Intents.default().value
    assert session.intents & shapes.PRIVILEGED_INTENTS == 0
    assert [c["name"] for c in fake.commands[None]] == ["echo", "slow", "pick", "vote"]
    assert all(call.authorized for call in fake.calls)


async def test_a_slash_command_and_a_button_on_its_ephemeral_answer(
    fake: FakeDiscord, bot: TinyBot
) -> None:
    alice = fake.user("Alice")
    guild = await fake.add_guild("Club", owner=alice)
    channel = guild.channels[0]

    sent = await fake.answered(
        await fake.run_command(alice, channel, "echo", {"text": "hi", "times": 2})
    )
    [answer] = fake.channel_messages(channel["id"])
    press = await fake.answered(await fake.press(alice, answer, "again"))

    assert sent.response_type == MESSAGE
    assert answer["flags"] & shapes.EPHEMERAL
    assert answer["interaction_metadata"]["user"]["id"] == alice["id"]
    assert press.response_type == UPDATE
    assert fake.channel_messages(channel["id"])[0]["content"] == "pressed"
    assert fake.channel_messages(channel["id"])[0]["components"] == []
    with pytest.raises(ValueError, match="ephemeral"):
        await fake.press(fake.user("Bob"), answer, "again")


async def test_a_deferred_answer_is_one_message_that_stops_loading(
    fake: FakeDiscord, bot: TinyBot
) -> None:
    alice = fake.user("Alice")
    channel = fake.dm_channel(alice)

    sent = await fake.answered(await fake.run_command(alice, channel, "slow"))
    await asyncio.wait_for(bot.slow_done.wait(), 10)

    [message] = fake.channel_messages(channel["id"])
    assert sent.response_type == DEFERRED_MESSAGE
    assert (message["content"], message["flags"]) == ("finally", 0)
    assert sent.followup_ids == []


async def test_autocomplete_answers_choices(fake: FakeDiscord, bot: TinyBot) -> None:
    alice = fake.user("Alice")
    typed = await fake.autocomplete(alice, fake.dm_channel(alice), "pick", {"title": "ha"}, "title")

    await fake.answered(typed)

    assert typed.response_type == CHOICES
    assert typed.response is not None
    assert [c["value"] for c in typed.response["data"]["choices"]] == ["ha-0", "ha-1", "ha-2"]


async def test_what_discords_client_would_not_send_is_refused(
    fake: FakeDiscord, bot: TinyBot
) -> None:
    alice = fake.user("Alice")
    channel = fake.dm_channel(alice)

    with pytest.raises(ValueError, match="within"):
        await fake.run_command(alice, channel, "echo", {"text": "hi", "times": 4})
    with pytest.raises(ValueError, match="requires"):
        await fake.run_command(alice, channel, "echo", {})
    with pytest.raises(ValueError, match="no command"):
        await fake.run_command(alice, channel, "frobnicate")


async def test_a_second_callback_is_refused(fake: FakeDiscord, bot: TinyBot) -> None:
    alice = fake.user("Alice")
    sent = await fake.answered(
        await fake.run_command(alice, fake.dm_channel(alice), "pick", {"title": "x"})
    )
    interaction = discord.Interaction(data=sent.payload, state=bot._connection)

    with pytest.raises(discord.HTTPException) as refused:
        await interaction.response.send_message("again")

    assert (refused.value.status, refused.value.code) == (400, 40060)


async def test_a_429_is_waited_out_and_the_message_sent_once(
    fake: FakeDiscord, bot: TinyBot
) -> None:
    alice = fake.user("Alice")
    guild = await fake.add_guild("Club", owner=alice)
    channel = bot.get_partial_messageable(int(guild.channels[0]["id"]))
    fake.fail_next(CHANNEL_MESSAGES, retry_after=0.3, channel_id=guild.channels[0]["id"])

    await channel.send("@everyone hello", allowed_mentions=discord.AllowedMentions.none())

    refused, accepted = fake.calls_to(CHANNEL_MESSAGES)
    assert (refused.status, accepted.status) == (429, 200)
    assert accepted.body["allowed_mentions"] == {"parse": []}
    [message] = fake.channel_messages(guild.channels[0]["id"])
    assert message["mention_everyone"] is False


async def test_the_channel_bucket_is_announced_and_enforced(
    fake: FakeDiscord, bot: TinyBot
) -> None:
    fake.message_limit = (2, 0.5)
    alice = fake.user("Alice")
    guild = await fake.add_guild("Club", owner=alice)
    channel_id = guild.channels[0]["id"]

    for number in range(5):
        await bot.get_partial_messageable(int(channel_id)).send(f"message {number}")

    calls = fake.calls_to(CHANNEL_MESSAGES)
    # discord.py read the bucket headers and waited before each third send: no 429 at all.
    assert [call.status for call in calls] == [200] * 5
    assert calls[2].time - calls[0].time >= 0.5 - 0.01
    assert len(fake.channel_messages(channel_id)) == 5
    await asyncio.sleep(0.5)
    statuses = [await _raw_send(fake, channel_id) for _ in range(3)]  # a client that ignores it
    assert [status for status, _ in statuses] == [200, 200, 429]
    assert statuses[2][1]["Via"]
    assert float(statuses[2][1]["X-RateLimit-Reset-After"]) <= 0.5


async def _raw_send(fake: FakeDiscord, channel_id: str) -> tuple[int, Mapping[str, str]]:
    async with aiohttp.ClientSession(headers={"Authorization": f"Bot {fake.token}"}) as session:
        url = f"{fake.api_url}/channels/{channel_id}/messages"
        async with session.post(url, json={"content": "raw"}) as response:
            return response.status, response.headers


async def test_unreachable_channels_answer_403_and_404(fake: FakeDiscord, bot: TinyBot) -> None:
    alice = fake.user("Alice")
    kicked, deleted = (
        await fake.add_guild("Gone", owner=alice),
        await fake.add_guild("Old", owner=alice),
    )
    fake.remove_bot_from(kicked.id)
    fake.delete_channel(deleted.channels[0]["id"])

    with pytest.raises(discord.Forbidden) as forbidden:
        await bot.get_partial_messageable(int(kicked.channels[0]["id"])).send("hi")
    with pytest.raises(discord.NotFound) as not_found:
        await bot.get_partial_messageable(int(deleted.channels[0]["id"])).send("hi")

    assert (forbidden.value.code, not_found.value.code) == (50001, 10003)


async def test_a_zlib_stream_gateway_carries_many_dispatches_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with FakeDiscord(compress_gateway=True) as compressed:
        monkeypatch.setattr(Route, "BASE", compressed.api_url)
        monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(compressed.gateway_url))
        client = TinyBot()
        running = asyncio.create_task(client.start(compressed.token))
        try:
            await asyncio.wait_for(client.wait_until_ready(), 10)
            [session] = compressed.gateway.live_sessions
            alice = compressed.user("Alice")
            channel = compressed.dm_channel(alice)
            texts = [f"hi {n}" for n in range(30)]
            sent = await asyncio.gather(
                *(compressed.run_command(alice, channel, "echo", {"text": t}) for t in texts)
            )
            answered = [await compressed.answered(interaction) for interaction in sent]
            assert session.conn is not None
            assert session.conn.compressor is not None  # discord.py asked for zlib-stream
        finally:
            await client.close()
            with contextlib.suppress(asyncio.CancelledError):
                await running

    # One stream, never broken: a frame out of order would have made discord.py reconnect.
    received = [
        frame.payload["op"] for frame in compressed.gateway.frames if frame.direction == "received"
    ]
    assert received.count(2) == 1  # one IDENTIFY
    assert 6 not in received  # and no RESUME
    assert [i.response["data"]["content"] for i in answered if i.response] == texts


async def test_a_wrong_token_cannot_log_in(fake: FakeDiscord) -> None:
    client = discord.Client(intents=discord.Intents.none())
    with pytest.raises(discord.LoginFailure):
        await client.login("not-the-token")
    await client.close()


async def test_a_dropped_connection_is_resumed_and_missed_events_replayed(
    fake: FakeDiscord, bot: TinyBot
) -> None:
    alice = fake.user("Alice")
    [session] = fake.gateway.live_sessions

    await fake.gateway.close(code=4000)  # as a network drop: discord.py resumes
    missed = await fake.run_command(alice, fake.dm_channel(alice), "pick", {"title": "x"})
    await fake.answered(missed)

    resumes = [f.payload for f in fake.gateway.frames if f.payload.get("op") == 6]
    assert [resume["d"]["session_id"] for resume in resumes] == [session.session_id]
    assert fake.gateway.live_sessions == [session]  # the same session, not a new IDENTIFY
    assert missed.response_type == MESSAGE  # dispatched while away, replayed on RESUME


# -- polls ---------------------------------------------------------------------------------------


async def test_a_poll_in_a_channel_message_is_stored_as_discord_stores_it(
    fake: FakeDiscord, bot: TinyBot
) -> None:
    guild = await fake.add_guild("Club", owner=fake.user("Alice"))
    channel = bot.get_partial_messageable(int(guild.channels[0]["id"]))

    sent = await channel.send(poll=tonight_poll())

    [call] = fake.calls_to(CHANNEL_MESSAGES)
    assert call.body["poll"]["duration"] == 4
    [stored] = fake.channel_messages(guild.channels[0]["id"])
    assert [a["answer_id"] for a in stored["poll"]["answers"]] == [1, 2]
    assert answer_texts(stored) == ["Hades", "Celeste"]
    assert stored["poll"]["allow_multiselect"] is False
    # discord.py reads the stored poll back: the shapes agree.
    assert sent.poll is not None
    assert (sent.poll.question, [a.text for a in sent.poll.answers]) == (
        "What shall we play?",
        ["Hades", "Celeste"],
    )
    assert sent.poll.duration == dt.timedelta(hours=4)


async def test_a_poll_discord_would_refuse_is_refused(fake: FakeDiscord, bot: TinyBot) -> None:
    guild = await fake.add_guild("Club", owner=fake.user("Alice"))
    channel = bot.get_partial_messageable(int(guild.channels[0]["id"]))

    with pytest.raises(discord.HTTPException) as refused:
        await channel.send(poll=tonight_poll("Hades", "x" * 56))

    assert (refused.value.status, refused.value.code) == (400, 50035)
    assert "between 1 and 55" in refused.value.text
    assert fake.channel_messages(guild.channels[0]["id"]) == []


@pytest.mark.parametrize("how", ["at once", "deferred"])
async def test_an_interactions_answer_can_open_a_poll(
    fake: FakeDiscord, bot: TinyBot, how: str
) -> None:
    alice = fake.user("Alice")
    guild = await fake.add_guild("Club", owner=alice)

    sent = await fake.run_command(alice, guild.channels[0], "vote", {"how": how})
    message = await fake.settled(sent)

    assert (message["content"], answer_texts(message)) == ("Tonight?", ["Hades", "Celeste"])
    assert message["flags"] == 0


async def test_a_followup_filling_a_deferred_answer_drops_its_poll_as_discord_does(
    fake: FakeDiscord, bot: TinyBot
) -> None:
    alice = fake.user("Alice")
    channel = fake.dm_channel(alice)

    message = await fake.settled(
        await fake.run_command(alice, channel, "vote", {"how": "followup"})
    )

    [refused] = bot.refusals
    assert (refused.status, refused.code) == (400, 50006)  # a poll alone: an empty message
    assert (message["content"], message.get("poll")) == ("no poll", None)
