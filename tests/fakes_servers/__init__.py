"""Local stand-ins for the games databases' HTTP APIs, for provider tests without network.

Each fake is an aiohttp app on 127.0.0.1 (a free port), used as `async with FakeRawg() as
fake:`. It records every request, counts the ones open at once, and can be told to answer the
next requests with an error or to hang, as the real services sometimes do.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from aiohttp import web
from multidict import CIMultiDict

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake received it; `received_at` is time.monotonic()."""

    method: str
    path: str
    query: Mapping[str, str]
    body: str
    headers: Mapping[str, str]  # case-insensitive
    received_at: float


@dataclass(frozen=True)
class ScriptedAnswer:
    """What to answer instead of the real thing: an error status, or hang (status None)."""

    status: int | None
    retry_after: str | None = None


def json_response(body: Any, status: int = 200) -> web.Response:
    return web.Response(
        status=status, text=json.dumps(body), content_type="application/json", charset="utf-8"
    )


class FakeServer:
    """The common part of the fakes: serving, recording and scripted misbehaviour."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.response_delay = 0.0  # seconds every scripted-path request takes
        self.base_url = ""
        self._script: deque[ScriptedAnswer] = deque()
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None

    def answer_next(self, count: int, status: int, *, retry_after: str | None = None) -> None:
        """Answer the next `count` API requests with `status` (and a Retry-After header)."""
        self._script.extend(ScriptedAnswer(status, retry_after) for _ in range(count))

    def hang_next(self, count: int = 1) -> None:
        """Never answer the next `count` API requests (until the fake closes)."""
        self._script.extend(ScriptedAnswer(None) for _ in range(count))

    def add_routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def is_scripted(self, request: web.Request) -> bool:
        """Whether `request` is one that delays and scripted answers apply to."""
        return True

    async def __aenter__(self) -> Self:
        app = web.Application(middlewares=[self._record])
        self.add_routes(app)
        self._runner, self.base_url = await serve_on_loopback(app)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._closing.set()  # lets hanging handlers finish so the runner can stop
        assert self._runner is not None
        await self._runner.cleanup()

    @web.middleware
    async def _record(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.requests.append(
            RecordedRequest(
                method=request.method,
                path=request.path,
                query=dict(request.query),
                body=await request.text(),
                headers=CIMultiDict(request.headers),
                received_at=time.monotonic(),
            )
        )
        if not self.is_scripted(request):
            return await handler(request)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.response_delay)
            return await self._scripted_or(handler, request)
        finally:
            self.in_flight -= 1

    async def _scripted_or(self, handler: Handler, request: web.Request) -> web.StreamResponse:
        if not self._script:
            return await handler(request)
        answer = self._script.popleft()
        if answer.status is None:
            await self._closing.wait()
            return web.Response(status=504)
        headers = {"Retry-After": answer.retry_after} if answer.retry_after else {}
        response = json_response({"error": f"scripted {answer.status}"}, status=answer.status)
        response.headers.update(headers)
        return response


async def serve_on_loopback(app: web.Application) -> tuple[web.AppRunner, str]:
    """Serve `app` on a free loopback port: its runner (to clean up) and its base URL. No access
    log: it would write request URLs, tokens and keys included, into the test's logs."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    await web.SockSite(runner, listener).start()
    return runner, f"http://127.0.0.1:{listener.getsockname()[1]}"
