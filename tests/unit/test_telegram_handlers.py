"""The Telegram handlers, offline: real Update objects from tests/telegram_factories.py, fed to
the bot's real Application (handlers registered by `build_application`), whose Bot talks to the
fake Bot API in-process (tests/fakes_servers/telegram_offline.py). The services run on the
in-memory unit of work. What the bot did is read from the calls the fake recorded.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import NoReturn

import pytest
from telegram import Chat, Message, Update, User

from bots.chat import Reply
from bots.telegram.handlers import APOLOGY, NOT_YOURS, STALE_BUTTON, send_reply
from tests.fakes import FakeUnitOfWork
from tests.telegram_factories import (
    BOT_USERNAME,
    OfflineTelegram,
    buttons,
    make_group_chat,
    make_message,
    make_private_chat,
    make_user,
    message_id,
    offline_bot,
    text_of,
)

SENDS = ("sendMessage", "sendPhoto")
NEXT_PAGE = "Next page ›"

ALICE = make_user(501, "Alice", "alice")
BOB = make_user(502, "Bob", "bob")
CLUB = make_group_chat(-100_777, "Backlog club")


def broken_storage() -> NoReturn:
    raise RuntimeError("the database is on fire")


@pytest.fixture
async def telegram() -> AsyncIterator[OfflineTelegram]:
    uow = FakeUnitOfWork()
    async for bot in offline_bot(lambda: uow):
        yield bot


@pytest.fixture
async def broken_telegram() -> AsyncIterator[OfflineTelegram]:
    async for bot in offline_bot(broken_storage):
        yield bot


def private(user: User) -> Chat:
    return make_private_chat(user)


# -- commands ----------------------------------------------------------------------------------


async def test_start_greets_a_new_player_in_html_with_their_name_escaped(
    telegram: OfflineTelegram,
) -> None:
    zoe = make_user(503, "Zoë <3 & co")

    [reply] = await telegram.type(private(zoe), zoe, "/start")

    assert reply.method == "sendMessage"
    assert reply.params["parse_mode"] == "HTML"
    assert reply.params["text"].startswith("Hi Zoë &lt;3 &amp; co! I keep your video-game backlog.")
    assert text_of(reply).startswith("Hi Zoë <3 & co! I keep")
    assert "reply_parameters" not in reply.params  # a private chat is not quoted


async def test_in_a_group_a_command_naming_the_bot_is_answered_quoting_it(
    telegram: OfflineTelegram,
) -> None:
    typed_id = telegram.api.next_message_id(CLUB.id)

    [reply] = await telegram.type(CLUB, ALICE, f"/add@{BOT_USERNAME} Hades")

    assert text_of(reply) == "Added Hades to your backlog. I'll look up its details."
    assert reply.params["chat_id"] == CLUB.id
    assert reply.params["reply_parameters"]["message_id"] == typed_id


async def test_in_a_group_commands_for_other_bots_and_plain_talk_are_left_alone(
    telegram: OfflineTelegram,
) -> None:
    assert await telegram.type(CLUB, ALICE, "/add@OtherBot Hades") == []
    assert await telegram.type(CLUB, ALICE, "/frobnicate") == []
    assert await telegram.type(CLUB, ALICE, "anyone up for Hades tonight?") == []
    [listing] = await telegram.type(private(ALICE), ALICE, "/backlog all")
    assert text_of(listing) == "Your list is empty. Add a game with /add Hades."


async def test_an_unknown_command_naming_the_bot_gets_one_line_everywhere(
    telegram: OfflineTelegram,
) -> None:
    [in_group] = await telegram.type(CLUB, ALICE, f"/frobnicate@{BOT_USERNAME}")
    [in_private] = await telegram.type(private(ALICE), ALICE, "/frobnicate")
    [chatter] = await telegram.type(private(ALICE), ALICE, "hello")

    expected = "I don't know /frobnicate. Type /help to see the commands."
    assert text_of(in_group) == expected
    assert text_of(in_private) == expected
    assert (
        text_of(chatter) == "Commands start with a slash, like /add Hades. Type /help to see them."
    )


# Every command of DESIGN.md, in an order that makes each one meaningful.
SESSION = [
    ("/start", "Hi Alice!"),
    ("/help", "Commands:"),
    ("/add Hades switch", "Added Hades (Nintendo Switch) to your backlog."),
    ("/add Celeste", "Added Celeste to your backlog."),
    ("/backlog", "Your games — open, page 1:"),
    ("/play Hades", "Now playing Hades."),
    ("/pause Hades", "Paused Hades."),
    ("/done Hades 9", "Completed Hades · 9/10."),
    ("/rate Hades 8", "Rated Hades 8/10."),
    ("/drop Celeste", "Dropped Celeste."),
    ("/remove Celeste", "Removed Celeste from your list."),
    ("/stats", ""),
    ("/next", ""),
]


@pytest.mark.parametrize("where", ["private", "group"])
async def test_every_command_answers_once_in_private_and_in_groups(
    telegram: OfflineTelegram, where: str
) -> None:
    chat, suffix = (private(ALICE), "") if where == "private" else (CLUB, f"@{BOT_USERNAME}")

    for typed, expected in SESSION:
        command, _, rest = typed.partition(" ")
        answers = await telegram.type(chat, ALICE, f"{command}{suffix} {rest}".strip())

        assert [call.ok for call in answers] == [True], (typed, answers)
        assert text_of(answers[0]).startswith(expected), (typed, text_of(answers[0]))
        assert text_of(answers[0]) != APOLOGY


async def test_an_edited_command_is_not_run_again(telegram: OfflineTelegram) -> None:
    chat = private(ALICE)
    await telegram.type(chat, ALICE, "/add Hades")
    edited = make_message("/remove Hades", user=ALICE, chat=chat, bot=telegram.bot, message_id=1)

    assert await telegram.feed(Update(9_999, edited_message=edited)) == []
    [listing] = await telegram.type(chat, ALICE, "/backlog")
    assert "Hades" in text_of(listing)


# -- buttons -------------------------------------------------------------------------------------


async def add_games(telegram: OfflineTelegram, chat: Chat, user: User, count: int) -> None:
    for number in range(count):
        await telegram.type(chat, user, f"/add Game {number:02}")


async def test_long_lists_are_paged_with_buttons_owned_by_the_asker(
    telegram: OfflineTelegram,
) -> None:
    chat = private(ALICE)
    await add_games(telegram, chat, ALICE, 12)

    [first] = await telegram.type(chat, ALICE, "/backlog")

    assert text_of(first).startswith("Your games — open, page 1:")
    assert buttons(first) == {NEXT_PAGE: f"{ALICE.id}|/backlog open 2"}
    assert all(len(data.encode()) <= 64 for data in buttons(first).values())


async def test_a_page_button_answers_the_query_and_turns_the_page_in_place(
    telegram: OfflineTelegram,
) -> None:
    chat = private(ALICE)
    await add_games(telegram, chat, ALICE, 12)
    [first] = await telegram.type(chat, ALICE, "/backlog")

    answer, edit = await telegram.press(chat, ALICE, first, buttons(first)[NEXT_PAGE])

    assert (answer.method, answer.ok, answer.params.get("text")) == (
        "answerCallbackQuery",
        True,
        None,
    )
    assert edit.method == "editMessageText"
    assert edit.params["message_id"] == message_id(first)
    assert text_of(edit).startswith("Your games — open, page 2:\n• Game 10")
    assert set(buttons(edit)) == {"‹ Previous page"}


async def test_a_double_tap_on_a_page_button_is_answered_and_changes_nothing_more(
    telegram: OfflineTelegram,
) -> None:
    chat = private(ALICE)
    await add_games(telegram, chat, ALICE, 12)
    [first] = await telegram.type(chat, ALICE, "/backlog")
    await telegram.press(chat, ALICE, first, buttons(first)[NEXT_PAGE])

    answer, refused_edit = await telegram.press(chat, ALICE, first, buttons(first)[NEXT_PAGE])

    assert answer.ok
    assert refused_edit.status == 400  # "message is not modified", as Telegram answers
    assert telegram.api.calls_to("sendMessage")[-1].params["text"] != APOLOGY


async def test_in_a_group_someone_elses_button_gets_a_short_answer_and_changes_nothing(
    telegram: OfflineTelegram,
) -> None:
    await add_games(telegram, private(ALICE), ALICE, 12)
    [alices_page] = await telegram.type(CLUB, ALICE, "/backlog")
    shown_before = telegram.api.messages(CLUB.id)

    [answer] = await telegram.press(CLUB, BOB, alices_page, buttons(alices_page)[NEXT_PAGE])

    assert answer.method == "answerCallbackQuery"
    assert answer.params["text"] == NOT_YOURS
    assert telegram.api.messages(CLUB.id) == shown_before


@pytest.mark.parametrize(
    "data", ["garbage", "501|backlog", "|/backlog", "alice|/backlog open 2", ""]
)
async def test_button_data_the_bot_did_not_make_gets_a_short_answer(
    telegram: OfflineTelegram, data: str
) -> None:
    chat = private(ALICE)
    await add_games(telegram, chat, ALICE, 12)
    [page] = await telegram.type(chat, ALICE, "/backlog")

    [answer] = await telegram.press(chat, ALICE, page, data)

    assert answer.params["text"] == STALE_BUTTON
    assert telegram.api.calls_to("editMessageText") == []


async def test_did_you_mean_choices_are_buttons_that_run_the_command(
    telegram: OfflineTelegram,
) -> None:
    chat = private(ALICE)
    await telegram.type(chat, ALICE, "/add The Legend of Zelda: Breath of the Wild")
    await telegram.type(chat, ALICE, "/add The Legend of Zelda: Tears of the Kingdom")

    [question] = await telegram.type(chat, ALICE, "/done zelda 9")
    choices = buttons(question)
    answer, edit = await telegram.press(
        chat, ALICE, question, choices["The Legend of Zelda: Tears of the Kingdom"]
    )

    assert text_of(question) == '"zelda" matches more than one of your games. Which one?'
    assert choices == {
        "The Legend of Zelda: Breath of the Wild": f"{ALICE.id}|/done #1 9",
        "The Legend of Zelda: Tears of the Kingdom": f"{ALICE.id}|/done #2 9",
    }
    assert answer.ok
    assert (
        text_of(edit) == "Completed The Legend of Zelda: Tears of the Kingdom · 9/10. Well played!"
    )
    assert "reply_markup" not in edit.params  # the choice is made: its buttons go


async def test_in_a_group_a_button_anyone_may_press_answers_the_presser_apart(
    telegram: OfflineTelegram,
) -> None:
    await telegram.type(CLUB, ALICE, "/add Hades")
    push = await telegram.post(CLUB, "Which Hades did you mean?", "*|/backlog")

    answer, reply = await telegram.press(CLUB, BOB, push, "*|/backlog")

    assert answer.ok
    assert reply.method == "sendMessage"
    assert reply.params["reply_parameters"]["message_id"] == message_id(push)
    assert text_of(reply).startswith("Nothing to play")  # Bob's list, not Alice's
    assert telegram.api.calls_to("editMessageText") == []


# -- covers and failures ---------------------------------------------------------------------


async def test_a_cover_goes_as_a_photo_with_the_text_as_caption(telegram: OfflineTelegram) -> None:
    typed = await typed_message(telegram, private(ALICE))
    cover = "https://media.example.org/hades.jpg"

    await send_reply(typed, Reply("Hades <2020>", image_url=cover), owner=str(ALICE.id))

    [photo] = telegram.api.calls_to("sendPhoto")
    assert (photo.params["photo"], photo.params["caption"]) == (cover, "Hades &lt;2020&gt;")
    assert text_of(photo) == "Hades <2020>"


async def test_a_cover_telegram_cannot_fetch_falls_back_to_the_text(
    telegram: OfflineTelegram,
) -> None:
    typed = await typed_message(telegram, private(ALICE))
    telegram.api.fail_next(
        "sendPhoto", status=400, description="Bad Request: wrong type of the web page content"
    )

    await send_reply(typed, Reply("Hades", image_url="https://x.example/y"), owner="501")

    assert [call.status for call in telegram.api.calls if call.method in SENDS] == [400, 200]
    assert text_of(telegram.api.calls_to("sendMessage")[-1]) == "Hades"


async def typed_message(telegram: OfflineTelegram, chat: Chat) -> Message:
    """A message Alice typed, that a reply can quote."""
    next_id = telegram.api.next_message_id(chat.id)
    message = make_message("/start", user=ALICE, chat=chat, bot=telegram.bot, message_id=next_id)
    telegram.api.receive(message.to_dict())
    return message


async def test_a_bug_is_logged_and_answered_in_one_line(
    broken_telegram: OfflineTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    [apology] = await broken_telegram.type(private(ALICE), ALICE, "/backlog")

    assert text_of(apology) == APOLOGY
    assert "\n" not in APOLOGY
    [record] = [r for r in caplog.records if r.name == "bots.telegram.handlers"]
    assert record.getMessage() == "update failed"
    assert record.exc_info is not None
    assert "the database is on fire" in str(record.exc_info[1])


async def test_a_press_that_hits_a_bug_is_still_answered(
    broken_telegram: OfflineTelegram,
) -> None:
    chat = private(ALICE)
    data = f"{ALICE.id}|/backlog open 2"
    page = await broken_telegram.post(chat, "Your games — open, page 1:", data)

    answers = await broken_telegram.press(chat, ALICE, page, data)

    assert [call.method for call in answers if call.ok] == ["answerCallbackQuery", "sendMessage"]
    assert text_of(answers[-1]) == APOLOGY
