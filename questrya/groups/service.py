"""Use cases of group chats: the feed switch, members' sharing, posting to feeds, and deciding
together what to play tonight."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from questrya.common.clock import Clock, utc_now
from questrya.common.errors import GroupOnly, NoPoll
from questrya.common.jobs import job_id
from questrya.common.values import ChatAddress, GameRating, GameStatus, Title
from questrya.games import service as game_service
from questrya.games.schemas import GameRead
from questrya.groups.domain import (
    MIN_POLL_OPTIONS,
    Group,
    GroupPoll,
    Holding,
    TonightPick,
    completion_post,
    pick_for_tonight,
    recommendation_post,
)
from questrya.groups.schemas import (
    GroupRead,
    PollRead,
    RecommendationRead,
    TonightPickRead,
    TonightRead,
)
from questrya.metadata import service as metadata_service
from questrya.metadata.domain import GameFacts, describe_with_source
from questrya.notifications import service as notification_service
from questrya.unit_of_work import UnitOfWork
from questrya.users import service as user_service

UnitOfWorkFactory = Callable[[], UnitOfWork]
GROUP_ONLY = "{command} works in group chats: add me to a group and type it there."
TONIGHT_QUESTION = "What shall we play tonight?"
# Games a member owns or wants and has not started: what a group could start together.
TONIGHT_STATUSES = frozenset({GameStatus.BACKLOG, GameStatus.WISHLIST})


async def note_presence(
    *, uow: UnitOfWork, address: ChatAddress, player_id: int, clock: Clock = utc_now
) -> None:
    """Remember that the player speaks in this group (they become one of its members)."""
    async with uow:
        await uow.groups.note_member(address, player_id, on=clock())
        await uow.commit()


async def switch_feed(
    *,
    uow: UnitOfWork,
    address: ChatAddress,
    player_id: int,
    enabled: bool,
    is_admin: bool | None,
    is_group: bool,
    clock: Clock = utc_now,
) -> GroupRead:
    """Turn the group's feed on or off; only its admins may."""
    require_group(is_group, "/feed")
    async with uow:
        group = await uow.groups.get(address)
        group.meet(player_id, on=clock())
        group.switch_feed(by=player_id, enabled=enabled, is_admin=is_admin)
        return await _save(uow, group, player_id, clock())


async def set_sharing(
    *,
    uow: UnitOfWork,
    address: ChatAddress,
    player_id: int,
    shares: bool,
    is_group: bool,
    clock: Clock = utc_now,
) -> GroupRead:
    """Choose whether the player's completions and recommendations go to this group's feed."""
    require_group(is_group, "/share")
    async with uow:
        group = await uow.groups.get(address)
        group.set_sharing(player_id, shares=shares, on=clock())
        return await _save(uow, group, player_id, clock())


async def feeds_shared_by(*, uow: UnitOfWork, player_id: int) -> list[ChatAddress]:
    """The feeds (switched on) the player shares to."""
    async with uow:
        return await uow.groups.feeds_shared_by(player_id)


async def move_chat(*, uow_factory: UnitOfWorkFactory, old: ChatAddress, new: ChatAddress) -> None:
    """A chat changed its address (a Telegram group became a supergroup): its group settings,
    members and polls, and the games added there, follow it. Safe to repeat."""
    async with uow_factory() as uow:
        await uow.groups.move_chat(old, new)
        await uow.commit()
    await game_service.move_chat(uow=uow_factory(), old=old, new=new)


async def announce_completion(
    *, uow_factory: UnitOfWorkFactory, game_id: int, completed_at: str
) -> int:
    """Post a completion to every feed its player shares to, once per feed; return how many.

    A completion rated 7 or more is posted as a recommendation, with the game's facts. A game
    since removed, or completed again, is not posted for this completion.
    """
    game = await game_service.get(uow=uow_factory(), game_id=game_id)
    if game is None or not _completed_at(game, completed_at):
        return 0
    feeds = await feeds_shared_by(uow=uow_factory(), player_id=game.player_id)
    if not feeds:
        return 0
    facts = await _facts_of(uow_factory, game)
    rating = GameRating(game.rating) if game.rating else None
    cover = facts.cover_url if facts and rating and rating.is_recommended else None
    names = {p: await _name(uow_factory, game.player_id, p) for p in {f.platform for f in feeds}}
    for feed in feeds:
        await notification_service.notify(
            uow=uow_factory(),
            event_key=job_id("feed-completion", game.id, completed_at, feed.platform, feed.chat_id),
            address=feed,
            text=completion_post(names[feed.platform], game.title, rating, _facts_text(facts)),
            image_url=cover,
        )
    return len(feeds)


async def recommend(
    *, uow_factory: UnitOfWorkFactory, player_id: int, title: str, name: str
) -> RecommendationRead:
    """A recommendation of one of the player's games, to post in the group they typed it in."""
    game = await game_service.find(uow=uow_factory(), player_id=player_id, title=title)
    facts = await _facts_of(uow_factory, game)
    rating = GameRating(game.rating) if game.rating else None
    return RecommendationRead(
        text=recommendation_post(name, game.title, rating, _facts_text(facts)),
        image_url=facts.cover_url if facts else None,
    )


