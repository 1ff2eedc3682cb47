"""Use cases of game facts: look a game up, let the player pick, refresh scores nightly."""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Sequence
from datetime import date

from questrya.common.errors import InvalidInput
from questrya.common.jobs import METADATA_QUEUE, JobRequest, job_id
from questrya.common.text import fold, shorten
from questrya.common.values import ChatAddress
from questrya.games import service as game_service
from questrya.games.schemas import GameRead
from questrya.metadata.domain import SOURCE_ID, GameFacts, describe_with_source, labelled
from questrya.metadata.matching import Decision, Verdict, decide
from questrya.metadata.providers.base import MetadataProvider
from questrya.metadata.providers.offline import catalog_titles
from questrya.metadata.schemas import ScoreRefreshRead
from questrya.notifications import service as notification_service
from questrya.unit_of_work import UnitOfWork

UnitOfWorkFactory = Callable[[], UnitOfWork]
APPLY_CHOICE_JOB = "questrya.workers.tasks.metadata.apply_chosen_facts"
REFRESH_BATCH_SIZE = 500
MIN_SUGGESTION_LENGTH = 2
MAX_SOURCE_ID_SHOWN = 100


async def fetch_for_game(
    *, uow_factory: UnitOfWorkFactory, provider: MetadataProvider, game_id: int
) -> str:
    """Look a game up and tell its chat what was found; safe to run again after a crash."""
    game = await game_service.get(uow=uow_factory(), game_id=game_id)
    if game is None:
        return "game removed"
    if game.facts_id is not None:
        facts = await _stored_facts(uow_factory(), game.facts_id)
        decision = Decision(Verdict.FOUND, found=facts) if facts else Decision(Verdict.NONE)
    else:
        decision = decide(game.title, await provider.search(game.title))
    await _act_on(uow_factory, provider, game, decision)
    return decision.verdict.value


async def apply_choice(
    *, uow_factory: UnitOfWorkFactory, provider: MetadataProvider, game_id: int, source_id: str
) -> str:
    """Link a game to the candidate the player picked, and confirm it in their chat; or tell
    them the games database has no such game."""
    game = await game_service.get(uow=uow_factory(), game_id=game_id)
    if game is None:
        return "game removed"
    facts = await provider.details(source_id)
    if facts is None:
        unknown = shorten(source_id, MAX_SOURCE_ID_SHOWN)
        text = f'The games database has no game "{unknown}"; {game.title} is left as it was.'
        await _tell(uow_factory, game, f"no-choice-{unknown}", text)
        return Verdict.NONE.value
    await _identify(uow_factory, game, facts)
    return Verdict.FOUND.value


async def choose(*, uow: UnitOfWork, player_id: int, title: str, source_id: str) -> GameRead:
    """The player picked `source_id` for their game `title`: queue the lookup of that one."""
    if not SOURCE_ID.fullmatch(source_id):
        raise InvalidInput(
            f'"{shorten(source_id, 20)}" is no games-database id: pick one of the games offered.'
        )
    game = await game_service.find(uow=uow, player_id=player_id, title=title)
    async with uow:
        uow.enqueue_after_commit(
            JobRequest(
                function=APPLY_CHOICE_JOB,
                job_id=job_id("apply-choice", game.id, source_id),
                queue=METADATA_QUEUE,
                args=(game.id, source_id),
            )
        )
        await uow.commit()
    return game


def suggest_catalog_titles(typed: str, *, limit: int = 25) -> list[str]:
    """Well-known titles that contain what was typed so far, from the bundled catalog."""
    wanted = fold(typed)
    if len(wanted) < MIN_SUGGESTION_LENGTH:
        return []
    return [title for folded, title in _folded_catalog() if wanted in folded][:limit]


@functools.cache
def _folded_catalog() -> tuple[tuple[str, str], ...]:
    """Each catalog title with its folded form, folded once per process: autocomplete asks on
    every keystroke, and folding the whole catalog took milliseconds each time."""
    return tuple((fold(title), title) for title in catalog_titles())


async def released_on(*, uow: UnitOfWork, day: date) -> dict[int, GameFacts]:
    """The stored facts of games first released on `day`, by id."""
    async with uow:
        return await uow.facts.get_many(await uow.facts.ids_released_on(day))


async def facts_for(*, uow: UnitOfWork, facts_ids: Collection[int]) -> dict[int, GameFacts]:
    """The stored facts of these ids, by id; unknown ids are left out."""
    if not facts_ids:
        return {}
    async with uow:
        return await uow.facts.get_many(facts_ids)


