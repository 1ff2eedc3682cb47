"""The `questrya` command: every way to run Questrya, on one machine or many."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import click

from questrya.bootstrap import App, open_app, redis_for
from questrya.logs import configure_logging
from questrya.orm.database import upgrade_database
from questrya.settings import Settings, SettingsError, load_settings


def _settings() -> Settings:
    try:
        settings = load_settings()
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    configure_logging(settings.log_level, settings.secret_values())
    return settings


def _run_with_app(settings: Settings, main: Callable[[App], Awaitable[None]]) -> None:
    async def run(redis_url: str) -> None:
        async with open_app(settings, redis_url) as app:
            await main(app)

    with redis_for(settings) as redis_url:
        asyncio.run(run(redis_url))


@click.group()
def cli() -> None:
    """Questrya: your video-game backlog, in the chats you already use."""


@cli.command()
@click.option("--user", required=True, help="Who is typing (a player name).")
@click.option("--chat", default=None, help="A group chat shared by several --user names.")
def console(user: str, chat: str | None) -> None:
    """Chat with Questrya in the terminal: one command per line."""
    from bots.console.runner import run_console

    _run_with_app(_settings(), lambda app: run_console(app, user=user, chat=chat))


@cli.command()
@click.option("--user", default="player", show_default=True, help="Console player name.")
def up(user: str) -> None:
    """Run everything on this machine: Redis if needed, migrations, then the console."""
    from bots.console.runner import run_console

    _run_with_app(_settings(), lambda app: run_console(app, user=user, chat=None))


@cli.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    settings = _settings()
    asyncio.run(upgrade_database(settings.effective_database_url))
    click.echo("Database is up to date.")


def main() -> None:
    cli(prog_name="questrya")


if __name__ == "__main__":
    main()
