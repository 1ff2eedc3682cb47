"""The Discord bot end to end: `questrya discord` and `questrya worker` as subprocesses, the real
discord.py client inside them, and the fake Discord (REST and gateway) recording what they do.

One bot and one worker serve the whole module; each test plays its own users, servers and
channels so the tests do not see each other's games.
"""

from __future__ import annotations

import asyncio
import functools
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bots.discord.runner import LOGIN_REFUSED
from tests.e2e.conftest import clean_environment
from tests.e2e.discord_harness import (
    CHANNEL_MESSAGES,
    DiscordBotUnderTest,
    buttons,
    running_bot,
    shown_text,
)
from tests.fakes_servers.discord import FakeDiscord
from tests.fakes_servers.discord_gateway import COMPONENT
from tests.fakes_servers.discord_rest import CHOICES, MESSAGE, UPDATE
from tests.fakes_servers.rawg import GAMES

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

JSON = dict[str, Any]
EXPECTED_COMMANDS = [
    "start", "help", "add", "backlog", "done", "rate", "play", "pause", "drop", "remove",
    "stats", "next", "wish", "feed", "share", "recommend", "tonight", "vote", "link", "unlink",
]  # fmt: skip
HADES_COVER = next(game["background_image"] for game in GAMES if game["name"] == "Hades")
CLUB_GAMES = [
    "Hollow Knight", "Celeste", "Dead Cells", "Outer Wilds", "Disco Elysium",
    "Return of the Obra Dinn", "Slay the Spire", "Stardew Valley", "Into the Breach",
    "Inscryption", "Tunic", "Baba Is You",
]  # fmt: skip
NEXT_PAGE = "Next page ›"
PREVIOUS_PAGE = "‹ Previous page"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(
    tmp_path_factory: pytest.TempPathFactory, redis_server_url: str
) -> AsyncIterator[DiscordBotUnderTest]:
    async with running_bot(tmp_path_factory.mktemp("discord-e2e"), redis_server_url) as running:
        yield running


async def server(bot: DiscordBotUnderTest, name: str, owner: JSON) -> JSON:
    """A new server with the bot in it; its #general channel."""
    guild = await bot.fake.add_guild(name, owner=owner)
    return guild.channels[0]


# -- start-up ----------------------------------------------------------------------------------


async def test_commands_are_synced_globally_once_with_typed_options(
    bot: DiscordBotUnderTest,
) -> None:
    [sync] = [call for call in bot.fake.calls if call.route.startswith("PUT /applications/")]
    commands = {command["name"]: command for command in bot.fake.commands[None]}

    assert sync.route == "PUT /applications/{application_id}/commands", bot.context()
    assert list(commands) == EXPECTED_COMMANDS
    assert all(command["description"] for command in commands.values())
    assert all(command["contexts"] == [0, 1] for command in commands.values())  # servers, DMs
    title, rating = commands["done"]["options"]
    assert (title["type"], title["required"], title["autocomplete"]) == (3, True, True)
    assert (title["min_length"], title["max_length"]) == (1, 200)
    assert (rating["type"], rating["min_value"], rating["max_value"]) == (4, 1, 10)
    status = commands["backlog"]["options"][0]
    assert "completed" in [choice["value"] for choice in status["choices"]]
    assert bot.fake.calls[0].route == "GET /users/@me"
    assert all(call.authorized for call in bot.fake.calls if not call.route.startswith("POST /"))


async def test_commands_sync_to_the_server_in_settings_for_development(
    tmp_path: Path, redis_server_url: str
) -> None:
    async with running_bot(tmp_path, redis_server_url, dev_server="Dev", worker=False) as dev:
        [guild] = dev.fake.guilds.values()
        [sync] = [call for call in dev.fake.calls if call.route.startswith("PUT /applications/")]
        developer = guild.members[guild.owner_id]["user"]

        answer = await dev.command(developer, guild.channels[0], "start")

    assert sync.route == "PUT /applications/{application_id}/guilds/{guild_id}/commands"
    assert sync.params["guild_id"] == guild.id
    assert [command["name"] for command in dev.fake.commands[guild.id]] == EXPECTED_COMMANDS
    assert None not in dev.fake.commands  # nothing synced globally
    assert answer.text.startswith("Hi Developer!")
    with pytest.raises(ValueError, match="no command /start"):  # not in DMs, as on Discord
        await dev.fake.run_command(developer, dev.fake.dm_channel(developer), "start")


async def test_a_refused_token_stops_the_bot_with_one_line(tmp_path: Path) -> None:
    async with FakeDiscord() as fake:
        settings = {"QUESTRYA_DISCORD_TOKEN": "not-the-token", "QUESTRYA_DISCORD_API_URL": fake.url}
        environment = clean_environment(tmp_path, **settings)
        command = [sys.executable, "-m", "questrya.cli", "discord"]
        run = functools.partial(subprocess.run, command, env=environment, capture_output=True)
        result = await asyncio.to_thread(run, text=True, timeout=60, check=False)

    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == f"Error: {LOGIN_REFUSED}"
    assert "Traceback" not in result.stderr
    assert "not-the-token" not in result.stdout + result.stderr
    assert [call.route for call in fake.calls] == ["GET /users/@me"]


