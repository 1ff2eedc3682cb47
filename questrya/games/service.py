"""Use cases of a player's game list: the work behind /add /backlog /play /pause /done /drop
/rate /remove /stats."""

from __future__ import annotations

import re
from collections.abc import Collection

from questrya.common.clock import Clock, utc_now
from questrya.common.errors import (
    AlreadyInBacklog,
    AmbiguousTitle,
    GameNotFound,
    GameRef,
    InvalidRating,
    InvalidTitle,
    UnknownStatus,
)
from questrya.common.jobs import METADATA_QUEUE, JobRequest, job_id
from questrya.common.matching import match_title
from questrya.common.text import fold
from questrya.common.values import (
    OPEN_STATUSES,
    ChatAddress,
    GameRating,
    GameStatus,
    Platform,
    Title,
)
from questrya.games.domain import Game, GameStats
from questrya.games.schemas import AddedGameRead, BacklogPageRead, GameRead, StatsRead
from questrya.unit_of_work import UnitOfWork

PAGE_SIZE = 10
GAME_REFERENCE = re.compile(r"#(\d{1,18})")
OPEN_VIEW = "open"
ALL_VIEW = "all"
FETCH_METADATA_JOB = "questrya.workers.tasks.metadata.fetch_game_metadata"
ANNOUNCE_COMPLETION_JOB = "questrya.workers.tasks.groups.announce_completion"

RatingInput = int | str | None


async def add_to_backlog(
    *,
    uow: UnitOfWork,
    player_id: int,
    title: str,
    platform: str | None = None,
    added_in: ChatAddress | None = None,
    wishlist: bool = False,
    clock: Clock = utc_now,
) -> AddedGameRead:
    """Add a game to the player's backlog (or wishlist) and ask a worker to look it up; a
    wishlisted game added again moves to the backlog."""
    game = Game(
        player_id=player_id,
        title=Title(title),
        platform=Platform.parse(platform) if platform else None,
        added_at=clock(),
        added_in=added_in,
        status=GameStatus.WISHLIST if wishlist else GameStatus.BACKLOG,
    )
    async with uow:
        existing = await uow.games.get_by_title(player_id, game.title.folded)
        if existing is not None:
            return await _move_from_wishlist(uow, existing, wanted=game.status)
        game = await uow.games.add(game)
        uow.enqueue_after_commit(metadata_lookup_job(_stored_id(game)))
        await uow.commit()
    return AddedGameRead(**_read(game).model_dump())


async def _move_from_wishlist(uow: UnitOfWork, game: Game, *, wanted: GameStatus) -> AddedGameRead:
    """`/add` of a wishlisted game: the player has it now. Anything else is a duplicate."""
    if game.status is not GameStatus.WISHLIST or wanted is GameStatus.WISHLIST:
        raise AlreadyInBacklog(game.title.text)
    game.move_to_backlog()
    await uow.games.save(game)
    await uow.commit()
    return AddedGameRead(**_read(game).model_dump(), from_wishlist=True)


def metadata_lookup_job(game_id: int) -> JobRequest:
    """The job that fetches a game's facts; its id makes asking twice queue it once."""
    return JobRequest(
        function=FETCH_METADATA_JOB,
        job_id=f"fetch-metadata-{game_id}",
        queue=METADATA_QUEUE,
        args=(game_id,),
    )


async def list_backlog(
    *, uow: UnitOfWork, player_id: int, status: str | None = None, page: int = 1
) -> BacklogPageRead:
    """One page of the player's list: open games by default, or one status, or "all"."""
    view, statuses = _view_statuses(status)
    async with uow:
        game_page = await uow.games.list_backlog(player_id, statuses, max(page, 1), PAGE_SIZE)
    return BacklogPageRead(
        status=view,
        games=[_read(game) for game in game_page.games],
        page=game_page.number,
        has_next=game_page.has_next,
    )


async def list_with_statuses(
    *, uow: UnitOfWork, player_id: int, statuses: Collection[GameStatus]
) -> list[GameRead]:
    """Every game of the player's in `statuses`, unpaged, in the order they were added."""
    async with uow:
        games = await uow.games.list_with_statuses(player_id, statuses)
    return [_read(game) for game in games]


async def move_chat(*, uow: UnitOfWork, old: ChatAddress, new: ChatAddress) -> None:
    """Games added in the chat `old` now belong to the chat `new`, for the messages they push."""
    async with uow:
        await uow.games.move_added_in(old, new)
        await uow.commit()


async def list_for_players(
    *, uow: UnitOfWork, player_ids: Collection[int], statuses: Collection[GameStatus]
) -> list[GameRead]:
    """Every game in `statuses` of any of these players, by player, in the order added."""
    async with uow:
        games = await uow.games.list_for_players(player_ids, statuses)
    return [_read(game) for game in games]


async def list_wishlisted_with_facts(
    *, uow: UnitOfWork, facts_ids: Collection[int]
) -> list[GameRead]:
    """Every player's wishlisted games linked to one of these facts."""
    async with uow:
        games = await uow.games.list_linked_to_facts(facts_ids, GameStatus.WISHLIST)
    return [_read(game) for game in games]


