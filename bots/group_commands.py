"""Commands of group chats: the feed, sharing, recommendations, tonight's vote, the wishlist."""

from __future__ import annotations

from bots import parsing
from bots.messages import Command, Context, Poll, Reply
from bots.parsing import Arguments
from questrya.common.errors import InvalidInput
from questrya.games import service as game_service
from questrya.groups import service as group_service
from questrya.groups.schemas import TonightPickRead

ON_OFF = {"on": True, "off": False}


async def feed(context: Context, arguments: Arguments) -> Reply:
    speaker = context.speaker
    group_service.require_group(speaker.is_group, "/feed")  # before the word: a clearer answer
    group = await group_service.switch_feed(
        uow=context.uow_factory(),
        address=speaker.chat,
        player_id=context.player_id,
        enabled=_on_or_off(arguments.status),
        is_admin=await speaker.is_admin() if speaker.is_group else None,
        is_group=speaker.is_group,
    )
    if group.feed_enabled:
        return Reply(
            "The feed is on: members who /share on will have their completions and "
            "recommendations posted here.",
            public=True,
        )
    return Reply("The feed is off: nothing more will be posted here.", public=True)


async def share(context: Context, arguments: Arguments) -> Reply:
    group_service.require_group(context.speaker.is_group, "/share")
    group = await group_service.set_sharing(
        uow=context.uow_factory(),
        address=context.speaker.chat,
        player_id=context.player_id,
        shares=_on_or_off(arguments.status),
        is_group=context.speaker.is_group,
    )
    if not group.shares:
        return Reply("Your completions stay private here.")
    if not group.feed_enabled:
        return Reply("You share here; an admin still has to turn the feed on with /feed on.")
    return Reply("You share here: your completions and recommendations will be posted.")


async def recommend(context: Context, arguments: Arguments) -> Reply:
    group_service.require_group(context.speaker.is_group, "/recommend")
    post = await group_service.recommend(
        uow_factory=context.uow_factory,
        player_id=context.player_id,
        title=arguments.title,
        name=context.speaker.display_name,
    )
    return Reply(post.text, image_url=post.image_url, public=True)


async def tonight(context: Context, arguments: Arguments) -> Reply:
    group_service.require_group(context.speaker.is_group, "/tonight")
    result = await group_service.tonight(
        uow_factory=context.uow_factory,
        address=context.speaker.chat,
        player_id=context.player_id,
    )
    if not result.picks:
        return Reply(NOTHING_SHARED, public=True)
    if result.poll is None:  # one game only: nothing to vote on
        return Reply(ONE_SHARED.format(pick=_pick_line(result.picks[0])), public=True)
    lines = [f"{number}. {_pick_line(pick)}" for number, pick in enumerate(result.picks, 1)]
    return Reply(
        "\n".join([result.poll.question, *lines]),
        poll=Poll(result.poll.question, tuple(result.poll.options)),
        public=True,
    )


async def vote(context: Context, arguments: Arguments) -> Reply:
    group_service.require_group(context.speaker.is_group, "/vote")
    poll = await group_service.vote(
        uow=context.uow_factory(),
        address=context.speaker.chat,
        player_id=context.player_id,
        number=_vote_number(arguments.status),
    )
    standing = " · ".join(f"{option} {votes}" for option, votes in poll.tally)
    return Reply(f"{context.speaker.display_name} voted. So far: {standing}", public=True)


async def wish(context: Context, arguments: Arguments) -> Reply:
    game = await game_service.add_to_backlog(
        uow=context.uow_factory(),
        player_id=context.player_id,
        title=arguments.title,
        platform=arguments.platform,
        added_in=context.speaker.chat,
        wishlist=True,
    )
    return Reply(f"Added {game.title} to your wishlist. I'll tell you on its release day.")


NOTHING_SHARED = (
    "No game is on two or more lists here yet. Members who /share on, and whoever asks, "
    "count: add games with /add or /wish, then ask /tonight again."
)
ONE_SHARED = "Only one game is on two or more lists here: {pick}. Play it tonight!"


def _on_or_off(word: str | None) -> bool:
    choice = ON_OFF.get((word or "").strip().casefold())
    if choice is None:
        raise InvalidInput("Say on or off.")
    return choice


def _pick_line(pick: TonightPickRead) -> str:
    """`Hades — Alice, Bob · Metacritic 93`"""
    line = f"{pick.title} — {', '.join(pick.players)}"
    return f"{line} · Metacritic {pick.critic_score}" if pick.critic_score else line


def _vote_number(word: str | None) -> int:
    text = (word or "").strip()
    # isdecimal: "²" passes isdigit() but is no number int() reads.
    if not text.isdecimal() or len(text) > MAX_VOTE_DIGITS:
        raise InvalidInput("Vote with the number of a game in the list.")
    return int(text)


MAX_VOTE_DIGITS = 2


def _word(text: str) -> Arguments:
    return Arguments(status=text.strip() or None)


def group_commands() -> list[Command]:
    return [
        Command(
            "wish",
            "/wish <title> [platform]",
            "/wish Hades II",
            "add a game to your wishlist",
            parsing.title_and_platform,
            wish,
        ),
        Command(
            "feed",
            "/feed on|off",
            "/feed on",
            "group admins: post members' completions here",
            _word,
            feed,
            checks_admin=True,
        ),
        Command(
            "share",
            "/share on|off",
            "/share on",
            "share your completions and recommendations with this group",
            _word,
            share,
        ),
        Command(
            "recommend",
            "/recommend <title>",
            "/recommend Hades",
            "recommend one of your games to this group",
            parsing.title_only,
            recommend,
        ),
        Command(
            "tonight",
            "/tonight",
            "/tonight",
            "a vote on what to play together tonight",
            parsing.no_arguments,
            tonight,
        ),
        Command(
            "vote",
            "/vote <number>",
            "/vote 2",
            "vote in the group's latest /tonight poll",
            _word,
            vote,
        ),
    ]
