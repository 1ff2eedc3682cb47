"""The REST side of the fake Discord (API v10): what a bot calls over HTTP, over the state the
fake keeps (users, servers, channels, messages, synced commands, dispatched interactions).

Each handler takes the request's route parameters and JSON body and returns the JSON Discord
would, or raises ApiError with Discord's status, message and code. Interaction callbacks and
followups follow Discord's rules: one callback per interaction, within `response_deadline`
seconds; the first followup after a "thinking" defer replaces the loading message; component
callbacks (type 6 and 7) act on the message the button is on. Polls come with new messages only
(discord_polls.py), and with the edit that fills a deferred answer in.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Any

from tests.fakes_servers import discord_payloads as shapes
from tests.fakes_servers.discord_gateway import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    COMPONENT,
    SentInteraction,
)
from tests.fakes_servers.discord_payloads import JSON, ApiError
from tests.fakes_servers.discord_polls import check_poll, stored_poll

PONG, MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE, CHOICES, MODAL = 1, 4, 5, 6, 7, 8, 9
CALLBACKS_ALLOWED = {
    APPLICATION_COMMAND: {MESSAGE, DEFERRED_MESSAGE, MODAL},
    COMPONENT: {MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE, MODAL},
    AUTOCOMPLETE: {CHOICES},
}
CHAT_INPUT_COMMAND_MESSAGE = 20
MESSAGE_BUCKET = "80c17d2f203122d936070c88c8d10f33"  # Discord's bucket hashes are opaque
INVALID_CALLBACK = (400, "Interaction callback type is not valid for this interaction", 50035)


@dataclass(frozen=True)
class Route:
    """What a handler needs from a request: route parameters, query and JSON body."""

    params: dict[str, str]
    query: dict[str, str]
    body: Any


@dataclass(frozen=True)
class Answer:
    """A handler's result: the JSON (None for 204) and headers to add."""

    body: Any
    status: int = 200
    headers: dict[str, str] | None = None


