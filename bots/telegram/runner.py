"""Running the Telegram bot against a wired application."""

from __future__ import annotations

import hashlib
import logging
import re
from typing import TYPE_CHECKING

import click

from bots.chat import build_router
from bots.telegram.app import bot_id_of, build_application, run_polling, run_webhook
from bots.telegram.speakers import PLATFORM
from questrya.logs import RedactSecrets
from questrya.notifications.senders.poll_chats import PollChats
from questrya.notifications.senders.telegram_threads import ReplyThreads
from questrya.notifications.senders.telegram_updates import HandledUpdates

if TYPE_CHECKING:
    from questrya.bootstrap import App
    from questrya.settings import Settings

# What Telegram accepts as a webhook's secret token.
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


async def run_telegram(app: App, *, webhook_url: str | None) -> None:
    """Long polling by default; webhook mode when a public URL is given."""
    settings = app.settings
    if settings.telegram_token is None:
        raise click.ClickException("QUESTRYA_TELEGRAM_TOKEN is not set")
    token = settings.telegram_token.get_secret_value()
    threads = ReplyThreads.connect(app.redis_url)
    poll_chats = PollChats.connect(app.redis_url, PLATFORM)
    handled = HandledUpdates.connect(app.redis_url, bot_id_of(token))
    application = build_application(
        token,
        settings.telegram_api_url,
        build_router(app.uow_factory),
        uow_factory=app.uow_factory,
        max_rate=settings.telegram_max_rate,
        threads=threads,
        poll_chats=poll_chats,
    )
    try:
        if webhook_url is None:
            await run_polling(application, handled)
        else:
            await run_webhook(
                application,
                handled,
                webhook_url=webhook_url,
                listen=settings.telegram_webhook_listen,
                port=settings.telegram_webhook_port,
                secret_token=webhook_secret(settings, token),
            )
    finally:
        for notes in (threads, poll_chats, handled):
            await notes.aclose()


def webhook_secret(settings: Settings, token: str) -> str:
    """QUESTRYA_TELEGRAM_WEBHOOK_SECRET, or else one derived from the token: every instance
    behind a load balancer must check the same secret, so it cannot be random per process."""
    configured = settings.telegram_webhook_secret
    if configured is not None:
        secret = configured.get_secret_value()
        if not WEBHOOK_SECRET.fullmatch(secret):
            raise click.ClickException(
                "QUESTRYA_TELEGRAM_WEBHOOK_SECRET must be 1-256 letters, digits, _ or -"
            )
        return secret
    secret = hashlib.sha256(f"questrya-telegram-webhook:{token}".encode()).hexdigest()
    _keep_out_of_logs(secret)
    return secret


def _keep_out_of_logs(secret: str) -> None:
    """The configured secrets are scrubbed already; this one is made here."""
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactSecrets([secret]))
