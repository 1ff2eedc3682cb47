"""The log set-up: every secret scrubbed, and httpx's line per request only at DEBUG."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from questrya.logs import configure_logging

SECRET = "123456:telegram-token"


@pytest.fixture(autouse=True)
def restored_logging() -> Iterator[None]:
    """configure_logging replaces the root logger's handlers (pytest's among them)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    quiet = {name: logging.getLogger(name).level for name in ("alembic", "httpx")}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, quiet_level in quiet.items():
        logging.getLogger(name).setLevel(quiet_level)


def test_httpx_logs_each_request_only_at_debug() -> None:
    configure_logging("INFO", [])
    assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
    assert logging.getLogger("httpx").isEnabledFor(logging.WARNING)

    configure_logging("DEBUG", [])
    assert logging.getLogger("httpx").isEnabledFor(logging.INFO)


def test_a_secret_in_a_record_is_written_as_a_marker(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("DEBUG", [SECRET])

    logging.getLogger("httpx").info("HTTP Request: POST http://127.0.0.1:8081/bot%s/x", SECRET)

    written = capsys.readouterr().err
    assert "POST http://127.0.0.1:8081/bot[secret]/x" in written
    assert SECRET not in written