# -- the basics --------------------------------------------------------------------------------


async def test_commands_work_in_dms_and_answer_there_for_all_to_see(
    bot: DiscordBotUnderTest,
) -> None:
    alice = bot.fake.user("Alice")

    answer = await bot.command(alice, bot.fake.dm_channel(alice), "start")

    assert answer.text.startswith("Hi Alice! I keep your video-game backlog."), bot.context()
    assert answer.interaction.response_type == MESSAGE
    assert not answer.ephemeral


async def test_add_offers_catalog_titles_then_own_titles_as_you_type(
    bot: DiscordBotUnderTest,
) -> None:
    ada = bot.fake.user("Ada")
    channel = await server(bot, "Ada's server", ada)

    offered = await bot.autocomplete(ada, channel, "add", {"title": "hollow"}, "title")
    added = await bot.command(ada, channel, "add", {"title": offered[0]["value"]})
    everything = await bot.autocomplete(ada, channel, "add", {"title": "the"}, "title")
    own = await bot.autocomplete(ada, channel, "done", {"title": "holl"}, "title")

    assert offered[0] == {"name": "Hollow Knight", "value": "Hollow Knight"}, bot.context()
    assert added.text == "Added Hollow Knight to your backlog. I'll look up its details."
    assert added.ephemeral  # a personal answer, in a server
    assert len(everything) > 1
    assert len(everything) <= 25  # Discord's cap on choices
    assert own == [{"name": "Hollow Knight", "value": "Hollow Knight"}]


async def test_the_worker_pushes_the_details_as_an_embed_over_rest(
    bot: DiscordBotUnderTest,
) -> None:
    hugo = bot.fake.user("Hugo")
    channel = await server(bot, "Hugo's server", hugo)
    sessions = len(bot.fake.gateway.sessions)

    await bot.command(hugo, channel, "add", {"title": "Hades", "platform": "PC"})
    push = await bot.pushed(channel, lambda message: "Hades (2020)" in shown_text(message))

    [embed] = push.response["embeds"]
    assert embed["thumbnail"]["url"] == HADES_COVER
    assert "Metacritic 93" in embed["description"]
    assert embed["description"].endswith("[Data: RAWG](https://rawg.io/games/hades-2)")
    assert push.authorized  # the bot token, over REST
    assert push.body["allowed_mentions"] == {"parse": []}
    assert len(bot.fake.gateway.sessions) == sessions  # the worker opened no gateway session
    assert len(bot.pushes_to(channel)) == 1


async def test_done_with_a_rating_is_public_news(bot: DiscordBotUnderTest) -> None:
    dana = bot.fake.user("Dana")
    channel = await server(bot, "Dana's server", dana)
    await bot.command(dana, channel, "add", {"title": "Celeste"})

    done = await bot.command(dana, channel, "done", {"title": "Celeste", "rating": 9})

    assert done.text == "Completed Celeste · 9/10. Well played!", bot.context()
    assert not done.ephemeral


async def test_bad_input_gets_one_clear_private_line(bot: DiscordBotUnderTest) -> None:
    carol = bot.fake.user("Carol")
    channel = await server(bot, "Carol's server", carol)

    answer = await bot.command(carol, channel, "play", {"title": "Factorio"})

    assert answer.text == 'You have no game called "Factorio". See your games with /backlog all.'
    assert answer.ephemeral
    assert answer.message["components"] == []
    with pytest.raises(ValueError, match="within"):  # Discord itself refuses a rating of 11
        await bot.fake.run_command(carol, channel, "done", {"title": "Factorio", "rating": 11})


# -- buttons -----------------------------------------------------------------------------------


async def test_a_did_you_mean_is_its_players_alone_and_her_answer_public_news(
    bot: DiscordBotUnderTest,
) -> None:
    bea, bob = bot.fake.user("Bea"), bot.fake.user("Bob")
    channel = await server(bot, "The club", bea)
    for title in ("Dark Souls", "Dark Souls III"):
        await bot.command(bea, channel, "add", {"title": title})
    # A refusal of /done is private like any other: its buttons would show Bea's games.
    asked = await bot.command(bea, channel, "done", {"title": "souls", "rating": 8})

    with pytest.raises(ValueError, match="ephemeral"):  # Bob's Discord does not show it
        await bot.fake.press(bob, asked.message, buttons(asked.message)["Dark Souls III"])
    accepted = await bot.press(bea, asked.message, "Dark Souls III")

    assert asked.text.startswith('"souls" matches more than one of your games.'), bot.context()
    assert asked.ephemeral
    assert accepted.interaction.response_type == MESSAGE  # a new message, for the channel
    assert accepted.message["id"] != asked.message["id"]
    assert accepted.text == "Completed Dark Souls III · 8/10. Well played!"
    assert buttons(accepted.message) == {}
    assert not accepted.ephemeral


# -- mentions and rate limits -------------------------------------------------------------------


