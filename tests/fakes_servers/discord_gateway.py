"""The fake Discord gateway: the websocket a bot keeps open, and what tests feed through it.

Speaks gateway v10 in JSON text frames (or zlib-stream binary frames when the fake is built
with `compress_gateway=True` and the client asks for it): HELLO, IDENTIFY -> READY and one
GUILD_CREATE per server, heartbeats, RESUME with replay of the missed dispatches, member
chunks; close codes as Discord sends them (4001 unknown opcode, 4002 decode error, 4003 not
authenticated, 4004 bad token, 4005 identified twice, 4010 bad shard, 4013/4014 intents).
Interactions (slash commands, autocomplete, button presses) are built as Discord builds them
and dispatched to the session whose shard owns the server.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from tests.fakes_servers import discord_payloads as shapes
from tests.fakes_servers.discord_payloads import JSON

if TYPE_CHECKING:
    from tests.fakes_servers.discord import FakeDiscord

TRACE = ['["gateway-prd-fake-1",{"micros":1000}]']
APPLICATION_COMMAND, COMPONENT, AUTOCOMPLETE = 2, 3, 4


@dataclass(frozen=True)
class GatewayFrame:
    """One gateway payload: `direction` is "sent" (fake -> bot) or "received"."""

    direction: str
    payload: JSON
    time: float


@dataclass(eq=False)
class Connection:
    """One websocket; with zlib-stream, one compression context for its whole life."""

    ws: web.WebSocketResponse
    compressor: Any = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Set when the fake closes it: aiohttp then reports the code the bot echoes back instead.
    closed_with: int | None = None


@dataclass(eq=False)
class GatewaySession:
    """An identified session; it outlives its connection until closed with 1000/1001, so a
    RESUME on a new connection replays what was dispatched meanwhile."""

    session_id: str
    intents: int
    shard: tuple[int, int]
    conn: Connection | None
    seq: int = 0
    log: list[JSON] = field(default_factory=list)

    def owns(self, guild_id: str | None) -> bool:
        shard_id, count = self.shard
        return (int(guild_id) >> 22) % count == shard_id if guild_id else shard_id == 0

    @property
    def connected(self) -> bool:
        return self.conn is not None and not self.conn.ws.closed


@dataclass
class SentInteraction:
    """An interaction the fake dispatched; its `id`/`token` name the callback and webhook
    routes. `response_type` and `response_message_id` fill in as the bot answers."""

    id: str
    token: str
    type: int
    payload: JSON
    sent_at: float
    response_type: int | None = None
    response: JSON | None = None  # the callback's body
    answered_at: float | None = None  # time.monotonic() of the accepted callback
    finished_at: float | None = None  # ... of the answer itself (after a defer, its edit)
    response_message_id: str | None = None
    followup_ids: list[str] = field(default_factory=list)
    webhook_writes: int = 0  # accepted followups and edits of the original response

    done: asyncio.Event = field(default_factory=asyncio.Event, repr=False, compare=False)

    @property
    def finished(self) -> bool:
        return self.finished_at is not None

    def finish(self) -> None:
        """The bot's answer is there (once: a later edit changes nothing here)."""
        if self.finished_at is None:
            self.finished_at = time.monotonic()
            self.done.set()

    @property
    def channel_id(self) -> str:
        return str(self.payload["channel_id"])

    @property
    def player(self) -> JSON:
        """The user who acted (in a server, the member's user)."""
        member = self.payload.get("member")
        player: JSON = member["user"] if member else self.payload["user"]
        return player


