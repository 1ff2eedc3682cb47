"""The terminal adapter: the same commands as the chat bots, one per line.

Interactive with a prompt on a terminal; a plain line-by-line reader otherwise, so sessions can be
scripted: `printf '/add Hades\\n/backlog\\n' | questrya console --user alice`.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator
from typing import TextIO

from bots.chat import ChatRouter, Choice, Reply, Speaker
from bots.messages import Poll

PLATFORM = "console"
PROMPT = "questrya> "
MAX_CHOICE_DIGITS = 3

log = logging.getLogger(__name__)


def console_speaker(user: str, chat: str | None) -> Speaker:
    """A console user; several users naming the same `--chat` share a group chat."""
    return Speaker(
        platform=PLATFORM,
        user_id=user,
        display_name=user,
        chat_id=f"group:{chat}" if chat else f"user:{user}",
        is_group=chat is not None,
    )


class ConsoleSession:
    """Reads commands, prints replies; a number answers the last reply's choices."""

    def __init__(self, router: ChatRouter, speaker: Speaker, output: TextIO) -> None:
        self._router = router
        self._speaker = speaker
        self._output = output
        self._last_reply = Reply("")
        self._notes: set[str] = set()

    async def run(self, lines: AsyncIterator[str]) -> None:
        async for line in lines:
            text = line.strip()
            if text and not text.startswith("#"):
                await self.handle(text)

    async def handle(self, text: str) -> None:
        command = self._chosen_command(text) or text
        try:
            reply = await self._router.handle_text(self._speaker, command)
        except Exception:
            # The one error handler of this adapter: the bug goes to the log with its
            # traceback, the player gets one line and the session goes on.
            log.exception("command failed: %s", command[:100])
            reply = Reply("Sorry, something went wrong on my side; it has been logged.")
        self._show(reply)

    def _chosen_command(self, text: str) -> str | None:
        choices = self._last_reply.choices
        # isdecimal, not isdigit: "²" passes isdigit() but is no number int() reads; and a
        # choice is a short number, where int() refuses one of over 4,300 digits.
        if text.isdecimal() and len(text) <= MAX_CHOICE_DIGITS and 1 <= int(text) <= len(choices):
            return choices[int(text) - 1].command
        return None

    def note(self, text: str) -> None:
        """A remark about the session itself, on stderr so scripted output stays clean; each
        remark once."""
        if text not in self._notes:
            self._notes.add(text)
            print(text, file=sys.stderr, flush=True)

    def show_pushed(self, text: str, options: list[tuple[str, str]]) -> None:
        """Print a message a worker pushed to this chat; a number then answers its choices."""
        self._show(Reply(text, choices=tuple(Choice(label, command) for label, command in options)))

    def _show(self, reply: Reply) -> None:
        if reply.poll is not None:
            self._show_vote(reply, reply.poll)
            return
        self._last_reply = reply
        lines = [reply.text]
        lines += [f"  {number}. {choice.label}" for number, choice in enumerate(reply.choices, 1)]
        if reply.image_url:
            lines.append(f"  cover: {reply.image_url}")
        print("\n".join(lines), file=self._output, flush=True)

    def _show_vote(self, reply: Reply, poll: Poll) -> None:
        """The console's poll: the numbered list is in the text; a number answers with /vote."""
        votes = tuple(Choice(option, f"/vote {n}") for n, option in enumerate(poll.options, 1))
        self._last_reply = Reply(reply.text, choices=votes)
        print(f"{reply.text}\n  (vote with a number)", file=self._output, flush=True)


async def read_lines(stream: TextIO) -> AsyncIterator[str]:
    """Lines of a pipe or file, read without blocking the event loop."""
    while line := await asyncio.to_thread(stream.readline):
        yield line


async def prompt_lines() -> AsyncIterator[str]:
    """Lines typed at a terminal prompt, until end of input (Ctrl-D) or Ctrl-C."""
    while True:
        try:
            yield await asyncio.to_thread(input, PROMPT)
        except (EOFError, KeyboardInterrupt):
            print(file=sys.stdout)
            return


def input_lines() -> AsyncIterator[str]:
    return prompt_lines() if sys.stdin.isatty() else read_lines(sys.stdin)
