"""The `questrya console` command, run as a player would: a subprocess fed by a pipe."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis

pytestmark = pytest.mark.e2e

ALICE_SESSION = (
    "/add Hades\n/add Celeste\n/play Hades\n/done hades 9\n/backlog\n/backlog completed\n"
)


def run_console(data_dir: Path, user: str, stdin: str, *extra: str, **env: str) -> str:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("QUESTRYA_")
    }
    environment |= {"QUESTRYA_DATA_DIR": str(data_dir), **env}
    result = subprocess.run(
        [sys.executable, "-m", "questrya.cli", "console", "--user", user, *extra],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_alices_scripted_session(tmp_path: Path, redis_url: str) -> None:
    output = run_console(tmp_path, "alice", ALICE_SESSION, QUESTRYA_REDIS_URL=redis_url)
    assert output.splitlines() == [
        "Added Hades to your backlog. I'll look up its details.",
        "Added Celeste to your backlog. I'll look up its details.",
        "Now playing Hades. Have fun!",
        "Completed Hades · 9/10. Well played!",
        "Your games — open, page 1:",
        "• Celeste — backlog",
        "Your games — completed, page 1:",
        "✓ Hades — completed · 9/10",
    ]


def test_bob_sees_none_of_alices_games_and_alice_keeps_hers(tmp_path: Path, redis_url: str) -> None:
    run_console(tmp_path, "alice", ALICE_SESSION, QUESTRYA_REDIS_URL=redis_url)
    bob = run_console(tmp_path, "bob", "/backlog all\n/done Hades\n", QUESTRYA_REDIS_URL=redis_url)
    assert bob.splitlines() == [
        "Your list is empty. Add a game with /add Hades.",
        'You have no game called "Hades". See your games with /backlog all.',
    ]
    again = run_console(tmp_path, "alice", "/backlog all\n", QUESTRYA_REDIS_URL=redis_url)
    assert again.splitlines()[1:] == ["• Celeste — backlog", "✓ Hades — completed · 9/10"]


def test_add_queues_one_lookup_job_per_game(tmp_path: Path, redis_url: str) -> None:
    run_console(tmp_path, "alice", "/add Hades\n/add Hades\n", QUESTRYA_REDIS_URL=redis_url)
    connection = redis.Redis.from_url(redis_url)
    queued = [job_id.decode() for job_id in connection.lrange("rq:queue:metadata", 0, -1)]
    assert queued == ["fetch-metadata-1"]


def test_a_number_answers_the_last_choice(tmp_path: Path, redis_url: str) -> None:
    script = "/add Hades\n/add Hades II\n/play hades 2\n2\n/backlog playing\n"
    output = run_console(tmp_path, "alice", script, QUESTRYA_REDIS_URL=redis_url)
    assert "  2. Hades II" in output
    assert output.splitlines()[-1] == "▶ Hades II — playing"


def test_bad_input_never_prints_a_traceback(tmp_path: Path, redis_url: str) -> None:
    script = "/done Celeste 11\n/rate Celeste abc\n/add\n/add " + "x" * 5000 + "\n/add \x07\x1b\n"
    script += "²\n" + "9" * 5000 + "\n"  # not choices: no number int() reads, and too long
    output = run_console(tmp_path, "alice", script, QUESTRYA_REDIS_URL=redis_url)
    lines = output.splitlines()
    assert len(lines) == 7
    assert "Traceback" not in output


def test_without_a_redis_url_a_private_redis_runs_in_the_data_dir(tmp_path: Path) -> None:
    output = run_console(tmp_path, "alice", "/add Hades\n")
    assert output.startswith("Added Hades")
    assert (tmp_path / "questrya.db").exists()
    assert not list(tmp_path.glob("*.sock"))  # the private redis-server was stopped


def test_a_bad_setting_fails_at_start_with_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "questrya.cli", "console", "--user", "alice"],
        input="",
        capture_output=True,
        text=True,
        env={**os.environ, "QUESTRYA_DATA_DIR": str(tmp_path), "QUESTRYA_METADATA_PROVIDER": "x"},
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0
    assert "QUESTRYA_METADATA_PROVIDER" in result.stderr
