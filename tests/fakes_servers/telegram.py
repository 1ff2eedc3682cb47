"""A fake Telegram Bot API server, for end-to-end tests with the real python-telegram-bot.

    async with FakeBotApi(token="123:ABC", bot_username="QuestryaBot") as api:
        app = ApplicationBuilder().token(api.token).base_url(api.base_url).build()
        alice = api.user(42, "Alice")
        api.send_command(api.private_chat(alice), alice, "/add Hades")
        [reply] = await api.wait_for("sendMessage")

It answers `POST|GET /bot<token>/<method>` as the real API does: the same JSON shapes, error
codes and descriptions, for form, multipart or JSON bodies. It keeps the chats' messages, so
edits, replies and button presses refer to real messages, and it records every call. It can
be told to refuse the next calls (429 with retry_after, 5xx), to act as if removed from a chat
(403), or to enforce a global messages-per-second limit. It can hold a call unanswered until
the test lets it through or drops it, as if the connection broke before Telegram read it
(`hold_next`): a bot can be killed at a known point. Users tap the bot's inline buttons
(`press_button`) and the options of its non-anonymous polls (`answer_poll`). A webhook, once
set, is called only when a test says so (`deliver_to_webhook`), with the secret token the bot
set. Methods are in telegram_methods.py, the shapes of users, chats and entities in
telegram_updates.py; the same methods answer without HTTP through telegram_offline.py.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Any, Self

import aiohttp
from aiohttp import web

from tests.fakes_servers import json_response, serve_on_loopback
from tests.fakes_servers import telegram_updates as shapes
from tests.fakes_servers.telegram_methods import SEND_METHODS, BotApiMethods, UploadedFile
from tests.fakes_servers.telegram_updates import JSON, ApiError

__all__ = ["SECRET_HEADER", "Call", "FakeBotApi", "Hold", "UploadedFile"]

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

# Parameters the API reads as plain strings even when they look like JSON ("42", "true").
STRING_PARAMS = frozenset(
    {"text", "caption", "parse_mode", "photo", "question", "callback_query_id", "url", "data"}
    | {"inline_message_id", "language_code", "secret_token", "ip_address", "action"}
)


@dataclass
class Call:
    """One request: `method` as the API names it ("sendMessage"), `params` with nested JSON
    decoded, `time` = time.monotonic() at arrival; `status` and `response` (the JSON answer)
    stay None while a long poll waits."""

    method: str
    params: JSON
    time: float
    status: int | None = None
    response: JSON | None = None

    @property
    def ok(self) -> bool:
        return self.status == HTTPStatus.OK

    @property
    def result(self) -> Any:
        """The answer's `result`, e.g. the sent Message as a dict."""
        assert self.response is not None, f"{self} has no answer yet"
        assert self.response["ok"], f"{self} was refused: {self.response}"
        return self.response["result"]

    def __str__(self) -> str:
        return f"{self.method} -> {self.status} {self.params}"


@dataclass
class _Fault:
    method: str
    error: ApiError
    remaining: int
    chat_id: int | None
    when: Callable[[JSON], bool] | None = None

    def applies_to(self, call: Call, chat_id: int | None) -> bool:
        return (
            self.method.lower() == call.method.lower()
            and self.chat_id in (None, chat_id)
            and (self.when is None or self.when(call.params))
        )


@dataclass
class Hold:
    """A call kept waiting, neither answered nor acted on, until `release()` or `drop()`."""

    method: str
    when: Callable[[JSON], bool] | None
    call: Call | None = None
    _reached: asyncio.Event = field(default_factory=asyncio.Event)
    _decided: asyncio.Event = field(default_factory=asyncio.Event)
    _act: bool = False

    def applies_to(self, call: Call) -> bool:
        method_matches = self.method.lower() == call.method.lower()
        return method_matches and (self.when is None or self.when(call.params))

    async def reached(self, timeout: float = 30.0) -> Call:  # noqa: ASYNC109 - a deadline
        """The held call, once one has arrived."""
        await asyncio.wait_for(self._reached.wait(), timeout)
        assert self.call is not None
        return self.call

    def release(self) -> None:
        """Act on the call and answer it, as if it had never been held."""
        self._act = True
        self._decided.set()

    def drop(self) -> None:
        """Answer 502 without acting on it: Telegram never read it (the caller has died)."""
        self._decided.set()

    async def wait(self, call: Call) -> bool:
        """Hold `call` until the test decides; whether to act on it."""
        self.call = call
        self._reached.set()
        await self._decided.wait()
        return self._act


