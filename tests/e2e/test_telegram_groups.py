"""Groups on Telegram end to end: `questrya telegram` and `questrya worker` as subprocesses, the
real python-telegram-bot inside them, the fake Bot API recording every call, games looked up on
a fake RAWG (so covers are known).

In the group "Friends", Alice is a chat administrator, Bob shares his completions and Cara
does not. One bot and one worker serve the module; the tests run in order, as a group's evening
would go.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
import redis

from bots.telegram.handlers import NOT_YOURS
from questrya.linking.service import ASK_IN_PRIVATE, UNLINK_IN_PRIVATE
from tests.e2e.telegram_harness import TelegramBotUnderTest, buttons, running_bot, shown_text
from tests.fakes_servers.telegram import Call

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

JSON = dict[str, Any]
FEED_ON = "The feed is on: members who /share on will have their completions"
NOT_ADMIN = "Only the group's admins can turn the feed on or off."
BOBS_RECOMMENDATION = "⭐ Bob recommends Celeste · 9/10\nCeleste (2018) · "
CELESTE_COVER = "https://media.rawg.io/media/games/594/59487800889ebac294c7c2c070d02356.jpg"
ZELDAS = ("The Legend of Zelda: Breath of the Wild", "The Legend of Zelda: Link's Awakening")


@dataclass(frozen=True)
class Friends:
    group: JSON
    alice: JSON  # a chat administrator
    bob: JSON  # shares in the group
    cara: JSON  # a member who does not share

    def private(self, bot: TelegramBotUnderTest, user: JSON) -> JSON:
        return bot.api.private_chat(user)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(
    tmp_path_factory: pytest.TempPathFactory, redis_server_url: str
) -> AsyncIterator[TelegramBotUnderTest]:
    data_dir = tmp_path_factory.mktemp("telegram-groups")
    async with running_bot(data_dir, redis_server_url, rawg=True) as running:
        yield running


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def friends(bot: TelegramBotUnderTest) -> Friends:
    """The group as its members set it up: Alice turns the feed on, Bob shares, Cara keeps her
    completions to herself."""
    api = bot.api
    group = api.group_chat(-100_4601, "Friends", "supergroup")
    alice, bob, cara = (
        api.user(1601, "Alice", "alice"),
        api.user(1602, "Bob"),
        api.user(1603, "Cara"),
    )
    api.set_admins(group, alice)
    setup = [(alice, "/feed on"), (bob, "/share on"), (cara, "/share off")]
    answers = [shown_text(await bot.say(group, user, typed)) for user, typed in setup]
    assert answers[0].startswith(FEED_ON), bot.context()
    assert answers[1:] == [
        "You share here: your completions and recommendations will be posted.",
        "Your completions stay private here.",
    ]
    return Friends(group, alice, bob, cara)


async def add_in_private(bot: TelegramBotUnderTest, user: JSON, *titles: str) -> None:
    """Add games in the player's private chat, each one's details pushed before the next."""
    chat = bot.api.private_chat(user)
    for title in titles:
        await bot.say(chat, user, f"/add {title}")
        await bot.wait_until(f"the details of {title}", _pushed_after_answer(bot, chat, title))


def _pushed_after_answer(
    bot: TelegramBotUnderTest, chat: JSON, title: str
) -> Callable[[], Call | None]:
    """A probe: the chat's latest message, once it is no longer the answer to /add."""

    def probe() -> Call | None:
        sends = [call for call in bot.sends_to(chat) if call.ok]
        last = sends[-1] if sends else None
        answered = last is not None and shown_text(last).startswith(f"Added {title}")
        return None if answered or last is None else last

    return probe


def group_posts(bot: TelegramBotUnderTest, friends: Friends, starting: str) -> list[Call]:
    sends = bot.sends_to(friends.group)
    return [call for call in sends if call.ok and shown_text(call).startswith(starting)]


# -- the feed switch -----------------------------------------------------------------------------


async def test_a_members_feed_off_is_refused_and_the_feed_stays_on(
    bot: TelegramBotUnderTest, friends: Friends
) -> None:
    refused = await bot.say(friends.group, friends.bob, "/feed off")

    assert shown_text(refused) == NOT_ADMIN, bot.context()
    asked = [call.params["user_id"] for call in bot.api.calls_to("getChatMember")]
    assert asked == [friends.alice["id"], friends.bob["id"]]  # only /feed asked, each time
    feeds = bot.query("SELECT feed_enabled FROM group_feeds WHERE platform = 'telegram'")
    assert feeds == [(1,)]


# -- posts to the feed ---------------------------------------------------------------------------


