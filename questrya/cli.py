"""The `questrya` command: every way to run Questrya, on one machine or many."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
from collections.abc import Awaitable, Callable, Iterator

import click
import redis.asyncio as aioredis
import uvloop

from questrya.bootstrap import App, open_app, redis_for
from questrya.common.clock import utc_now
from questrya.common.jobs import ALL_QUEUES
from questrya.logs import configure_logging
from questrya.metadata import service as metadata_service
from questrya.metadata.providers.factory import build_provider
from questrya.orm.database import upgrade_database
from questrya.settings import Settings, SettingsError, load_settings
from questrya.workers import monitor
from questrya.workers.processes import (
    background_services,
    run_scheduler,
    run_worker,
    wait_for_stop_signal,
)
from questrya.workers.queues import connect


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
            _freeze_startup_objects()
            await main(app)

    # The bots spend much of their time in the event loop and its sockets (httpx, aiohttp,
    # redis-py): on uvloop, bench_telegram measured about 13% more updates a second.
    uvloop.run(run())


def _freeze_startup_objects() -> None:
    """What starting up made (modules, the catalog, the ORM's mappers and compiled statements:
    about 150,000 objects) lives as long as the process. Out of the collector's sight, a full
    collection no longer walks it: in the bot benchmarks the longest pause while serving fell
    from about 100 ms, every chat the bot serves waiting, to 6-9 ms."""
    gc.collect()  # so that no garbage is kept for good
    gc.freeze()


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
    with redis_for(settings) as redis_url, _console_worker(settings, redis_url) as started:
        _run_with_app(
            settings,
            redis_url,
            lambda app: run_console(app, user=user, chat=chat, expect_worker=started),
        )


@contextlib.contextmanager
def _console_worker(settings: Settings, redis_url: str) -> Iterator[bool]:
    """With the private Redis and no worker on it, nothing else would run the console's jobs:
    run a worker for the session. With a configured Redis, the operator runs the workers."""
    if settings.redis_url or monitor.has_workers(connect(redis_url)):
        yield False
        return
    with background_services(redis_url, settings.data_dir, ["worker"]):
        yield True


@cli.command()
@click.option("--user", default="player", show_default=True, help="Console player name.")
def up(user: str) -> None:
    """Everything on one machine: Redis if needed, migrations, worker, scheduler, console."""
    from bots.console.runner import run_console

    settings = _settings()
    bots = [name for name, token in _bot_tokens(settings) if token is not None]
    services = ["worker", "scheduler", *bots]
    with (
        redis_for(settings) as redis_url,
        background_services(redis_url, settings.data_dir, services),
    ):
        if bots and not sys.stdin.isatty():
            click.echo(f"Serving {', '.join(bots)}; logs in {settings.data_dir}. Ctrl-C stops.")
            wait_for_stop_signal()
            return
        _run_with_app(
            settings,
            redis_url,
            lambda app: run_console(app, user=user, chat=None, expect_worker=True),
        )


def _bot_tokens(settings: Settings) -> list[tuple[str, object]]:
    return [("telegram", settings.telegram_token), ("discord", settings.discord_token)]


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


@cli.command()
@click.option(
    "--webhook-url", default=None, help="Public HTTPS URL: webhook mode instead of polling."
)
def telegram(webhook_url: str | None) -> None:
    """The Telegram bot (long polling, or webhook mode behind a load balancer)."""
    from bots.telegram.runner import run_telegram

    settings = _settings()
    if settings.telegram_token is None:
        raise click.ClickException(
            "QUESTRYA_TELEGRAM_TOKEN is not set: create a bot with @BotFather and set its token."
        )
    with redis_for(settings) as redis_url:
        _run_with_app(settings, redis_url, lambda app: run_telegram(app, webhook_url=webhook_url))


@cli.command()
def discord() -> None:
    """The Discord bot: slash commands over the gateway."""
    from bots.discord.runner import run_discord

    settings = _settings()
    if settings.discord_token is None:
        raise click.ClickException(
            "QUESTRYA_DISCORD_TOKEN is not set: create an application in Discord's developer "
            "portal and set its bot token."
        )
    with redis_for(settings) as redis_url:
        _run_with_app(settings, redis_url, run_discord)


@cli.group()
def scores() -> None:
    """The critic scores of the games players have."""


@scores.command("refresh")
def scores_refresh() -> None:
    """Refresh every game's critic score now, as the nightly job does, with a progress bar."""
    settings = _settings()
    with redis_for(settings) as redis_url:
        _run_with_app(settings, redis_url, _refresh_scores_now)


async def _refresh_scores_now(app: App) -> None:
    day = utc_now().date()
    async with aioredis.Redis.from_url(app.redis_url) as connection:
        provider = build_provider(app.settings, connection)
        try:
            due = await metadata_service.count_due_for_refresh(
                uow=app.uow_factory(), provider=provider, day=day
            )
            with click.progressbar(length=due, label="Refreshing scores", file=sys.stderr) as bar:
                done = await metadata_service.refresh_scores(
                    uow_factory=app.uow_factory, provider=provider, day=day, on_batch=bar.update
                )
        finally:
            await provider.aclose()
    click.echo(f"Checked {done.checked} games today ({day}); {done.changed} scores changed.")


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