class DiscordRest:
    """The bot's view of Discord over REST, and the state both REST and gateway share."""

    def __init__(self, token: str, bot_name: str, message_limit: tuple[int, float]) -> None:
        self.snowflake = shapes.Snowflakes()
        self.token = token
        self.application_id = self.snowflake()
        # A bot created with its application shares its id, as on Discord today.
        self.bot = shapes.user(self.application_id, bot_name, bot=True)
        self.owner = shapes.user(self.snowflake(), "App Owner")
        self.application_flags = 1 << 23  # APPLICATION_COMMAND_BADGE, as apps with commands have
        self.privileged_intents = 0
        self.users: dict[str, JSON] = {self.bot["id"]: self.bot}
        self.guilds: dict[str, shapes.GuildState] = {}
        self.channels: dict[str, JSON] = {}
        self.messages: defaultdict[str, dict[str, JSON]] = defaultdict(dict)
        self.ephemeral_viewer: dict[str, str] = {}  # message id -> the one user who sees it
        self.commands: dict[str | None, list[JSON]] = {}
        self.interactions: dict[str, SentInteraction] = {}
        self.interactions_by_token: dict[str, SentInteraction] = {}  # webhook routes name tokens
        self.unreachable: dict[str, tuple[int, str, int]] = {}  # channel id -> error
        self.response_deadline = 3.0
        self.message_limit = message_limit
        self._message_times: defaultdict[str, deque[float]] = defaultdict(deque)

    # -- the bot and its application --------------------------------------------------------

    def get_me(self, route: Route) -> Answer:
        return Answer(shapes.current_user(self.bot))

    def get_application(self, route: Route) -> Answer:
        return Answer(shapes.application(self.application_id, self.bot, self.owner))

    def get_gateway(self, route: Route) -> Answer:
        return Answer({"url": self.gateway_url})

    def get_gateway_bot(self, route: Route) -> Answer:
        limit = {"total": 1000, "remaining": 999, "reset_after": 86_400_000}
        limit["max_concurrency"] = 1
        return Answer({"url": self.gateway_url, "shards": 1, "session_start_limit": limit})

    @property
    def gateway_url(self) -> str:
        raise NotImplementedError

    # -- application commands ---------------------------------------------------------------

    def get_commands(self, route: Route) -> Answer:
        self._check_application(route)
        return Answer(self.commands.get(self._command_scope(route), []))

    def put_commands(self, route: Route) -> Answer:
        """Bulk overwrite: what is sent replaces the scope's commands; names keep their ids."""
        self._check_application(route)
        scope = self._command_scope(route)
        shapes.check_commands(route.body)
        known = {(c["type"], c["name"]): c["id"] for c in self.commands.get(scope, [])}
        stored = [self._stored_command(c, scope, known) for c in route.body]
        self.commands[scope] = stored
        return Answer(stored)

    def _stored_command(self, sent: JSON, scope: str | None, known: dict[Any, str]) -> JSON:
        kind = sent.get("type", shapes.CHAT_INPUT)
        command: JSON = {
            "id": known.get((kind, sent["name"])) or self.snowflake(),
            "application_id": self.application_id, "version": self.snowflake(), "type": kind,
            "name": sent["name"], "description": sent.get("description", ""),
            "options": sent.get("options") or [], "nsfw": sent.get("nsfw", False),
            "default_member_permissions": sent.get("default_member_permissions"),
            "dm_permission": sent.get("dm_permission", True),
            "contexts": sent.get("contexts"), "integration_types": sent.get("integration_types"),
        }  # fmt: skip
        if scope is not None:
            command["guild_id"] = scope
            del command["dm_permission"], command["contexts"]
        return command

    def _check_application(self, route: Route) -> None:
        if route.params["application_id"] != self.application_id:
            raise ApiError(403, "Missing Access", 50001)

    def _command_scope(self, route: Route) -> str | None:
        guild_id = route.params.get("guild_id")
        if guild_id is not None:
            guild = self.guilds.get(guild_id)
            if guild is None or not guild.bot_present:
                raise ApiError(*shapes.MISSING_ACCESS)
        return guild_id

    # -- interactions -----------------------------------------------------------------------

    def post_callback(self, route: Route) -> Answer:
        interaction = self.interactions.get(route.params["interaction_id"])
        if interaction is None or interaction.token != route.params["token"]:
            raise ApiError(*shapes.UNKNOWN_INTERACTION)
        if interaction.response_type is not None:
            raise ApiError(*shapes.ALREADY_ACKNOWLEDGED)
        if time.monotonic() - interaction.sent_at > self.response_deadline:
            raise ApiError(*shapes.UNKNOWN_INTERACTION)  # Discord forgets it after 3 s
        kind, data = route.body.get("type"), route.body.get("data") or {}
        if kind not in CALLBACKS_ALLOWED[interaction.type]:
            raise ApiError(*INVALID_CALLBACK)
        message = self._respond(interaction, kind, data)
        interaction.response_type, interaction.response = kind, route.body
        interaction.answered_at = time.monotonic()
        if kind not in (DEFERRED_MESSAGE, DEFERRED_UPDATE):
            interaction.finish()
        return Answer(self._callback_result(interaction, kind, message))

    def _respond(self, interaction: SentInteraction, kind: int, data: JSON) -> JSON | None:
        if kind == CHOICES:
            _check_choices(data.get("choices"))
            return None
        if kind in (DEFERRED_UPDATE, UPDATE):
            message = self._component_message(interaction)
            if kind == UPDATE:
                shapes.apply_edit(message, data, self.users)
                message["edited_timestamp"] = shapes.timestamp()
            return message
        if kind == MESSAGE:
            check_new_message(data)
        loading = data | {"flags": int(data.get("flags") or 0) | shapes.LOADING}
        message = self._interaction_message(interaction, data if kind == MESSAGE else loading)
        interaction.response_message_id = message["id"]
        return message

    def _callback_result(
        self, interaction: SentInteraction, kind: int, message: JSON | None
    ) -> JSON:
        result: JSON = {"interaction": {"id": interaction.id, "type": interaction.type}}
        if message is not None and kind in (MESSAGE, DEFERRED_MESSAGE, UPDATE):
            result["interaction"] |= {
                "response_message_id": message["id"],
                "response_message_loading": bool(message["flags"] & shapes.LOADING),
                "response_message_ephemeral": bool(message["flags"] & shapes.EPHEMERAL),
            }
            result["resource"] = {"type": kind, "message": message}
        return result

    def _interaction_message(self, interaction: SentInteraction, body: JSON) -> JSON:
        """A message the bot's answer creates, as Discord shows it (author: the bot)."""
        player = interaction.player
        flags = int(body.get("flags") or 0)
        kind = CHAT_INPUT_COMMAND_MESSAGE if interaction.type == APPLICATION_COMMAND else 0
        metadata = {
            "id": interaction.id, "type": interaction.type, "user": player,
            "authorizing_integration_owners": interaction.payload["authorizing_integration_owners"],
        }  # fmt: skip
        message = shapes.message(
            self.snowflake(), interaction.channel_id, self.bot, body, users=self.users,
            type=kind, webhook_id=self.application_id, application_id=self.application_id,
            interaction_metadata=metadata,
        )  # fmt: skip
        message["flags"] = flags & (shapes.EPHEMERAL | shapes.LOADING)
        add_poll(message, body)
        self._store(message, viewer=player["id"] if flags & shapes.EPHEMERAL else None)
        return message

    def _component_message(self, interaction: SentInteraction) -> JSON:
        message_id = interaction.payload["message"]["id"]
        return self.messages[interaction.channel_id][message_id]

    # -- followups (the interaction's webhook) ----------------------------------------------

    def post_followup(self, route: Route) -> Answer:
        interaction = self._webhook_interaction(route)
        check_new_message(route.body)
        original = self._original(interaction)
        filling = original is not None and bool(original["flags"] & shapes.LOADING)
        if filling:
            # Discord drops a poll from the followup that fills a "thinking" answer in (and
            # finds the message empty if that was all): discord/discord-api-docs#7022.
            shapes.check_message_body({k: v for k, v in route.body.items() if k != "poll"})
        interaction.webhook_writes += 1
        interaction.finish()
        if original is not None and filling:
            shapes.apply_edit(original, route.body, self.users)  # keeps the defer's flags
            return Answer(original if route.query.get("wait") in ("1", "true") else None)
        message = self._interaction_message(interaction, route.body)
        interaction.followup_ids.append(message["id"])
        return Answer(message if route.query.get("wait") in ("1", "true") else None)

    def get_original(self, route: Route) -> Answer:
        return Answer(self._webhook_message(route))

    def patch_original(self, route: Route) -> Answer:
        message = self._webhook_message(route)
        shapes.check_message_body(message | route.body)  # an edit may not empty the message
        if message["flags"] & shapes.LOADING:
            check_new_message(route.body)  # filling a deferred answer in: it may add a poll
            add_poll(message, route.body)
        shapes.apply_edit(message, route.body, self.users)
        message["edited_timestamp"] = shapes.timestamp()
        interaction = self._webhook_interaction(route)
        interaction.webhook_writes += 1
        interaction.finish()
        return Answer(message)

    def delete_original(self, route: Route) -> Answer:
        message = self._webhook_message(route)
        del self.messages[message["channel_id"]][message["id"]]
        return Answer(None, status=204)

    def _webhook_interaction(self, route: Route) -> SentInteraction:
        if route.params["application_id"] != self.application_id:
            raise ApiError(*shapes.UNKNOWN_WEBHOOK)
        found = self.interactions_by_token.get(route.params["token"])
        if found is None or found.response_type is None:
            raise ApiError(*shapes.UNKNOWN_WEBHOOK)
        return found

    def _webhook_message(self, route: Route) -> JSON:
        interaction = self._webhook_interaction(route)
        if route.params["message_id"] == "@original":
            return self._required_original(interaction)
        if route.params["message_id"] not in interaction.followup_ids:
            raise ApiError(*shapes.UNKNOWN_MESSAGE)
        return self.messages[interaction.channel_id][route.params["message_id"]]

    def _original(self, interaction: SentInteraction) -> JSON | None:
        """The answer's message; for a button press answered by 6 or 7, the pressed one."""
        message_id = interaction.response_message_id
        if interaction.response_type in (DEFERRED_UPDATE, UPDATE):
            message_id = interaction.payload["message"]["id"]
        return self.messages[interaction.channel_id].get(message_id or "")

    def _required_original(self, interaction: SentInteraction) -> JSON:
        message = self._original(interaction)
        if message is None:
            raise ApiError(*shapes.UNKNOWN_MESSAGE)
        return message

    # -- servers ----------------------------------------------------------------------------

    def get_member(self, route: Route) -> Answer:
        guild = self.guilds.get(route.params["guild_id"])
        if guild is None or not guild.bot_present:
            raise ApiError(*shapes.UNKNOWN_GUILD)
        member = guild.members.get(route.params["user_id"])
        if member is None:
            raise ApiError(*shapes.UNKNOWN_MEMBER)
        return Answer(member)

    # -- channel messages -------------------------------------------------------------------

    def get_channel(self, route: Route) -> Answer:
        return Answer(self._reachable_channel(route.params["channel_id"]))

    def post_message(self, route: Route) -> Answer:
        channel = self._reachable_channel(route.params["channel_id"])
        headers = self._take_message_turn(channel["id"])
        check_new_message(route.body)
        body = {k: v for k, v in route.body.items() if k != "flags"} | {
            "flags": int(route.body.get("flags") or 0) & ~shapes.EPHEMERAL
        }
        message = shapes.message(self.snowflake(), channel["id"], self.bot, body, users=self.users)
        add_poll(message, body)
        self._store(message)
        return Answer(message, headers=headers)

    def _reachable_channel(self, channel_id: str) -> JSON:
        if channel_id in self.unreachable:
            raise ApiError(*self.unreachable[channel_id])
        channel = self.channels.get(channel_id)
        if channel is None:
            raise ApiError(*shapes.UNKNOWN_CHANNEL)
        guild = self.guilds.get(channel.get("guild_id") or "")
        if guild is not None and not guild.bot_present:
            raise ApiError(*shapes.MISSING_ACCESS)
        return channel

    def _take_message_turn(self, channel_id: str) -> dict[str, str]:
        """Discord's per-channel bucket for sending messages: headers, or a real 429."""
        limit, window = self.message_limit
        now = time.monotonic()
        times = self._message_times[channel_id]
        while times and times[0] <= now - window:
            times.popleft()
        reset_after = times[0] + window - now if len(times) >= limit else window
        if len(times) >= limit:
            raise RateLimited(reset_after, limit, scope="user")
        times.append(now)
        return rate_limit_headers(limit, limit - len(times), reset_after)

    def _store(self, message: JSON, *, viewer: str | None = None) -> None:
        self.messages[message["channel_id"]][message["id"]] = message
        if viewer is not None:
            self.ephemeral_viewer[message["id"]] = viewer


