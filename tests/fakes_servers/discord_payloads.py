"""Real-shaped Discord API objects for the fake Discord server (https://discord.com/developers).

Snowflakes, users, guilds (roles, text channels, members), DM channels, messages, application
commands and interactions as API v10 writes them, the errors it answers with, and the checks
it applies to what a bot sends (command definitions, message bodies) and to what a player can
type (options: required, choices, ranges), so a test cannot feed what Discord would not.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

DISCORD_EPOCH_MS = 1_420_070_400_000
MANAGE_GUILD, ADMINISTRATOR = 1 << 5, 1 << 3
ALL_PERMISSIONS = (1 << 51) - 1
EVERYONE_PERMISSIONS = sum(  # what a new server's @everyone may do
    1 << bit for bit in (0, 6, 10, 11, 14, 15, 16, 18, 20, 21, 25, 26, 31, 35, 36, 37, 38)
)
BOT_PERMISSIONS = EVERYONE_PERMISSIONS | 1 << 13  # + Manage Messages, from the invite
MEMBERS_INTENT, PRESENCES_INTENT, MESSAGE_CONTENT_INTENT = 1 << 1, 1 << 8, 1 << 15
PRIVILEGED_INTENTS = MEMBERS_INTENT | PRESENCES_INTENT | MESSAGE_CONTENT_INTENT
GUILD_MESSAGES_INTENT, DIRECT_MESSAGES_INTENT = 1 << 9, 1 << 12
GUILD_MESSAGE_POLLS_INTENT, DIRECT_MESSAGE_POLLS_INTENT = 1 << 24, 1 << 25
EPHEMERAL, LOADING = 1 << 6, 1 << 7
CHAT_INPUT, SUB_COMMAND, SUB_COMMAND_GROUP = 1, 1, 2
STRING, INTEGER, BOOLEAN, NUMBER = 3, 4, 5, 10
NAME = re.compile(r"[-_'\w]{1,32}")
MENTION = re.compile(r"<@!?(\d+)>")
EVERYONE_MENTION = re.compile(r"@(everyone|here)\b")
# Compact, as Discord writes it; one encoder for every frame and response (json.dumps with
# options would build a new one each call).
to_json = json.JSONEncoder(separators=(",", ":")).encode


class ApiError(Exception):
    """A refusal as Discord writes it: HTTP status, message, JSON error code, field errors."""

    def __init__(self, status: int, message: str, code: int = 0, errors: JSON | None = None):
        super().__init__(message)
        self.status, self.message, self.code, self.errors = status, message, code, errors

    def body(self) -> JSON:
        body: JSON = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return body

    @classmethod
    def invalid_form(cls, where: list[str | int], code: str, message: str) -> ApiError:
        errors: JSON = {"_errors": [{"code": code, "message": message}]}
        for key in reversed(where):
            errors = {str(key): errors}
        return cls(400, "Invalid Form Body", 50035, errors)


UNAUTHORIZED = (401, "401: Unauthorized", 0)
NOT_FOUND = (404, "404: Not Found", 0)
METHOD_NOT_ALLOWED = (405, "405: Method Not Allowed", 0)
UNKNOWN_CHANNEL = (404, "Unknown Channel", 10003)
UNKNOWN_GUILD = (404, "Unknown Guild", 10004)
UNKNOWN_MEMBER = (404, "Unknown Member", 10007)
UNKNOWN_MESSAGE = (404, "Unknown Message", 10008)
UNKNOWN_USER = (404, "Unknown User", 10013)
UNKNOWN_WEBHOOK = (404, "Unknown Webhook", 10015)
UNKNOWN_INTERACTION = (404, "Unknown interaction", 10062)
MISSING_ACCESS = (403, "Missing Access", 50001)
EMPTY_MESSAGE = (400, "Cannot send an empty message", 50006)
CANNOT_DM = (403, "Cannot send messages to this user", 50007)
ALREADY_ACKNOWLEDGED = (400, "Interaction has already been acknowledged.", 40060)
ERRORS_BY_STATUS = {
    403: MISSING_ACCESS,
    404: UNKNOWN_CHANNEL,
    500: (500, "500: Internal Server Error", 0),
}


class Snowflakes:
    """Ids as Discord makes them: milliseconds since 2015 << 22, worker, process, increment."""

    def __init__(self) -> None:
        self._increments = itertools.count(1)

    def __call__(self) -> str:
        now = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return str(now << 22 | 1 << 17 | 7 << 12 | next(self._increments) % 4096)


def timestamp() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def user(user_id: int | str, name: str, *, bot: bool = False) -> JSON:
    data: JSON = {
        "id": str(user_id), "username": name.lower().replace(" ", "_"), "discriminator": "0",
        "global_name": None if bot else name, "avatar": None, "avatar_decoration_data": None,
        "public_flags": 0, "flags": 0, "banner": None, "accent_color": None,
        "collectibles": None, "primary_guild": None, "clan": None,
    }  # fmt: skip
    if bot:
        data["bot"] = True
    return data


def current_user(bot: JSON) -> JSON:
    """GET /users/@me for a bot: the user plus the account's private fields."""
    return {**bot, "verified": True, "mfa_enabled": False, "locale": "en-US", "email": None}