async def test_a_sharing_members_recommendation_reaches_the_feed_once(
    bot: TelegramBotUnderTest, friends: Friends
) -> None:
    await add_in_private(bot, friends.bob, "Celeste")
    done = await bot.say(friends.private(bot, friends.bob), friends.bob, "/done Celeste 9")
    post = await bot.pushed(friends.group, BOBS_RECOMMENDATION)
    [game_id] = bot.query("SELECT id FROM games WHERE title = 'Celeste'")[0]
    announced = await bot.finished_job(f"announce-completion-{game_id}-")

    assert shown_text(done) == "Completed Celeste · 9/10. Well played!"
    assert announced.return_value() == 1  # one feed: the group's
    assert (post.method, post.params["photo"]) == ("sendPhoto", CELESTE_COVER), bot.context()
    assert "Metacritic 88 · ~8 h" in shown_text(post)
    assert post.params["parse_mode"] == "HTML"
    assert group_posts(bot, friends, "⭐ Bob recommends Celeste") == [post]


async def test_a_member_who_does_not_share_gets_no_feed_post(
    bot: TelegramBotUnderTest, friends: Friends
) -> None:
    await add_in_private(bot, friends.cara, "Hades")
    done = await bot.say(friends.private(bot, friends.cara), friends.cara, "/done Hades 10")
    [[game_id]] = bot.query(
        "SELECT g.id FROM games g JOIN accounts a ON a.player_id = g.player_id "
        "WHERE a.external_id = ? AND g.title = 'Hades'",
        str(friends.cara["id"]),
    )
    announced = await bot.finished_job(f"announce-completion-{game_id}-")

    assert shown_text(done) == "Completed Hades · 10/10. Well played!"
    assert announced.return_value() == 0, bot.context()
    assert not [call for call in bot.sends_to(friends.group) if "Cara" in shown_text(call)]


# -- what to play together tonight --------------------------------------------------------------


async def test_tonight_opens_a_native_poll_on_the_games_both_have_and_a_tap_counts(
    bot: TelegramBotUnderTest, friends: Friends
) -> None:
    await add_in_private(bot, friends.alice, "Hollow Knight", "Hades")
    await add_in_private(bot, friends.bob, "Hades", "Hollow Knight")
    await add_in_private(bot, friends.cara, "Hollow Knight")  # she does not share: not counted
    since = len(bot.api.calls)

    listing = await bot.say(friends.group, friends.alice, "/tonight")
    poll = await bot.poll_sent(friends.group, since)
    bot.tap_poll(friends.group, friends.bob, poll, option=1)
    vote = await bot.say(friends.group, friends.alice, "/vote 1")

    assert shown_text(listing) == (
        "What shall we play tonight?\n"
        "1. Hades — Alice, Bob · Metacritic 93\n"
        "2. Hollow Knight — Alice, Bob · Metacritic 87"
    ), bot.context()
    assert poll.params["question"] == "What shall we play tonight?"
    assert [option["text"] for option in poll.params["options"]] == ["Hades", "Hollow Knight"]
    assert poll.params["is_anonymous"] is False
    assert poll.time > listing.time
    # Bob's tap on the native poll was counted before Alice's typed vote.
    assert shown_text(vote) == "Alice voted. So far: Hades 1 · Hollow Knight 1"


# -- buttons -------------------------------------------------------------------------------------


async def test_pressing_someone_elses_choice_button_changes_nothing(
    bot: TelegramBotUnderTest, friends: Friends
) -> None:
    await add_in_private(bot, friends.bob, *ZELDAS)
    question = await bot.say(friends.group, friends.bob, "/done zelda 9")
    question_id, choices = question.result["message_id"], buttons(question)

    refused = await bot.press(friends.group, friends.alice, question_id, choices[ZELDAS[1]])
    since = len(bot.api.calls)
    accepted = await bot.press(friends.group, friends.bob, question_id, choices[ZELDAS[1]])
    resolved = await bot.edited(friends.group, question_id, since)

    assert shown_text(question) == '"zelda" matches more than one of your games. Which one?'
    assert refused.params.get("text") == NOT_YOURS
    assert accepted.ok
    # Had Alice's press done anything, its edit would come first: updates are handled in order.
    assert bot.edits_of(friends.group, question_id) == [resolved], bot.context()
    assert shown_text(resolved) == f"Completed {ZELDAS[1]} · 9/10. Well played!"
    assert bot.query("SELECT title, status FROM games WHERE title LIKE 'The Legend%'") == [
        (ZELDAS[0], "backlog"),
        (ZELDAS[1], "completed"),
    ]


# -- in a private chat ---------------------------------------------------------------------------


async def test_next_in_a_private_chat_ranks_the_players_own_backlog(
    bot: TelegramBotUnderTest, friends: Friends
) -> None:
    answer = await bot.say(friends.private(bot, friends.alice), friends.alice, "/next 20")

    lines = shown_text(answer).splitlines()
    assert lines[0] == "Play next:", bot.context()
    assert [line.split(" — ")[0] for line in lines[1:]] == ["1. Hollow Knight", "2. Hades"]


