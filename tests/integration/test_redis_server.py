"""The embedded redis-server: started, shared, stopped, and snapshotting in the data dir."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
import redis

from questrya.workers.queues import connect
from questrya.workers.redis_server import (
    MAX_SOCKET_PATH_BYTES,
    EmbeddedRedis,
    RedisServerError,
    find_redis_binary,
)


def answers_ping(url: str) -> bool:
    client = connect(url)
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False
    finally:
        client.close()


def test_finds_a_redis_binary() -> None:
    assert find_redis_binary().name == "redis-server"


def test_starts_and_stops(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path)

    url = server.start()

    assert url == f"unix://{tmp_path.resolve()}/redis.sock"
    assert server.started_here
    assert answers_ping(url)
    server.stop()
    assert not answers_ping(url)
    assert not server.socket_path.exists()


def test_with_block_yields_the_url_and_stops_at_the_end(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path) as url:
        assert answers_ping(url)

    assert not answers_ping(url)


def test_second_instance_reuses_the_first_and_leaves_it_running(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path) as first_url:
        second = EmbeddedRedis(tmp_path)

        assert second.start() == first_url
        assert not second.started_here
        second.stop()

        assert answers_ping(first_url)
    assert not answers_ping(first_url)


def test_long_data_dir_gets_a_short_socket_path(tmp_path: Path) -> None:
    data_dir = tmp_path / ("deeply-nested-data-directory-" * 4)
    server = EmbeddedRedis(data_dir)

    with server as url:
        assert len(str(server.socket_path).encode()) <= MAX_SOCKET_PATH_BYTES
        assert server.socket_path.parent != data_dir
        assert EmbeddedRedis(data_dir).socket_path == server.socket_path
        assert answers_ping(url)
    server.socket_path.parent.rmdir()  # empty once Redis has removed its socket


def test_snapshots_into_the_data_dir_on_stop(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path) as url:
        client = connect(url)
        assert client.config_get("dir") == {"dir": str(tmp_path.resolve())}
        client.set("backlog", "Hades")
        client.close()

    assert (tmp_path / "dump.rdb").exists()
    with EmbeddedRedis(tmp_path) as restarted_url:
        assert connect(restarted_url).get("backlog") == b"Hades"


def test_keeps_what_it_was_told_through_a_crash(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path)
    client = connect(server.start())
    assert client.config_get("appendonly") == {"appendonly": "yes"}
    client.set("queued", "fetch-metadata-1")
    client.execute_command("BGREWRITEAOF")  # on disk now, not a second from now
    while client.info("persistence")["aof_rewrite_in_progress"]:
        time.sleep(0.01)
    os.kill(client.info("server")["process_id"], signal.SIGKILL)
    server.stop()

    with EmbeddedRedis(tmp_path) as restarted_url:
        assert connect(restarted_url).get("queued") == b"fetch-metadata-1"


def test_failed_start_shows_the_log(tmp_path: Path) -> None:
    # A corrupt append-only file, where Redis 6 (one file) and Redis 7 (a manifest) read it.
    (tmp_path / "appendonly.aof").write_bytes(b"*not an append-only file")
    (tmp_path / "appendonlydir").mkdir()
    (tmp_path / "appendonlydir" / "appendonly.aof.manifest").write_bytes(b"not a manifest")

    with pytest.raises(RedisServerError, match=r"did not start(.|\n)*redis\.log"):
        EmbeddedRedis(tmp_path).start()
