"""Groups on Discord end to end: `questrya discord` and `questrya worker` as subprocesses, the real
discord.py client inside them, the fake Discord (REST and gateway) recording what they do, games
looked up on a fake RAWG (so covers are known).

On the server "Friends", Alice holds a role with Manage Server (she is not the owner), Bob shares
his completions in #general and Cara does not. Players add and finish games in their DMs with
the bot; the feed posts reach #general. One bot and one worker serve the module; the tests run
in order, as a group's evening would go.
"""

from __future__ import annotations

import functools
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio

from questrya.linking.service import ASK_IN_PRIVATE, CODE_SEEN, UNLINK_IN_PRIVATE
from tests.e2e.discord_harness import DiscordBotUnderTest, running_bot, shown_text
from tests.fakes_servers import discord_payloads as shapes
from tests.fakes_servers.discord_polls import answer_texts
from tests.fakes_servers.rawg import GAMES

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

JSON = dict[str, Any]
FEED_ON = "The feed is on: members who /share on will have their completions"
NOT_ADMIN = "Only the group's admins can turn the feed on or off."
BOBS_RECOMMENDATION = "⭐ Bob recommends Celeste · 9/10\nCeleste (2018) · "
CELESTE_COVER = next(game["background_image"] for game in GAMES if game["name"] == "Celeste")
TONIGHT = "What shall we play tonight?"
DETAILS = {"Celeste": "Celeste (2018)", "Hades": "Hades (2020)", "Hollow Knight": "Hollow Knight"}


@dataclass(frozen=True)
class Friends:
    channel: JSON  # #general of the server "Friends"
    alice: JSON  # Manage Server, through a role
    bob: JSON  # shares in #general
    cara: JSON  # a member who does not share


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(
    tmp_path_factory: pytest.TempPathFactory, redis_server_url: str
) -> AsyncIterator[DiscordBotUnderTest]:
    async with running_bot(tmp_path_factory.mktemp("discord-groups"), redis_server_url) as running:
        yield running


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def friends(bot: DiscordBotUnderTest) -> Friends:
    """The server as its members set it up: Alice turns the feed on, Bob shares, Cara keeps her
    completions to herself."""
    fake = bot.fake
    guild = await fake.add_guild("Friends", owner=fake.user("Olga"))
    mods = await fake.add_role(guild, "Mods", shapes.EVERYONE_PERMISSIONS | shapes.MANAGE_GUILD)
    alice, bob, cara = fake.user("Alice"), fake.user("Bob"), fake.user("Cara")
    fake.member(guild.id, alice, [mods["id"]])
    channel = guild.channels[0]

    feed = await bot.command(alice, channel, "feed", {"turn": "on"})
    shares = await bot.command(bob, channel, "share", {"turn": "on"})
    keeps = await bot.command(cara, channel, "share", {"turn": "off"})

    assert feed.text.startswith(FEED_ON), bot.context()
    assert not feed.ephemeral  # the channel learns its feed is on
    assert shares.text == "You share here: your completions and recommendations will be posted."
    assert keeps.text == "Your completions stay private here."
    assert shares.ephemeral
    assert keeps.ephemeral
    return Friends(channel, alice, bob, cara)


async def add_in_dm(bot: DiscordBotUnderTest, player: JSON, *titles: str) -> None:
    """Add games in the player's DM with the bot, each one's details pushed before the next."""
    dm = bot.fake.dm_channel(player)
    for title in titles:
        added = await bot.command(player, dm, "add", {"title": title})
        assert added.text.startswith(f"Added {title}"), bot.context()
        await bot.pushed(dm, functools.partial(_shows, DETAILS[title]))


def _shows(text: str, message: JSON) -> bool:
    return text in shown_text(message)


def game_id(bot: DiscordBotUnderTest, player: JSON, title: str) -> int:
    [[found]] = bot.query(
        "SELECT g.id FROM games g JOIN accounts a ON a.player_id = g.player_id "
        "WHERE a.platform = 'discord' AND a.external_id = ? AND g.title = ?",
        player["id"],
        title,
    )
    return int(found)


def posts_in(bot: DiscordBotUnderTest, channel: JSON, *, mentioning: str) -> list[JSON]:
    """The messages the worker posted to `channel` that mention `mentioning`."""
    return [
        call.response
        for call in bot.pushes_to(channel)
        if call.ok and mentioning in shown_text(call.response)
    ]


# -- the commands ------------------------------------------------------------------------------


