"""Webhook mode: Telegram POSTs each update; the answer comes once the update is handled.

PTB's own webhook server answers 200 before the update is handled, which tells Telegram the
update is delivered: an instance killed then loses it. Here the 200 is sent after the handler
(and the bot's reply) is done, so Telegram delivers an update again if the instance died on
it. An update handled already is answered 200 and dropped; one claimed by a handler still
running (in another instance behind the load balancer) is answered 503, and Telegram tries it
again later.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from http import HTTPStatus

from aiohttp import web
from telegram import Bot, Update
from telegram.ext import ExtBot

from bots.telegram.updates import Outcome, UpdateDispatcher

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header's name
# How long a stopping instance lets the updates it is handling finish.
SHUTDOWN_SECONDS = 10.0

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebhookEndpoint:
    """Where Telegram POSTs updates: `path` on `listen`:`port`, checked against `secret`."""

    listen: str
    port: int
    path: str
    secret: str


class WebhookServer:
    """An aiohttp server handing each POSTed update to the dispatcher."""

    def __init__(self, bot: Bot, dispatcher: UpdateDispatcher, endpoint: WebhookEndpoint) -> None:
        self._bot = bot
        self._dispatcher = dispatcher
        self._endpoint = endpoint
        app = web.Application()
        app.router.add_post(endpoint.path, self._receive)
        # No access log: Telegram's calls carry nothing worth a line each.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_SECONDS)

    async def start(self) -> None:
        await self._runner.setup()
        await web.TCPSite(self._runner, self._endpoint.listen, self._endpoint.port).start()

    async def stop(self) -> None:
        """Stop listening, and let the updates being handled finish."""
        await self._runner.cleanup()

    async def _receive(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self._endpoint.secret.encode()):
            return web.Response(status=HTTPStatus.FORBIDDEN)
        update = await self._update_in(request)
        if update is None:
            return web.Response(status=HTTPStatus.BAD_REQUEST)
        outcome = await self._dispatcher.handle(update)
        busy = outcome is Outcome.BUSY
        return web.Response(status=HTTPStatus.SERVICE_UNAVAILABLE if busy else HTTPStatus.OK)

    async def _update_in(self, request: web.Request) -> Update | None:
        try:
            update = Update.de_json(await request.json(), self._bot)
        except (ValueError, TypeError, KeyError) as error:
            log.warning("a webhook call without a readable update: %s", error)
            return None
        if isinstance(self._bot, ExtBot):
            self._bot.insert_callback_data(update)  # as PTB's own server does
        return update
