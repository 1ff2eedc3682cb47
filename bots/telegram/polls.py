"""Tonight's vote as a native Telegram poll, and taps on it counted as votes.

The poll is not anonymous. Friends deciding what to play together want to see who is in for
which game: a co-op evening needs its players, not a head count. Only a non-anonymous poll
tells the bot who chose what (a `poll_answer` update), so a tap counts in the group's vote like
a typed `/vote N`, and `/vote` answers with the same standing. One choice each, as with /vote;
Telegram lets a voter change it. A retracted tap leaves the vote as it was: /vote has no
"none" either. Telegram does not say in which chat a tap was, so a tap waits for every poll
being sent to be noted (see poll_openings.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import Message, PollAnswer
from telegram.constants import PollLimit

from bots.chat import ChatRouter
from bots.messages import Poll
from bots.poll_openings import PollOpenings
from bots.telegram.speakers import voter_of
from questrya.notifications.senders.poll_chats import PollChats

MIN_VOTE_OPTIONS = 2  # Telegram takes a poll of one option; a vote on one game is no vote

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NativePoll:
    """A poll as sendPoll takes it: plain text (Telegram parses no HTML in polls)."""

    question: str
    options: tuple[str, ...]


def native_poll(poll: Poll) -> NativePoll | None:
    """The poll within Telegram's limits, or None when it has fewer than two options. Options
    beyond the limit are left out rather than merged, so the numbers of /vote still match."""
    options = tuple(fit(option, PollLimit.MAX_OPTION_LENGTH) for option in poll.options)
    if len(options) < MIN_VOTE_OPTIONS:
        return None
    question = fit(poll.question, PollLimit.MAX_QUESTION_LENGTH)
    return NativePoll(question, options[: PollLimit.MAX_OPTION_NUMBER])


def fit(text: str, limit: int) -> str:
    """`text` within `limit` characters as Telegram counts them (UTF-16 code units), the cut
    marked with an ellipsis."""
    if utf16_length(text) <= limit:
        return text
    while utf16_length(text) > limit - 1:
        text = text[:-1]
    return text + "…"


async def send_poll(message: Message, poll: Poll) -> Message | None:
    """The native poll, in answer to the command that asked for it."""
    native = native_poll(poll)
    if native is None:
        return None
    return await message.reply_poll(
        native.question, native.options, is_anonymous=False, allows_multiple_answers=False
    )


class PollVotes:
    """Taps on the bot's polls, counted as the voter typing `/vote N` in the poll's chat."""

    def __init__(self, router: ChatRouter, chats: PollChats | None) -> None:
        self._router = router
        self._chats = chats
        self._openings = PollOpenings()

    async def open(self, message: Message, poll: Poll) -> None:
        """Send the poll in answer to `message` and note where it lives; taps meanwhile wait
        for the note."""
        async with self._openings.opening(str(message.chat_id)):
            sent = await send_poll(message, poll)
            if self._chats is not None and sent is not None and sent.poll is not None:
                await self._chats.remember(sent.poll.id, str(sent.chat.id), sent.message_id)

    async def moved(self, old_chat_id: str, new_chat_id: str) -> None:
        """The group became a supergroup: taps on its latest poll count at the new id."""
        if self._chats is not None:
            await self._chats.move_chat(old_chat_id, new_chat_id)

    async def count(self, answer: PollAnswer) -> None:
        """Count a tap; the poll itself shows it to the group, so nothing is posted."""
        if self._chats is None or answer.user is None or not answer.option_ids:
            return  # nowhere noted, an anonymous voter, or a retracted vote
        await self._openings.settled()
        chat_id = await self._chats.chat_of_latest(answer.poll_id)
        if chat_id is None:
            return  # an older poll, or one this bot did not note
        speaker = voter_of(answer.user, chat_id, answer.get_bot())
        reply = await self._router.handle_text(speaker, f"/vote {answer.option_ids[0] + 1}")
        if reply.refused:
            log.info("a tap on poll %s was not counted: %s", answer.poll_id, reply.text)


def utf16_length(text: str) -> int:
    """The length Telegram counts its limits in."""
    return len(text.encode("utf-16-le")) // 2