async def test_group_and_link_commands_are_synced_with_typed_options(
    bot: DiscordBotUnderTest,
) -> None:
    commands = {command["name"]: command for command in bot.fake.commands[None]}
    options = {name: command["options"] for name, command in commands.items()}

    [turn] = options["feed"]
    assert (turn["type"], turn["required"]) == (shapes.STRING, True)
    assert [choice["value"] for choice in turn["choices"]] == ["on", "off"]
    assert options["share"][0]["choices"] == turn["choices"]
    [number] = options["vote"]
    assert (number["type"], number["min_value"], number["max_value"]) == (shapes.INTEGER, 1, 10)
    [hours] = options["next"]
    assert (hours["required"], hours["min_value"], hours["max_value"]) == (False, 1, 500)
    assert options["recommend"][0]["autocomplete"] is True
    assert [option["name"] for option in options["wish"]] == ["title", "platform"]
    assert options["link"][0]["required"] is False
    assert options["tonight"] == options["unlink"] == []
    # Offered everywhere: the router answers a group command in a DM, /link in a server.
    assert all(command["contexts"] == [0, 1] for command in commands.values())
    assert all(command["default_member_permissions"] is None for command in commands.values())


# -- the feed switch -----------------------------------------------------------------------------


async def test_a_members_feed_off_is_refused_privately_and_the_feed_stays_on(
    bot: DiscordBotUnderTest, friends: Friends
) -> None:
    refused = await bot.command(friends.bob, friends.channel, "feed", {"turn": "off"})

    assert (refused.text, refused.ephemeral) == (NOT_ADMIN, True), bot.context()
    feeds = bot.query(
        "SELECT feed_enabled FROM group_feeds WHERE platform = 'discord' AND chat_id = ?",
        friends.channel["id"],
    )
    assert feeds == [(1,)]


# -- posts to the feed ---------------------------------------------------------------------------


async def test_a_sharing_members_recommendation_reaches_the_channel_once_over_rest(
    bot: DiscordBotUnderTest, friends: Friends
) -> None:
    sessions = len(bot.fake.gateway.sessions)
    await add_in_dm(bot, friends.bob, "Celeste")
    dm = bot.fake.dm_channel(friends.bob)

    done = await bot.command(friends.bob, dm, "done", {"title": "Celeste", "rating": 9})
    post = await bot.pushed(
        friends.channel, lambda m: shown_text(m).startswith(BOBS_RECOMMENDATION)
    )
    announced = await bot.finished_job(
        f"announce-completion-{game_id(bot, friends.bob, 'Celeste')}-"
    )

    assert done.text == "Completed Celeste · 9/10. Well played!"
    assert announced.return_value() == 1, bot.context()  # one feed: #general's
    [embed] = post.response["embeds"]
    assert embed["thumbnail"]["url"] == CELESTE_COVER
    assert "Metacritic 88" in embed["description"]
    assert embed["description"].endswith("[Data: RAWG](https://rawg.io/games/celeste)")
    assert post.authorized  # the bot token, over REST
    assert post.body["allowed_mentions"] == {"parse": []}
    assert len(bot.fake.gateway.sessions) == sessions  # the worker opened no gateway session
    assert posts_in(bot, friends.channel, mentioning="recommends Celeste") == [post.response]


async def test_a_member_who_does_not_share_gets_no_feed_post(
    bot: DiscordBotUnderTest, friends: Friends
) -> None:
    await add_in_dm(bot, friends.cara, "Hades")
    dm = bot.fake.dm_channel(friends.cara)

    done = await bot.command(friends.cara, dm, "done", {"title": "Hades", "rating": 10})
    announced = await bot.finished_job(
        f"announce-completion-{game_id(bot, friends.cara, 'Hades')}-"
    )

    assert done.text == "Completed Hades · 10/10. Well played!"
    assert announced.return_value() == 0, bot.context()  # the job ran, and posted nowhere
    assert posts_in(bot, friends.channel, mentioning="Cara") == []


async def test_recommend_offers_own_games_and_posts_for_the_channel(
    bot: DiscordBotUnderTest, friends: Friends
) -> None:
    channel = friends.channel

    offered = await bot.autocomplete(friends.bob, channel, "recommend", {"title": "cel"}, "title")
    posted = await bot.command(friends.bob, channel, "recommend", {"title": "Celeste"})

    assert offered == [{"name": "Celeste", "value": "Celeste"}], bot.context()
    assert shown_text(posted.message).startswith(BOBS_RECOMMENDATION)
    assert posted.message["embeds"][0]["thumbnail"]["url"] == CELESTE_COVER
    assert not posted.ephemeral


# -- what to play together tonight --------------------------------------------------------------


