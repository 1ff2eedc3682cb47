"""Fixtures for the whole suite: a clean QUESTRYA_* environment and a private redis-server."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import redis

from questrya.workers.queues import connect
from questrya.workers.redis_server import EmbeddedRedis

# Read by the database fixtures; every other QUESTRYA_* variable is the developer's own setup.
KEPT_VARIABLES = frozenset({"QUESTRYA_TEST_POSTGRES_URL"})


def pytest_configure(config: pytest.Config) -> None:
    """Drop the developer's QUESTRYA_* settings so they never leak into a test."""
    for name in list(os.environ):
        if name.startswith("QUESTRYA_") and name not in KEPT_VARIABLES:
            del os.environ[name]


@pytest.fixture(scope="session")
def redis_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The unix:// URL of a redis-server started for this test session."""
    with EmbeddedRedis(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture
def redis_url(redis_server_url: str) -> str:
    """The session's Redis URL, emptied before the test."""
    client = connect(redis_server_url)
    client.flushall()
    client.close()
    return redis_server_url


@pytest.fixture
def redis_connection(redis_url: str) -> Iterator[redis.Redis]:
    """A client on the emptied session Redis."""
    client = connect(redis_url)
    yield client
    client.close()
