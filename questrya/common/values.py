"""Value objects: a rating, a title, a platform, a status, a chat address.

Each is immutable and valid by construction: building one from bad input raises a typed error
whose message tells the player how to write it.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

from questrya.common.errors import InvalidRating, InvalidTitle, UnknownPlatform, UnknownStatus
from questrya.common.text import clean_text, fold, shorten

# \d is any decimal digit, each of which int() reads ("٩" too); str.isdigit() also passes "²",
# which int() refuses.
_WHOLE_NUMBER = re.compile(r"[+-]?\d+")
# Any longer is out of range: never int() a 5,000-digit string (Python refuses past 4,300).
_MAX_RATING_DIGITS = 3


def _out_of_range(as_typed: object) -> InvalidRating:
    return InvalidRating(f"A rating is from 1 to 10, not {as_typed}.")


@dataclass(frozen=True, order=True)
class GameRating:
    """A player's score for a game, a whole number from 1 to 10."""

    value: int

    MIN = 1
    MAX = 10
    RECOMMENDATION_THRESHOLD = 7

    def __post_init__(self) -> None:
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            raise InvalidRating("A rating is a whole number from 1 to 10.")
        if not self.MIN <= self.value <= self.MAX:
            # Not str(value): Python refuses to write out an int of over 4,300 digits.
            raise _out_of_range(self.value if abs(self.value) < 10**12 else "a number that large")

    @classmethod
    def parse(cls, text: str) -> GameRating:
        """Read "9" or "9/10" as typed by a player."""
        cleaned = clean_text(text).removesuffix("/10").strip()
        if not _WHOLE_NUMBER.fullmatch(cleaned):
            raise InvalidRating(
                f'A rating is a whole number from 1 to 10, not "{shorten(cleaned, 20)}".'
            )
        if len(cleaned.lstrip("+-").lstrip("0")) > _MAX_RATING_DIGITS:
            raise _out_of_range(shorten(cleaned, 12))
        return cls(int(cleaned))

    @property
    def is_recommended(self) -> bool:
        return self.value >= self.RECOMMENDATION_THRESHOLD

    def __str__(self) -> str:
        return f"{self.value}/10"


@dataclass(frozen=True)
class Title:
    """A game title as the player wrote it, cleaned; `folded` is its form for matching."""

    text: str
    folded: str = field(init=False, compare=False)

    MAX_LENGTH = 200

    def __post_init__(self) -> None:
        cleaned = clean_text(self.text)
        if not cleaned:
            raise InvalidTitle("The title is empty.")
        if len(cleaned) > self.MAX_LENGTH:
            raise InvalidTitle(
                f"That title is {len(cleaned)} characters long; keep it to {self.MAX_LENGTH}."
            )
        object.__setattr__(self, "text", cleaned)
        # Folding can lengthen text ("ß" -> "ss"); the folded form is stored in a column of
        # MAX_LENGTH, so it is cut there.
        folded = fold(cleaned) or cleaned.casefold()
        object.__setattr__(self, "folded", folded[: self.MAX_LENGTH])

    @classmethod
    def from_stored(cls, text: str, folded: str) -> Title:
        """A title read back from storage, where it was kept cleaned and folded: a list of
        thousands of games is not cleaned and folded again on every read."""
        title = object.__new__(cls)
        object.__setattr__(title, "text", text)
        object.__setattr__(title, "folded", folded)
        return title

    def __str__(self) -> str:
        return self.text


class Platform(enum.StrEnum):
    """A gaming platform under its canonical name."""

    PC = "PC"
    MAC = "Mac"
    LINUX = "Linux"
    STEAM_DECK = "Steam Deck"
    PS1 = "PlayStation"
    PS2 = "PlayStation 2"
    PS3 = "PlayStation 3"
    PS4 = "PlayStation 4"
    PS5 = "PlayStation 5"
    PSP = "PlayStation Portable"
    PS_VITA = "PlayStation Vita"
    XBOX = "Xbox"
    XBOX_360 = "Xbox 360"
    XBOX_ONE = "Xbox One"
    XBOX_SERIES = "Xbox Series X|S"
    NES = "NES"
    SNES = "SNES"
    N64 = "Nintendo 64"
    GAMECUBE = "GameCube"
    WII = "Wii"
    WII_U = "Wii U"
    SWITCH = "Nintendo Switch"
    SWITCH_2 = "Nintendo Switch 2"
    GAME_BOY = "Game Boy"
    GBA = "Game Boy Advance"
    DS = "Nintendo DS"
    N3DS = "Nintendo 3DS"
    GENESIS = "Sega Genesis"
    DREAMCAST = "Dreamcast"
    IOS = "iOS"
    ANDROID = "Android"

    @classmethod
    def parse(cls, text: str) -> Platform:
        """Find a platform by canonical name or common alias ("ps5", "switch", "pc")."""
        platform = cls.lookup(text)
        if platform is None:
            raise UnknownPlatform(
                f'"{shorten(clean_text(text), 40)}" is not a platform I know; '
                "try pc, ps5, switch, xbox series or steam deck."
            )
        return platform

    @classmethod
    def lookup(cls, text: str) -> Platform | None:
        """The platform `text` names, or None."""
        return _PLATFORM_BY_KEY.get(fold(text).replace(" ", ""))


