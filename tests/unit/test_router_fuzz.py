"""Bad input, generated: every command of the table with random unicode, huge text, markup,
control characters, and wrong types in typed options. Whatever comes in, the router answers
with a reply, never an exception, and a refusal changes nothing."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable, Coroutine
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bots.chat import ChatRouter, Reply, build_router
from bots.parsing import Arguments
from tests.fakes import FakeUnitOfWork
from tests.fuzz_inputs import (
    ALICE,
    ALICE_IN_FRIENDS,
    COMMANDS,
    MAX_REFUSAL_LENGTH,
    nasty_text,
    option_value,
)

RUNNER = asyncio.Runner()  # one event loop for every example: a new one each is slow


def run(coroutine: Coroutine[Any, Any, Reply]) -> Reply:
    return RUNNER.run(coroutine)


def seeded() -> FakeUnitOfWork:
    """Alice, with a few games, known in her private chat and in a group."""
    uow = FakeUnitOfWork()
    router = build_router(lambda: uow)
    for speaker in (ALICE, ALICE_IN_FRIENDS):
        run(router.handle_text(speaker, "/start"))
    for line in ("/add Hades", "/add Celeste", "/play Celeste", "/wish Hollow Knight"):
        run(router.handle_text(ALICE, line))
    return uow


SEEDED = seeded()


def world() -> tuple[FakeUnitOfWork, ChatRouter]:
    """A fresh copy of the seeded world for one example."""
    uow = copy.deepcopy(SEEDED)
    return uow, build_router(lambda: uow)


def snapshot(uow: FakeUnitOfWork) -> str:
    """Everything a command could change, as text (some domain objects compare by identity)."""
    parts: list[Any] = [
        uow.committed_games,
        uow.committed_groups,
        uow.committed_polls,
        uow.committed_notifications,
        uow.committed_link_codes,
        sorted(uow.job_queue.jobs),
    ]
    return repr(parts)


def check(uow: FakeUnitOfWork, run: Callable[[], Reply]) -> None:
    before = snapshot(uow)
    reply = run()
    assert isinstance(reply, Reply)
    assert reply.text.strip()
    assert "Traceback" not in reply.text
    if reply.refused:
        assert snapshot(uow) == before, reply.text
        assert "\n" not in reply.text.strip() or reply.choices, reply.text
        assert len(reply.text) <= MAX_REFUSAL_LENGTH, reply.text


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(COMMANDS),
    rest=nasty_text,
    in_group=st.booleans(),
    addressed=st.booleans(),
)
def test_every_command_with_any_text_gets_a_reply(
    name: str, rest: str, in_group: bool, addressed: bool
) -> None:
    uow, router = world()
    speaker = ALICE_IN_FRIENDS if in_group else ALICE
    line = f"/{name}{'@QuestryaBot' if addressed else ''} {rest}"
    check(uow, lambda: run(router.handle_text(speaker, line)))


@settings(max_examples=100, deadline=None)
@given(line=nasty_text)
def test_any_line_at_all_gets_a_reply(line: str) -> None:
    uow, router = world()
    check(uow, lambda: run(router.handle_text(ALICE, line)))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(COMMANDS),
    title=option_value,
    platform=option_value,
    rating=option_value,
    status=option_value,
    page=option_value,
)
# Found by this test: numbers int() cannot read, though str.isdigit() passes them.
@example(name="rate", title="Celeste", platform=None, rating="9" * 5_000, status=None, page=0)
@example(name="done", title="Celeste", platform=None, rating="²", status=None, page=0)
def test_typed_options_of_any_type_get_a_reply(
    name: str, title: Any, platform: Any, rating: Any, status: Any, page: Any
) -> None:
    """Discord hands typed options over; a wrong type (a bug, or a changed schema) is refused."""
    uow, router = world()
    arguments = Arguments(title=title, platform=platform, rating=rating, status=status, page=page)
    check(uow, lambda: run(router.handle_command(ALICE, name, arguments)))
