"""Answering an interaction: at once when the answer is quick, deferred when it may not be.

Discord drops an interaction that gets no callback within 3 s. The work starts at once; if it
is not done after DEFER_AFTER_SECONDS, the interaction is deferred (the player sees "thinking")
and the answer follows as an edit of that response.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

import discord

from bots.chat import Reply
from bots.discord.replies import NO_MENTIONS, message_parts, poll_part
from questrya.notifications.senders.discord import ANYONE

DEFER_AFTER_SECONDS = 2.0
APOLOGY = "Sorry, something went wrong on my side; it has been logged."
# Commands whose answer is usually news for the channel. Only a guess, for a slow answer's
# "thinking" (shown before the reply exists): the reply itself says whether it is public, so a
# refusal or a "did you mean" of these is still private.
USUALLY_PUBLIC = frozenset({"done", "feed", "recommend", "tonight", "vote"})

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answered:
    """The reply given, and the message it was given in (None where Discord named none)."""

    reply: Reply
    message_id: int | None


async def answer_command(
    interaction: discord.Interaction, command: str, work: Awaitable[Reply]
) -> Answered:
    """Answer a slash command with the reply `work` produces."""
    task = asyncio.ensure_future(work)
    if not await _finishes_in_time(task):
        return await _answer_late(interaction, command, task)
    reply = task.result()
    parts = message_parts(reply, str(interaction.user.id))
    sent = await interaction.response.send_message(
        **parts, ephemeral=_is_private(interaction, reply)
    )
    return Answered(reply, sent.message_id)


async def _answer_late(
    interaction: discord.Interaction, command: str, task: asyncio.Future[Reply]
) -> Answered:
    """Defer, guessing who the reply is for (it is not here yet), then fill it in."""
    owner = str(interaction.user.id)
    deferred_private = interaction.guild_id is not None and command not in USUALLY_PUBLIC
    await interaction.response.defer(ephemeral=deferred_private, thinking=True)
    reply = await task
    if deferred_private == _is_private(interaction, reply):
        parts = message_parts(reply, owner, editing=True) | poll_part(reply)
        edited = await interaction.edit_original_response(**parts)
        return Answered(reply, edited.id)
    # A wrong guess: a private "thinking" cannot turn public (nor the reverse); it makes way.
    await interaction.delete_original_response()
    sent = await interaction.followup.send(
        **message_parts(reply, owner), ephemeral=not deferred_private, wait=True
    )
    return Answered(reply, sent.id)


def _is_private(interaction: discord.Interaction, reply: Reply) -> bool:
    """Personal answers are private in servers; public ones are for the whole channel."""
    return interaction.guild_id is not None and not reply.public


async def answer_press(
    interaction: discord.Interaction, owner: str, work: Awaitable[Reply]
) -> Answered:
    """Answer a button press: the reply replaces the pressed message, except a public reply
    to a private message or one with a poll (a new public one) and a press on a button for
    anyone in a server (privately to the presser, so the message stays as the others see it)."""
    presser, task = str(interaction.user.id), asyncio.ensure_future(work)
    deferred = not await _finishes_in_time(task)
    if deferred:
        await interaction.response.defer()  # keeps the pressed message as it is meanwhile
    reply = await task
    where = _where_to_answer(interaction, owner, reply)
    if where == "in place":
        await _replace_pressed(interaction, message_parts(reply, presser, editing=True), deferred)
        pressed = interaction.message
        return Answered(reply, pressed.id if pressed is not None else None)
    parts = message_parts(reply, presser)
    sent_id = await _send_new(interaction, parts, deferred, private=where == "privately")
    return Answered(reply, sent_id)


async def _replace_pressed(
    interaction: discord.Interaction, parts: dict[str, Any], deferred: bool
) -> None:
    if deferred:
        await interaction.edit_original_response(**parts)
    else:
        await interaction.response.edit_message(**parts)


async def _send_new(
    interaction: discord.Interaction, parts: dict[str, Any], deferred: bool, *, private: bool
) -> int | None:
    if deferred:
        return (await interaction.followup.send(**parts, ephemeral=private, wait=True)).id
    return (await interaction.response.send_message(**parts, ephemeral=private)).message_id


def _where_to_answer(interaction: discord.Interaction, owner: str, reply: Reply) -> str:
    """Edit the pressed message "in place", or answer in a new one "publicly"/"privately"."""
    pressed_private = interaction.message is not None and interaction.message.flags.ephemeral
    if reply.public and (pressed_private or reply.poll is not None):
        return "publicly"  # a poll, too, needs a new message: none can be edited into one
    if owner == ANYONE and interaction.guild_id is not None and not reply.public:
        return "privately"
    return "in place"


async def report_failure(interaction: discord.Interaction, error: BaseException) -> None:
    """The one error handler: log the bug (tokens are scrubbed by the log filter) and tell the
    player in one line, privately, whether or not the interaction was answered already."""
    log.error("interaction %s failed", _describe(interaction), exc_info=error)
    try:
        if interaction.response.is_done():
            await interaction.followup.send(APOLOGY, ephemeral=True, allowed_mentions=NO_MENTIONS)
        else:
            await interaction.response.send_message(
                APOLOGY, ephemeral=True, allowed_mentions=NO_MENTIONS
            )
    except discord.HTTPException as unreachable:  # expired, or Discord is down: logged above
        log.warning("could not tell the player: %s", unreachable)


async def _finishes_in_time(task: asyncio.Future[Reply]) -> bool:
    done, _ = await asyncio.wait({task}, timeout=DEFER_AFTER_SECONDS)
    return bool(done)


def _describe(interaction: discord.Interaction) -> str:
    data: dict[str, Any] = dict(interaction.data or {})
    what = data.get("name") or data.get("custom_id") or interaction.type.name
    return f"{what!s} by {interaction.user.id} in {interaction.channel_id}"
