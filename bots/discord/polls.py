"""Taps on tonight's native Discord poll, counted as votes.

Discord shows the poll's own counts, but the group's standing is the one /vote keeps, so a tap
counts as the voter typing `/vote N` in the poll's channel, as on Telegram. Discord names the
voter, the channel and the message, not who sent the poll: the bot notes each poll it sends
and counts taps on the channel's latest one only, as /vote does. Which answer carries a poll is
known only once its work is done, so a tap waits for every answer under way in its channel (see
poll_openings.py). A withdrawn tap leaves the vote as it was: /vote has no "none" either. Polls
in DMs are not counted; /tonight opens none there.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable

import discord

from bots.chat import ChatRouter
from bots.discord.replies import carries_poll
from bots.discord.responses import Answered
from bots.discord.speakers import voter_of
from bots.poll_openings import PollOpenings
from questrya.notifications.senders.poll_chats import PollChats

log = logging.getLogger(__name__)


class PollVotes:
    """The bot's polls, noted when sent; taps on them, counted."""

    def __init__(self, router: ChatRouter, chats: PollChats | None) -> None:
        self._router = router
        self._chats = chats
        self._openings = PollOpenings()

    async def answer(self, answering: Awaitable[Answered], channel_id: int | None) -> None:
        """Send an answer (`answering`, not yet started) and note its poll, if it carries one;
        taps in the channel meanwhile wait for the note."""
        async with self._openings.opening(str(channel_id)):
            answered = await answering
            await self._opened(answered, channel_id)

    async def _opened(self, answered: Answered, channel_id: int | None) -> None:
        if self._chats is None or answered.message_id is None or channel_id is None:
            return
        if carries_poll(answered.reply):
            await self._chats.remember(
                str(answered.message_id), str(channel_id), answered.message_id
            )

    async def count(self, vote: discord.RawPollVoteActionEvent, guild: discord.Guild) -> None:
        """Count a tap on one of the bot's polls in a server; the poll shows it already, so
        nothing is posted."""
        if self._chats is None:
            return
        await self._openings.settled(str(vote.channel_id))
        chat_id = await self._chats.chat_of_latest(str(vote.message_id))
        if chat_id != str(vote.channel_id):
            log.debug("a tap on %s is not on the channel's latest poll", vote.message_id)
            return  # somebody else's poll, or an older one of the bot's
        try:
            member = await guild.fetch_member(vote.user_id)  # the name they go by there
        except discord.HTTPException as error:
            log.info("a tap on poll %s was not counted: %s", vote.message_id, error)
            return
        speaker = voter_of(member, vote.channel_id)
        reply = await self._router.handle_text(speaker, f"/vote {vote.answer_id}")
        if reply.refused:
            log.info("a tap on poll %s was not counted: %s", vote.message_id, reply.text)