async def get_last_played(*, uow: UnitOfWork, player_id: int) -> GameRead | None:
    """The player's game most recently started or completed, or None."""
    async with uow:
        game = await uow.games.get_last_played(player_id)
    return _read(game) if game else None


async def get(*, uow: UnitOfWork, game_id: int) -> GameRead | None:
    """The game with this id, whoever owns it (for workers, which act on ids)."""
    async with uow:
        game = await uow.games.get(game_id)
    return _read(game) if game else None


async def find(*, uow: UnitOfWork, player_id: int, title: str) -> GameRead:
    """The player's game that `title` means (exact, then one close match), or a refusal."""
    async with uow:
        return _read(await _find(uow, player_id, title))


async def identify_within(
    uow: UnitOfWork, *, game_id: int, facts_id: int, canonical_title: str
) -> GameRead | None:
    """Link a game to its facts, taking the canonical spelling unless the player has it
    already; inside a unit of work that the caller has open and commits."""
    game = await uow.games.get(game_id)
    if game is None:
        return None
    canonical = Title(canonical_title)
    game.identify(
        facts_id=facts_id,
        canonical_title=canonical if await _title_free_for(uow, game, canonical) else None,
    )
    await uow.games.save(game)
    return _read(game)


async def record_lookup_miss(*, uow: UnitOfWork, game_id: int, ambiguous: bool) -> None:
    """Record that a lookup found several candidates (ambiguous) or none."""
    async with uow:
        game = await uow.games.get(game_id)
        if game is not None:
            game.leave_unidentified(ambiguous=ambiguous)
            await _save(uow, game)


async def suggest_titles(
    *, uow: UnitOfWork, player_id: int, typed: str, limit: int = 25
) -> list[str]:
    """The player's titles that contain what was typed so far (for autocomplete), A to Z."""
    wanted = fold(typed)
    async with uow:
        titles = await uow.games.list_titles(player_id)
    return sorted(t for t in titles.values() if wanted in fold(t))[:limit]


async def start_playing(
    *, uow: UnitOfWork, player_id: int, title: str, clock: Clock = utc_now
) -> GameRead:
    """Start, resume or replay a game."""
    async with uow:
        game = await _find(uow, player_id, title)
        game.start_playing(on=clock())
        return await _save(uow, game)


async def pause(*, uow: UnitOfWork, player_id: int, title: str) -> GameRead:
    """Put the game being played on hold."""
    async with uow:
        game = await _find(uow, player_id, title)
        game.pause()
        return await _save(uow, game)


async def mark_completed(
    *,
    uow: UnitOfWork,
    player_id: int,
    title: str,
    rating: RatingInput = None,
    clock: Clock = utc_now,
) -> GameRead:
    """Mark a game completed, optionally rating it. A typed number that ends one of the
    player's titles ("/done Portal 2") is part of the title, not a rating."""
    async with uow:
        game, game_rating = await _completed_game_and_rating(uow, player_id, title, rating)
        game.mark_completed(on=clock(), rating=game_rating)
        uow.enqueue_after_commit(completion_announcement_job(game))
        return await _save(uow, game)


def completion_announcement_job(game: Game) -> JobRequest:
    """The job that posts a completion to the feeds its player shares to; one per completion."""
    completed_at = (game.completed_at or game.added_at).isoformat()
    return JobRequest(
        function=ANNOUNCE_COMPLETION_JOB,
        job_id=job_id("announce-completion", _stored_id(game), completed_at),
        # Behind the game's own lookup on the same queue, so a game added and finished at once
        # is usually announced with its facts; without them it is still announced.
        queue=METADATA_QUEUE,
        args=(_stored_id(game), completed_at),
    )


async def abandon(*, uow: UnitOfWork, player_id: int, title: str) -> GameRead:
    """Drop a game the player will not finish."""
    async with uow:
        game = await _find(uow, player_id, title)
        game.abandon()
        return await _save(uow, game)


async def rate(*, uow: UnitOfWork, player_id: int, title: str, rating: RatingInput) -> GameRead:
    """Give a played game a rating from 1 to 10."""
    game_rating = _parse_rating(rating)
    if game_rating is None:
        raise InvalidRating("A rating from 1 to 10 is missing.")
    async with uow:
        game = await _find(uow, player_id, title)
        game.rate(game_rating)
        return await _save(uow, game)


async def remove(*, uow: UnitOfWork, player_id: int, title: str) -> GameRead:
    """Delete a game from the player's list."""
    async with uow:
        game = await _find(uow, player_id, title)
        await uow.games.remove(game)
        await uow.commit()
    return _read(game)


