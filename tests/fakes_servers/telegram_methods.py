"""The Bot API methods of the fake Telegram server, over the chats it keeps.

Each method takes the request's parameters (nested JSON decoded) and returns the `result` the
real API would, or raises ApiError with the real API's status and description.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.fakes_servers import telegram_updates as shapes
from tests.fakes_servers.telegram_updates import JSON, ApiError

SEND_METHODS = frozenset({"sendMessage", "sendPhoto", "sendPoll"})
# Update kinds delivered only when asked for by name in allowed_updates.
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
CONFLICT_POLLING = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
BUTTON_ACTIONS = frozenset(
    {"callback_data", "url", "web_app", "login_url", "switch_inline_query", "pay"}
    | {"switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text"}
    | {"callback_game"}
)


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    filename: str | None
    content_type: str
    content: bytes = field(repr=False)


class BotApiMethods:
    """The bot's view of Telegram: chats, their messages, pending updates, settings."""

    def __init__(self, token: str, bot_username: str, bot_name: str, long_poll_cap: float):
        self.token = token
        self.bot_user = shapes.user(int(token.split(":")[0]), bot_name, bot_username, is_bot=True)
        self.long_poll_cap = long_poll_cap
        self.users: dict[int, JSON] = {}
        self.chats: dict[int, JSON] = {}
        self.webhook: JSON = {"url": ""}
        self.webhook_secret: str | None = None  # kept apart: getWebhookInfo never shows it
        self.sent_per_chat: Counter[int] = Counter()
        self._sent_contents: Counter[tuple[int, str]] = Counter()
        self._send_times: list[float] = []
        self._history: defaultdict[int, dict[int, JSON]] = defaultdict(dict)
        self._last_message_id: Counter[int] = Counter()
        self._members: defaultdict[int, dict[int, str]] = defaultdict(dict)
        self._callback_queries: set[str] = set()
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._updates: list[JSON] = []
        self._next_update_id = 100
        self._allowed_updates: set[str] | None = None
        self._poll_generation = 0
        self._wakeup = asyncio.Event()
        self._closing = False
        handlers: dict[str, Callable[[JSON], Any]] = {
            "getMe": self._get_me,
            "getUpdates": lambda params: None,  # see get_updates: it waits
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": lambda params: self._commands.get(_commands_key(params), []),
            "deleteMyCommands": self._delete_my_commands,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendPoll": self._send_poll,
            "sendChatAction": lambda params: bool(self._chat(params)),
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "getChatMember": self._get_chat_member,
            "getChatAdministrators": self._get_chat_administrators,
            "close": lambda params: True,
            "logOut": lambda params: True,
        }
        # The real API matches method names case-insensitively.
        self.methods = {name.lower(): (name, handler) for name, handler in handlers.items()}

    def push_update(self, payload: JSON) -> int:
        """Queue any update, e.g. {"my_chat_member": {...}}; returns its update_id."""
        update_id = self._next_update_id
        self._next_update_id += 1
        self._updates.append({"update_id": update_id, **payload})
        self._wake()
        return update_id

    def receive(self, message: JSON) -> None:
        """Keep a message built elsewhere (an offline test's factory) in its chat, as if its
        sender had typed it: later replies and edits can refer to it."""
        chat, sender = message["chat"], message["from"]
        self.chats.setdefault(chat["id"], chat)
        self.users.setdefault(sender["id"], sender)
        self._members[chat["id"]].setdefault(sender["id"], "member")
        self._history[chat["id"]][message["message_id"]] = message
        last = self._last_message_id[chat["id"]]
        self._last_message_id[chat["id"]] = max(last, message["message_id"])

    def next_message_id(self, chat_id: int) -> int:
        return self._last_message_id[chat_id] + 1

    def open_callback_query(self, query_id: str) -> None:
        """A button press made elsewhere (an offline test's factory) that the bot may answer."""
        self._callback_queries.add(query_id)

    def _wake(self) -> None:
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    def _store(self, chat: JSON, sender: JSON, fields: JSON) -> JSON:
        """Keep a message in its chat: ids count up per chat, whoever sent the message."""
        self._last_message_id[chat["id"]] += 1
        message_id = self._last_message_id[chat["id"]]
        message = {
            "message_id": message_id,
            "from": sender,
            "chat": chat,
            "date": int(time.time()),
            **fields,
        }
        self._history[chat["id"]][message_id] = message
        return message

    async def get_updates(self, params: JSON) -> list[JSON]:
        if self.webhook["url"]:
            raise ApiError(409, CONFLICT_WEBHOOK)
        offset = params.get("offset")
        if isinstance(offset, int) and offset < 0:
            self._updates = self._updates[offset:]
        elif isinstance(offset, int):
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if "allowed_updates" in params:
            self._allowed_updates = set(params["allowed_updates"] or ()) or None
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), self.long_poll_cap)
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake()  # an older poll still waiting is answered 409, as the real API does
        while True:
            self._updates = [u for u in self._updates if self._is_allowed(u)]
            remaining = deadline - time.monotonic()
            if self._updates or remaining <= 0 or self._closing:
                return self._updates[:limit]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), remaining)
            if generation != self._poll_generation:
                raise ApiError(409, CONFLICT_POLLING)

    def _is_allowed(self, update: JSON) -> bool:
        kind = next(key for key in update if key != "update_id")
        if self._allowed_updates is None:
            return kind not in OPT_IN_UPDATES
        return kind in self._allowed_updates

    def _get_me(self, params: JSON) -> JSON:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _set_webhook(self, params: JSON) -> bool:
        if not params.get("url"):
            return self._delete_webhook(params)
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook_secret = params.get("secret_token") or None
        self.webhook = {
            "url": params["url"],
            "max_connections": params.get("max_connections", 40),
            **_maybe("allowed_updates", params.get("allowed_updates")),
        }
        return True

    def _delete_webhook(self, params: JSON) -> bool:
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook, self.webhook_secret = {"url": ""}, None
        return True

    def _get_webhook_info(self, params: JSON) -> JSON:
        pending = {"pending_update_count": len(self._updates)}
        return {**self.webhook, "has_custom_certificate": False, **pending}

    def _set_my_commands(self, params: JSON) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError.bad_request("can't parse commands JSON object")
        for command in commands:
            name = str(command.get("command", ""))
            if not (1 <= len(name) <= 32 and name.replace("_", "").isalnum() and name.islower()):
                raise ApiError.bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise ApiError.bad_request("command description must be non-empty")
        self._commands[_commands_key(params)] = commands
        return True

    def _delete_my_commands(self, params: JSON) -> bool:
        self._commands.pop(_commands_key(params), None)
        return True

    def _send_message(self, params: JSON) -> JSON:
        text, entities = _text(params, "text", "entities", 4096)
        if not text:
            raise ApiError.bad_request("message text is empty")
        return self._send(params, {"text": text, **_maybe("entities", entities)}, text)

    def _send_photo(self, params: JSON) -> JSON:
        photo = params.get("photo")
        if isinstance(photo, UploadedFile):
            photo = f"upload:{photo.filename}:{hashlib.sha256(photo.content).hexdigest()}"
        if not photo:
            raise ApiError.bad_request("there is no photo in the request")
        caption, entities = _text(params, "caption", "caption_entities", 1024)
        content = {
            "photo": shapes.photo_sizes(str(photo)),
            **_maybe("caption", caption),
            **_maybe("caption_entities", entities),
        }
        return self._send(params, content, f"{photo} {caption}")

    def _send_poll(self, params: JSON) -> JSON:
        poll_id = 5_000_000_000_000_000_000 + sum(self.sent_per_chat.values())
        poll = shapes.poll(str(poll_id), params)
        if not poll["is_anonymous"] and self._chat(params)["type"] == "channel":
            raise ApiError.bad_request("non-anonymous polls can't be sent to channel chats")
        return self._send(params, {"poll": poll}, f"poll {poll['question']}")

    def _send(self, params: JSON, content: JSON, content_key: str) -> JSON:
        chat = self._chat(params)
        fields = _maybe("reply_to_message", self._replied(chat, params))
        message = self._store(chat, self.bot_user, {**fields, **content, **_markup(params)})
        self.sent_per_chat[chat["id"]] += 1
        self._send_times.append(time.monotonic())
        self._sent_contents[(chat["id"], content_key)] += 1
        return message

    def _replied(self, chat: JSON, params: JSON) -> JSON | None:
        reply = params.get("reply_parameters") or {}
        message_id = reply.get("message_id", params.get("reply_to_message_id"))
        if message_id is None:
            return None
        replied = self._history[chat["id"]].get(message_id)
        if replied is None and not reply.get("allow_sending_without_reply"):
            raise ApiError.bad_request("message to be replied not found")
        return {k: v for k, v in (replied or {}).items() if k != "reply_to_message"} or None

    def chat_id_of(self, params: JSON) -> int | None:
        chat_id = params.get("chat_id")
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            named = [c for c in self.chats.values() if c.get("username") == chat_id[1:]]
            return named[0]["id"] if named else None
        return chat_id if isinstance(chat_id, int) else None

    def _chat(self, params: JSON) -> JSON:
        if params.get("chat_id") in (None, ""):
            raise ApiError.bad_request("chat_id is empty")
        chat_id = self.chat_id_of(params)
        if chat_id not in self.chats:
            raise ApiError.bad_request("chat not found")
        return self.chats[chat_id]

    def _own_message(self, params: JSON, action: str) -> JSON:
        chat = self._chat(params)
        message = self._history[chat["id"]].get(params.get("message_id", 0))
        if message is None:
            raise ApiError.bad_request(f"message to {action} not found")
        if action == "edit" and message["from"]["id"] != self.bot_user["id"]:
            raise ApiError.bad_request("message can't be edited")
        return message

    def _replace(self, old: JSON, new: JSON) -> JSON:
        if all(old.get(key) == new.get(key) for key in ("text", "entities", "reply_markup")):
            raise ApiError.bad_request(NOT_MODIFIED)
        new["edit_date"] = int(time.time())
        self._history[old["chat"]["id"]][old["message_id"]] = new
        return new

    def _edit_message_text(self, params: JSON) -> JSON | bool:
        if params.get("inline_message_id"):
            return True
        old = self._own_message(params, "edit")
        if "text" not in old:
            raise ApiError.bad_request("there is no text in the message to edit")
        text, entities = _text(params, "text", "entities", 4096)
        if not text:
            raise ApiError.bad_request("message text is empty")
        kept = {k: v for k, v in old.items() if k not in ("text", "entities", "reply_markup")}
        # As on Telegram, an edit without reply_markup removes the buttons.
        return self._replace(
            old, {**kept, "text": text, **_maybe("entities", entities), **_markup(params)}
        )

    def _edit_message_reply_markup(self, params: JSON) -> JSON | bool:
        if params.get("inline_message_id"):
            return True
        old = self._own_message(params, "edit")
        kept = {k: v for k, v in old.items() if k != "reply_markup"}
        return self._replace(old, {**kept, **_markup(params)})

    def _delete_message(self, params: JSON) -> bool:
        message = self._own_message(params, "delete")
        del self._history[message["chat"]["id"]][message["message_id"]]
        return True

    def _answer_callback_query(self, params: JSON) -> bool:
        """A query is answered once; Telegram refuses a second answer as it refuses a stale id."""
        if params.get("callback_query_id") not in self._callback_queries:
            raise ApiError.bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        self._callback_queries.discard(params["callback_query_id"])
        return True

    def _get_chat_member(self, params: JSON) -> JSON:
        chat = self._chat(params)
        user_id = params.get("user_id", 0)
        member = self.bot_user if user_id == self.bot_user["id"] else self.users.get(user_id)
        if member is None:
            raise ApiError.bad_request("user not found")
        return shapes.chat_member(member, self._members[chat["id"]].get(member["id"], "left"))

    def _get_chat_administrators(self, params: JSON) -> list[JSON]:
        chat = self._chat(params)
        if chat["type"] == "private":
            raise ApiError.bad_request("there are no administrators in the private chat")
        return [
            shapes.chat_member(self.users[user_id], status)
            for user_id, status in self._members[chat["id"]].items()
            if status in ("creator", "administrator") and user_id in self.users
        ]


