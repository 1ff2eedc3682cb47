"""How updates reach the handlers, offline: one chat's updates in order while other chats go on,
and a group that becomes a supergroup taking its group and games along. Real Update objects,
the bot's real Application, the fake Bot API in-process, the services on the in-memory unit of
work.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from telegram import Chat

from bots.telegram.updates import UpdateDispatcher, chat_key
from questrya.common.values import ChatAddress
from tests.fakes import FakeUnitOfWork
from tests.fakes_servers.telegram import Call
from tests.telegram_factories import (
    OfflineTelegram,
    make_chat_moved_updates,
    make_group_chat,
    make_poll_answer_update,
    make_private_chat,
    make_user,
    offline_bot,
    text_of,
)

ALICE = make_user(701, "Alice", "alice")
BOB = make_user(702, "Bob", "bob")
OLD_GROUP = make_group_chat(-4242, "Club", Chat.GROUP)
SUPERGROUP = make_group_chat(-100_4242, "Club")
ANSWER_SECONDS = 10.0


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
async def telegram(uow: FakeUnitOfWork) -> AsyncIterator[OfflineTelegram]:
    async for bot in offline_bot(lambda: uow):
        for chat in (OLD_GROUP, SUPERGROUP):
            bot.api.chats[chat.id] = chat.to_dict()
        yield bot


def answers_in(telegram: OfflineTelegram, chat: Chat) -> list[Call]:
    """Messages the bot sent to `chat`, answered or still held."""
    return [
        call
        for call in telegram.api.calls_to("sendMessage")
        if call.params.get("chat_id") == chat.id
    ]


async def answered_in(telegram: OfflineTelegram, chat: Chat) -> Call:
    """The first answered message to `chat`, once there is one."""
    answered = await telegram.api.wait_for(
        "sendMessage", lambda call: call.params.get("chat_id") == chat.id, timeout=ANSWER_SECONDS
    )
    return answered[0]


async def test_a_chats_updates_run_in_order_while_other_chats_go_on(
    telegram: OfflineTelegram,
) -> None:
    alices, bobs = make_private_chat(ALICE), make_private_chat(BOB)
    batch = [
        telegram.typed(alices, ALICE, "/add Hades"),
        telegram.typed(alices, ALICE, "/done Hades 9"),
        telegram.typed(bobs, BOB, "/add Celeste"),
    ]
    held = telegram.api.hold_next("sendMessage", when=lambda params: params["chat_id"] == ALICE.id)
    dispatcher = UpdateDispatcher(telegram.application, None, finish_unfinished=True)

    handling = asyncio.create_task(dispatcher.handle_batch(batch))
    await held.reached(ANSWER_SECONDS)
    bobs_answer = await answered_in(telegram, bobs)  # while Alice's first answer is held
    alices_while_held = [call.status for call in answers_in(telegram, alices)]
    held.release()
    await handling

    assert text_of(bobs_answer).startswith("Added Celeste")
    assert alices_while_held == [None]  # the held answer alone: /done waits its turn
    assert [text_of(call) for call in answers_in(telegram, alices)] == [
        "Added Hades to your backlog. I'll look up its details.",
        "Completed Hades · 9/10. Well played!",
    ]


async def test_a_group_that_becomes_a_supergroup_takes_its_group_and_games_along(
    telegram: OfflineTelegram, uow: FakeUnitOfWork
) -> None:
    await telegram.type(OLD_GROUP, ALICE, "/share on")
    await telegram.type(OLD_GROUP, ALICE, "/add Hades")
    moved_to, moved_from = make_chat_moved_updates(
        OLD_GROUP, SUPERGROUP, by=ALICE, bot=telegram.bot
    )
    new = ChatAddress("telegram", str(SUPERGROUP.id))

    said = await telegram.feed(moved_to)
    groups_after_first = set(uow.committed_groups)
    said += await telegram.feed(moved_from)  # Telegram's second notice: nothing more to move

    assert said == []  # a move is nothing to talk about
    assert groups_after_first == set(uow.committed_groups) == {new}
    assert uow.committed_groups[new].shares_of(_player_id(uow)) is True
    assert [game.added_in for game in uow.committed_games.values()] == [new]


def test_both_notices_of_a_move_queue_behind_each_other_and_the_old_groups_updates(
    telegram: OfflineTelegram,
) -> None:
    moved_to, moved_from = make_chat_moved_updates(
        OLD_GROUP, SUPERGROUP, by=ALICE, bot=telegram.bot
    )
    typed_before = telegram.typed(OLD_GROUP, ALICE, "/backlog")

    assert chat_key(moved_to) == chat_key(moved_from) == chat_key(typed_before)


def test_taps_on_a_poll_keep_the_voters_order(telegram: OfflineTelegram) -> None:
    first = make_poll_answer_update("poll-1", user=BOB, option_ids=[0], bot=telegram.bot)
    changed = make_poll_answer_update("poll-1", user=BOB, option_ids=[1], bot=telegram.bot)
    someone_else = make_poll_answer_update("poll-1", user=ALICE, option_ids=[1], bot=telegram.bot)

    assert chat_key(first) == chat_key(changed) != chat_key(someone_else)


def _player_id(uow: FakeUnitOfWork) -> int:
    [group] = uow.committed_groups.values()
    [player_id] = group.members
    return player_id