class FakeGateway:
    def __init__(self, world: FakeDiscord) -> None:
        self.world = world
        self.sessions: list[GatewaySession] = []
        self.frames: list[GatewayFrame] = []
        self._connections: set[Connection] = set()

    @property
    def live_sessions(self) -> list[GatewaySession]:
        return [session for session in self.sessions if session.connected]

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        zlib_stream = request.query.get("compress") == "zlib-stream" and self.world.compress_gateway
        conn = Connection(ws, zlib.compressobj() if zlib_stream else None)
        self._connections.add(conn)
        session: GatewaySession | None = None
        hello = {"heartbeat_interval": self.world.heartbeat_interval_ms, "_trace": TRACE}
        try:
            await self._send(conn, {"op": 10, "d": hello})
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    break
                try:
                    payload = json.loads(msg.data)
                    op, data = payload["op"], payload.get("d")
                except (ValueError, TypeError, KeyError):
                    await ws.close(code=4002, message=b"Error while decoding payload.")
                    break
                self.frames.append(GatewayFrame("received", payload, time.monotonic()))
                session = await self._on_payload(conn, session, op, data) or session
        finally:
            self._connections.discard(conn)
            if session is not None and session.conn is conn:
                session.conn = None
                if (conn.closed_with or ws.close_code) in (1000, 1001):  # a clean close ends it
                    self.sessions.remove(session)
        return ws

    async def _on_payload(
        self, conn: Connection, session: GatewaySession | None, op: int, data: Any
    ) -> GatewaySession | None:
        if op == 1:
            await self._send(conn, {"op": 11, "d": None})
        elif op == 2:
            if session is not None:
                await conn.ws.close(code=4005, message=b"Already authenticated.")
                return None
            return await self._identify(conn, data or {})
        elif op == 6:
            return await self._resume(conn, data or {})
        elif session is None:
            await conn.ws.close(code=4003, message=b"Not authenticated.")
        elif op == 8:
            guild = self.world.guilds[str(data["guild_id"])]
            chunk: JSON = {"guild_id": guild.id, "members": list(guild.members.values())}
            chunk |= {"chunk_index": 0, "chunk_count": 1, "not_found": []}
            if data.get("nonce"):
                chunk["nonce"] = data["nonce"]
            await self.dispatch_to(session, "GUILD_MEMBERS_CHUNK", chunk)
        elif op not in (3, 4):  # presence and voice state updates change nothing here
            await conn.ws.close(code=4001, message=b"Unknown opcode.")
        return None

    def _refusal(self, data: JSON) -> tuple[int, bytes] | None:
        shard_id, count = data.get("shard") or (0, 1)
        if str(data.get("token", "")).removeprefix("Bot ") != self.world.token:
            return 4004, b"Authentication failed."
        if not isinstance(data.get("intents"), int):
            return 4013, b"Invalid intent(s)."
        if data["intents"] & shapes.PRIVILEGED_INTENTS & ~self.world.privileged_intents:
            return 4014, b"Disallowed intent(s)."
        if not 0 <= shard_id < count:
            return 4010, b"Invalid shard."
        return None

    async def _identify(self, conn: Connection, data: JSON) -> GatewaySession | None:
        refusal = self._refusal(data)
        if refusal is not None:
            await conn.ws.close(code=refusal[0], message=refusal[1])
            return None
        world = self.world
        shard_id, count = data.get("shard") or (0, 1)
        session = GatewaySession(secrets.token_hex(16), data["intents"], (shard_id, count), conn)
        guilds = [g for g in world.guilds.values() if g.bot_present and session.owns(g.id)]
        ready = {
            "v": 10, "user": shapes.current_user(world.bot), "user_settings": {},
            "session_type": "normal", "session_id": session.session_id,
            "resume_gateway_url": world.resume_gateway_url, "relationships": [],
            "private_channels": [], "presences": [], "guild_join_requests": [],
            "guilds": [{"id": guild.id, "unavailable": True} for guild in guilds],
            "geo_ordered_rtc_regions": ["us-east"], "auth": {}, "shard": [shard_id, count],
            "application": {"id": world.application_id, "flags": world.application_flags},
            "_trace": TRACE,
        }  # fmt: skip
        await self.dispatch_to(session, "READY", ready)
        for guild in guilds:
            await self.dispatch_to(session, "GUILD_CREATE", self.guild_create(session, guild))
        self.sessions.append(session)
        return session

    def guild_create(self, session: GatewaySession, guild: shapes.GuildState) -> JSON:
        everyone = bool(session.intents & shapes.PRESENCES_INTENT)
        return guild.payload(bot_id=self.world.bot["id"], all_members=everyone)

    async def _resume(self, conn: Connection, data: JSON) -> GatewaySession | None:
        session = next((s for s in self.sessions if s.session_id == data.get("session_id")), None)
        if session is None or str(data.get("token", "")).removeprefix("Bot ") != self.world.token:
            await self._send(conn, {"op": 9, "d": False})  # not resumable: identify anew
            return None
        if session.conn is not None and session.conn is not conn:
            await session.conn.ws.close(code=4000, message=b"Resumed elsewhere.")
        session.conn = conn
        for frame in [f for f in session.log if f["s"] > (data.get("seq") or 0)]:
            await self._send(conn, frame)
        await self.dispatch_to(session, "RESUMED", {"_trace": TRACE})
        return session

    async def _send(self, conn: Connection | None, payload: JSON) -> None:
        frame = {"t": None, "s": None, "op": payload["op"], "d": None} | payload
        if conn is None:
            return
        # One at a time: a zlib stream must go out in the order it was compressed, and
        # sequence numbers in order. (aiohttp may hand a large frame to a task when the bot
        # negotiated permessage-deflate, as discord.py does, so a later one could overtake it.)
        async with conn.lock:
            if conn.ws.closed:
                return
            self.frames.append(GatewayFrame("sent", frame, time.monotonic()))
            text = shapes.to_json(frame)
            try:
                if conn.compressor is None:
                    await conn.ws.send_str(text)
                else:
                    packed = conn.compressor.compress(text.encode())
                    await conn.ws.send_bytes(packed + conn.compressor.flush(zlib.Z_SYNC_FLUSH))
            except ConnectionResetError:
                pass  # the bot hung up meanwhile; a dispatch stays in the log for a RESUME

    async def dispatch_to(self, session: GatewaySession, event: str, data: JSON) -> None:
        session.seq += 1
        frame = {"t": event, "s": session.seq, "op": 0, "d": data}
        session.log.append(frame)
        await self._send(session.conn, frame)

    async def dispatch(
        self, event: str, data: JSON, *, guild_id: str | None = None, intent: int | None = None
    ) -> int:
        """Send a dispatch to every session owning `guild_id` (and subscribed to `intent`);
        returns how many sessions got it."""
        count = 0
        for session in list(self.sessions):
            if session.owns(guild_id) and (intent is None or session.intents & intent):
                await self.dispatch_to(session, event, data)
                count += 1
        return count

    async def close(self, code: int = 1001, message: bytes = b"") -> None:
        """Close every open connection (4000: as a network drop; the bot will RESUME)."""
        for conn in list(self._connections):
            conn.closed_with = code
            await conn.ws.close(code=code, message=message)


