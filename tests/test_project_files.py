"""Operator-facing files agree with the code: compose commands exist, .env.example is complete."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from questrya.settings import ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parent.parent
# `QUESTRYA_NAME=` at the start of a line, commented out or not.
ENV_EXAMPLE_VARIABLE = re.compile(rf"^#?\s*{ENV_PREFIX}([A-Z0-9_]+)=", re.MULTILINE)


def compose_services() -> dict[str, dict[str, Any]]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services: dict[str, dict[str, Any]] = compose["services"]
    return services


def questrya_commands() -> list[tuple[str, list[str]]]:
    """(service, command words after `questrya`) for every service running our CLI."""
    commands = []
    for name, service in compose_services().items():
        command = service.get("command")
        if isinstance(command, list) and command[:1] == ["questrya"]:
            commands.append((name, [str(word) for word in command[1:]]))
    return commands


def resolve_subcommand(group: click.Group, words: list[str]) -> click.Command:
    """The command `words` name in `group`, descending into nested groups; fail if unknown."""
    command: click.Command = group
    for word in words:
        if word.startswith("-") or not isinstance(command, click.Group):
            break  # options and arguments of the command found so far
        found = command.get_command(click.Context(command), word)
        if found is None:
            pytest.fail(f"`questrya {' '.join(words)}`: no subcommand {word!r}")
        command = found
    return command


def env_example_variables() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return {name.lower() for name in ENV_EXAMPLE_VARIABLE.findall(text)}


def test_compose_runs_the_roles_from_one_image() -> None:
    names = {name for name, _ in questrya_commands()}

    assert {"worker", "scheduler", "telegram", "discord"} <= names


@pytest.mark.parametrize(("service", "words"), questrya_commands())
def test_compose_commands_exist_in_the_cli(service: str, words: list[str]) -> None:
    from questrya.cli import cli

    command = resolve_subcommand(cli, words)

    assert not isinstance(command, click.Group), f"{service}: `questrya {words}` is a group"


def test_every_setting_is_in_env_example() -> None:
    missing = set(Settings.model_fields) - env_example_variables()

    assert not missing, f".env.example lacks {sorted(missing)}"


def test_env_example_names_only_real_settings() -> None:
    unknown = env_example_variables() - set(Settings.model_fields)

    assert not unknown, f".env.example names unknown settings {sorted(unknown)}"


def test_env_example_uncommented_gives_the_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = (ROOT / ".env.example").read_text()
    (tmp_path / ".env").write_text(re.sub(rf"^# ({ENV_PREFIX})", r"\1", example, flags=re.M))
    monkeypatch.chdir(tmp_path)

    assert Settings() == Settings(_env_file=None)