def application(app_id: str, bot: JSON, owner: JSON) -> JSON:
    return {
        "id": app_id, "name": bot["username"].title(), "icon": None, "description": "",
        "summary": "", "type": None, "hook": True, "bot_public": True,
        "bot_require_code_grant": False, "verify_key": "a1" * 32, "flags": 0, "bot": bot,
        "owner": owner, "team": None, "redirect_uris": [], "interactions_endpoint_url": None,
        "approximate_guild_count": 0, "integration_types_config": {"0": {}},
    }  # fmt: skip


def role(role_id: str, name: str, permissions: int, position: int, **extra: Any) -> JSON:
    return {
        "id": role_id, "name": name, "description": None, "permissions": str(permissions),
        "position": position, "color": 0, "hoist": False, "managed": False,
        "mentionable": False, "icon": None, "unicode_emoji": None, "flags": 0,
        "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        **extra,
    }  # fmt: skip


def text_channel(channel_id: str, guild_id: str, name: str, position: int) -> JSON:
    return {
        "id": channel_id, "type": 0, "guild_id": guild_id, "name": name, "position": position,
        "parent_id": None, "topic": None, "nsfw": False, "last_message_id": None,
        "rate_limit_per_user": 0, "permission_overwrites": [], "flags": 0,
    }  # fmt: skip


def dm_channel(channel_id: str, recipient: JSON) -> JSON:
    return {"id": channel_id, "type": 1, "last_message_id": None, "flags": 0,
            "recipients": [recipient]}  # fmt: skip


def member(member_user: JSON, role_ids: list[str]) -> JSON:
    return {
        "user": member_user, "roles": role_ids, "nick": None, "avatar": None, "banner": None,
        "joined_at": timestamp(), "premium_since": None, "deaf": False, "mute": False,
        "flags": 0, "pending": False, "communication_disabled_until": None,
        "avatar_decoration_data": None,
    }  # fmt: skip