def interaction_payload(
    world: FakeDiscord, kind: int, player: JSON, channel: JSON, data: JSON, locale: str
) -> SentInteraction:
    """An INTERACTION_CREATE as Discord writes it: in a server the player is a `member`
    carrying its `permissions`; in a DM a `user`."""
    interaction_id = world.snowflake()
    secret = base64.urlsafe_b64encode(secrets.token_bytes(48)).decode().rstrip("=")
    token = base64.b64encode(f"interaction:{interaction_id}:".encode()).decode() + secret
    payload: JSON = {
        "id": interaction_id, "application_id": world.application_id, "type": kind,
        "data": data, "channel_id": channel["id"], "token": token, "version": 1,
        "locale": locale, "entitlements": [], "attachment_size_limit": 10_485_760,
    }  # fmt: skip
    guild_id = channel.get("guild_id")
    if guild_id is None:
        # A server-installed app used in its own DMs: owner "0", as Discord writes it.
        payload |= {"user": player, "context": 1, "authorizing_integration_owners": {"0": "0"}}
        payload["channel"] = channel
        payload["app_permissions"] = str(shapes.EVERYONE_PERMISSIONS)
    else:
        guild = world.guilds[guild_id]
        if player["id"] not in guild.members:
            world.member(guild.id, player)
        permissions = str(guild.permissions_of(player["id"]))
        payload |= {
            "guild_id": guild_id,
            "guild": {"id": guild_id, "locale": "en-US", "features": []},
            "guild_locale": "en-US",
            "context": 0,
            "channel": {**channel, "permissions": permissions},
            "member": {**guild.members[player["id"]], "permissions": permissions},
            "authorizing_integration_owners": {"0": guild_id},
            "app_permissions": str(guild.permissions_of(world.bot["id"])),
        }
    return SentInteraction(interaction_id, token, kind, payload, time.monotonic())


def command_data(
    world: FakeDiscord,
    player: JSON,
    channel: JSON,
    name: str,
    values: dict[str, Any] | list[JSON],
    focused: str | None = None,
) -> JSON:
    """`data` of a slash command / autocomplete interaction for a synced command; ValueError
    when Discord's client would not let the player send it."""
    top, *path = name.split()
    guild_id: str | None = channel.get("guild_id")
    scopes = [guild_id, None] if guild_id else [None]
    found = [c for scope in scopes for c in world.commands.get(scope, []) if c["name"] == top]
    if not found:
        synced = {scope: [c["name"] for c in world.commands.get(scope, [])] for scope in scopes}
        raise ValueError(f"no command /{top} is synced where {channel['id']} is: {synced}")
    command = found[0]
    contexts = command.get("contexts")
    in_dm = guild_id is None
    if in_dm and (command.get("dm_permission") is False or (contexts and 1 not in contexts)):
        raise ValueError(f"/{top} is not offered in DMs")
    needed = command.get("default_member_permissions")
    if needed is not None and guild_id is not None:
        held = (
            world.guilds[guild_id].permissions_of(player["id"])
            if player["id"] in (world.guilds[guild_id].members)
            else shapes.EVERYONE_PERMISSIONS
        )
        if held & int(needed) != int(needed) or (needed == "0" and held != shapes.ALL_PERMISSIONS):
            raise ValueError(f"/{top} needs permissions {needed}; {player['id']} has {held}")
    if isinstance(values, list):
        options = values
    else:
        options = shapes.command_options(command, path, values, focused)
    data: JSON = {"id": command["id"], "name": top, "type": shapes.CHAT_INPUT}
    if options:
        data["options"] = options
    if "guild_id" in command:
        data["guild_id"] = command["guild_id"]
    return data
