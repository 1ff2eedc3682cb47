"""/link and /unlink through the command router: a Telegram player and a Discord player become
one, with one backlog and nothing lost; every refusal is one line."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from bots.chat import ChatRouter, Reply, Speaker
from bots.commands import command_table
from bots.link_commands import LinkArguments, link_commands
from tests.fakes import FakeUnitOfWork

TELEGRAM = Speaker("telegram", "111", "Ada", "111")
DISCORD = Speaker("discord", "222", "ada_dc", "dm-222")
TELEGRAM_GROUP = Speaker("telegram", "111", "Ada", "-100", is_group=True)
STRANGER = Speaker("telegram", "999", "Eve", "999")
CODE = re.compile(r"Your link code is ([A-Z2-9]{4}-[A-Z2-9]{4})\.")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def router(uow: FakeUnitOfWork, clock: Clock) -> ChatRouter:
    commands = {**command_table(), **{c.name: c for c in link_commands(clock)}}
    return ChatRouter(lambda: uow, commands)


async def say(router: ChatRouter, speaker: Speaker, text: str) -> Reply:
    reply = await router.handle_text(speaker, text)
    assert "\n" not in reply.text or text.startswith("/backlog")
    return reply


async def ask_code(router: ChatRouter, speaker: Speaker = TELEGRAM) -> str:
    reply = await say(router, speaker, "/link")
    found = CODE.match(reply.text)
    assert found, reply.text
    code = found.group(1)
    assert reply.text.endswith(
        f"Within 10 minutes, type /link {code} on your other account to share one backlog."
    )
    return code


@pytest.fixture
async def two_backlogs(router: ChatRouter) -> None:
    """Ada on Telegram and on Discord, one game on both at different stages."""
    for line in ("/add Hades", "/add Celeste", "/done Celeste 9", "/add Outer Wilds"):
        await say(router, TELEGRAM, line)
    for line in ("/add hades", "/play hades", "/wish Tunic", "/add Outer Wilds", "/drop outer"):
        await say(router, DISCORD, line)


async def test_the_whole_flow_gives_one_backlog_with_nothing_lost(
    router: ChatRouter, two_backlogs: None
) -> None:
    first = await ask_code(router)
    code = await ask_code(router)  # asking again replaces the first code
    assert "has expired" in (await say(router, DISCORD, f"/link {first}")).text

    linked = await say(router, DISCORD, f"/link {code}")

    assert linked.text == (
        "Linked your Discord and Telegram accounts: they share one backlog of 4 games "
        "(2 you had on both, kept once)."
    )
    on_telegram = (await say(router, TELEGRAM, "/backlog all")).text
    on_discord = (await say(router, DISCORD, "/backlog all")).text
    assert on_telegram == on_discord
    for line in ("Hades — playing", "Celeste — completed · 9/10", "Tunic — wishlist"):
        assert line in on_telegram
    assert "Outer Wilds — abandoned" in on_telegram  # started then dropped beats not started
    assert on_telegram.count("Hades") == 1


async def test_what_one_account_adds_the_other_sees(router: ChatRouter, two_backlogs: None) -> None:
    await say(router, DISCORD, f"/link {await ask_code(router)}")
    await say(router, DISCORD, "/add Inside")
    assert "Inside" in (await say(router, TELEGRAM, "/backlog")).text


async def test_a_wrong_code(router: ChatRouter, two_backlogs: None) -> None:
    code = await ask_code(router)
    wrong = "ZZZZ-ZZZZ" if code != "ZZZZ-ZZZZ" else "YYYY-YYYY"
    reply = await say(router, DISCORD, f"/link {wrong}")
    assert reply.text == (
        "That link code is wrong; check it, or type /link on your other account for a new one."
    )
    assert "Tunic" not in (await say(router, TELEGRAM, "/backlog all")).text


async def test_an_expired_code(router: ChatRouter, clock: Clock, two_backlogs: None) -> None:
    code = await ask_code(router)
    clock.now += timedelta(minutes=10, seconds=1)
    reply = await say(router, DISCORD, f"/link {code}")
    assert reply.text == (
        "That link code has expired; type /link on your other account for a new one."
    )


async def test_a_reused_code(router: ChatRouter, two_backlogs: None) -> None:
    code = await ask_code(router)
    await say(router, DISCORD, f"/link {code}")
    reply = await say(router, STRANGER, f"/link {code}")
    assert reply.text == (
        "That link code was already used; type /link on your other account for a new one."
    )
    assert (await say(router, STRANGER, "/backlog all")).text.startswith("Your list is empty")


async def test_a_malformed_code_says_how_to_write_one(router: ChatRouter) -> None:
    reply = await say(router, DISCORD, "/link 1234")
    assert reply.text == "A link code is 8 letters and digits. Write it like /link K7QM-4XPA"


async def test_too_many_attempts_make_even_the_right_code_wait(
    router: ChatRouter, clock: Clock, two_backlogs: None
) -> None:
    code = await ask_code(router)
    for _ in range(5):
        await say(router, DISCORD, "/link ZZZZ-ZZZY")
    reply = await say(router, DISCORD, f"/link {code}")
    assert reply.text == "Too many wrong codes; try again in 15 minutes."

    clock.now += timedelta(minutes=15)
    reply = await say(router, DISCORD, f"/link {await ask_code(router)}")
    assert reply.text.startswith("Linked your Discord and Telegram accounts")


async def test_link_in_a_group_is_refused(router: ChatRouter, uow: FakeUnitOfWork) -> None:
    reply = await say(router, TELEGRAM_GROUP, "/link")
    assert reply.text == (
        "Ask for /link in a private chat with me: a link code must not be seen by others."
    )
    assert uow.committed_link_codes == {}


async def test_a_code_typed_in_a_group_stops_working(
    router: ChatRouter, two_backlogs: None
) -> None:
    code = await ask_code(router, DISCORD)
    reply = await say(router, TELEGRAM_GROUP, f"/link {code}")
    assert reply.text.startswith("Type link codes only in a private chat with me")
    assert "has expired" in (await say(router, TELEGRAM, f"/link {code}")).text


async def test_ones_own_code(router: ChatRouter) -> None:
    code = await ask_code(router)
    reply = await say(router, TELEGRAM, f"/link {code}")
    assert reply.text == "That code is this account's own; type it on your other account."


async def test_unlink_splits_them_and_each_keeps_every_game(
    router: ChatRouter, two_backlogs: None
) -> None:
    await say(router, DISCORD, f"/link {await ask_code(router)}")
    shared = (await say(router, TELEGRAM, "/backlog all")).text

    reply = await say(router, DISCORD, "/unlink")

    assert reply.text == (
        "Unlinked this Discord account: it keeps its own copy of your 4 games, apart from Telegram."
    )
    await say(router, DISCORD, "/add Inside")
    assert (await say(router, TELEGRAM, "/backlog all")).text == shared
    assert "Inside" in (await say(router, DISCORD, "/backlog all")).text
    assert "Hades — playing" in (await say(router, DISCORD, "/backlog all")).text


async def test_unlink_when_not_linked(router: ChatRouter) -> None:
    reply = await say(router, TELEGRAM, "/unlink")
    assert reply.text == "This account isn't linked to another one; there is nothing to unlink."


async def test_typed_options_take_the_same_path(router: ChatRouter, two_backlogs: None) -> None:
    code = await ask_code(router)
    reply = await router.handle_command(DISCORD, "link", LinkArguments(code=code))
    assert reply.text.startswith("Linked your Discord and Telegram accounts")


async def test_help_lists_link_and_unlink(router: ChatRouter) -> None:
    text = (await router.handle_text(TELEGRAM, "/help")).text
    assert "/link [code]" in text
    assert "/unlink" in text
