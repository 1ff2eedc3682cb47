"""The HTTP clients a job builds share what the process made at import: none loads certificates
or reads package metadata."""

from __future__ import annotations

import ssl
from typing import Any

import httpx
import pytest

from questrya.metadata.providers import http
from questrya.metadata.providers.http import build_client
from questrya.notifications.senders.telegram import push_bot


@pytest.fixture
def certificate_loads(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Each time a TLS context loads CA certificates."""
    loads: list[object] = []
    load = ssl.SSLContext.load_verify_locations

    def counted(context: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        loads.append(args or kwargs)
        load(context, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counted)
    return loads


async def test_a_jobs_clients_load_no_certificates(certificate_loads: list[object]) -> None:
    provider_client = build_client()
    bot = push_bot("123:secret", "http://127.0.0.1:9/bot")
    await provider_client.aclose()
    await bot.shutdown()

    assert certificate_loads == []


async def test_a_client_of_its_own_would_load_them(certificate_loads: list[object]) -> None:
    await httpx.AsyncClient().aclose()

    assert certificate_loads


async def test_a_provider_client_names_questrya_without_reading_package_metadata(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads: list[str] = []
    monkeypatch.setattr(http, "version", reads.append)

    client = build_client()
    await client.aclose()

    assert reads == []
    assert client.headers["User-Agent"].startswith("Questrya/")
