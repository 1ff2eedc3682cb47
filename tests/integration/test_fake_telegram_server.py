"""The fake Bot API against the real, unmodified python-telegram-bot client."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    MessageEntity,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes

from tests.fakes_servers.telegram import SECRET_HEADER, FakeBotApi, UploadedFile
from tests.fakes_servers.telegram_offline import OfflineBotApi

TOKEN = "123:ABC"
DONE = InlineKeyboardMarkup([[InlineKeyboardButton("Done", callback_data="done:1")]])


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(token=TOKEN, bot_username="QuestryaBot", long_poll_cap=0.3) as fake:
        yield fake


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=api.base_url, base_file_url=api.base_file_url) as client:
        yield client


@pytest.fixture
def alice(api: FakeBotApi) -> dict:
    user = api.user(42, "Alice", "alice")
    api.private_chat(user)
    return user


@pytest.fixture
def timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB 22 warns when RetryAfter.retry_after is an int; opt in to timedelta as it suggests."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


async def test_get_me_describes_the_bot(api: FakeBotApi, bot: Bot) -> None:
    me = await bot.get_me()

    assert (me.id, me.is_bot, me.username, me.first_name) == (123, True, "QuestryaBot", "Questrya")
    assert me.can_join_groups is True
    assert api.calls_to("getMe")[0].ok  # Bot.initialize checked the token with getMe


async def test_send_message_is_recorded_decoded_and_answered_as_a_message(
    api: FakeBotApi, bot: Bot, alice: dict
) -> None:
    sent = await bot.send_message(
        42, " <b>Hades</b> &amp; co ", parse_mode=ParseMode.HTML, reply_markup=DONE
    )

    [call] = api.calls_to("sendMessage")
    assert call.params == {
        "chat_id": 42,
        "text": " <b>Hades</b> &amp; co ",
        "parse_mode": "HTML",
        "reply_markup": {"inline_keyboard": [[{"text": "Done", "callback_data": "done:1"}]]},
    }
    assert sent.text == "Hades & co"
    assert sent.entities == (MessageEntity(MessageEntity.BOLD, 0, 5),)
    assert sent.reply_markup == DONE
    assert (sent.chat.id, sent.chat.type, sent.from_user.username) == (42, "private", "QuestryaBot")
    assert call.result["message_id"] == sent.message_id == 1


async def test_message_ids_count_up_per_chat_for_both_sides(
    api: FakeBotApi, bot: Bot, alice: dict
) -> None:
    group = api.group_chat(-100, "Backlog club")
    api.send_command(api.chats[42], alice, "/start")

    first = await bot.send_message(42, "one")
    second = await bot.send_message(42, "two")
    in_group = await bot.send_message(-100, "hello group")

    assert (first.message_id, second.message_id, in_group.message_id) == (2, 3, 1)
    assert in_group.chat.title == group["title"]
    assert [m["text"] for m in api.messages(42)] == ["/start", "one", "two"]
    assert [m["text"] for m in api.bot_messages(42)] == ["one", "two"]


async def test_bad_requests_answer_400_as_telegram_does(
    api: FakeBotApi, bot: Bot, alice: dict
) -> None:
    with pytest.raises(BadRequest, match=r'(?i)unsupported start tag "hades"'):
        await bot.send_message(42, "<Hades>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(777, "hi")
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(42, "   ")
    too_long = InlineKeyboardButton("x", callback_data="x" * 65)
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(42, "hi", reply_markup=InlineKeyboardMarkup([[too_long]]))
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await bot.send_message(42, "hi", reply_parameters=ReplyParameters(message_id=99))
    assert api.sent_per_chat[42] == 0


async def test_a_reply_carries_the_replied_message(api: FakeBotApi, bot: Bot, alice: dict) -> None:
    api.send_command(api.chats[42], alice, "/add Hades")

    sent = await bot.send_message(42, "Added", reply_parameters=ReplyParameters(message_id=1))

    assert sent.reply_to_message is not None
    assert sent.reply_to_message.text == "/add Hades"


async def test_send_photo_by_url_answers_photo_sizes(
    api: FakeBotApi, bot: Bot, alice: dict
) -> None:
    url = "https://media.example.org/hades.jpg"

    sent = await bot.send_photo(42, url, caption="<i>Hades</i>", parse_mode=ParseMode.HTML)

    assert api.calls_to("sendPhoto")[0].params["photo"] == url
    assert sent.photo[-1].width == 1280
    assert len({size.file_id for size in sent.photo}) == len(sent.photo) > 1
    assert sent.caption == "Hades"
    assert sent.caption_entities == (MessageEntity(MessageEntity.ITALIC, 0, 5),)


async def test_an_uploaded_photo_arrives_as_multipart(
    api: FakeBotApi, bot: Bot, alice: dict
) -> None:
    sent = await bot.send_photo(42, InputFile(b"\x89PNG fake", filename="cover.png"))

    photo = api.calls_to("sendPhoto")[0].params["photo"]
    assert isinstance(photo, UploadedFile)
    assert (photo.filename, photo.content) == ("cover.png", b"\x89PNG fake")
    assert sent.photo


async def test_get_updates_delivers_a_command_and_the_offset_confirms_it(
    api: FakeBotApi, bot: Bot, alice: dict
) -> None:
    update_id = api.send_command(api.chats[42], alice, "/add@QuestryaBot Hades")

    [update] = await bot.get_updates()
    assert isinstance(update, Update)
    assert update.update_id == update_id
    assert update.message is not None
    assert update.message.text == "/add@QuestryaBot Hades"
    assert update.message.entities == (MessageEntity(MessageEntity.BOT_COMMAND, 0, 16),)
    assert update.message.from_user is not None
    assert update.message.from_user.username == "alice"
    assert len(await bot.get_updates()) == 1  # not confirmed yet

    assert await bot.get_updates(offset=update_id + 1) == ()
    assert api.pending_updates == []


async def test_a_long_poll_waits_for_an_update(alice: dict) -> None:
    async with (
        FakeBotApi(token=TOKEN, long_poll_cap=5.0) as api,
        Bot(TOKEN, base_url=api.base_url) as bot,
    ):
        user = api.user(42, "Alice")

        async def type_later() -> None:
            await asyncio.sleep(0.05)
            api.send_text(api.private_chat(user), user, "hello")

        typing = asyncio.create_task(type_later())
        updates = await bot.get_updates(timeout=5)
        await typing

    assert [u.message.text for u in updates if u.message] == ["hello"]


async def test_a_long_poll_ends_empty_at_the_cap(api: FakeBotApi, bot: Bot) -> None:
    assert await bot.get_updates(timeout=30) == ()


async def test_allowed_updates_filters_and_persists(api: FakeBotApi, bot: Bot, alice: dict) -> None:
    sent = await bot.send_message(42, "Pick", reply_markup=DONE)
    api.press_button(api.chats[42], alice, sent.message_id, "done:1")
    api.send_text(api.chats[42], alice, "hi")

    [update] = await bot.get_updates(allowed_updates=["message"])
    assert update.message is not None
    assert update.callback_query is None
    assert len(await bot.get_updates()) == 1  # the callback query was dropped for good


async def test_a_second_poller_ends_the_first_with_409() -> None:
    async with FakeBotApi(token=TOKEN, long_poll_cap=5.0) as api, aiohttp.ClientSession() as http:
        url = f"{api.base_url}{TOKEN}/getUpdates"

        async def poll(wait: str) -> dict:
            async with http.post(url, data={"timeout": wait}) as response:
                return await response.json()

        first = asyncio.create_task(poll("5"))
        while not api.calls_to("getUpdates"):  # noqa: ASYNC110 - until the first poll waits
            await asyncio.sleep(0.01)
        second = await poll("0")
        older = await first

    assert older["error_code"] == 409
    assert "terminated by other getUpdates request" in older["description"]
    assert second == {"ok": True, "result": []}


async def test_press_button_and_answer_the_callback_query(
    api: FakeBotApi, bot: Bot, alice: dict
) -> None:
    sent = await bot.send_message(42, "Pick", reply_markup=DONE)
    update_id = api.press_button(api.chats[42], alice, sent.message_id, "done:1")

    [update] = await bot.get_updates()
    query = update.callback_query
    assert update.update_id == update_id
    assert query is not None
    assert (query.data, query.from_user.id) == ("done:1", 42)
    assert query.message is not None
    assert query.message.message_id == sent.message_id
    assert await query.answer("Marked as done") is True
    [call] = api.calls_to("answerCallbackQuery")
    assert call.params == {"callback_query_id": query.id, "text": "Marked as done"}
    with pytest.raises(BadRequest, match="Query is too old"):
        await query.answer()  # a query is answered once

    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query("12345")
    with pytest.raises(ValueError, match="offers"):
        api.press_button(api.chats[42], alice, sent.message_id, "other")


async def test_edits_replace_the_message_and_refuse_no_change(
    api: FakeBotApi, bot: Bot, alice: dict
) -> None:
    sent = await bot.send_message(42, "Pick", reply_markup=DONE)

    edited = await bot.edit_message_text("Done!", chat_id=42, message_id=sent.message_id)
    assert isinstance(edited, type(sent))
    assert (edited.text, edited.reply_markup, edited.edit_date is not None) == ("Done!", None, True)
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("Done!", chat_id=42, message_id=sent.message_id)

    await bot.edit_message_reply_markup(chat_id=42, message_id=sent.message_id, reply_markup=DONE)
    [now] = api.messages(42)
    assert (now["text"], now["reply_markup"]) == ("Done!", DONE.to_dict())


async def test_commands_are_set_and_read_back(api: FakeBotApi, bot: Bot) -> None:
    commands = [BotCommand("add", "Add a game"), BotCommand("backlog", "Show the backlog")]

    assert await bot.set_my_commands(commands) is True

    assert await bot.get_my_commands() == tuple(commands)
    assert api.calls_to("setMyCommands")[0].params["commands"][0] == {
        "command": "add",
        "description": "Add a game",
    }
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Add Game", "no")])


async def test_polls_and_chat_members(api: FakeBotApi, bot: Bot, alice: dict) -> None:
    group = api.group_chat(-1001, "Backlog club", "supergroup")
    bob, carol = api.user(7, "Bob"), api.user(8, "Carol")
    api.set_admins(group, bob, owner=alice)
    api.send_text(group, carol, "hi all")

    sent = await bot.send_poll(-1001, "Next game?", ["Hades", "Celeste"])
    assert sent.poll is not None
    assert [o.text for o in sent.poll.options] == ["Hades", "Celeste"]

    statuses = [(await bot.get_chat_member(-1001, uid)).status for uid in (42, 7, 8, 123)]
    assert statuses == ["creator", "administrator", "member", "member"]
    api.user(9, "Dave")
    assert (await bot.get_chat_member(-1001, 9)).status == "left"
    admins = await bot.get_chat_administrators(-1001)
    assert sorted(a.user.first_name for a in admins) == ["Alice", "Bob"]


async def test_poll_limits_and_answers_to_non_anonymous_polls(
    api: FakeBotApi, bot: Bot, alice: dict
) -> None:
    group = api.group_chat(-1002, "Friends", "supergroup")
    api.group_chat(-1003, "News", "channel")
    with pytest.raises(BadRequest, match="must not exceed 100"):
        await bot.send_poll(-1002, "Tonight?", ["x" * 101, "Hades"])
    with pytest.raises(BadRequest, match="channel chats"):
        await bot.send_poll(-1003, "Tonight?", ["Celeste", "Hades"], is_anonymous=False)
    anonymous = await bot.send_poll(-1002, "Tonight?", ["Celeste", "Hades"])
    with pytest.raises(ValueError, match="anonymous"):
        api.answer_poll(group, alice, anonymous.message_id, [0])

    sent = await bot.send_poll(-1002, "Tonight?", ["Celeste", "Hades"], is_anonymous=False)
    update_id = api.answer_poll(group, alice, sent.message_id, [1])

    [update] = [u for u in api.pending_updates if u["update_id"] == update_id]
    assert sent.poll is not None
    assert update["poll_answer"] == {
        "poll_id": sent.poll.id,
        "user": alice,
        "option_ids": [1],
        "option_persistent_ids": [f"{sent.poll.id}:1"],
    }


async def test_a_webhook_blocks_polling_until_deleted(
    api: FakeBotApi, bot: Bot, alice: dict
) -> None:
    api.send_text(api.chats[42], alice, "hi")
    assert await bot.set_webhook("https://bot.example.org/hook") is True
    assert (await bot.get_webhook_info()).url == "https://bot.example.org/hook"
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()

    assert await bot.delete_webhook(drop_pending_updates=True) is True
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count) == ("", 0)
    assert await bot.get_updates() == ()


@pytest.mark.usefixtures("timedelta_retry_after")
async def test_429_surfaces_as_retry_after_then_passes(
    api: FakeBotApi, bot: Bot, alice: dict
) -> None:
    api.fail_next("sendMessage", status=429, retry_after=2)

    with pytest.raises(RetryAfter) as refused:
        await bot.send_message(42, "hi")
    assert refused.value.retry_after == dtm.timedelta(seconds=2)
    await bot.send_message(42, "hi")

    assert [c.status for c in api.calls_to("sendMessage")] == [429, 200]
    assert api.calls_to("sendMessage")[0].response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 2",
        "parameters": {"retry_after": 2},
    }


async def test_500_for_one_chat_surfaces_as_network_error(
    api: FakeBotApi, bot: Bot, alice: dict
) -> None:
    api.group_chat(-100, "Backlog club")
    api.fail_next("sendMessage", status=500, chat_id=-100)

    await bot.send_message(42, "other chats are fine")
    with pytest.raises(NetworkError) as failed:
        await bot.send_message(-100, "hi")
    assert type(failed.value) is NetworkError
    assert failed.value.message == "Internal Server Error"


async def test_a_fault_can_pick_its_calls_by_their_parameters(
    api: FakeBotApi, bot: Bot, alice: dict
) -> None:
    api.fail_next("sendMessage", status=502, when=lambda params: params["text"].startswith("B"))

    await bot.send_message(42, "A: passes")
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(42, "B: refused")
    await bot.send_message(42, "B: passes, the fault is used up")


async def test_a_held_call_waits_unread_until_released(
    api: FakeBotApi, bot: Bot, alice: dict
) -> None:
    held = api.hold_next("sendMessage", when=lambda params: params["text"] == "second")
    await bot.send_message(42, "first")  # not what the hold waits for

    sending = asyncio.create_task(bot.send_message(42, "second"))
    call = await held.reached()
    shown_while_held = [message["text"] for message in api.messages(42)]
    held.release()
    sent = await sending

    assert (call.params["text"], shown_while_held) == ("second", ["first"])
    assert sent.text == "second"
    assert [message["text"] for message in api.messages(42)] == ["first", "second"]


async def test_a_dropped_call_is_never_acted_on(api: FakeBotApi, bot: Bot, alice: dict) -> None:
    held = api.hold_next("sendMessage")
    sending = asyncio.create_task(bot.send_message(42, "lost"))
    await held.reached()
    held.drop()

    with pytest.raises(NetworkError, match="Bad Gateway"):
        await sending
    assert api.messages(42) == []
    assert api.sent_per_chat[42] == 0


async def test_an_upgrade_tells_the_bot_in_both_chats(api: FakeBotApi, alice: dict) -> None:
    group = api.group_chat(-4300, "Backlog club")
    supergroup = api.upgrade_group(group, -1004300, by=alice)

    moved_to, moved_from = [update["message"] for update in api.pending_updates]
    assert (moved_to["chat"]["id"], moved_to["migrate_to_chat_id"]) == (-4300, -1004300)
    assert (moved_from["chat"]["id"], moved_from["migrate_from_chat_id"]) == (-1004300, -4300)
    assert supergroup["type"] == "supergroup"


async def test_a_webhook_delivery_the_bot_does_not_answer_stays_pending(
    api: FakeBotApi, bot: Bot, alice: dict
) -> None:
    with contextlib.closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nobody listens there once closed
    await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret")
    api.send_command(api.chats[42], alice, "/start")

    statuses = await api.deliver_to_webhook()

    assert statuses == [None]
    assert len(api.pending_updates) == 1


async def test_an_upgraded_group_answers_with_its_new_id(api: FakeBotApi, bot: Bot) -> None:
    group = api.group_chat(-4200, "Backlog club")
    supergroup = api.upgrade_group(group, -1004200)

    with pytest.raises(ChatMigrated) as migrated:
        await bot.send_message(-4200, "hi")
    sent = await bot.send_message(migrated.value.new_chat_id, "hi")

    assert migrated.value.new_chat_id == supergroup["id"]
    assert (sent.chat.id, sent.chat.type) == (-1004200, "supergroup")


async def test_the_same_methods_answer_offline_through_ptbs_request_interface() -> None:
    offline = FakeBotApi(token=TOKEN, bot_username="QuestryaBot")
    offline.private_chat(offline.user(42, "Alice", "alice"))
    async with Bot(TOKEN, request=OfflineBotApi(offline)) as client:
        sent = await client.send_message(42, "<b>hi</b>", parse_mode=ParseMode.HTML)

    assert (client.username, sent.text, sent.entities[0].type) == ("QuestryaBot", "hi", "bold")
    assert [call.method for call in offline.calls] == ["getMe", "sendMessage"]


async def test_a_webhook_gets_the_pending_updates_with_the_secret_the_bot_set(
    api: FakeBotApi, bot: Bot, alice: dict
) -> None:
    received: list[tuple[str | None, dict]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((request.headers.get(SECRET_HEADER), await request.json()))
        return web.Response(status=200 if len(received) == 1 else 403)

    async with local_server(hook) as url:
        await bot.set_webhook(url, secret_token="s3cret")
        api.send_command(api.chats[42], alice, "/start")
        api.send_command(api.chats[42], alice, "/help")
        statuses = await api.deliver_to_webhook()

    assert statuses == [200, 403]
    assert [(secret, update["message"]["text"]) for secret, update in received] == [
        ("s3cret", "/start"),
        ("s3cret", "/help"),
    ]
    assert [update["message"]["text"] for update in api.pending_updates] == ["/help"]
    assert "secret_token" not in (await bot.get_webhook_info()).api_kwargs


@contextlib.asynccontextmanager
async def local_server(handler: Any) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/hook", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    await web.SockSite(runner, listener).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/hook"
    finally:
        await runner.cleanup()


async def test_a_blocked_chat_answers_403(api: FakeBotApi, bot: Bot, alice: dict) -> None:
    api.group_chat(-100, "Backlog club")
    api.block_chat(42)
    api.block_chat(-100)

    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(42, "hi")
    with pytest.raises(Forbidden, match="bot was kicked from the group chat"):
        await bot.send_photo(-100, "https://media.example.org/hades.jpg")
    assert not api.sent_per_chat


async def test_a_wrong_token_is_refused(api: FakeBotApi) -> None:
    stranger = Bot("123:WRONG", base_url=api.base_url)
    try:
        with pytest.raises(InvalidToken):
            await stranger.initialize()
    finally:
        await stranger.shutdown()
    assert api.calls[0].response == {
        "ok": False,
        "error_code": 401,
        "description": "Unauthorized",
    }


async def test_an_unknown_method_is_not_found(api: FakeBotApi, bot: Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendDragon", api_kwargs={"chat_id": 1})

    assert api.calls_to("sendDragon")[0].response == {
        "ok": False,
        "error_code": 404,
        "description": "Not Found: method not found",
    }


@pytest.mark.usefixtures("timedelta_retry_after")
async def test_the_optional_global_rate_limit(alice: dict) -> None:
    async with (
        FakeBotApi(token=TOKEN, max_messages_per_second=2) as api,
        Bot(TOKEN, base_url=api.base_url) as bot,
    ):
        api.private_chat(api.user(42, "Alice"))
        await bot.send_message(42, "Hi")
        await bot.send_message(42, "Hi")
        with pytest.raises(RetryAfter) as limited:
            await bot.send_message(42, "Yo")

    assert limited.value.retry_after == dtm.timedelta(seconds=1)
    assert api.sent_per_chat == {42: 2}
    assert api.duplicates() == {(42, "Hi"): 2}


async def test_json_bodies_and_get_requests_are_understood(api: FakeBotApi, alice: dict) -> None:
    url = f"{api.base_url}{TOKEN}"
    async with aiohttp.ClientSession() as session:
        body = {"chat_id": 42, "text": "42", "reply_markup": DONE.to_dict()}
        async with session.post(f"{url}/sendmessage", json=body) as response:
            sent = await response.json()
        async with session.get(f"{url}/getMe") as response:
            me = await response.json()

    [call] = api.calls_to("sendMessage")
    assert call.params == body
    assert sent["result"]["text"] == "42"
    assert me["result"]["username"] == "QuestryaBot"


async def test_wait_for_times_out_with_the_calls_so_far(api: FakeBotApi, bot: Bot) -> None:
    with pytest.raises(AssertionError, match=r"waited 0.1 s .*\ngetMe -> 200"):
        await api.wait_for("sendMessage", timeout=0.1)


async def test_a_real_application_long_polls_and_replies(api: FakeBotApi, alice: dict) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text(f"Welcome, {update.message.from_user.first_name}!")

    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    group = api.group_chat(-100, "Backlog club")

    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0)
        api.send_command(api.chats[42], alice, "/start")
        api.send_command(group, alice, "/start@QuestryaBot")
        replies = await api.wait_for("sendMessage", count=2)
        await app.updater.stop()
        await app.stop()

    assert {(c.params["chat_id"], c.params["text"]) for c in replies} == {
        (42, "Welcome, Alice!"),
        (-100, "Welcome, Alice!"),
    }
    assert api.pending_updates == []