class RateLimited(ApiError):
    """A 429 as Discord sends it: JSON retry_after (seconds, float), bucket headers, and the
    `Via` header its edge adds (discord.py treats a 429 without it as a Cloudflare ban)."""

    def __init__(self, retry_after: float, limit: int = 5, *, scope: str, is_global: bool = False):
        super().__init__(429, "You are being rate limited.", 0)
        self.retry_after, self.limit, self.scope, self.is_global = (
            retry_after,
            limit,
            scope,
            is_global,
        )

    def body(self) -> JSON:
        return {"message": self.message, "retry_after": self.retry_after, "global": self.is_global}

    def headers(self) -> dict[str, str]:
        headers = rate_limit_headers(self.limit, 0, self.retry_after)
        headers |= {"Retry-After": str(max(1, round(self.retry_after)))}
        headers |= {"X-RateLimit-Scope": self.scope, "Via": "1.1 google"}
        if self.is_global:
            headers["X-RateLimit-Global"] = "true"
        return headers


def rate_limit_headers(limit: int, remaining: int, reset_after: float) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
        "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        "X-RateLimit-Bucket": MESSAGE_BUCKET,
    }


def _check_choices(choices: Any) -> None:
    if not isinstance(choices, list) or len(choices) > 25:
        raise ApiError.invalid_form(
            ["data", "choices"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
        )
    for index, choice in enumerate(choices):
        name, value = str(choice.get("name", "")), choice.get("value")
        if not 1 <= len(name) <= 100 or (isinstance(value, str) and len(value) > 100):
            raise ApiError.invalid_form(
                ["data", "choices", index], "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 100 in length.",
            )  # fmt: skip


def check_new_message(body: JSON) -> None:
    """What Discord checks in the body of a new message, its poll included."""
    shapes.check_message_body(body)
    if body.get("poll") is not None:
        check_poll(body["poll"])


def add_poll(message: JSON, body: JSON) -> None:
    """The poll a new message's (checked) body asks for, as Discord stores it."""
    if body.get("poll") is not None:
        message["poll"] = stored_poll(body["poll"], dt.datetime.now(dt.UTC))