async def test_tonight_opens_a_native_poll_on_the_games_both_have(
    bot: DiscordBotUnderTest, friends: Friends
) -> None:
    await add_in_dm(bot, friends.alice, "Hollow Knight", "Hades")
    await add_in_dm(bot, friends.bob, "Hades", "Hollow Knight")
    await add_in_dm(bot, friends.cara, "Hollow Knight")  # she does not share: not counted

    listing = await bot.command(friends.alice, friends.channel, "tonight")
    voted = await bot.command(friends.bob, friends.channel, "vote", {"number": 2})

    assert listing.text == (
        f"{TONIGHT}\n"
        "1. Hades — Alice, Bob · Metacritic 93\n"
        "2. Hollow Knight — Alice, Bob · Metacritic 87"
    ), bot.context()
    assert not listing.ephemeral
    poll = listing.message["poll"]
    assert poll["question"]["text"] == TONIGHT
    assert answer_texts(listing.message) == ["Hades", "Hollow Knight"]
    assert poll["allow_multiselect"] is False
    assert listing.interaction.response is not None
    assert listing.interaction.response["data"]["poll"]["duration"] == 4  # hours: the evening
    assert (voted.text, voted.ephemeral) == ("Bob voted. So far: Hades 0 · Hollow Knight 1", False)


async def test_taps_on_the_latest_poll_count_as_votes_and_taps_on_an_older_one_do_not(
    bot: DiscordBotUnderTest, friends: Friends
) -> None:
    channel = friends.channel
    older = await bot.command(friends.alice, channel, "tonight")
    latest = await bot.command(friends.alice, channel, "tonight")

    await bot.fake.tap_poll(friends.cara, older.message, 1)  # /vote counts in the latest only
    await bot.fake.tap_poll(friends.alice, latest.message, 1)
    await bot.fake.tap_poll(friends.bob, latest.message, 2)
    await bot.fake.tap_poll(friends.bob, latest.message, 2, withdrawn=True)  # /vote has no "none"
    voters = await bot.wait_until(
        "two taps counted", lambda: voters_in_latest_poll(bot, channel, at_least=2)
    )
    standing = await bot.command(friends.cara, channel, "vote", {"number": 2})

    assert voters == {friends.alice["id"], friends.bob["id"]}, bot.context()
    assert standing.text == "Cara voted. So far: Hades 1 · Hollow Knight 2"


def voters_in_latest_poll(bot: DiscordBotUnderTest, channel: JSON, *, at_least: int) -> set[str]:
    """The Discord ids of those who voted in the channel's latest poll, once there are
    `at_least` of them (none till then)."""
    rows = bot.query(
        "SELECT a.external_id FROM group_poll_votes v"
        " JOIN accounts a ON a.player_id = v.player_id AND a.platform = 'discord'"
        " WHERE v.poll_id = (SELECT MAX(id) FROM group_polls"
        " WHERE platform = 'discord' AND chat_id = ?)",
        channel["id"],
    )
    voters = {external_id for (external_id,) in rows}
    return voters if len(voters) >= at_least else set()


async def test_group_commands_in_a_dm_get_one_line(
    bot: DiscordBotUnderTest, friends: Friends
) -> None:
    dm = bot.fake.dm_channel(friends.alice)

    feed = await bot.command(friends.alice, dm, "feed", {"turn": "off"})
    tonight = await bot.command(friends.alice, dm, "tonight")

    assert feed.text == "/feed works in group chats: add me to a group and type it there."
    assert tonight.text == "/tonight works in group chats: add me to a group and type it there."
    assert "poll" not in tonight.message


# -- one backlog across platforms ---------------------------------------------------------------


async def test_link_gives_a_code_in_a_dm_only_and_a_code_typed_in_a_server_is_burnt(
    bot: DiscordBotUnderTest, friends: Friends
) -> None:
    dm, channel = bot.fake.dm_channel(friends.alice), friends.channel

    asked = await bot.command(friends.alice, dm, "link")
    match = re.search(r"Your link code is ([A-Z0-9]{4}-[A-Z0-9]{4})\.", asked.text)
    assert match is not None, bot.context()
    code = match[1]
    refused = await bot.command(friends.alice, channel, "link")
    typed_in_public = await bot.command(friends.bob, channel, "link", {"code": code})
    burnt = await bot.command(friends.bob, bot.fake.dm_channel(friends.bob), "link", {"code": code})
    unlink = await bot.command(friends.alice, channel, "unlink")

    assert asked.interaction.channel_id == dm["id"]  # a DM: only Alice sees it
    assert (refused.text, refused.ephemeral) == (ASK_IN_PRIVATE, True)
    assert (typed_in_public.text, typed_in_public.ephemeral) == (CODE_SEEN, True)
    assert burnt.text.startswith("That link code has expired;")  # burnt, not linked
    assert (unlink.text, unlink.ephemeral) == (UNLINK_IN_PRIVATE, True)


# -- last: what the logs hold --------------------------------------------------------------------


async def test_the_token_is_in_no_log_of_the_bot_or_the_worker(bot: DiscordBotUnderTest) -> None:
    logs = {path.name: path.read_text(errors="replace") for path in bot.data_dir.glob("*.log")}

    assert {"discord.log", "worker.log"} <= set(logs), bot.context()
    assert "INTERACTION_CREATE" in logs["discord.log"]  # DEBUG logging: the most logs can hold
    assert all(bot.fake.token not in text for text in logs.values())