async def test_link_and_unlink_in_a_private_chat_and_never_in_the_group(
    bot: TelegramBotUnderTest, friends: Friends
) -> None:
    alice, private = friends.alice, friends.private(bot, friends.alice)
    in_group = [shown_text(await bot.say(friends.group, alice, t)) for t in ("/link", "/unlink")]
    asked = await bot.say(private, alice, "/link")
    code = shown_text(asked).removeprefix("Your link code is ").split(".")[0]

    typed_elsewhere = await bot.console("alice", "/add Tunic", f"/link {code}")
    listing = await bot.say(private, alice, "/backlog all")
    unlinked = await bot.say(private, alice, "/unlink")

    assert in_group == [ASK_IN_PRIVATE, UNLINK_IN_PRIVATE]
    assert "Linked your " in typed_elsewhere, typed_elsewhere
    assert "Tunic" in shown_text(listing), bot.context()
    assert shown_text(unlinked).startswith("Unlinked this Telegram account")


# -- a group that becomes a supergroup ----------------------------------------------------------


async def test_a_group_that_becomes_a_supergroup_keeps_its_feed_at_the_new_id(
    bot: TelegramBotUnderTest, friends: Friends
) -> None:
    api = bot.api
    club = api.group_chat(-4_700, "Old club", "group")
    ola, bo = api.user(1611, "Ola"), api.user(1612, "Bo")
    api.set_admins(club, ola)
    await bot.say(club, ola, "/feed on")
    await bot.say(club, bo, "/share on")

    since = len(api.calls)
    supergroup = api.upgrade_group(club, -100_4700, by=ola)
    await bot.wait_until("feed at the supergroup's id", lambda: _feeds_at(bot, supergroup))
    await add_in_private(bot, bo, "Hades")
    await bot.say(api.private_chat(bo), bo, "/done Hades 9")
    post = await bot.pushed(supergroup, "⭐ Bo recommends Hades · 9/10")

    assert _feeds_at(bot, club) is None, bot.context()
    assert post.ok
    assert bot.sends_to(club, since) == []  # nothing was sent to the old id, to be refused


async def test_a_tap_on_a_poll_sent_before_the_move_counts_at_the_supergroups_id(
    bot: TelegramBotUnderTest, friends: Friends
) -> None:
    api = bot.api
    club = api.group_chat(-4_800, "Poll club", "group")
    una, vik = api.user(1621, "Una"), api.user(1622, "Vik")
    await bot.say(club, vik, "/share on")  # Una asks: her games count without
    await add_in_private(bot, una, "Hades", "Hollow Knight")
    await add_in_private(bot, vik, "Hollow Knight", "Hades")
    since = len(api.calls)
    await bot.say(club, una, "/tonight")
    poll = await bot.poll_sent(club, since)

    supergroup = api.upgrade_group(club, -100_4800, by=una)
    await bot.wait_until(
        "the poll noted at the new id", lambda: _latest_poll_noted(bot, supergroup)
    )
    bot.tap_poll(club, vik, poll, option=1)
    await bot.wait_until("Vik's tap counted", lambda: _voters_at(bot, supergroup))
    vote = await bot.say(supergroup, una, "/vote 1")

    assert shown_text(vote) == "Una voted. So far: Hades 1 · Hollow Knight 1", bot.context()


def _latest_poll_noted(bot: TelegramBotUnderTest, chat: JSON) -> bool | None:
    with contextlib.closing(redis.Redis.from_url(bot.redis_url)) as connection:
        return bool(connection.exists(f"questrya:telegram:poll:newest:{chat['id']}")) or None


def _voters_at(bot: TelegramBotUnderTest, chat: JSON) -> list[tuple[int]] | None:
    voters = bot.query(
        "SELECT v.player_id FROM group_poll_votes v JOIN group_polls p ON p.id = v.poll_id"
        " WHERE p.platform = 'telegram' AND p.chat_id = ?",
        str(chat["id"]),
    )
    return voters or None


def _feeds_at(bot: TelegramBotUnderTest, chat: JSON) -> list[tuple[str]] | None:
    feeds = bot.query("SELECT chat_id FROM group_feeds WHERE chat_id = ?", str(chat["id"]))
    return feeds or None


async def test_every_feed_post_arrived_exactly_once(
    bot: TelegramBotUnderTest, friends: Friends
) -> None:
    """Last: the module's final post has arrived, and nothing came twice."""
    await bot.pushed(friends.group, f"⭐ Bob recommends {ZELDAS[1]}")
    feed = [call for call in bot.sends_to(friends.group) if "recommends" in shown_text(call)]

    assert [shown_text(call).split("\n")[0] for call in feed] == [
        "⭐ Bob recommends Celeste · 9/10",
        f"⭐ Bob recommends {ZELDAS[1]} · 9/10",
    ], bot.context()
    assert bot.api.duplicates() == {}