async def get_stats(*, uow: UnitOfWork, player_id: int, clock: Clock = utc_now) -> StatsRead:
    """The player's counts per status and their ratings."""
    start_of_year = clock().replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    async with uow:
        rated_count, average_rating = await uow.games.rating_summary(player_id)
        stats = GameStats(
            by_status=await uow.games.count_by_status(player_id),
            rated_count=rated_count,
            average_rating=average_rating,
            completed_this_year=await uow.games.count_completed_since(player_id, start_of_year),
        )
    return StatsRead(
        total=stats.total,
        by_status={status.value: count for status, count in stats.by_status.items()},
        rated_count=stats.rated_count,
        average_rating=stats.average_rating,
        completed_this_year=stats.completed_this_year,
    )


async def _find(uow: UnitOfWork, player_id: int, query: str) -> Game:
    """The player's game that `query` means, or a typed error offering the closest games.

    "#42" names game 42, as "did you mean" choices do; it finds only the player's own game.
    """
    if reference := GAME_REFERENCE.fullmatch(query.strip()):
        game = await uow.games.get(int(reference.group(1)))
        if game is None or game.player_id != player_id:
            raise GameNotFound(query.strip())
        return game
    wanted = Title(query)
    game = await uow.games.get_by_title(player_id, wanted.folded)
    return game or await _find_fuzzily(uow, player_id, wanted)


async def _find_fuzzily(uow: UnitOfWork, player_id: int, wanted: Title) -> Game:
    titles = await uow.games.list_titles(player_id)
    match = match_title(wanted.folded, titles)
    if match.close:
        raise AmbiguousTitle(wanted.text, [GameRef(key, titles[key]) for key in match.close])
    game = await uow.games.get(match.key) if match.key is not None else None
    if game is None:
        raise GameNotFound(wanted.text, [GameRef(key, titles[key]) for key in match.similar])
    return game


async def _title_free_for(uow: UnitOfWork, game: Game, title: Title) -> bool:
    """Whether `game` can take `title`: no other game of its player is called so. A title that
    folds to the game's own (the usual case: only its case or accents differ) needs no query."""
    if title.folded == game.title.folded:
        return True
    holder = await uow.games.get_by_title(game.player_id, title.folded)
    return holder is None or holder.id == game.id


async def _save(uow: UnitOfWork, game: Game) -> GameRead:
    await uow.games.save(game)
    await uow.commit()
    return _read(game)


async def _completed_game_and_rating(
    uow: UnitOfWork, player_id: int, title: str, rating: RatingInput
) -> tuple[Game, GameRating | None]:
    """The game `/done` means, and its rating. The title with the typed rating after it, and
    the title alone, are looked up in one query; the first wins."""
    whole = _title_ending_in(title, rating)
    alone = _exact_title(title)
    candidates = {wanted.folded for wanted in (whole, alone) if wanted is not None}
    found = await uow.games.get_by_titles(player_id, candidates)
    if whole is not None and whole.folded in found:
        return found[whole.folded], None
    game_rating = _parse_rating(rating)
    if alone is None:  # a "#42" reference, or no title at all: _find says which
        return await _find(uow, player_id, title), game_rating
    return found.get(alone.folded) or await _find_fuzzily(uow, player_id, alone), game_rating


def _title_ending_in(title: str, rating: RatingInput) -> Title | None:
    """`title` followed by the typed `rating`, if that makes a title."""
    if not isinstance(rating, str):
        return None
    try:
        return Title(f"{title} {rating}")
    except InvalidTitle:
        return None


def _exact_title(query: str) -> Title | None:
    """The title `query` names by its text; None for a "#42" reference or an invalid title."""
    if GAME_REFERENCE.fullmatch(query.strip()):
        return None
    try:
        return Title(query)
    except InvalidTitle:
        return None


def _parse_rating(rating: RatingInput) -> GameRating | None:
    if rating is None:
        return None
    return GameRating.parse(rating) if isinstance(rating, str) else GameRating(rating)


def _view_statuses(status: str | None) -> tuple[str, frozenset[GameStatus]]:
    if status is None or status.strip().casefold() == OPEN_VIEW:
        return OPEN_VIEW, OPEN_STATUSES
    if status.strip().casefold() == ALL_VIEW:
        return ALL_VIEW, frozenset(GameStatus)
    try:
        parsed = GameStatus.parse(status)
    except UnknownStatus as error:
        raise UnknownStatus(f"{error.message[:-1]}, or open or all.") from None
    return parsed.value, frozenset({parsed})


def _stored_id(game: Game) -> int:
    if game.id is None:
        raise RuntimeError("the repository returned a game without an id")
    return game.id


def _read(game: Game) -> GameRead:
    return GameRead(
        id=_stored_id(game),
        player_id=game.player_id,
        title=game.title.text,
        platform=game.platform.value if game.platform else None,
        status=game.status.value,
        rating=game.rating.value if game.rating else None,
        added_at=game.added_at,
        completed_at=game.completed_at,
        lookup=game.lookup.value,
        facts_id=game.facts_id,
        added_in_platform=game.added_in.platform if game.added_in else None,
        added_in_chat_id=game.added_in.chat_id if game.added_in else None,
    )
