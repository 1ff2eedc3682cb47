"""The baselines bench_telegram measures the Telegram bot against.

    python -m bench.echo_bot            # a bare python-telegram-bot echo bot
    python -m bench.echo_bot --store    # the same, doing the service floor's SQL for commands
    python -m bench.echo_bot --raw-http # no PTB at all: the protocol's minimum, the fake's ceiling

All read the fake server from QUESTRYA_TELEGRAM_TOKEN and QUESTRYA_TELEGRAM_API_URL, as
`questrya telegram` does (the storing bot its database from QUESTRYA_DATABASE_URL), and run
until SIGTERM or SIGINT.

The echo bot is python-telegram-bot as it comes: one CommandHandler that replies with the
message's text, `Application.builder()` defaults (no rate limiter, updates handled one at a
time), `run_polling()` defaults (long polling, no pause between polls). Keep it bare: it is what
the same library, the same long polling and the same server cost on their own.

The storing bot is that echo bot, but for /add, /backlog and /done it first does what the
service benchmark's floor does (bench/service_floor.py: the bare reads and writes of each
command, in SQLAlchemy Core, on Questrya's engine), then echoes the command: what the framework
and the database work cost together, with nothing of Questrya around them.

The raw loop long-polls getUpdates and posts one sendMessage per update, one at a time, over
one httpx client (PTB's own HTTP library), with no other work: the most any bot that answers
one update after the other can get from this server over the loopback.
"""

from __future__ import annotations

import asyncio
import os
import sys

import httpx
from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

TOKEN_VARIABLE = "QUESTRYA_TELEGRAM_TOKEN"  # noqa: S105 - a variable's name
API_URL_VARIABLE = "QUESTRYA_TELEGRAM_API_URL"
COMMAND = "echo"
LONG_POLL_SECONDS = 10  # what run_polling asks for; the fake caps it
DATABASE_URL_VARIABLE = "QUESTRYA_DATABASE_URL"
RAW_HTTP_FLAG = "--raw-http"
STORE_FLAG = "--store"
STORED_COMMANDS = ("add", "backlog", "done")
ECHOED_COMMANDS = ("help", COMMAND)


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is not None and message.text:
        await message.reply_text(message.text)


def run_echo_bot(token: str, api_url: str) -> None:
    application = Application.builder().token(token).base_url(api_url).build()
    application.add_handler(CommandHandler(COMMAND, echo))
    application.run_polling(allowed_updates=Update.ALL_TYPES)


def run_storing_bot(token: str, api_url: str, database_url: str) -> None:
    # Imported here: the plain echo bot loads nothing of Questrya's.
    from bench.service_floor import FloorCommands
    from questrya.orm.database import create_engine

    floor = FloorCommands(create_engine(database_url), platform="telegram")

    async def store_then_echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user = update.effective_message, update.effective_user
        if message is not None and message.text and user is not None:
            await floor.run(str(user.id), message.text)
            await message.reply_text(message.text)

    application = Application.builder().token(token).base_url(api_url).build()
    application.add_handler(CommandHandler(STORED_COMMANDS, store_then_echo))
    application.add_handler(CommandHandler(ECHOED_COMMANDS, echo))
    application.run_polling(allowed_updates=Update.ALL_TYPES)


async def run_raw_http(token: str, api_url: str) -> None:
    """getUpdates, then one sendMessage per update, one at a time as PTB sends them, in a loop:
    no library, no handlers, nothing else."""
    offset = 0
    async with httpx.AsyncClient(base_url=f"{api_url}{token}/", timeout=30) as client:
        while True:
            response = await client.post(
                "getUpdates", json={"offset": offset, "timeout": LONG_POLL_SECONDS}
            )
            for update in response.json()["result"]:
                offset = update["update_id"] + 1
                message = update.get("message") or {}
                if "text" in message:
                    await client.post(
                        "sendMessage",
                        data={"chat_id": message["chat"]["id"], "text": message["text"]},
                    )


def main() -> None:
    token, api_url = os.environ[TOKEN_VARIABLE], os.environ[API_URL_VARIABLE]
    if RAW_HTTP_FLAG in sys.argv[1:]:
        asyncio.run(run_raw_http(token, api_url))
    elif STORE_FLAG in sys.argv[1:]:
        run_storing_bot(token, api_url, os.environ[DATABASE_URL_VARIABLE])
    else:
        run_echo_bot(token, api_url)


if __name__ == "__main__":
    main()