def _maybe(key: str, value: Any) -> JSON:
    """{key: value}, or {} for an empty value: the API leaves empty optional fields out."""
    return {key: value} if value else {}


def _commands_key(params: JSON) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), params.get("language_code") or ""


def _text(params: JSON, key: str, entities_key: str, limit: int) -> tuple[str, list[JSON]]:
    raw = params.get(key)
    text, entities = shapes.format_text(
        "" if raw is None else str(raw), params.get("parse_mode"), params.get(entities_key)
    )
    if shapes.utf16_len(text) > limit:
        raise ApiError.bad_request(
            "message is too long" if key == "text" else "message caption is too long"
        )
    return text, entities


def _markup(params: JSON) -> JSON:
    """{"reply_markup": ...} for an inline keyboard (the only kind echoed back), else {}."""
    markup = params.get("reply_markup")
    if markup is None:
        return {}
    if not isinstance(markup, dict):
        raise ApiError.bad_request("can't parse reply keyboard markup JSON object")
    keyboard = markup.get("inline_keyboard")
    if keyboard is None:
        return {}
    for button in (button for row in keyboard for button in row):
        if not button.get("text") or not BUTTON_ACTIONS & button.keys():
            raise ApiError.bad_request(
                "can't parse inline keyboard button: Text buttons are unallowed in the inline "
                "keyboard"
            )
        data = button.get("callback_data")
        if data is not None and not 1 <= len(str(data).encode()) <= 64:
            raise ApiError.bad_request("BUTTON_DATA_INVALID")
    return {"reply_markup": markup}
