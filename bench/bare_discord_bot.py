"""The baselines bench_discord measures the Discord bot against.

    python -m bench.bare_discord_bot          # a bare discord.py bot with one command, /echo
    python -m bench.bare_discord_bot --store  # the same, doing the service floor's SQL first
    python -m bench.bare_discord_bot --raw    # the same answers with no library: the fake's ceiling

It reads the fake server from QUESTRYA_DISCORD_TOKEN, QUESTRYA_DISCORD_API_URL and
QUESTRYA_DISCORD_GATEWAY_URL, as `questrya discord` does, syncs its command globally, and runs
until SIGTERM or SIGINT. Keep the bot bare: discord.py's defaults (default intents, no logging
set up), one command, one callback per interaction. It is what the same library, the same
gateway and the same server cost on their own.

The storing bot is that bot, but an /echo of "add A", "backlog" or "done A 8" first does what
the service benchmark's floor does for that command (bench/service_floor.py: its bare reads and
writes in SQLAlchemy Core, on Questrya's engine and the database in QUESTRYA_DATABASE_URL): what
the framework and the database work cost together, with nothing of Questrya around them.

The raw loop speaks the gateway and REST with aiohttp alone (identify, heartbeat, one POST
callback per INTERACTION_CREATE): what is left of its cost is mostly the fake's, so its rate is
about the most the fake can serve for this traffic.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from typing import TYPE_CHECKING, Any

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

if TYPE_CHECKING:
    from bench.service_floor import FloorCommands

TOKEN_VARIABLE = "QUESTRYA_DISCORD_TOKEN"  # noqa: S105 - a variable's name
API_URL_VARIABLE = "QUESTRYA_DISCORD_API_URL"
GATEWAY_URL_VARIABLE = "QUESTRYA_DISCORD_GATEWAY_URL"
DATABASE_URL_VARIABLE = "QUESTRYA_DATABASE_URL"
RAW_FLAG = "--raw"
STORE_FLAG = "--store"
STORED_COMMANDS = frozenset({"add", "backlog", "done"})
ECHO_COMMAND = {
    "name": "echo",
    "description": "Say it back",
    "options": [{"type": 3, "name": "text", "description": "text", "required": True}],
}
DISPATCH, HEARTBEAT, IDENTIFY, HELLO = 0, 1, 2, 10
CHANNEL_MESSAGE = 4  # the interaction callback that answers with a message


class EchoBot(discord.Client):
    """The bare bot; given the `floor`, the storing bot."""

    def __init__(self, floor: FloorCommands | None = None) -> None:
        super().__init__(intents=discord.Intents.default())
        self.tree = app_commands.CommandTree(self)
        self._floor = floor

    async def setup_hook(self) -> None:
        floor = self._floor

        @self.tree.command(description="Say it back")
        async def echo(interaction: discord.Interaction, text: str) -> None:
            if floor is not None and text.split(" ", 1)[0] in STORED_COMMANDS:
                await floor.run(str(interaction.user.id), f"/{text}")
            await interaction.response.send_message(text)

        await self.tree.sync()


def storing_floor() -> FloorCommands:
    # Imported here: the bare bot loads nothing of Questrya's.
    from bench.service_floor import FloorCommands
    from questrya.orm.database import create_engine

    return FloorCommands(create_engine(os.environ[DATABASE_URL_VARIABLE]), platform="discord")


async def run_bot(stop: asyncio.Event, *, store: bool) -> None:
    Route.BASE = os.environ[API_URL_VARIABLE].rstrip("/") + "/api/v10"
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ[GATEWAY_URL_VARIABLE])
    bot = EchoBot(storing_floor() if store else None)
    async with bot:
        running = asyncio.create_task(bot.start(os.environ[TOKEN_VARIABLE]))
        await stop.wait()
        await bot.close()
        await running


class RawEchoLoop:
    """The gateway and REST with aiohttp alone: each /echo answered by one callback."""

    def __init__(self, http: aiohttp.ClientSession) -> None:
        self._http = http
        self._api = os.environ[API_URL_VARIABLE].rstrip("/") + "/api/v10"
        self._token = os.environ[TOKEN_VARIABLE]
        self._sequence: int | None = None
        self._answering: set[asyncio.Task[None]] = set()

    async def serve(self) -> None:
        gateway = yarl.URL(os.environ[GATEWAY_URL_VARIABLE]).with_query(v=10, encoding="json")
        async with self._http.ws_connect(gateway, max_msg_size=0) as ws:
            hello = await ws.receive_json()
            assert hello["op"] == HELLO, hello
            beating = asyncio.create_task(self._heartbeat(ws, hello["d"]["heartbeat_interval"]))
            await ws.send_json({"op": IDENTIFY, "d": {"token": self._token, "intents": 0}})
            try:
                async for message in ws:
                    await self._on_payload(json.loads(message.data))
            finally:
                beating.cancel()

    async def _on_payload(self, payload: dict[str, Any]) -> None:
        if payload["op"] != DISPATCH:
            return
        self._sequence = payload["s"]
        if payload["t"] == "READY":
            await self._sync(payload["d"]["application"]["id"])
        elif payload["t"] == "INTERACTION_CREATE":
            task = asyncio.create_task(self._answer(payload["d"]))
            self._answering.add(task)  # held until done: the loop keeps only weak references
            task.add_done_callback(self._answering.discard)

    async def _sync(self, application_id: str) -> None:
        url = f"{self._api}/applications/{application_id}/commands"
        headers = {"Authorization": f"Bot {self._token}"}
        async with self._http.put(url, json=[ECHO_COMMAND], headers=headers) as response:
            response.raise_for_status()

    async def _answer(self, interaction: dict[str, Any]) -> None:
        text = interaction["data"]["options"][0]["value"]
        url = f"{self._api}/interactions/{interaction['id']}/{interaction['token']}/callback"
        body = {"type": CHANNEL_MESSAGE, "data": {"content": text, "allowed_mentions": {}}}
        async with self._http.post(url, json=body) as response:
            await response.read()

    async def _heartbeat(self, ws: aiohttp.ClientWebSocketResponse, interval_ms: int) -> None:
        while True:
            await asyncio.sleep(interval_ms / 1000)
            await ws.send_json({"op": HEARTBEAT, "d": self._sequence})


async def run_raw(stop: asyncio.Event) -> None:
    async with aiohttp.ClientSession() as http:
        serving = asyncio.create_task(RawEchoLoop(http).serve())
        await stop.wait()
        serving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serving


async def main(flags: list[str]) -> None:
    stop = asyncio.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signal_number, stop.set)
    await (run_raw(stop) if RAW_FLAG in flags else run_bot(stop, store=STORE_FLAG in flags))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
