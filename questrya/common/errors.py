"""Typed errors raised by the domain and services.

Every `QuestryaError` describes a problem the player can fix; its `message` is one line that is
safe to show in chat (it never holds a traceback, a token or a query). Adapters render them in one
place; anything else that escapes is a bug.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from questrya.common.text import shorten

QUOTED_TITLE_LIMIT = 60


@dataclass(frozen=True)
class GameRef:
    """One of the player's games, offered in a "did you mean" choice."""

    id: int
    title: str

    @property
    def reference(self) -> str:
        """How a command names this game without repeating its title: "#42"."""
        return f"#{self.id}"


class QuestryaError(Exception):
    """A refusal the player caused; `message` says what was wrong and how to write it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(QuestryaError):
    """The command's arguments could not be understood."""


class InvalidTitle(InvalidInput):
    """A title is empty or too long after cleaning."""


class InvalidRating(InvalidInput):
    """A rating is not a whole number from 1 to 10."""


class UnknownPlatform(InvalidInput):
    """A platform name matches none we know."""


class UnknownStatus(InvalidInput):
    """A status name is not one of the six statuses."""


class InvalidGameState(QuestryaError):
    """A transition the game's current status does not allow."""


class AlreadyInBacklog(QuestryaError):
    """The player already has a game with this title."""

    def __init__(self, title: str) -> None:
        super().__init__(f"{shorten(title, QUOTED_TITLE_LIMIT)} is already in your list.")
        self.title = title


class GameNotFound(QuestryaError):
    """No game of the player's matches the title; `suggestions` are the closest ones."""

    def __init__(self, query: str, suggestions: Sequence[GameRef] = ()) -> None:
        super().__init__(f'You have no game called "{shorten(query, QUOTED_TITLE_LIMIT)}".')
        self.query = query
        self.suggestions = tuple(suggestions)


class AmbiguousTitle(QuestryaError):
    """Several of the player's games match the title about equally well."""

    def __init__(self, query: str, candidates: Sequence[GameRef]) -> None:
        super().__init__(
            f'"{shorten(query, QUOTED_TITLE_LIMIT)}" matches more than one of your games.'
        )
        self.query = query
        self.candidates = tuple(candidates)


class NotGroupAdmin(QuestryaError):
    """A group setting was changed by someone who is not one of its admins."""


class GroupOnly(QuestryaError):
    """A group command was used outside a group chat."""


class InvalidHours(InvalidInput):
    """The time a player has to play is not a whole number of hours from 1 to 500."""


class InvalidLinkCode(QuestryaError):
    """A /link code that is wrong, expired or already used; `reason` says which."""

    MESSAGES: ClassVar[dict[str, str]] = {
        "wrong": "That link code is wrong; check it, or type /link on your other account for a "
        "new one.",
        "expired": "That link code has expired; type /link on your other account for a new one.",
        "used": "That link code was already used; type /link on your other account for a new one.",
    }

    def __init__(self, reason: str) -> None:
        super().__init__(self.MESSAGES[reason])
        self.reason = reason


class InvalidLinkCodeFormat(InvalidInput):
    """What follows /link is not shaped like a code (8 letters and digits)."""


class TooManyLinkAttempts(QuestryaError):
    """Too many refused /link codes from one account lately; even a right one waits."""

    def __init__(self, minutes: int) -> None:
        unit = "minute" if minutes == 1 else "minutes"
        super().__init__(f"Too many wrong codes; try again in {minutes} {unit}.")
        self.minutes = minutes


class AlreadyLinked(QuestryaError):
    """A /link code typed by an account that already shares the asker's backlog."""

    def __init__(self, *, own_code: bool) -> None:
        super().__init__(
            "That code is this account's own; type it on your other account."
            if own_code
            else "This account already shares that backlog."
        )
        self.own_code = own_code


class PlatformAlreadyLinked(QuestryaError):
    """Linking would give one player two accounts on the same platform."""

    def __init__(self, platform: str) -> None:
        super().__init__(
            f"That backlog already has a {platform} account; link one account per platform."
        )
        self.platform = platform


class NothingToUnlink(QuestryaError):
    """/unlink from an account that is its player's only one."""

    def __init__(self) -> None:
        super().__init__("This account isn't linked to another one; there is nothing to unlink.")


class PrivateChatOnly(QuestryaError):
    """A command whose reply must not be seen by others was used in a group chat."""


class InvalidVote(InvalidInput):
    """A vote for an option the poll does not have."""


class NoPoll(QuestryaError):
    """/vote in a chat with no poll to vote in."""
