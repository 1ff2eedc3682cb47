"""Building and running the Telegram bot: every handler is registered in `register_handlers`."""

from __future__ import annotations

import asyncio
import signal
from urllib.parse import urlsplit

from telegram import BotCommand, Update
from telegram.constants import FloodLimit
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    PollAnswerHandler,
    filters,
)
from telegram.request import BaseRequest

from bots.chat import ChatRouter
from bots.messages import UnitOfWorkFactory
from bots.telegram.handlers import TelegramHandlers
from bots.telegram.polling import poll_updates
from bots.telegram.updates import UpdateDispatcher
from questrya.notifications.senders.poll_chats import PollChats
from questrya.notifications.senders.telegram_threads import ReplyThreads
from questrya.notifications.senders.telegram_updates import HandledUpdates

MAX_RETRIES_ON_429 = 3
ROUTER_KEY = "questrya_router"


def build_application(
    token: str,
    api_url: str,
    router: ChatRouter,
    *,
    uow_factory: UnitOfWorkFactory,
    max_rate: float = FloodLimit.MESSAGES_PER_SECOND,
    threads: ReplyThreads | None = None,
    request: BaseRequest | None = None,
    poll_chats: PollChats | None = None,
) -> Application:  # type: ignore[type-arg]
    """A python-telegram-bot Application talking to `api_url` (Telegram's, or a local one),
    sending at most `max_rate` messages a second overall (0: no limit of its own); `request`
    replaces PTB's HTTP client (offline tests). Without `threads`, pushes do not follow the
    answers; without `poll_chats`, taps on polls are not counted. Updates reach it through
    `run_polling` or `run_webhook`, not PTB's Updater (see polling.py)."""
    limiter = AIORateLimiter(overall_max_rate=max_rate, max_retries=MAX_RETRIES_ON_429)
    builder = (
        Application.builder()
        .token(token)
        .base_url(api_url)
        .base_file_url(file_url_of(api_url))
        .rate_limiter(limiter)
        .updater(None)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    application = builder.build()
    handlers = TelegramHandlers(router, uow_factory, threads, poll_chats)
    register_handlers(application, handlers)
    application.bot_data[ROUTER_KEY] = router
    return application


def file_url_of(api_url: str) -> str:
    """Where files are served: `https://api.telegram.org/file/bot` for `…/bot`."""
    root, bot, rest = api_url.rpartition("/bot")
    return f"{root}/file/bot{rest}" if bot else api_url


def register_handlers(application: Application, handlers: TelegramHandlers) -> None:  # type: ignore[type-arg]
    """Every handler of the bot, in one place. New messages only: editing a sent command does
    not run it again."""
    router = handlers.router
    new_text = filters.UpdateType.MESSAGE & filters.TEXT
    application.add_handler(
        CommandHandler(list(router.commands), handlers.on_command, filters=new_text)
    )
    application.add_handler(CallbackQueryHandler(handlers.on_button))
    application.add_handler(PollAnswerHandler(handlers.on_poll_answer))
    # A group that became a supergroup: Telegram says so in both chats.
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, handlers.on_chat_moved))
    # In private chats anything else (unknown commands, plain text) gets the router's hint;
    # in groups only unknown commands that name this bot are answered.
    application.add_handler(
        MessageHandler(filters.ChatType.PRIVATE & new_text, handlers.on_command)
    )
    group_command = filters.ChatType.GROUPS & new_text & filters.COMMAND
    application.add_handler(MessageHandler(group_command, handlers.on_group_command))
    application.add_error_handler(handlers.on_error)


async def publish_command_menu(application: Application) -> None:  # type: ignore[type-arg]
    """The command menu Telegram shows next to the text box (setMyCommands)."""
    router: ChatRouter = application.bot_data[ROUTER_KEY]
    menu = [
        BotCommand(name, command.summary[:256])
        for name, command in router.commands.items()
        if command.listed
    ]
    await application.bot.set_my_commands(menu)


async def run_polling(
    application: Application,  # type: ignore[type-arg]
    handled: HandledUpdates | None,
) -> None:
    """Long polling until SIGINT or SIGTERM; each update confirmed once handled."""
    dispatcher = UpdateDispatcher(application, handled, finish_unfinished=True)
    stopped = _stop_signal()
    async with application:
        await publish_command_menu(application)
        await application.start()
        await poll_updates(application.bot, dispatcher, stopped, Update.ALL_TYPES)
        await application.stop()


async def run_webhook(
    application: Application,  # type: ignore[type-arg]
    handled: HandledUpdates | None,
    *,
    webhook_url: str,
    listen: str,
    port: int,
    secret_token: str,
) -> None:
    """Webhook mode, for several instances behind a load balancer, until SIGINT or SIGTERM."""
    from bots.telegram.webhook import WebhookEndpoint, WebhookServer  # aiohttp: webhooks only

    dispatcher = UpdateDispatcher(application, handled, finish_unfinished=False)
    path = urlsplit(webhook_url).path or "/"
    server = WebhookServer(
        application.bot, dispatcher, WebhookEndpoint(listen, port, path, secret_token)
    )
    stopped = _stop_signal()
    async with application:
        await publish_command_menu(application)
        await application.start()
        await server.start()  # listening before Telegram is told where to call
        await application.bot.set_webhook(
            webhook_url, secret_token=secret_token, allowed_updates=Update.ALL_TYPES
        )
        await stopped.wait()
        await server.stop()
        await application.stop()


def bot_id_of(token: str) -> str:
    """The bot's id: the public part of its token, before the colon."""
    return token.partition(":")[0]


def _stop_signal() -> asyncio.Event:
    """Set on SIGINT or SIGTERM."""
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stopped.set)
    return stopped