async def test_everyone_in_a_title_pings_no_one(bot: DiscordBotUnderTest) -> None:
    eve = bot.fake.user("Eve")
    channel = await server(bot, "Eve's server", eve)
    title = "@everyone party"

    await bot.command(eve, channel, "add", {"title": title})
    done = await bot.command(eve, channel, "done", {"title": title})
    push = await bot.pushed(channel, lambda message: "@everyone party" in shown_text(message))

    assert done.text == "Completed @everyone party. Well played!", bot.context()
    assert not done.ephemeral
    assert done.interaction.response["data"]["allowed_mentions"] == {"parse": []}
    assert push.body["allowed_mentions"] == {"parse": []}
    for message in (done.message, push.response):
        assert (message["mention_everyone"], message["mentions"]) == (False, [])


async def test_a_429_on_a_pushed_message_is_waited_out_and_sent_once(
    bot: DiscordBotUnderTest,
) -> None:
    retry_after = 1.0
    dave = bot.fake.user("Dave")
    channel = await server(bot, "Dave's server", dave)
    bot.fake.fail_next(CHANNEL_MESSAGES, retry_after=retry_after, channel_id=channel["id"])

    await bot.command(dave, channel, "add", {"title": "Celeste"})
    push = await bot.pushed(channel, lambda message: "Celeste (2018)" in shown_text(message))

    refused, delivered = bot.pushes_to(channel)
    assert (refused.status, delivered.status) == (429, 200), bot.context()
    assert delivered is push
    assert delivered.time - refused.time >= retry_after
    sent = [
        m for m in bot.fake.channel_messages(channel["id"]) if "Celeste (2018)" in shown_text(m)
    ]
    assert len(sent) == 1
    await bot.wait_until("the sent notification", lambda: _states(bot, channel) == ["sent"])
    assert len(bot.pushes_to(channel)) == 2  # and nothing more once it is settled


# -- a server that removed the bot ---------------------------------------------------------------


async def test_a_push_to_a_server_that_removed_the_bot_disables_the_channel(
    bot: DiscordBotUnderTest,
) -> None:
    erin = bot.fake.user("Erin")
    channel = await server(bot, "Left server", erin)
    await bot.stop_worker()  # the push waits in the queue until the bot has been removed
    await bot.command(erin, channel, "add", {"title": "Hades"})
    bot.fake.remove_bot_from(channel["guild_id"])
    await bot.start_worker()

    refused = await bot.wait_until("a refused push", lambda: bot.pushes_to(channel), 30)

    assert [call.status for call in refused] == [403], bot.context()
    await bot.wait_until("the dropped notification", lambda: _states(bot, channel) == ["dropped"])
    assert bot.query("SELECT chat_id FROM disabled_chats WHERE platform = 'discord'") == [
        (channel["id"],)
    ]


def _states(bot: DiscordBotUnderTest, channel: JSON) -> list[str]:
    rows = bot.query("SELECT state FROM notifications WHERE chat_id = ?", channel["id"])
    return [state for (state,) in rows]


# -- pages: last but one, as the twelve pushes they cause queue behind all else --------------


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def paula(bot: DiscordBotUnderTest) -> tuple[JSON, JSON]:
    """A player with twelve games, added in her DM with the bot: (paula, her DM channel)."""
    player = bot.fake.user("Paula")
    channel = bot.fake.dm_channel(player)
    for title in CLUB_GAMES:
        added = await bot.command(player, channel, "add", {"title": title})
        assert added.text.startswith(f"Added {title}"), bot.context()
    return player, channel


async def test_backlog_pages_turn_with_buttons_in_place(
    bot: DiscordBotUnderTest, paula: tuple[JSON, JSON]
) -> None:
    player, _ = paula
    channel = await server(bot, "Paula's server", player)

    first = await bot.command(player, channel, "backlog")
    second = await bot.press(player, first.message, NEXT_PAGE)
    back = await bot.press(player, second.message, PREVIOUS_PAGE)

    assert first.text.startswith("Your games — open, page 1:\n"), bot.context()
    assert first.ephemeral
    assert buttons(first.message) == {NEXT_PAGE: f"q|{player['id']}|/backlog open 2"}
    assert second.interaction.response_type == UPDATE
    assert second.message["id"] == first.message["id"]  # the same message, edited
    assert second.text.startswith("Your games — open, page 2:\n")
    assert len(second.text.splitlines()) == 1 + len(CLUB_GAMES) - 10
    assert buttons(second.message) == {PREVIOUS_PAGE: f"q|{player['id']}|/backlog open 1"}
    assert back.text == first.text


# -- last: what the logs hold --------------------------------------------------------------------


async def test_the_token_is_in_no_log(bot: DiscordBotUnderTest) -> None:
    logs = "".join(path.read_text(errors="replace") for path in bot.data_dir.glob("*.log"))

    assert f"synced {len(EXPECTED_COMMANDS)} commands globally" in logs
    assert "INTERACTION_CREATE" in logs  # DEBUG logging was on: the most the logs could hold
    assert bot.fake.token not in logs
    assert COMPONENT in {i.type for i in bot.fake.interactions.values()}
    assert CHOICES in {i.response_type for i in bot.fake.interactions.values()}