@dataclass
class GuildState:
    """A server the bot is in: its roles, text channels and members (user id -> member)."""

    id: str
    name: str
    owner_id: str
    roles: list[JSON]
    channels: list[JSON] = field(default_factory=list)
    members: dict[str, JSON] = field(default_factory=dict)
    joined_at: str = field(default_factory=timestamp)
    bot_present: bool = True

    def permissions_of(self, user_id: str) -> int:
        """A member's permissions (no channel overwrites here): roles', all for owner/admin."""
        if user_id == self.owner_id:
            return ALL_PERMISSIONS
        held = set(self.members[user_id]["roles"]) | {self.id}
        value = 0
        for each in self.roles:
            if each["id"] in held:
                value |= int(each["permissions"])
        return ALL_PERMISSIONS if value & ADMINISTRATOR else value

    def payload(self, *, bot_id: str, all_members: bool) -> JSON:
        """The GUILD_CREATE a bot receives; without the presences intent the members list
        holds only the bot itself, as on a real server."""
        members = [m for uid, m in self.members.items() if all_members or uid == bot_id]
        return {
            "id": self.id, "name": self.name, "icon": None, "splash": None, "banner": None,
            "discovery_splash": None, "owner_id": self.owner_id, "afk_channel_id": None,
            "afk_timeout": 300, "verification_level": 0, "default_message_notifications": 0,
            "explicit_content_filter": 0, "roles": self.roles, "emojis": [], "stickers": [],
            "features": [], "mfa_level": 0, "application_id": None, "description": None,
            "system_channel_id": self.channels[0]["id"] if self.channels else None,
            "system_channel_flags": 0, "rules_channel_id": None, "vanity_url_code": None,
            "premium_tier": 0, "premium_subscription_count": 0, "preferred_locale": "en-US",
            "public_updates_channel_id": None, "safety_alerts_channel_id": None,
            "max_members": 500000, "max_video_channel_users": 25, "nsfw_level": 0,
            "premium_progress_bar_enabled": False, "incidents_data": None, "lazy": True,
            "joined_at": self.joined_at, "large": False, "unavailable": False,
            "member_count": len(self.members), "members": members, "voice_states": [],
            "channels": [{k: v for k, v in c.items() if k != "guild_id"} for c in self.channels],
            "threads": [], "presences": [], "stage_instances": [], "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }  # fmt: skip


def message(
    message_id: str,
    channel_id: str,
    author: JSON,
    body: JSON,
    *,
    users: Mapping[str, JSON] | None = None,
    **extra: Any,
) -> JSON:
    """The message Discord stores for a create body: content, embeds, components (each given
    an `id`, as Discord numbers them), flags, and the mentions allowed_mentions lets ping."""
    data: JSON = {
        "id": message_id, "type": 0, "channel_id": channel_id, "author": author,
        "content": "", "attachments": [], "embeds": [], "mentions": [], "mention_roles": [],
        "mention_everyone": False, "pinned": False, "tts": False, "timestamp": timestamp(),
        "edited_timestamp": None, "flags": 0, "components": [],
    }  # fmt: skip
    data["flags"] = int(body.get("flags") or 0) & EPHEMERAL  # only a new message can be one
    return apply_edit(data, body, users) | extra


def apply_edit(data: JSON, body: JSON, users: Mapping[str, JSON] | None = None) -> JSON:
    """A message with the fields of a create/edit body applied (what PATCH changes); mentions
    name the known `users` (by id) that allowed_mentions lets the content ping."""
    kept = int(data["flags"]) & EPHEMERAL  # an edit never changes who sees the message
    for key in ("content", "embeds", "components", "tts", "flags", "attachments"):
        if body.get(key) is not None:
            data[key] = body[key]
    data["flags"] = int(data["flags"]) & ~(LOADING | EPHEMERAL) | kept
    data["embeds"] = [{"type": "rich", **embed} for embed in data["embeds"]]
    numbers = itertools.count(1)
    data["components"] = [_number(component, numbers) for component in data["components"]]
    if "content" in body or "allowed_mentions" in body:
        allowed = body.get("allowed_mentions") or {"parse": ["users", "roles", "everyone"]}
        parse = allowed.get("parse", [])
        allowed_users = {str(u) for u in allowed.get("users", [])}
        known = users or {}
        data["mentions"] = [
            known[uid] for uid in dict.fromkeys(MENTION.findall(data["content"] or ""))
            if uid in known and ("users" in parse or uid in allowed_users)
        ]  # fmt: skip
        data["mention_everyone"] = "everyone" in parse and bool(
            EVERYONE_MENTION.search(data["content"] or "")
        )
    return data


def _number(component: JSON, numbers: itertools.count[int]) -> JSON:
    numbered = {**component, "id": component.get("id") or next(numbers)}
    if "components" in component:
        numbered["components"] = [_number(child, numbers) for child in component["components"]]
    return numbered


def custom_ids(message_data: JSON) -> list[str]:
    """The custom ids of the enabled buttons and menus on a message, in order."""
    found: list[str] = []
    stack = list(reversed(message_data.get("components", [])))
    while stack:
        component = stack.pop()
        if "custom_id" in component and not component.get("disabled"):
            found.append(component["custom_id"])
        stack.extend(reversed(component.get("components", [])))
    return found


def check_message_body(body: JSON, *, files: int = 0) -> None:
    """Refuse what Discord refuses: nothing to show, or text over 2000 characters."""
    content = body.get("content") or ""
    if len(content) > 2000:
        raise ApiError.invalid_form(
            ["content"], "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length."
        )
    parts = ("embeds", "components", "sticker_ids", "poll", "attachments")
    if not content and not files and not any(body.get(part) for part in parts):
        raise ApiError(*EMPTY_MESSAGE)


def check_commands(commands: Any) -> None:
    """The checks of a bulk overwrite: names, descriptions, option order, duplicates."""
    if not isinstance(commands, list):
        raise ApiError(400, "400: Bad Request", 50109)
    seen: set[tuple[int, str]] = set()
    for index, command in enumerate(commands):
        kind = command.get("type", CHAT_INPUT)
        _check_named(command, [index], needs_description=kind == CHAT_INPUT)
        if (kind, command["name"]) in seen:
            raise ApiError.invalid_form(
                [index, "name"], "APPLICATION_COMMANDS_DUPLICATE_NAME",
                "Application command names must be unique",
            )  # fmt: skip
        seen.add((kind, command["name"]))
        _check_options(command.get("options") or [], [index, "options"])


def _check_named(item: JSON, where: list[str | int], *, needs_description: bool) -> None:
    name, description = item.get("name", ""), item.get("description", "")
    if not NAME.fullmatch(name) or (needs_description and name != name.lower()):
        raise ApiError.invalid_form(
            [*where, "name"], "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"
        )
    if needs_description and not 1 <= len(description) <= 100:
        raise ApiError.invalid_form(
            [*where, "description"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
        )


def _check_options(options: list[JSON], where: list[str | int]) -> None:
    if len(options) > 25:
        raise ApiError.invalid_form(where, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    optional_seen = False
    for index, option in enumerate(options):
        _check_named(option, [*where, index], needs_description=True)
        if option["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP):
            _check_options(option.get("options") or [], [*where, index, "options"])
        elif option.get("required") and optional_seen:
            raise ApiError.invalid_form(
                [*where, index, "required"], "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                "Required options must be placed before non-required options",
            )  # fmt: skip
        optional_seen = optional_seen or not option.get("required")
        if len(option.get("choices") or []) > 25:
            raise ApiError.invalid_form(
                [*where, index, "choices"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
            )


def command_options(
    command: JSON, path: list[str], values: dict[str, Any], focused: str | None = None
) -> list[JSON]:
    """The interaction `options` a player's input makes for `command` (`path` = subcommand
    names), refused with ValueError where Discord's client would not send it."""
    defined: list[JSON] = command.get("options") or []
    for name in path:
        group = next((o for o in defined if o["name"] == name and o["type"] <= 2), None)
        if group is None:
            raise ValueError(f"/{command['name']} has no subcommand {name!r}")
        inner = command_options({**group, "name": command["name"]}, path[1:], values, focused)
        return [{"name": name, "type": group["type"], "options": inner}]
    if any(option["type"] <= 2 for option in defined):
        raise ValueError(f"/{command['name']} needs a subcommand: {[o['name'] for o in defined]}")
    by_name = {option["name"]: option for option in defined}
    unknown = set(values) - set(by_name)
    if unknown:
        raise ValueError(f"/{command['name']} has no option {sorted(unknown)}; has {list(by_name)}")
    options = []
    for option in defined:
        if option["name"] not in values:
            if option.get("required") and focused is None:
                raise ValueError(f"/{command['name']} requires {option['name']!r}")
            continue
        value = values[option["name"]]
        entry = {"name": option["name"], "type": option["type"], "value": value}
        if option["name"] == focused:
            if not option.get("autocomplete"):
                raise ValueError(f"{option['name']!r} of /{command['name']} has no autocomplete")
            entry["focused"] = True
        else:
            _check_value(option, value)
        options.append(entry)
    return options


def _check_value(option: JSON, value: Any) -> None:
    kind, name = option["type"], option["name"]
    types: dict[int, type | tuple[type, ...]] = {
        STRING: str, INTEGER: int, BOOLEAN: bool, NUMBER: (int, float)
    }  # fmt: skip
    expected = types.get(kind)
    if expected and (not isinstance(value, expected) or (kind != BOOLEAN and value is True)):
        raise ValueError(f"{name!r} takes {expected}, not {value!r}")
    choices = [choice["value"] for choice in option.get("choices") or []]
    if choices and value not in choices:
        raise ValueError(f"{name!r} must be one of {choices}, not {value!r}")
    low, high = option.get("min_value"), option.get("max_value")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name!r} must be within [{low}, {high}], not {value!r}")
    shortest, longest = option.get("min_length", 0), option.get("max_length", 6000)
    if kind == STRING and not shortest <= len(value) <= longest:
        raise ValueError(f"{name!r} must be {shortest}-{longest} characters long")
