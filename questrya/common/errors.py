"""Typed errors raised by the domain and services.

Every `QuestryaError` describes a problem the player can fix; its `message` is one line that is
safe to show in chat (it never holds a traceback, a token or a query). Adapters render them in one
place; anything else that escapes is a bug.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
