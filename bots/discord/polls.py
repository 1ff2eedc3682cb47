"""Taps on tonight's native Discord poll, counted as votes.

Discord shows the poll's own counts, but the group's standing is the one /vote keeps, so a tap
counts as the voter typing `/vote N` in the poll's channel, as on Telegram. Discord names the
voter, the channel and the message, not who sent the poll: the bot notes each poll it sends
and counts taps on the channel's latest one only, as /vote does. A withdrawn tap leaves the
vote as it was: /vote has no "none" either. Polls in DMs are not counted; /tonight opens none
there.
"""

from __future__ import annotations

import logging

import discord

from bots.chat import ChatRouter
from bots.discord.replies import carries_poll
from bots.discord.responses import Answered
from bots.discord.speakers import voter_of
from questrya.notifications.senders.poll_chats import PollChats

log = logging.getLogger(__name__)


class PollVotes:
    """The bot's polls, noted when sent; taps on them, counted."""

    def __init__(self, router: ChatRouter, chats: PollChats | None) -> None:
        self._router = router
        self._chats = chats

    async def opened(self, answered: Answered, channel_id: int | None) -> None:
        """Note the message an answer was sent in, if it carries a poll."""
        if self._chats is None or answered.message_id is None or channel_id is None:
            return
        if carries_poll(answered.reply):
            await self._chats.remember(str(answered.message_id), str(channel_id))

    async def count(self, vote: discord.RawPollVoteActionEvent, guild: discord.Guild) -> None:
        """Count a tap on one of the bot's polls in a server; the poll shows it already, so
        nothing is posted."""
        if self._chats is None:
            return
        chat_id = await self._chats.chat_of_latest(str(vote.message_id))
        if chat_id != str(vote.channel_id):
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