async def refresh_scores(
    *,
    uow_factory: UnitOfWorkFactory,
    provider: MetadataProvider,
    day: date,
    on_batch: Callable[[int], None] | None = None,
) -> ScoreRefreshRead:
    """Refresh the critic scores of every game not yet refreshed on `day`, a batch at a time;
    `on_batch` hears how many games each batch checked."""
    after_id, refreshed = 0, ScoreRefreshRead(checked=0, changed=0)
    while batch := await _refresh_batch(uow_factory(), provider.name, day, after_id):
        scores = await provider.critic_scores([source_id for _, source_id in batch])
        async with uow_factory() as uow:
            by_id = {facts_id: scores.get(source_id) for facts_id, source_id in batch}
            changed = await uow.facts.update_scores(by_id, refreshed_on=day)
            await uow.commit()
        after_id = batch[-1][0]
        refreshed = refreshed.add(checked=len(batch), changed=changed)
        if on_batch is not None:
            on_batch(len(batch))
    return refreshed


async def count_due_for_refresh(*, uow: UnitOfWork, provider: MetadataProvider, day: date) -> int:
    """How many games the refresh of `day` still has to check."""
    async with uow:
        return await uow.facts.count_for_refresh(source=provider.name, not_refreshed_on=day)


async def _refresh_batch(
    uow: UnitOfWork, source: str, day: date, after_id: int
) -> list[tuple[int, str]]:
    async with uow:
        return await uow.facts.list_for_refresh(
            source=source, not_refreshed_on=day, after_id=after_id, limit=REFRESH_BATCH_SIZE
        )


async def _act_on(
    uow_factory: UnitOfWorkFactory, provider: MetadataProvider, game: GameRead, decision: Decision
) -> None:
    if decision.found is not None:
        facts = await provider.details(decision.found.source_id) or decision.found
        await _identify(uow_factory, game, facts)
        return
    ambiguous = decision.verdict is Verdict.AMBIGUOUS
    await game_service.record_lookup_miss(uow=uow_factory(), game_id=game.id, ambiguous=ambiguous)
    if ambiguous:
        await _offer_candidates(uow_factory, game, decision.candidates)
    else:
        text = f"I couldn't find {game.title} in the games database; kept as you wrote it."
        await _tell(uow_factory, game, "not-found", text)


async def _identify(uow_factory: UnitOfWorkFactory, game: GameRead, facts: GameFacts) -> None:
    """Store the facts, link the game to them and record the message, in one transaction: a
    job that crashes halfway leaves nothing half done, and its retry does it all again."""
    async with uow_factory() as uow:
        facts_id = await uow.facts.upsert(facts)
        identified = await game_service.identify_within(
            uow, game_id=game.id, facts_id=facts_id, canonical_title=facts.title
        )
        if identified is not None:
            await _tell_within(
                uow,
                identified,
                f"facts-{facts.source}-{facts.source_id}",
                describe_with_source(facts),
                image_url=facts.cover_url,
            )
        await uow.commit()


async def _offer_candidates(
    uow_factory: UnitOfWorkFactory, game: GameRead, candidates: Sequence[GameFacts]
) -> None:
    options = [(labelled(facts), f"/identify {facts.source_id} #{game.id}") for facts in candidates]
    text = f"Which {game.title} did you mean?"
    await _tell(uow_factory, game, "choice", text, options=options)


async def _tell(
    uow_factory: UnitOfWorkFactory,
    game: GameRead,
    event: str,
    text: str,
    *,
    options: Sequence[tuple[str, str]] = (),
) -> None:
    async with uow_factory() as uow:
        await _tell_within(uow, game, event, text, options=options)
        await uow.commit()


async def _tell_within(
    uow: UnitOfWork,
    game: GameRead,
    event: str,
    text: str,
    *,
    options: Sequence[tuple[str, str]] = (),
    image_url: str | None = None,
) -> None:
    """Record the message to the chat the game was added in (none if added elsewhere)."""
    if game.added_in_platform is None or game.added_in_chat_id is None:
        return
    await notification_service.notify_within(
        uow,
        event_key=f"game-{game.id}-{event}",
        address=ChatAddress(game.added_in_platform, game.added_in_chat_id),
        text=text,
        options=options,
        image_url=image_url,
    )


async def _stored_facts(uow: UnitOfWork, facts_id: int) -> GameFacts | None:
    async with uow:
        return await uow.facts.get(facts_id)
