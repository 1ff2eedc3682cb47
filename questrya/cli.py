"""The `questrya` command: every way to run Questrya, on one machine or many."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import click

from questrya.bootstrap import App, open_app, redis_for
from questrya.common.jobs import ALL_QUEUES
from questrya.logs import configure_logging
from questrya.orm.database import upgrade_database
from questrya.settings import Settings, SettingsError, load_settings
from questrya.workers.processes import background_services, run_scheduler, run_worker


def _settings() -> Settings:
    try:
        settings = load_settings()
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    configure_logging(settings.log_level, settings.secret_values())
    return settings


def _run_with_app(
    settings: Settings, redis_url: str, main: Callable[[App], Awaitable[None]]
) -> None:
    async def run() -> None:
        async with open_app(settings, redis_url) as app:
            await main(app)

    asyncio.run(run())


@click.group()
def cli() -> None:
    """Questrya: your video-game backlog, in the chats you already use."""


@cli.command()
@click.option("--user", required=True, help="Who is typing (a player name).")
@click.option("--chat", default=None, help="A group chat shared by several --user names.")
def console(user: str, chat: str | None) -> None:
    """Chat with Questrya in the terminal: one command per line."""
    from bots.console.runner import run_console

    settings = _settings()
    with redis_for(settings) as redis_url:
        _run_with_app(
            settings,
            redis_url,
            lambda app: run_console(app, user=user, chat=chat, expect_worker=False),
        )


@cli.command()
@click.option("--user", default="player", show_default=True, help="Console player name.")
def up(user: str) -> None:
    """Everything on one machine: Redis if needed, migrations, worker, scheduler, console."""
    from bots.console.runner import run_console

    settings = _settings()
    with redis_for(settings) as redis_url, background_services(redis_url, settings.data_dir):
        _run_with_app(
            settings,
            redis_url,
            lambda app: run_console(app, user=user, chat=None, expect_worker=True),
        )


@cli.command()
@click.argument("queues", nargs=-1)
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
def worker(queues: tuple[str, ...], burst: bool) -> None:
    """An RQ worker on the queues (default: notifications, metadata, scores)."""
    settings = _settings()
    with redis_for(settings) as redis_url:
        asyncio.run(upgrade_database(settings.effective_database_url))
        run_worker(redis_url, queues or ALL_QUEUES, burst=burst)


@cli.command()
@click.option("--burst", is_flag=True, help="Register the schedules, queue what is due, stop.")
def scheduler(burst: bool) -> None:
    """Register the nightly score refresh and the outbox relay, then run rq-scheduler."""
    settings = _settings()
    with redis_for(settings) as redis_url:
        run_scheduler(redis_url, settings, burst=burst)


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