async def tonight(
    *,
    uow_factory: UnitOfWorkFactory,
    address: ChatAddress,
    player_id: int,
    clock: Clock = utc_now,
) -> TonightRead:
    """Games several members could play together, and a vote on them.

    Only members who share in this group count, and the one who asks: nobody's list shows in a
    group without their consent.
    """
    players = await _consenting_members(uow_factory(), address, player_id)
    picks = await _tonight_picks(uow_factory, players)
    names = await user_service.display_names(
        uow=uow_factory(), player_ids=players, platform=address.platform
    )
    poll = None
    if len(picks) >= MIN_POLL_OPTIONS:
        poll = await _open_poll(uow_factory(), address, player_id, picks, clock())
    return TonightRead(picks=[_pick_read(pick, names) for pick in picks], poll=poll)


async def vote(
    *, uow: UnitOfWork, address: ChatAddress, player_id: int, number: int, clock: Clock = utc_now
) -> PollRead:
    """Cast (or change) the member's vote in the group's latest poll."""
    async with uow:
        poll = await uow.groups.latest_poll(address)
        if poll is None:
            raise NoPoll("There is no vote here yet; start one with /tonight.")
        poll.vote(player_id, number)
        await uow.groups.note_member(address, player_id, on=clock())
        await uow.groups.save_vote(poll, player_id, on=clock())
        await uow.commit()
    return _poll_read(poll)


def require_group(is_group: bool, command: str) -> None:
    """Refuse a group command typed in a private chat."""
    if not is_group:
        raise GroupOnly(GROUP_ONLY.format(command=command))


async def _save(uow: UnitOfWork, group: Group, player_id: int, now: datetime) -> GroupRead:
    await uow.groups.save(group, on=now)
    await uow.commit()
    return GroupRead(
        feed_enabled=group.feed_enabled,
        shares=group.shares_of(player_id),
        member_count=len(group.members),
    )


def _completed_at(game: GameRead, completed_at: str) -> bool:
    """Whether the game's completion is the job's: the same moment, however the database
    writes it back (UTC), not the same spelling."""
    return game.completed_at is not None and game.completed_at == datetime.fromisoformat(
        completed_at
    )


async def _facts_of(uow_factory: UnitOfWorkFactory, game: GameRead) -> GameFacts | None:
    if game.facts_id is None:
        return None
    found = await metadata_service.facts_for(uow=uow_factory(), facts_ids=[game.facts_id])
    return found.get(game.facts_id)


def _facts_text(facts: GameFacts | None) -> str | None:
    return describe_with_source(facts) if facts else None


async def _name(uow_factory: UnitOfWorkFactory, player_id: int, platform: str) -> str:
    names = await user_service.display_names(
        uow=uow_factory(), player_ids=[player_id], platform=platform
    )
    return names.get(player_id, "A member")


async def _consenting_members(uow: UnitOfWork, address: ChatAddress, asker: int) -> list[int]:
    async with uow:
        group = await uow.groups.get(address)
    sharing = {member.player_id for member in group.members.values() if member.shares}
    return sorted(sharing | {asker})


async def _tonight_picks(uow_factory: UnitOfWorkFactory, players: list[int]) -> list[TonightPick]:
    games = await game_service.list_for_players(
        uow=uow_factory(), player_ids=players, statuses=TONIGHT_STATUSES
    )
    facts = await metadata_service.facts_for(
        uow=uow_factory(), facts_ids={g.facts_id for g in games if g.facts_id is not None}
    )
    return pick_for_tonight(_holding(game, facts) for game in games)


def _holding(game: GameRead, facts: Mapping[int, GameFacts]) -> Holding:
    known = facts.get(game.facts_id) if game.facts_id is not None else None
    return Holding(
        player_id=game.player_id,
        title=game.title,
        folded_title=Title(game.title).folded,
        critic_score=known.critic_score if known else None,
        identified=known is not None,
    )


async def _open_poll(
    uow: UnitOfWork, address: ChatAddress, player_id: int, picks: list[TonightPick], now: datetime
) -> PollRead:
    poll = GroupPoll(
        address=address,
        question=TONIGHT_QUESTION,
        options=tuple(pick.title for pick in picks),
        created_by=player_id,
        created_at=now,
    )
    async with uow:
        await uow.groups.add_poll(poll)
        await uow.commit()
    return _poll_read(poll)


def _pick_read(pick: TonightPick, names: dict[int, str]) -> TonightPickRead:
    return TonightPickRead(
        title=pick.title,
        players=[names.get(player_id, "?") for player_id in pick.player_ids],
        critic_score=pick.critic_score,
    )


def _poll_read(poll: GroupPoll) -> PollRead:
    if poll.id is None:
        raise RuntimeError("the repository returned a poll without an id")
    return PollRead(
        id=poll.id, question=poll.question, options=list(poll.options), tally=poll.tally()
    )
