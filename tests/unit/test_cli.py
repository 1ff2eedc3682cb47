"""The `questrya` command's own wiring, without the processes it starts."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
import uvloop

from questrya import cli
from questrya.bootstrap import App
from questrya.settings import Settings


@pytest.fixture
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()  # the rest of the test session collects as usual


def serve_recording(monkeypatch: pytest.MonkeyPatch, record: Callable[[], object]) -> list[object]:
    """Run the app-serving path with a stand-in app; what `record` saw while serving."""
    opened = object()
    seen: list[object] = []

    @contextlib.asynccontextmanager
    async def open_app(settings: Settings, redis_url: str) -> AsyncIterator[object]:
        yield opened

    async def serve(app: App) -> None:
        assert app is opened
        seen.append(record())

    monkeypatch.setattr(cli, "open_app", open_app)
    cli._run_with_app(Settings(), "redis://unused", serve)
    return seen


def test_a_served_app_starts_with_its_start_up_objects_frozen(
    monkeypatch: pytest.MonkeyPatch, unfrozen: None
) -> None:
    [frozen] = serve_recording(monkeypatch, gc.get_freeze_count)

    assert isinstance(frozen, int)
    assert frozen > 0


def test_a_served_app_runs_on_uvloop(monkeypatch: pytest.MonkeyPatch, unfrozen: None) -> None:
    [loop] = serve_recording(monkeypatch, asyncio.get_running_loop)

    assert isinstance(loop, uvloop.Loop)
