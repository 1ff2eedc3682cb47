"""Running the Telegram bot against a wired application."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bots.chat import build_router
from bots.telegram.app import build_application, run_polling, run_webhook

if TYPE_CHECKING:
    from questrya.bootstrap import App


async def run_telegram(app: App, *, webhook_url: str | None) -> None:
    """Long polling by default; webhook mode when a public URL is given."""
    settings = app.settings
    if settings.telegram_token is None:
        raise ValueError("QUESTRYA_TELEGRAM_TOKEN is not set")
    token = settings.telegram_token.get_secret_value()
    application = build_application(token, settings.telegram_api_url, build_router(app.uow_factory))
    if webhook_url is None:
        await run_polling(application)
        return
    secret = settings.telegram_webhook_secret
    await run_webhook(
        application,
        webhook_url=webhook_url,
        listen=settings.telegram_webhook_listen,
        port=settings.telegram_webhook_port,
        secret_token=secret.get_secret_value() if secret else None,
    )
