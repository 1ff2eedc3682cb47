"""Reading the free text after a command into structured arguments."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace

from pydantic import ConfigDict, TypeAdapter, ValidationError

from questrya.common.errors import InvalidInput
from questrya.common.values import Platform

_RATING = re.compile(r"^[+-]?\d+(/10)?$")
_PAGE = re.compile(r"^\d{1,6}$")
MAX_PLATFORM_WORDS = 3


@dataclass(frozen=True)
class Arguments:
    """What a command was given, from text or from a platform's typed options."""

    # Typed options arrive from a platform (Discord); `check_types` holds them to these types.
    __pydantic_config__ = ConfigDict(strict=True, revalidate_instances="always")

    title: str = ""
    platform: str | None = None
    rating: int | str | None = None
    status: str | None = None
    page: int = 1
    source_id: str | None = None

    def with_title(self, title: str) -> Arguments:
        return replace(self, title=title)


def check_types(arguments: Arguments) -> Arguments:
    """The typed options, refused in one line when one is not of its declared type."""
    try:
        # mypy reads a frozen dataclass's class as unhashable; classes hash by identity.
        _validator(type(arguments)).validate_python(arguments)  # type: ignore[arg-type]
    except ValidationError as error:
        option = next((str(part) for part in error.errors()[0]["loc"]), "an")
        raise InvalidInput(f"The {option} option is not of the right kind.") from None
    return arguments


@functools.cache
def _validator(kind: type[Arguments]) -> TypeAdapter[Arguments]:
    return TypeAdapter(kind)


def title_only(text: str) -> Arguments:
    """`/play Hades`: everything is the title."""
    return Arguments(title=text)


def title_and_platform(text: str) -> Arguments:
    """`/add Hades switch`: a trailing platform name (1 to 3 words) is split off."""
    words = text.split()
    for count in range(min(MAX_PLATFORM_WORDS, len(words) - 1), 0, -1):
        platform = Platform.lookup(" ".join(words[-count:]))
        if platform is not None:
            return Arguments(title=" ".join(words[:-count]), platform=platform.value)
    return Arguments(title=text)


def title_and_rating(text: str) -> Arguments:
    """`/done Hades 9`: a trailing number (or "9/10") is the rating."""
    words = text.split()
    if len(words) >= 2 and _RATING.match(words[-1]):
        return Arguments(title=" ".join(words[:-1]), rating=words[-1])
    return Arguments(title=text)


def title_and_required_rating(text: str) -> Arguments:
    """`/rate Hades 8`: the last word is the rating, whatever it looks like."""
    title, _, rating = text.rpartition(" ")
    return Arguments(title=title, rating=rating) if title else Arguments(title=text)


def status_and_page(text: str) -> Arguments:
    """`/backlog completed 2`: a status name and/or a page number, in any order."""
    status: str | None = None
    page = 1
    for word in text.split():
        if _PAGE.match(word):
            page = max(int(word), 1)
        else:
            status = word if status is None else f"{status} {word}"
    return Arguments(status=status, page=page)


def source_and_title(text: str) -> Arguments:
    """`/identify hades Hades`: a games-database id, then the player's title."""
    source_id, _, title = text.partition(" ")
    return Arguments(title=title, source_id=source_id or None)


def no_arguments(text: str) -> Arguments:
    """Commands that take nothing ignore trailing text."""
    return Arguments()
