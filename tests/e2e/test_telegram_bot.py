"""The Telegram bot end to end: `questrya telegram` and `questrya worker` as subprocesses, the real
python-telegram-bot client inside them, and the fake Bot API recording every call they make.

One bot and one worker serve the whole module; each test plays its own users and chats so the
tests do not see each other's games.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, NoReturn

import pytest
import pytest_asyncio
import redis
from rq.job import Job

from bots.chat import build_router
from bots.telegram.handlers import NOT_YOURS
from questrya.groups.service import GROUP_ONLY
from questrya.logs import REDACTED
from tests.e2e.telegram_harness import (
    BOT_USERNAME,
    TOKEN,
    TelegramBotUnderTest,
    buttons,
    running_bot,
    shown_text,
)

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

JSON = dict[str, Any]
ADDED_HADES = "Added Hades to your backlog. I'll look up its details."
HADES_FACTS = "Hades (2020) · PC"
CLUB_GAMES = [
    "Hollow Knight",
    "Celeste",
    "Dead Cells",
    "Outer Wilds",
    "Disco Elysium",
    "Return of the Obra Dinn",
    "Slay the Spire",
    "Stardew Valley",
    "Into the Breach",
    "Inscryption",
    "Tunic",
    "Baba Is You",
]
NEXT_PAGE = "Next page ›"
PREVIOUS_PAGE = "‹ Previous page"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(
    tmp_path_factory: pytest.TempPathFactory, redis_server_url: str
) -> AsyncIterator[TelegramBotUnderTest]:
    async with running_bot(tmp_path_factory.mktemp("telegram-e2e"), redis_server_url) as running:
        yield running


def no_storage() -> NoReturn:
    raise AssertionError("reading the command table needs no storage")


def private_player(bot: TelegramBotUnderTest, user_id: int, name: str) -> tuple[JSON, JSON]:
    """A Telegram user and their private chat with the bot."""
    user = bot.api.user(user_id, name, name.lower())
    return user, bot.api.private_chat(user)


# -- the basics ------------------------------------------------------------------------------


async def test_the_command_menu_is_published_at_start(bot: TelegramBotUnderTest) -> None:
    listed = [name for name, command in build_router(no_storage).commands.items() if command.listed]
    [menu] = bot.api.calls_to("setMyCommands")
    assert [entry["command"] for entry in menu.params["commands"]] == listed
    assert {"start", "help", "add", "backlog", "done"} <= set(listed)
    assert all(entry["description"] for entry in menu.params["commands"])
    first_poll = bot.api.calls_to("getUpdates")[0]
    assert menu.time < first_poll.time, bot.context()


async def test_start_greets_the_player_by_name(bot: TelegramBotUnderTest) -> None:
    alice, chat = private_player(bot, 1001, "Alice")

    reply = await bot.say(chat, alice, "/start")

    assert shown_text(reply).startswith("Hi Alice! I keep your video-game backlog."), bot.context()
    assert reply.params["parse_mode"] == "HTML"


async def test_add_answers_at_once_then_the_worker_pushes_the_details(
    bot: TelegramBotUnderTest,
) -> None:
    hugo, chat = private_player(bot, 1002, "Hugo")

    reply = await bot.say(chat, hugo, "/add Hades")
    pushed = await bot.pushed(chat, HADES_FACTS)

    assert shown_text(reply) == ADDED_HADES
    assert pushed.time > reply.time
    assert "Metacritic 93" in shown_text(pushed), bot.context()
    assert [shown_text(call) for call in bot.sends_to(chat)] == [ADDED_HADES, shown_text(pushed)]
    # The details follow the answer they complete, as a reply to it.
    assert pushed.params["reply_parameters"]["message_id"] == reply.result["message_id"]
    assert pushed.result["reply_to_message"]["text"] == ADDED_HADES


async def test_done_with_a_rating_then_help(bot: TelegramBotUnderTest) -> None:
    dana, chat = private_player(bot, 1003, "Dana")
    await bot.say(chat, dana, "/add Hades")
    await bot.pushed(chat, HADES_FACTS)

    done = await bot.say(chat, dana, "/done Hades 9")
    help_reply = await bot.say(chat, dana, "/help")

    assert shown_text(done) == "Completed Hades · 9/10. Well played!"
    listing = shown_text(help_reply)
    assert listing.startswith("Commands:\n/start")
    # Usages like <title> went out escaped; the fake would have refused them as unknown tags.
    assert "/add <title> [platform] — add a game to your backlog" in listing
    assert "&lt;title&gt;" in help_reply.params["text"]
    assert "/identify" not in listing


# -- bad input: one clear line, nothing else --------------------------------------------------

BAD_INPUT = [
    ("/play Factorio", 'You have no game called "Factorio". See your games with /backlog all.'),
    ("/done Celeste 11", "A rating is from 1 to 10, not 11. Write it like /done Hades 9"),
    (
        "/add " + "x" * 5000,
        "That title is 5000 characters long; keep it to 200. Write it like /add Hades switch",
    ),
    ("/add \x00\x07\u200b", "The title is empty. Write it like /add Hades switch"),
    ("/frobnicate", "I don't know /frobnicate. Type /help to see the commands."),
    ("hello", "Commands start with a slash, like /add Hades. Type /help to see them."),
]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def carol(bot: TelegramBotUnderTest) -> tuple[JSON, JSON]:
    """A player with Celeste in her backlog, its details already pushed."""
    user, chat = private_player(bot, 1201, "Carol")
    await bot.say(chat, user, "/add Celeste")
    await bot.pushed(chat, "Celeste (2018)")
    return user, chat


@pytest.mark.parametrize(("typed", "expected"), BAD_INPUT, ids=lambda v: repr(v)[:24])
async def test_bad_input_gets_one_clear_line(
    bot: TelegramBotUnderTest, carol: tuple[JSON, JSON], typed: str, expected: str
) -> None:
    user, chat = carol
    since = len(bot.api.calls)

    reply = await bot.say(chat, user, typed)

    assert shown_text(reply) == expected, bot.context()
    assert "reply_markup" not in reply.params
    assert [call.ok for call in bot.sends_to(chat, since)] == [True]


async def test_markup_in_a_title_arrives_escaped_and_intact(bot: TelegramBotUnderTest) -> None:
    mallory, chat = private_player(bot, 1202, "Mallory")

    reply = await bot.say(chat, mallory, "/add <b>x</b> & co")
    pushed = await bot.pushed(chat, "I couldn't find <b>x</b> & co")
    listing = await bot.say(chat, mallory, "/backlog")

    assert reply.params["text"].startswith("Added &lt;b&gt;x&lt;/b&gt; &amp; co to your backlog")
    assert shown_text(reply).startswith("Added <b>x</b> & co to your backlog")
    assert "entities" not in reply.result  # shown as typed, not in bold
    assert "entities" not in pushed.result
    assert "• <b>x</b> & co — backlog" in shown_text(listing), bot.context()


async def test_a_group_command_in_a_private_chat_gets_one_line(
    bot: TelegramBotUnderTest, carol: tuple[JSON, JSON]
) -> None:
    user, chat = carol
    since = len(bot.api.calls)

    reply = await bot.say(chat, user, "/recommend Celeste")

    assert shown_text(reply) == GROUP_ONLY.format(command="/recommend"), bot.context()
    assert [call.ok for call in bot.sends_to(chat, since)] == [True]


# -- flood control ----------------------------------------------------------------------------


async def test_a_429_is_waited_out_and_the_reply_still_arrives(bot: TelegramBotUnderTest) -> None:
    retry_after = 1
    dave, chat = private_player(bot, 1301, "Dave")
    bot.api.fail_next("sendMessage", retry_after=retry_after, chat_id=chat["id"])

    reply = await bot.say(chat, dave, "/start")

    refused, delivered = bot.sends_to(chat)
    assert (refused.status, delivered.status) == (429, 200), bot.context()
    assert delivered is reply
    assert delivered.time - refused.time >= retry_after
    assert shown_text(reply).startswith("Hi Dave!")


async def test_a_429_on_a_pushed_message_is_waited_out_by_the_worker(
    bot: TelegramBotUnderTest,
) -> None:
    retry_after = 1
    fay, chat = private_player(bot, 1302, "Fay")
    bot.api.fail_next(
        "sendMessage",
        retry_after=retry_after,
        chat_id=chat["id"],
        when=lambda params: str(params.get("text", "")).startswith(HADES_FACTS),
    )

    reply = await bot.say(chat, fay, "/add Hades")
    pushed = await bot.pushed(chat, HADES_FACTS)

    answered, refused, delivered = bot.sends_to(chat)
    assert (answered, delivered) == (reply, pushed), bot.context()
    assert refused.status == 429
    assert refused.params["text"] == pushed.params["text"]
    assert delivered.time - refused.time >= retry_after
    assert bot.api.duplicates() == {}


# -- pages, buttons and groups ----------------------------------------------------------------


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def club(bot: TelegramBotUnderTest) -> tuple[JSON, JSON, JSON]:
    """A group where Paula added twelve games and Bob none (yet): (group, paula, bob).

    Games are added in the group so their details are pushed there, within the group's limit of
    20 messages a minute, rather than into Paula's private chat at one a second.
    """
    group = bot.api.group_chat(-4101, "Backlog club")
    paula, bob = bot.api.user(1101, "Paula", "paula"), bot.api.user(1102, "Bob", "bob")
    for title in CLUB_GAMES:
        reply = await bot.say(group, paula, f"/add {title}")
        assert shown_text(reply).startswith(f"Added {title}"), bot.context()
    return group, paula, bob


async def test_backlog_pages_turn_with_buttons_and_every_press_is_answered(
    bot: TelegramBotUnderTest, club: tuple[JSON, JSON, JSON]
) -> None:
    _, paula, _ = club
    chat = bot.api.private_chat(paula)
    first = await bot.say(chat, paula, "/backlog")
    message_id = first.result["message_id"]

    since = len(bot.api.calls)
    forward = await bot.press(chat, paula, message_id, buttons(first)[NEXT_PAGE])
    second = await bot.edited(chat, message_id, since)
    since = len(bot.api.calls)
    back = await bot.press(chat, paula, message_id, buttons(second)[PREVIOUS_PAGE])
    third = await bot.edited(chat, message_id, since)

    assert shown_text(first).startswith("Your games — open, page 1:\n")
    assert buttons(first) == {NEXT_PAGE: f"{paula['id']}|/backlog open 2"}
    assert shown_text(second).startswith("Your games — open, page 2:\n"), bot.context()
    assert len(shown_text(second).splitlines()) == 1 + len(CLUB_GAMES) - 10
    assert buttons(second) == {PREVIOUS_PAGE: f"{paula['id']}|/backlog open 1"}
    assert shown_text(third) == shown_text(first)
    assert (forward.ok, back.ok) == (True, True)
    assert "text" not in forward.params
    assert "text" not in back.params
    assert len(bot.edits_of(chat, message_id)) == 2
    assert bot.sends_to(chat)[-1] is first  # pages turn in place, nothing new is sent


async def test_in_a_group_each_player_sees_and_pages_only_their_own_games(
    bot: TelegramBotUnderTest, club: tuple[JSON, JSON, JSON]
) -> None:
    group, paula, bob = club

    added = await bot.say(group, bob, f"/add@{BOT_USERNAME} Night in the Woods")
    paulas_page = await bot.say(group, paula, "/backlog")
    bobs_page = await bot.say(group, bob, "/backlog")

    assert shown_text(added).startswith("Added Night in the Woods to your backlog.")
    assert shown_text(bobs_page) == "Your games — open, page 1:\n• Night in the Woods — backlog"
    assert "Night in the Woods" not in shown_text(paulas_page)
    assert "Hollow Knight" in shown_text(paulas_page)


async def test_in_a_group_pressing_someone_elses_button_changes_nothing(
    bot: TelegramBotUnderTest, club: tuple[JSON, JSON, JSON]
) -> None:
    group, paula, bob = club
    paulas_page = await bot.say(group, paula, "/backlog")
    message_id, next_page = paulas_page.result["message_id"], buttons(paulas_page)[NEXT_PAGE]

    refused = await bot.press(group, bob, message_id, next_page)
    since = len(bot.api.calls)
    accepted = await bot.press(group, paula, message_id, next_page)
    edited = await bot.edited(group, message_id, since)

    assert refused.params.get("text") == NOT_YOURS
    assert "text" not in accepted.params
    # Updates are handled in order: had Bob's press edited the message, it would show first.
    assert bot.edits_of(group, message_id) == [edited], bot.context()
    assert shown_text(edited).startswith("Your games — open, page 2:")


async def test_a_did_you_mean_push_in_a_group_is_answered_by_the_player_who_asked(
    bot: TelegramBotUnderTest,
) -> None:
    group = bot.api.group_chat(-4501, "Doom club")
    alice, bob = bot.api.user(1501, "Alice", "alice"), bot.api.user(1502, "Bob", "bob")
    answer = await bot.say(group, alice, "/add Doom")
    question = await bot.pushed(group, "Which Doom did you mean?")
    question_id = question.result["message_id"]
    [doom_2016] = [
        data for label, data in buttons(question).items() if label.startswith("Doom (2016)")
    ]

    refused = await bot.press(group, bob, question_id, doom_2016)
    since = len(bot.api.calls)
    accepted = await bot.press(group, alice, question_id, doom_2016)
    resolved = await bot.edited(group, question_id, since)
    details = await bot.pushed(group, "Doom (2016) · ")

    assert question.params["reply_parameters"]["message_id"] == answer.result["message_id"]
    assert all(data.startswith(f"{alice['id']}|/identify ") for data in buttons(question).values())
    assert refused.params.get("text") == NOT_YOURS
    assert "text" not in accepted.params
    assert bot.edits_of(group, question_id) == [resolved], bot.context()
    assert shown_text(resolved) == "Got it: looking up the details of Doom."
    assert "reply_markup" not in resolved.params  # chosen: the buttons are gone
    assert details.params["reply_parameters"]["message_id"] == answer.result["message_id"]


# -- a group that removed the bot ---------------------------------------------------------------


async def test_a_push_to_a_group_that_removed_the_bot_is_dropped_once(
    bot: TelegramBotUnderTest,
) -> None:
    group = bot.api.group_chat(-4401, "Left club")
    erin = bot.api.user(1401, "Erin", "erin")
    await bot.stop_worker()  # the push waits in the queue until the bot has been removed
    reply = await bot.say(group, erin, "/add Hades")
    bot.api.block_chat(group["id"])
    await bot.start_worker()

    notification_id = await bot.wait_until("a settled notification", settled(bot, group), 30)

    assert reply.ok
    assert [call.status for call in bot.sends_to(group)] == [200, 403], bot.context()
    assert bot.query("SELECT state FROM notifications WHERE id = ?", notification_id) == [
        ("dropped",)
    ]
    assert bot.query("SELECT chat_id FROM disabled_chats WHERE platform = 'telegram'") == [
        (str(group["id"]),)
    ]
    job = Job.fetch(f"deliver-notification-{notification_id}", redis.Redis.from_url(bot.redis_url))
    # The state is written before the job ends; its status follows a moment later.
    await bot.wait_until("the delivery job's end", lambda: job.get_status() != "started" or None)
    assert (job.get_status(), job.return_value()) == ("finished", "dropped")  # no retry queued


def settled(bot: TelegramBotUnderTest, group: JSON) -> Callable[[], int | None]:
    """A probe: the id of the group's one notification once it is no longer pending."""

    def probe() -> int | None:
        rows = bot.query("SELECT id, state FROM notifications WHERE chat_id = ?", str(group["id"]))
        return rows[0][0] if len(rows) == 1 and rows[0][1] != "pending" else None

    return probe


# -- logs ---------------------------------------------------------------------------------------


async def test_the_token_never_reaches_the_logs(bot: TelegramBotUnderTest) -> None:
    """Run last in the module: by now the bot and the worker have called the API many times,
    and httpx logs every request's URL, which holds the token."""
    logs = {path.name: path.read_text() for path in bot.data_dir.glob("*.log")}

    assert {"telegram.log", "worker.log"} <= set(logs)
    for name, text in logs.items():
        assert TOKEN not in text, name
        assert TOKEN.split(":")[1] not in text, name
    assert f"/bot{REDACTED}/getUpdates" in logs["telegram.log"]
    assert f"/bot{REDACTED}/sendMessage" in logs["worker.log"]
