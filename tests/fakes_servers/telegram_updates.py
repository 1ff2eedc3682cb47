"""Real-shaped Bot API objects for the fake Telegram server (https://core.telegram.org/bots/api).

Users, chats, entities, photo sizes, polls and chat members as the real API writes them, and
the text rules it applies to what a bot sends: HTML parse mode turned into plain text plus
entities, surrounding whitespace trimmed, offsets and lengths counted in UTF-16 code units.
"""

from __future__ import annotations

import hashlib
import re
from html.parser import HTMLParser
from typing import Any

JSON = dict[str, Any]


class ApiError(Exception):
    """A refusal as the real API writes it: HTTP status, description, optional parameters."""

    def __init__(
        self,
        status: int,
        description: str,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id

    @classmethod
    def bad_request(cls, reason: str) -> ApiError:
        return cls(400, f"Bad Request: {reason}")

    def body(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        if self.migrate_to_chat_id is not None:
            body["parameters"] = {"migrate_to_chat_id": self.migrate_to_chat_id}
        return body


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def user(
    user_id: int, first_name: str, username: str | None = None, *, is_bot: bool = False
) -> JSON:
    data: JSON = {"id": user_id, "is_bot": is_bot, "first_name": first_name}
    if username:
        data["username"] = username
    if not is_bot:
        data["language_code"] = "en"
    return data


def private_chat(of_user: JSON) -> JSON:
    chat: JSON = {"id": of_user["id"], "type": "private", "first_name": of_user["first_name"]}
    if "username" in of_user:
        chat["username"] = of_user["username"]
    return chat


def group_chat(chat_id: int, title: str, kind: str = "group") -> JSON:
    if kind not in ("group", "supergroup", "channel"):
        raise ValueError(f"unknown chat type {kind!r}")
    return {"id": chat_id, "type": kind, "title": title}


# A command as Telegram clients mark it: "/" at the start or after whitespace, 1-32 word chars.
_COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w@])")


def command_entities(text: str) -> list[JSON]:
    """The bot_command entities a Telegram client attaches to a typed message."""
    return [
        {"type": "bot_command", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m[0])}
        for m in _COMMAND.finditer(text)
    ]


_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",  # only as <span class="tg-spoiler">
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


class _HtmlEntities(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.length = 0
        self.open: list[tuple[str, JSON | None]] = []
        self.entities: list[JSON] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        self.length += utf16_len(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        kind = _HTML_TAGS.get(tag)
        if kind is None or (tag == "span" and attributes.get("class") != "tg-spoiler"):
            raise ApiError.bad_request(f'can\'t parse entities: Unsupported start tag "{tag}"')
        entity: JSON | None = {"type": kind, "offset": self.length}
        language = (attributes.get("class") or "").removeprefix("language-")
        if tag == "a":
            entity = {**entity, "url": attributes.get("href") or ""}
        elif tag == "blockquote" and "expandable" in attributes:
            entity["type"] = "expandable_blockquote"
        elif tag == "tg-emoji":
            entity["custom_emoji_id"] = attributes.get("emoji-id") or ""
        elif tag == "code" and self.open and self.open[-1][0] == "pre" and language:
            pre = self.open[-1][1]
            if pre is not None:
                pre["language"] = language
            entity = None  # <pre><code class="language-x"> is one pre entity
        self.open.append((tag, entity))
        if entity is not None:
            self.entities.append(entity)

    def handle_endtag(self, tag: str) -> None:
        if not self.open:
            raise ApiError.bad_request(f'can\'t parse entities: Unexpected end tag "{tag}"')
        open_tag, entity = self.open.pop()
        if open_tag != tag:
            raise ApiError.bad_request(
                f'can\'t parse entities: Unmatched end tag, expected "</{open_tag}>", '
                f'found "</{tag}>"'
            )
        if entity is not None:
            entity["length"] = self.length - entity["offset"]


def parse_html(text: str) -> tuple[str, list[JSON]]:
    parser = _HtmlEntities()
    parser.feed(text)
    parser.close()
    if parser.open:
        raise ApiError.bad_request(
            "can't parse entities: Can't find end tag corresponding to start tag "
            f'"{parser.open[-1][0]}"'
        )
    return "".join(parser.parts), [e for e in parser.entities if e["length"] > 0]


def format_text(
    text: str, parse_mode: str | None, entities: list[JSON] | None
) -> tuple[str, list[JSON]]:
    """The text and entities the real API stores for what a bot sent (MarkdownV2 not parsed)."""
    if entities is None and (parse_mode or "").lower() == "html":
        text, entities = parse_html(text)
    entities = entities or []
    stripped = text.lstrip()
    shift = utf16_len(text) - utf16_len(stripped)
    stripped = stripped.rstrip()
    end = utf16_len(stripped)
    trimmed = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        stop = min(entity["offset"] + entity["length"] - shift, end)
        if stop > start:
            trimmed.append({**entity, "offset": start, "length": stop - start})
    return stripped, trimmed


def photo_sizes(source: str) -> list[JSON]:
    """The sizes Telegram makes of a sent picture, with stable ids derived from its source."""
    digest = hashlib.sha256(source.encode()).hexdigest()
    return [
        {
            "file_id": f"AgACAgIAAxkDAAI{digest[:24]}{index}",
            "file_unique_id": f"AQAD{digest[24:36]}{index}",
            "file_size": width * height // 8,
            "width": width,
            "height": height,
        }
        for index, (width, height) in enumerate([(90, 51), (320, 180), (800, 450), (1280, 720)])
    ]


def poll(poll_id: str, params: JSON) -> JSON:
    """A Poll as Bot API 10 answers it (options have persistent ids; no correct_option_id)."""
    options = params.get("options") or []
    if not isinstance(options, list) or len(options) < 2:
        raise ApiError.bad_request("poll must have at least 2 option")
    if len(options) > 12:
        raise ApiError.bad_request("poll can't have more than 12 options")
    question = str(params.get("question") or "").strip()
    texts = [str(o["text"] if isinstance(o, dict) else o).strip() for o in options]
    if not question or not all(texts):
        raise ApiError.bad_request("poll question and options must be non-empty")
    if utf16_len(question) > 300:
        raise ApiError.bad_request("poll question length must not exceed 300")
    if any(utf16_len(text) > 100 for text in texts):
        raise ApiError.bad_request("poll options length must not exceed 100")
    kind = params.get("type") or "regular"
    result: JSON = {
        "id": poll_id,
        "question": question,
        "options": [
            {"persistent_id": f"{poll_id}:{index}", "text": text, "voter_count": 0}
            for index, text in enumerate(texts)
        ],
        "total_voter_count": 0,
        "is_closed": bool(params.get("is_closed", False)),
        "is_anonymous": bool(params.get("is_anonymous", True)),
        "type": kind,
        "allows_multiple_answers": bool(params.get("allows_multiple_answers", False)),
        "allows_revoting": bool(params.get("allows_revoting", kind != "quiz")),
        "members_only": bool(params.get("members_only", False)),
    }
    correct = params.get("correct_option_ids", params.get("correct_option_id"))
    if kind == "quiz" and correct is not None:
        result["correct_option_ids"] = correct if isinstance(correct, list) else [correct]
    return result


_ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
)


def chat_member(member: JSON, status: str) -> JSON:
    """A ChatMember: status is creator, administrator, member or left."""
    data: JSON = {"user": member, "status": status}
    if status == "creator":
        data["is_anonymous"] = False
    elif status == "administrator":
        data.update(can_be_edited=False, is_anonymous=False, can_promote_members=False)
        data.update(dict.fromkeys(_ADMIN_RIGHTS, True))
    return data
