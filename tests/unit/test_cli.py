"""The `questrya` command's own wiring, without the processes it starts."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator, Iterator

import pytest

from questrya import cli
from questrya.bootstrap import App
from questrya.settings import Settings


@pytest.fixture
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()  # the rest of the test session collects as usual


def test_a_served_app_starts_with_its_start_up_objects_frozen(
    monkeypatch: pytest.MonkeyPatch, unfrozen: None
) -> None:
    opened = object()
    frozen_when_serving: list[int] = []

    @contextlib.asynccontextmanager
    async def open_app(settings: Settings, redis_url: str) -> AsyncIterator[object]:
        yield opened

    async def serve(app: App) -> None:
        assert app is opened
        frozen_when_serving.append(gc.get_freeze_count())

    monkeypatch.setattr(cli, "open_app", open_app)
    cli._run_with_app(Settings(), "redis://unused", serve)

    [frozen] = frozen_when_serving
    assert frozen > 0