class FakeBotApi(BotApiMethods):
    def __init__(
        self,
        token: str = "123:ABC",  # noqa: S107 - a fake's token
        bot_username: str = "QuestryaBot",
        *,
        bot_name: str = "Questrya",
        long_poll_cap: float = 1.0,
        max_messages_per_second: float | None = None,
    ) -> None:
        super().__init__(token, bot_username, bot_name, long_poll_cap)
        self.max_messages_per_second = max_messages_per_second
        self.url = ""
        self.calls: list[Call] = []
        self._faults: list[_Fault] = []
        self._holds: list[Hold] = []
        self._blocked: set[int] = set()
        self._migrated: dict[int, int] = {}
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    async def __aenter__(self) -> Self:
        app = web.Application(client_max_size=50 * 1024 * 1024)  # the API takes 50 MB files
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner, self.url = await serve_on_loopback(app)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._closing = True
        self._wake()  # waiting long polls answer now rather than hold up the shutdown
        for hold in self._holds:
            hold.drop()
        assert self._runner is not None
        await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        call = self._record(request.match_info["method"])
        try:
            call.params = await _read_params(request)
            self._check_token(request.match_info["token"])
            await self._answer(call)
        except ApiError as error:
            call.status, call.response = error.status, error.body()
        return json_response(call.response, status=call.status)

    async def answer_offline(self, token: str, method: str, encoded: dict[str, str]) -> Call:
        """A call made without HTTP (see telegram_offline.py): `encoded` holds the parameters
        as a form would, each JSON-encoded unless it is a string."""
        call = self._record(method)
        call.params = {key: _decode(key, value) for key, value in encoded.items()}
        try:
            self._check_token(token)
            await self._answer(call)
        except ApiError as error:
            call.status, call.response = error.status, error.body()
        return call

    def _record(self, asked: str) -> Call:
        name, _ = self.methods.get(asked.lower(), (asked, None))
        call = Call(name, {}, time.monotonic())
        self.calls.append(call)
        return call

    def _check_token(self, token: str) -> None:
        if token != self.token:
            raise ApiError(401, "Unauthorized")

    async def _answer(self, call: Call) -> None:
        _, handler = self.methods.get(call.method.lower(), (call.method, None))
        if handler is None:
            raise ApiError(404, "Not Found: method not found")
        await self._wait_if_held(call)
        self._refuse_if_told(call)
        if call.method == "getUpdates":
            result = await self.get_updates(call.params)
        else:
            result = handler(call.params)
        body: JSON = {"ok": True, "result": result}
        if call.method in ("setWebhook", "deleteWebhook"):
            body["description"] = f"Webhook was {'set' if self.webhook['url'] else 'deleted'}"
        call.status, call.response = HTTPStatus.OK, body

    async def _wait_if_held(self, call: Call) -> None:
        hold = next((hold for hold in self._holds if hold.applies_to(call)), None)
        if hold is None:
            return
        self._holds.remove(hold)
        if not await hold.wait(call):
            raise ApiError(502, "Bad Gateway")

    def _refuse_if_told(self, call: Call) -> None:
        chat_id = self.chat_id_of(call.params)
        for fault in self._faults:
            if fault.applies_to(call, chat_id):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                raise fault.error
        if chat_id in self._migrated:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=self._migrated[chat_id],
            )
        if chat_id in self._blocked:
            kind = self.chats[chat_id]["type"] if chat_id in self.chats else "group"
            raise ApiError(
                403,
                "Forbidden: bot was blocked by the user"
                if kind == "private"
                else f"Forbidden: bot was kicked from the {kind} chat",
            )
        if call.method in SEND_METHODS and self.max_messages_per_second is not None:
            now = time.monotonic()
            self._send_times = [t for t in self._send_times if t > now - 1.0]
            if len(self._send_times) >= self.max_messages_per_second:
                raise ApiError(429, "Too Many Requests: retry after 1", retry_after=1)

    # -- what tests read --------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        count: int = 1,
        timeout: float = 10.0,  # noqa: ASYNC109 - the deadline is the point of the helper
    ) -> list[Call]:
        """All answered calls to `method` matching `predicate`, once there are `count`."""
        deadline = time.monotonic() + timeout
        while True:
            matching = [
                call
                for call in self.calls_to(method)
                if call.status is not None and (predicate is None or predicate(call))
            ]
            if len(matching) >= count:
                return matching
            if time.monotonic() >= deadline:
                polls = len(self.calls_to("getUpdates"))
                others = "\n".join(str(c) for c in self.calls if c.method != "getUpdates")
                raise AssertionError(
                    f"waited {timeout} s for {count} matching {method} call(s), got "
                    f"{len(matching)}; calls besides {polls} getUpdates:\n{others or '(none)'}"
                )
            await asyncio.sleep(0.01)

    def messages(self, chat_id: int) -> list[JSON]:
        """The chat as it stands now, oldest first: edits applied, deleted messages gone."""
        return list(self._history[chat_id].values())

    def bot_messages(self, chat_id: int) -> list[JSON]:
        return [m for m in self.messages(chat_id) if m["from"]["id"] == self.bot_user["id"]]

    def duplicates(self) -> dict[tuple[int, str], int]:
        """(chat_id, content) -> times, for each content the bot delivered more than once."""
        return {key: times for key, times in self._sent_contents.items() if times > 1}

    async def deliver_to_webhook(self) -> list[int | None]:
        """POST every pending update to the webhook, as Telegram does, with the secret token
        the bot set; updates the bot accepted (2xx) are gone, the others stay pending for a
        later try. Returns the HTTP statuses, None where the connection broke unanswered."""
        statuses: list[int | None] = []
        for update in list(self._updates):
            try:
                status = await self.post_to_webhook(update, self.webhook_secret)
            except aiohttp.ClientError:
                status = None  # the bot died on it, or is not listening
            statuses.append(status)
            if status is not None and HTTPStatus.OK <= status < HTTPStatus.MULTIPLE_CHOICES:
                self._updates.remove(update)
        return statuses

    async def post_to_webhook(self, update: JSON, secret_token: str | None) -> int:
        """One POST of `update` to the webhook with this secret header (None: no header), as
        anyone who learnt the URL could send; returns the HTTP status."""
        if not self.webhook["url"]:
            raise AssertionError("no webhook is set")
        headers = {SECRET_HEADER: secret_token} if secret_token is not None else {}
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.webhook["url"], json=update, headers=headers) as response,
        ):
            return response.status

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates fed and not yet confirmed by a getUpdates offset."""
        return list(self._updates)

    # -- misbehaviour -----------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int = 2,
        times: int = 1,
        chat_id: int | None = None,
        description: str | None = None,
        when: Callable[[JSON], bool] | None = None,
    ) -> None:
        """Refuse the next `times` calls to `method` (about `chat_id` only, if given; only
        those whose parameters satisfy `when`, if given)."""
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            error = ApiError(status, f"Too Many Requests: retry after {retry_after}", retry_after)
        else:
            error = ApiError(status, description or HTTPStatus(status).phrase)
        self._faults.append(_Fault(method, error, times, chat_id, when))

    def hold_next(self, method: str, when: Callable[[JSON], bool] | None = None) -> Hold:
        """Keep the next call to `method` (whose parameters satisfy `when`, if given) waiting,
        neither answered nor acted on, until the test releases or drops it."""
        hold = Hold(method, when)
        self._holds.append(hold)
        return hold

    def block_chat(self, chat_id: int) -> None:
        """From now on every call about this chat answers 403, as after a kick or a block."""
        self._blocked.add(chat_id)

    def unblock_chat(self, chat_id: int) -> None:
        self._blocked.discard(chat_id)

    def upgrade_group(self, chat: JSON, supergroup_id: int, by: JSON | None = None) -> JSON:
        """The group becomes a supergroup with a new id (-100…); calls about the old id answer
        400 with migrate_to_chat_id, as Telegram does. With `by` (the admin who upgraded it),
        the bot is told as Telegram tells it: a service message in the old group naming the
        new id, then one in the supergroup naming the old. Returns the supergroup."""
        self._migrated[chat["id"]] = supergroup_id
        supergroup = self.group_chat(supergroup_id, chat.get("title", ""), "supergroup")
        self._members[supergroup_id].update(self._members[chat["id"]])
        if by is not None:
            moved_to = self._store(chat, by, {"migrate_to_chat_id": supergroup_id})
            moved_from = self._store(supergroup, by, {"migrate_from_chat_id": chat["id"]})
            self.push_update({"message": moved_to})
            self.push_update({"message": moved_from})
        return supergroup

    # -- feeding updates --------------------------------------------------------------------

    def user(self, user_id: int, first_name: str, username: str | None = None) -> JSON:
        self.users[user_id] = shapes.user(user_id, first_name, username)
        return self.users[user_id]

    def private_chat(self, of_user: JSON) -> JSON:
        chat = self.chats[of_user["id"]] = shapes.private_chat(of_user)
        self._members[chat["id"]][of_user["id"]] = "member"
        return chat

    def group_chat(self, chat_id: int, title: str, kind: str = "group") -> JSON:
        """A group (negative id; a supergroup's starts with -100) that the bot is in."""
        chat = self.chats[chat_id] = shapes.group_chat(chat_id, title, kind)
        self._members[chat_id].setdefault(self.bot_user["id"], "member")
        return chat

    def set_admins(self, chat: JSON, *admins: JSON, owner: JSON | None = None) -> None:
        """Who getChatMember / getChatAdministrators report as administrators and owner."""
        for member, status in [*((a, "administrator") for a in admins), (owner, "creator")]:
            if member is not None:
                self.users.setdefault(member["id"], member)
                self._members[chat["id"]][member["id"]] = status

    def send_text(self, chat: JSON, sender: JSON, text: str) -> int:
        """A message typed by `sender` in `chat`, commands marked as a client marks them;
        returns its update_id."""
        self.users.setdefault(sender["id"], sender)
        self.chats.setdefault(chat["id"], chat)
        self._members[chat["id"]].setdefault(sender["id"], "member")
        entities = shapes.command_entities(text)
        fields = {"text": text, **({"entities": entities} if entities else {})}
        message = self._store(chat, sender, fields)
        return self.push_update({"message": message})

    def send_command(self, chat: JSON, sender: JSON, command: str) -> int:
        """Type a command ("/add Hades", "/add@QuestryaBot Hades"); returns the update_id."""
        entities = shapes.command_entities(command)
        if not entities or entities[0]["offset"] != 0:
            raise ValueError(f"{command!r} does not start with a /command")
        return self.send_text(chat, sender, command)

    def press_button(
        self, chat: JSON, sender: JSON, message: JSON | int, callback_data: str
    ) -> int:
        """A press on one of the current inline buttons of a message; returns the update_id."""
        message_id = message if isinstance(message, int) else message["message_id"]
        current = self._history[chat["id"]].get(message_id)
        if current is None:
            raise ValueError(f"no message {message_id} in chat {chat['id']}")
        keyboard = current.get("reply_markup", {}).get("inline_keyboard", [])
        offered = [button.get("callback_data") for row in keyboard for button in row]
        if callback_data not in offered:
            raise ValueError(f"message {message_id} offers {offered}, not {callback_data!r}")
        query_id = str(4_000_000_000_000_000_000 + self._next_update_id)
        self._callback_queries.add(query_id)
        query = {
            "id": query_id,
            "from": sender,
            "message": current,
            "chat_instance": str(abs(chat["id"]) * 7919 + 5_000_000_000),
            "data": callback_data,
        }
        return self.push_update({"callback_query": query})

    def answer_poll(self, chat: JSON, voter: JSON, message_id: int, option_ids: list[int]) -> int:
        """`voter` taps options of a poll the bot sent (none: a retracted vote). Telegram tells
        the bot only about its own non-anonymous polls, naming the poll but not the chat.
        Returns the update_id."""
        message = self._history[chat["id"]].get(message_id)
        poll = (message or {}).get("poll")
        if message is None or poll is None or message["from"]["id"] != self.bot_user["id"]:
            raise ValueError(f"message {message_id} in chat {chat['id']} is no poll of the bot's")
        if poll["is_anonymous"]:
            raise ValueError("Telegram sends no poll_answer for an anonymous poll")
        if any(not 0 <= index < len(poll["options"]) for index in option_ids):
            raise ValueError(f"the poll has {len(poll['options'])} options, not {option_ids}")
        self.users.setdefault(voter["id"], voter)
        chosen = [poll["options"][index]["persistent_id"] for index in option_ids]
        answer = {
            "poll_id": poll["id"],
            "user": voter,
            "option_ids": option_ids,
            "option_persistent_ids": chosen,
        }
        return self.push_update({"poll_answer": answer})


async def _read_params(request: web.Request) -> JSON:
    """Query string plus body (form, multipart or JSON), with nested JSON values decoded."""
    raw: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json" and request.can_read_body:
        try:
            raw.update(await request.json())
        except ValueError as error:
            raise ApiError.bad_request("can't parse JSON request body") from error
    elif request.can_read_body:
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                raw[key] = UploadedFile(value.filename, value.content_type, value.file.read())
            else:
                raw[key] = value
    return {key: _decode(key, value) for key, value in raw.items()}


def _decode(key: str, value: Any) -> Any:
    if not isinstance(value, str) or key in STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value
