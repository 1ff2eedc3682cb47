"""A fake Discord (REST API v10 and gateway), for end-to-end tests with the real discord.py.

    async with FakeDiscord() as discord:
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = discord.api_url, URL(discord.gateway_url)
        alice = discord.user("Alice")
        club = await discord.add_guild("Backlog club", owner=alice)
        interaction = await discord.run_command(alice, club.channels[0], "add", {"title": "Hades"})
        await discord.answered(interaction)

One aiohttp server answers `/api/v10/...` as Discord does (shapes, error codes, rate-limit
headers, 429s with retry_after) and the gateway websocket on `/` (discord_gateway.py). Tests
play the players: slash commands, autocomplete and button presses become INTERACTION_CREATE
dispatches built as Discord builds them, refused (ValueError) where Discord's client would not
let a player send them. Every REST call is recorded; faults can be scripted (`fail_next`), and
channels made unreachable (bot removed: 403, channel deleted: 404).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from tests.fakes_servers import discord_payloads as shapes
from tests.fakes_servers import serve_on_loopback
from tests.fakes_servers.discord_gateway import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    COMPONENT,
    FakeGateway,
    SentInteraction,
    command_data,
    interaction_payload,
)
from tests.fakes_servers.discord_payloads import JSON, ApiError
from tests.fakes_servers.discord_rest import (
    DEFERRED_UPDATE,
    UPDATE,
    Answer,
    DiscordRest,
    RateLimited,
    Route,
)

__all__ = ["FakeDiscord", "RestCall", "SentInteraction"]

API_PREFIX = "/api/v10"
TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GFakeX.questrya-fake-discord-token-0123456789"
WAIT_SECONDS = 10.0
WRITES = frozenset({"POST", "PUT", "PATCH"})
INVALID_JSON = (400, "The request body contains invalid JSON.", 50109)
BUTTON = 2
MESSAGE_PATH = "/webhooks/{application_id}/{token}/messages/{message_id}"
# (method, path under /api/v10, handler name, whether the bot token is required)
ROUTES = [
    ("GET", "/users/@me", "get_me", True),
    ("GET", "/oauth2/applications/@me", "get_application", True),
    ("GET", "/gateway", "get_gateway", False),
    ("GET", "/gateway/bot", "get_gateway_bot", True),
    ("GET", "/applications/{application_id}/commands", "get_commands", True),
    ("PUT", "/applications/{application_id}/commands", "put_commands", True),
    ("GET", "/applications/{application_id}/guilds/{guild_id}/commands", "get_commands", True),
    ("PUT", "/applications/{application_id}/guilds/{guild_id}/commands", "put_commands", True),
    ("POST", "/interactions/{interaction_id}/{token}/callback", "post_callback", False),
    ("POST", "/webhooks/{application_id}/{token}", "post_followup", False),
    ("GET", MESSAGE_PATH, "get_original", False),
    ("PATCH", MESSAGE_PATH, "patch_original", False),
    ("DELETE", MESSAGE_PATH, "delete_original", False),
    ("GET", "/guilds/{guild_id}/members/{user_id}", "get_member", True),
    ("GET", "/channels/{channel_id}", "get_channel", True),
    ("POST", "/channels/{channel_id}/messages", "post_message", True),
]  # fmt: skip


@dataclass
class RestCall:
    """One REST request: `route` as "POST /channels/{channel_id}/messages", its parameters,
    query and JSON body, `time` = time.monotonic() at arrival; `status` and `response` fill
    in once answered. The Authorization header is not kept, only whether it was right."""

    route: str
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    time: float
    authorized: bool
    status: int | None = None
    response: Any = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def __str__(self) -> str:
        return f"{self.route} {self.params} -> {self.status} {json.dumps(self.body)[:300]}"


@dataclass
class _Fault:
    route: str
    error: ApiError
    remaining: int
    channel_id: str | None


class FakeDiscord(DiscordRest):
    def __init__(
        self,
        token: str = TOKEN,
        *,
        bot_name: str = "Questrya",
        heartbeat_interval_ms: int = 41_250,
        compress_gateway: bool = False,
        message_limit: tuple[int, float] = (5, 5.0),
    ) -> None:
        super().__init__(token, bot_name, message_limit)
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.compress_gateway = compress_gateway
        self.gateway = FakeGateway(self)
        self.calls: list[RestCall] = []
        self.url = ""
        self._faults: list[_Fault] = []
        self._activity = asyncio.Event()
        self._runner: web.AppRunner | None = None

    @property
    def api_url(self) -> str:
        """What discord.py's Route.BASE is normally: https://discord.com/api/v10."""
        return f"{self.url}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws{self.url.removeprefix('http')}/"

    @property
    def resume_gateway_url(self) -> str:
        return self.gateway_url

    async def __aenter__(self) -> Self:
        app = web.Application(client_max_size=25 * 1024 * 1024)
        app.router.add_get("/", self.gateway.handle)
        for method, path, handler, needs_token in ROUTES:
            app.router.add_route(method, API_PREFIX + path, self._endpoint(handler, needs_token))
        app.router.add_route("*", API_PREFIX + "/{path:.*}", self._endpoint("unknown_route", False))
        self._runner, self.url = await serve_on_loopback(app)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.gateway.close()
        assert self._runner is not None
        await self._runner.cleanup()

    # -- serving ----------------------------------------------------------------------------

    def _endpoint(self, name: str, needs_token: bool) -> Callable[[web.Request], Any]:
        handler: Callable[[Route], Answer] = getattr(self, name)

        async def endpoint(request: web.Request) -> web.Response:
            template = request.match_info.route.resource.canonical  # type: ignore[union-attr]
            authorization = request.headers.get("Authorization", "")
            call = RestCall(
                route=f"{request.method} {template.removeprefix(API_PREFIX)}",
                params=dict(request.match_info),
                query=dict(request.query),
                body=await _read_body(request),
                time=time.monotonic(),
                authorized=authorization == f"Bot {self.token}",
            )
            self.calls.append(call)
            try:
                return self._answer(call, handler, needs_token)
            finally:
                self._activity.set()  # wakes whoever waits on what the bot does
                self._activity = asyncio.Event()

        return endpoint

    def _answer(
        self, call: RestCall, handler: Callable[[Route], Answer], needs_token: bool
    ) -> web.Response:
        headers: dict[str, str] = {}
        try:
            if needs_token and not call.authorized:
                raise ApiError(*shapes.UNAUTHORIZED)
            if call.route.split()[0] in WRITES and not isinstance(call.body, dict | list):
                raise ApiError(*INVALID_JSON)
            self._refuse_if_told(call)
            answer = handler(Route(call.params, call.query, call.body))
            call.status, call.response = answer.status, answer.body
            headers = answer.headers or {}
        except ApiError as error:
            call.status, call.response = error.status, error.body()
            headers = error.headers() if isinstance(error, RateLimited) else {}
        if call.response is None:
            return web.Response(status=204 if call.status == 200 else call.status, headers=headers)
        # Exactly "application/json", as Discord sends it: discord.py compares the whole header.
        body = shapes.to_json(call.response).encode()
        return web.Response(
            body=body, status=call.status, headers=headers, content_type="application/json"
        )

    def unknown_route(self, route: Route) -> Answer:
        raise ApiError(*shapes.NOT_FOUND)

    def _refuse_if_told(self, call: RestCall) -> None:
        for fault in self._faults:
            if fault.route == call.route and fault.channel_id in (None, _channel_of(call)):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                raise fault.error

    # -- misbehaviour -----------------------------------------------------------------------

    def fail_next(
        self,
        route: str,
        status: int = 429,
        *,
        retry_after: float = 1.0,
        times: int = 1,
        channel_id: str | None = None,
        is_global: bool = False,
    ) -> None:
        """Refuse the next `times` calls to `route` ("POST /channels/{channel_id}/messages"),
        about `channel_id` only if given: a 429 as Discord's, or `status` with its error."""
        if status == 429:
            error: ApiError = RateLimited(retry_after, scope="user", is_global=is_global)
        else:
            error = ApiError(*shapes.ERRORS_BY_STATUS.get(status, (status, f"{status}", 0)))
        self._faults.append(_Fault(route, error, times, channel_id))

    def remove_bot_from(self, guild_id: str) -> None:
        """As if the bot was kicked: its channels answer 403 Missing Access from now on."""
        self.guilds[guild_id].bot_present = False

    def delete_channel(self, channel_id: str) -> None:
        self.unreachable[channel_id] = shapes.UNKNOWN_CHANNEL

    # -- the world the players live in ------------------------------------------------------

    def user(self, name: str) -> JSON:
        player = shapes.user(self.snowflake(), name)
        self.users[player["id"]] = player
        return player

    async def add_guild(self, name: str, owner: JSON) -> shapes.GuildState:
        """A server with @everyone, the bot's role and a #general channel, the bot in it."""
        guild_id = self.snowflake()
        everyone = shapes.role(guild_id, "@everyone", shapes.EVERYONE_PERMISSIONS, 0)
        bot_role = shapes.role(
            self.snowflake(), self.bot["username"], shapes.BOT_PERMISSIONS, 1,
            managed=True, tags={"bot_id": self.bot["id"]},
        )  # fmt: skip
        guild = shapes.GuildState(guild_id, name, owner["id"], [everyone, bot_role])
        self.guilds[guild_id] = guild
        self.member(guild_id, owner)
        self.member(guild_id, self.bot, [bot_role["id"]])
        self._add_channel(guild, "general")
        for session in self.gateway.live_sessions:
            if session.owns(guild_id):
                await self.gateway.dispatch_to(
                    session, "GUILD_CREATE", self.gateway.guild_create(session, guild)
                )
        return guild

    async def add_text_channel(self, guild: shapes.GuildState, name: str) -> JSON:
        channel = self._add_channel(guild, name)
        await self.gateway.dispatch("CHANNEL_CREATE", channel, guild_id=guild.id)
        return channel

    def _add_channel(self, guild: shapes.GuildState, name: str) -> JSON:
        channel = shapes.text_channel(self.snowflake(), guild.id, name, len(guild.channels))
        guild.channels.append(channel)
        self.channels[channel["id"]] = channel
        return channel

    async def add_role(self, guild: shapes.GuildState, name: str, permissions: int) -> JSON:
        """A new role of the server, below the bot's, announced to the bot as Discord does."""
        made = shapes.role(self.snowflake(), name, permissions, len(guild.roles))
        guild.roles.append(made)
        event = {"guild_id": guild.id, "role": made}
        await self.gateway.dispatch("GUILD_ROLE_CREATE", event, guild_id=guild.id)
        return made

    def member(self, guild_id: str, player: JSON, role_ids: list[str] | None = None) -> JSON:
        self.users.setdefault(player["id"], player)
        added = self.guilds[guild_id].members[player["id"]] = shapes.member(player, role_ids or [])
        return added

    def dm_channel(self, player: JSON) -> JSON:
        """The private channel between the bot and `player`."""
        for channel in self.channels.values():
            if channel["type"] == 1 and channel["recipients"][0]["id"] == player["id"]:
                return channel
        channel = shapes.dm_channel(self.snowflake(), player)
        self.channels[channel["id"]] = channel
        return channel

    def channel_messages(self, channel_id: str) -> list[JSON]:
        """The channel as it stands, oldest first, ephemeral messages included."""
        return list(self.messages[channel_id].values())

    # -- playing the players ----------------------------------------------------------------

    async def run_command(
        self, player: JSON, channel: JSON, name: str, values: dict[str, Any] | None = None
    ) -> SentInteraction:
        """A player sends `/name` with option `values` (subcommands: "group sub")."""
        data = command_data(self, player, channel, name, values or {})
        return await self._dispatch(APPLICATION_COMMAND, player, channel, data)

    async def autocomplete(
        self, player: JSON, channel: JSON, name: str, values: dict[str, Any], focused: str
    ) -> SentInteraction:
        """A player typing in option `focused` of `/name`: Discord asks for choices."""
        data = command_data(self, player, channel, name, values, focused=focused)
        return await self._dispatch(AUTOCOMPLETE, player, channel, data)

    async def press(self, player: JSON, message: JSON, custom_id: str) -> SentInteraction:
        """A player presses a button of a message, as it stands now."""
        current = self.messages[message["channel_id"]].get(message["id"])
        if current is None:
            raise ValueError(f"no message {message['id']} in channel {message['channel_id']}")
        viewer = self.ephemeral_viewer.get(current["id"])
        if viewer is not None and viewer != player["id"]:
            raise ValueError(f"message {current['id']} is ephemeral: only {viewer} sees it")
        offered = shapes.custom_ids(current)
        if custom_id not in offered:
            raise ValueError(f"message {current['id']} offers {offered}, not {custom_id!r}")
        channel = self.channels[current["channel_id"]]
        data = {"custom_id": custom_id, "component_type": BUTTON}
        return await self._dispatch(COMPONENT, player, channel, data, message=current)

    async def tap_poll(
        self, player: JSON, message: JSON, answer_id: int, *, withdrawn: bool = False
    ) -> None:
        """A member taps (or, `withdrawn`, untaps) an answer of a message's poll in a server;
        the bot hears it if it asked for poll events."""
        current = self.messages[message["channel_id"]][message["id"]]
        answers = {answer["answer_id"] for answer in (current.get("poll") or {}).get("answers", [])}
        if answer_id not in answers:
            raise ValueError(f"message {current['id']} has no poll answer {answer_id}")
        guild_id = self.channels[current["channel_id"]]["guild_id"]
        if player["id"] not in self.guilds[guild_id].members:
            raise ValueError(f"{player['username']} is not a member of server {guild_id}")
        event = "MESSAGE_POLL_VOTE_REMOVE" if withdrawn else "MESSAGE_POLL_VOTE_ADD"
        vote = {
            "user_id": player["id"], "channel_id": current["channel_id"],
            "message_id": current["id"], "guild_id": guild_id, "answer_id": answer_id,
        }  # fmt: skip
        await self.gateway.dispatch(
            event, vote, guild_id=guild_id, intent=shapes.GUILD_MESSAGE_POLLS_INTENT
        )

    async def _dispatch(
        self, kind: int, player: JSON, channel: JSON, data: JSON, message: JSON | None = None
    ) -> SentInteraction:
        self.users.setdefault(player["id"], player)
        sent = interaction_payload(self, kind, player, channel, data, locale="en-US")
        if message is not None:
            sent.payload["message"] = message
        self.interactions[sent.id] = sent
        self.interactions_by_token[sent.token] = sent
        delivered = await self.gateway.dispatch(
            "INTERACTION_CREATE", sent.payload, guild_id=channel.get("guild_id")
        )
        if not delivered:
            raise AssertionError("no gateway session is connected to receive the interaction")
        return sent

    # -- waiting for the bot ----------------------------------------------------------------

    async def answered(
        self,
        interaction: SentInteraction,
        timeout: float = WAIT_SECONDS,  # noqa: ASYNC109
    ) -> SentInteraction:
        """The interaction, once the bot's callback was accepted."""
        await self.wait_until(lambda: interaction.response_type is not None, timeout, interaction)
        return interaction

    async def settled(
        self,
        interaction: SentInteraction,
        timeout: float = WAIT_SECONDS,  # noqa: ASYNC109
    ) -> JSON:
        """A copy of the message the interaction ends up showing: its answer, or after a
        defer, the edit or followup that ended the wait."""
        try:
            await asyncio.wait_for(interaction.done.wait(), timeout)
        except TimeoutError:
            about = interaction.payload.get("data")
            raise AssertionError(
                f"no answer in {timeout} s to {about}:\n{self.transcript()}"
            ) from None
        return copy.deepcopy(self._shown(interaction))

    def _shown(self, interaction: SentInteraction) -> JSON:
        if interaction.followup_ids:
            message_id = interaction.followup_ids[-1]
        elif interaction.response_type in (UPDATE, DEFERRED_UPDATE):
            message_id = interaction.payload["message"]["id"]
        else:
            message_id = interaction.response_message_id or ""
        return self.messages[interaction.channel_id][message_id]

    async def wait_until(
        self,
        condition: Callable[[], bool],
        timeout: float = WAIT_SECONDS,  # noqa: ASYNC109 - a deadline, not a cancellation
        about: object = "",
    ) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"waited {timeout} s {about}; calls:\n{self.transcript()}")
            with contextlib.suppress(TimeoutError):  # woken by the next request, or re-checks
                await asyncio.wait_for(self._activity.wait(), min(left, 0.1))

    def calls_to(self, route: str) -> list[RestCall]:
        return [call for call in self.calls if call.route == route]

    def transcript(self, since: int = 0) -> str:
        return "\n".join(str(call) for call in self.calls[since:]) or "(no REST calls)"


def _channel_of(call: RestCall) -> str | None:
    return call.params.get("channel_id")


async def _read_body(request: web.Request) -> Any:
    """The JSON body, or the `payload_json` part of a multipart one (messages with files)."""
    if not request.can_read_body:
        return None
    if request.content_type.startswith("multipart/"):
        form = await request.post()
        return json.loads(str(form.get("payload_json", "{}")))
    try:
        return await request.json()
    except ValueError:
        return None