_PLATFORM_ALIASES: dict[Platform, tuple[str, ...]] = {
    Platform.PC: ("pc", "windows", "win", "steam"),
    Platform.MAC: ("mac", "macos", "osx"),
    Platform.LINUX: ("linux",),
    Platform.STEAM_DECK: ("steamdeck", "deck"),
    Platform.PS1: ("ps1", "psx", "playstation", "playstation1", "psone"),
    Platform.PS2: ("ps2", "playstation2"),
    Platform.PS3: ("ps3", "playstation3"),
    Platform.PS4: ("ps4", "playstation4"),
    Platform.PS5: ("ps5", "playstation5"),
    Platform.PSP: ("psp", "playstationportable"),
    Platform.PS_VITA: ("vita", "psvita", "playstationvita"),
    Platform.XBOX: ("xbox", "ogxbox"),
    Platform.XBOX_360: ("x360", "xbox360", "360"),
    Platform.XBOX_ONE: ("xone", "xb1", "xboxone"),
    Platform.XBOX_SERIES: (
        "xsx",
        "xss",
        "xboxseries",
        "xboxseriesx",
        "xboxseriess",
        "xboxseriesxs",
    ),
    Platform.NES: ("nes", "famicom"),
    Platform.SNES: ("snes", "superfamicom", "supernintendo"),
    Platform.N64: ("n64", "nintendo64"),
    Platform.GAMECUBE: ("gc", "gamecube", "ngc"),
    Platform.WII: ("wii",),
    Platform.WII_U: ("wiiu",),
    Platform.SWITCH: ("switch", "ns", "nsw", "nintendoswitch"),
    Platform.SWITCH_2: ("switch2", "ns2", "nintendoswitch2"),
    Platform.GAME_BOY: ("gb", "gameboy", "gbc", "gameboycolor"),
    Platform.GBA: ("gba", "gameboyadvance"),
    Platform.DS: ("ds", "nds", "nintendods"),
    Platform.N3DS: ("3ds", "n3ds", "nintendo3ds"),
    Platform.GENESIS: ("genesis", "megadrive", "segagenesis", "segamegadrive"),
    Platform.DREAMCAST: ("dreamcast", "dc", "segadreamcast"),
    Platform.IOS: ("ios", "iphone", "ipad"),
    Platform.ANDROID: ("android",),
}

_PLATFORM_BY_KEY: dict[str, Platform] = {
    alias: platform for platform, aliases in _PLATFORM_ALIASES.items() for alias in aliases
} | {fold(platform.value).replace(" ", ""): platform for platform in Platform}


class GameStatus(enum.StrEnum):
    """Where a game stands in a player's list."""

    WISHLIST = "wishlist"
    BACKLOG = "backlog"
    PLAYING = "playing"
    PAUSED = "paused"
    COMPLETED = "completed"
    ABANDONED = "abandoned"

    @classmethod
    def parse(cls, text: str) -> GameStatus:
        """Read a status name as typed ("done" and "dropped" are accepted too)."""
        key = fold(text)
        status = _STATUS_ALIASES.get(key) or next((s for s in cls if s.value == key), None)
        if status is None:
            names = ", ".join(s.value for s in cls)
            raise UnknownStatus(
                f'"{shorten(clean_text(text), 30)}" is not a status; use one of {names}.'
            )
        return status

    @property
    def is_open(self) -> bool:
        """Open games are the ones still to play: not finished, dropped or only wished for."""
        return self in OPEN_STATUSES

    @property
    def as_state(self) -> str:
        """The status as it follows "is": "Hades is in your backlog"."""
        return _STATUS_AS_STATE.get(self, self.value)


OPEN_STATUSES = frozenset({GameStatus.PLAYING, GameStatus.PAUSED, GameStatus.BACKLOG})

_STATUS_AS_STATE = {
    GameStatus.WISHLIST: "on your wishlist",
    GameStatus.BACKLOG: "in your backlog",
    GameStatus.PLAYING: "being played",
}
_STATUS_ALIASES = {
    "done": GameStatus.COMPLETED,
    "finished": GameStatus.COMPLETED,
    "dropped": GameStatus.ABANDONED,
    "wish": GameStatus.WISHLIST,
}


@dataclass(frozen=True)
class ChatAddress:
    """Where a message goes: a chat on a platform ("telegram", "discord", "console")."""

    platform: str
    chat_id: str
