"""The fake Bot API without a network: python-telegram-bot's own transport interface
(`telegram.request.BaseRequest`) answered by FakeBotApi's methods in-process.

    api = FakeBotApi(token="123:ABC")
    app = Application.builder().token(api.token).request(OfflineBotApi(api)).build()

The Bot, its shortcuts and the Application run unmodified; only the bytes never leave the
process. Every call is recorded in `api.calls`, as over HTTP.
"""

from __future__ import annotations

import json

from telegram.request import BaseRequest, RequestData

from tests.fakes_servers.telegram import FakeBotApi


class OfflineBotApi(BaseRequest):
    """Requests of a Bot answered by `api` in the same event loop."""

    def __init__(self, api: FakeBotApi) -> None:
        self.api = api

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = None,
        write_timeout: object = None,
        connect_timeout: object = None,
        pool_timeout: object = None,
    ) -> tuple[int, bytes]:
        """`…/bot<token>/<method>`: the fake's answer, as status and JSON body."""
        token_part, api_method = url.rsplit("/", 2)[-2:]
        encoded = request_data.json_parameters if request_data is not None else {}
        call = await self.api.answer_offline(token_part.removeprefix("bot"), api_method, encoded)
        assert call.status is not None
        assert call.response is not None
        return call.status, json.dumps(call.response).encode()
