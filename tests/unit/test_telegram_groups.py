"""Groups on Telegram, offline: who is a group admin (getChatMember, asked only by /feed), the
/tonight vote as a native poll, refusals of shared buttons as alerts, and /link kept out of
groups. Real Update objects, the bot's real Application, the fake Bot API in-process, the
services on the in-memory unit of work.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Chat, User

from bots.telegram.handlers import APOLOGY
from questrya.linking.service import ASK_IN_PRIVATE, UNLINK_IN_PRIVATE
from tests.fakes import FakeUnitOfWork
from tests.telegram_factories import (
    OfflineTelegram,
    buttons,
    make_group_chat,
    make_poll_answer_update,
    make_private_chat,
    make_user,
    message_id,
    offline_bot,
    text_of,
)

ALICE = make_user(601, "Alice", "alice")  # the group's administrator
BOB = make_user(602, "Bob", "bob")  # a member
OWEN = make_user(603, "Owen", "owen")  # the group's creator
ANONYMOUS_ADMIN = make_user(1087968824, "Group", "GroupAnonymousBot")
FRIENDS = make_group_chat(-100_888, "Friends")
NOT_ADMIN = "Only the group's admins can turn the feed on or off."
FEED_ON = "The feed is on: members who /share on will have their completions"
SHARING = "You share here: your completions and recommendations will be posted."


@pytest.fixture
async def telegram() -> AsyncIterator[OfflineTelegram]:
    uow = FakeUnitOfWork()
    async for bot in offline_bot(lambda: uow):
        bot.api.chats[FRIENDS.id] = FRIENDS.to_dict()
        bot.api.set_admins(FRIENDS.to_dict(), ALICE.to_dict(), owner=OWEN.to_dict())
        yield bot


def member_asked(telegram: OfflineTelegram) -> list[int]:
    """The users getChatMember was asked about."""
    return [call.params["user_id"] for call in telegram.api.calls_to("getChatMember")]


async def say(telegram: OfflineTelegram, chat: Chat, user: User, text: str) -> str:
    [answer] = await telegram.type(chat, user, text)
    return text_of(answer)


# -- admins ------------------------------------------------------------------------------------


@pytest.mark.parametrize("admin", [ALICE, OWEN], ids=["administrator", "creator"])
async def test_a_chat_administrator_or_the_creator_switches_the_feed(
    telegram: OfflineTelegram, admin: User
) -> None:
    answer = await say(telegram, FRIENDS, admin, "/feed on")

    assert answer.startswith(FEED_ON)
    assert member_asked(telegram) == [admin.id]


async def test_a_members_feed_off_is_refused_and_the_feed_stays_on(
    telegram: OfflineTelegram,
) -> None:
    await say(telegram, FRIENDS, ALICE, "/feed on")

    refused = await say(telegram, FRIENDS, BOB, "/feed off")
    shared = await say(telegram, FRIENDS, BOB, "/share on")

    assert refused == NOT_ADMIN
    assert shared == SHARING  # said only while the feed is on
    assert member_asked(telegram) == [ALICE.id, BOB.id]


async def test_an_anonymous_admin_speaks_as_the_group_and_may_switch_the_feed(
    telegram: OfflineTelegram,
) -> None:
    [answer] = await telegram.type(FRIENDS, ANONYMOUS_ADMIN, "/feed on", sender_chat=FRIENDS)

    assert text_of(answer).startswith(FEED_ON)
    assert member_asked(telegram) == []  # only admins can post as the group


async def test_a_channel_posting_in_the_group_is_no_admin_of_it(telegram: OfflineTelegram) -> None:
    channel = Chat(-100_999, Chat.CHANNEL, title="News")
    channel_bot = make_user(136817688, "Channel", "Channel_Bot")

    [answer] = await telegram.type(FRIENDS, channel_bot, "/feed on", sender_chat=channel)

    assert text_of(answer) == NOT_ADMIN


async def test_only_feed_asks_telegram_who_the_admins_are(telegram: OfflineTelegram) -> None:
    for typed in ("/share on", "/add Hades", "/backlog", "/tonight", "/recommend Hades"):
        await telegram.type(FRIENDS, BOB, typed)

    assert member_asked(telegram) == []


async def test_when_telegram_cannot_say_who_is_admin_the_answer_is_one_line(
    telegram: OfflineTelegram,
) -> None:
    telegram.api.fail_next("getChatMember", status=400, description="Bad Request: user not found")

    assert await say(telegram, FRIENDS, ALICE, "/feed on") == APOLOGY


# -- tonight's native poll -------------------------------------------------------------------


async def both_have(telegram: OfflineTelegram, *titles: str) -> None:
    """Alice and Bob have the games; Bob shares in Friends (Alice asks, so she counts)."""
    for user in (ALICE, BOB):
        for title in titles:
            await telegram.type(make_private_chat(user), user, f"/add {title}")
    await telegram.type(FRIENDS, BOB, "/share on")


async def test_tonight_sends_the_list_then_a_native_poll_on_the_games_both_have(
    telegram: OfflineTelegram,
) -> None:
    await both_have(telegram, "Hades", "Celeste")
    typed_id = telegram.api.next_message_id(FRIENDS.id)

    listing, poll = await telegram.type(FRIENDS, ALICE, "/tonight")

    assert text_of(listing).startswith("What shall we play tonight?\n1. Celeste — Alice, Bob")
    assert poll.method == "sendPoll"
    assert poll.params["question"] == "What shall we play tonight?"
    assert [option["text"] for option in poll.params["options"]] == ["Celeste", "Hades"]
    assert poll.params["is_anonymous"] is False  # the group sees who is in for which game
    assert poll.params["allows_multiple_answers"] is False  # one vote each, as with /vote
    assert poll.params["reply_parameters"]["message_id"] == typed_id
    assert [o["text"] for o in poll.result["poll"]["options"]] == ["Celeste", "Hades"]


async def test_a_poll_shows_titles_as_typed_since_telegram_parses_no_html_in_polls(
    telegram: OfflineTelegram,
) -> None:
    await both_have(telegram, "<b>Tom</b> & Jerry", "Hades")

    listing, poll = await telegram.type(FRIENDS, ALICE, "/tonight")

    assert "&lt;b&gt;Tom&lt;/b&gt; &amp; Jerry" in listing.params["text"]
    assert "<b>Tom</b> & Jerry" in text_of(listing)
    assert "parse_mode" not in poll.params
    assert [option["text"] for option in poll.params["options"]] == ["<b>Tom</b> & Jerry", "Hades"]


async def test_one_game_in_common_gets_no_poll(telegram: OfflineTelegram) -> None:
    await both_have(telegram, "Hades")

    [answer] = await telegram.type(FRIENDS, ALICE, "/tonight")

    assert text_of(answer).startswith("Only one game is on two or more lists here: Hades")
    assert telegram.api.calls_to("sendPoll") == []


async def test_a_typed_vote_still_counts(telegram: OfflineTelegram) -> None:
    await both_have(telegram, "Hades", "Celeste")
    await telegram.type(FRIENDS, ALICE, "/tonight")

    assert await say(telegram, FRIENDS, BOB, "/vote 2") == "Bob voted. So far: Celeste 0 · Hades 1"


async def test_a_tap_on_a_poll_nobody_noted_changes_nothing(
    telegram: OfflineTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    """Without Redis the bot cannot tell which chat a poll is in: the tap is not counted, and
    nothing goes wrong."""
    await both_have(telegram, "Hades", "Celeste")
    _, poll = await telegram.type(FRIENDS, ALICE, "/tonight")
    tap = make_poll_answer_update(
        poll.result["poll"]["id"], user=BOB, option_ids=[1], bot=telegram.bot
    )

    assert await telegram.feed(tap) == []
    assert (
        await say(telegram, FRIENDS, ALICE, "/vote 1") == "Alice voted. So far: Celeste 1 · Hades 0"
    )
    assert not [record for record in caplog.records if record.levelname == "ERROR"]


# -- shared buttons ------------------------------------------------------------------------------


async def test_a_refused_shared_button_answers_the_presser_alone_with_an_alert(
    telegram: OfflineTelegram,
) -> None:
    push = await telegram.post(FRIENDS, "Celeste is out today!", "*|/play Factorio")
    shown_before = telegram.api.messages(FRIENDS.id)

    [answer] = await telegram.press(FRIENDS, BOB, push, "*|/play Factorio")

    assert answer.method == "answerCallbackQuery"
    assert answer.params["text"] == (
        'You have no game called "Factorio". See your games with /backlog all.'
    )
    assert answer.params["show_alert"] is True
    assert telegram.api.messages(FRIENDS.id) == shown_before  # nothing posted, nothing edited


async def test_a_refused_shared_button_with_choices_is_answered_in_the_chat(
    telegram: OfflineTelegram,
) -> None:
    """A "did you mean" is a refusal too, but its choices need buttons: it is posted."""
    for title in (
        "The Legend of Zelda: Breath of the Wild",
        "The Legend of Zelda: Link's Awakening",
    ):
        await telegram.type(make_private_chat(BOB), BOB, f"/add {title}")
    push = await telegram.post(FRIENDS, "Zelda night?", "*|/play zelda")

    answer, question = await telegram.press(FRIENDS, BOB, push, "*|/play zelda")

    assert (answer.method, answer.params.get("text")) == ("answerCallbackQuery", None)
    assert text_of(question).startswith('"zelda" matches more than one of your games.')
    assert all(data.startswith(f"{BOB.id}|/play #") for data in buttons(question).values())
    assert question.params["reply_parameters"]["message_id"] == message_id(push)


# -- linking stays private -----------------------------------------------------------------------


async def test_link_gives_a_code_in_private_and_is_refused_in_a_group(
    telegram: OfflineTelegram,
) -> None:
    in_private = await say(telegram, make_private_chat(ALICE), ALICE, "/link")

    assert in_private.startswith("Your link code is ")
    assert await say(telegram, FRIENDS, ALICE, "/link") == ASK_IN_PRIVATE
    assert await say(telegram, FRIENDS, ALICE, "/unlink") == UNLINK_IN_PRIVATE
