"""The command router: text in, one reply out, and bad input refused in one line."""

from __future__ import annotations

import pytest

from bots.chat import ChatRouter, Reply, Speaker, build_router
from bots.parsing import Arguments
from tests.fakes import FakeUnitOfWork

ALICE = Speaker("console", "alice", "Alice", "user:alice")
BOB = Speaker("console", "bob", "Bob", "user:bob")


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def router(uow: FakeUnitOfWork) -> ChatRouter:
    return build_router(lambda: uow)


async def say(router: ChatRouter, text: str, speaker: Speaker = ALICE) -> Reply:
    return await router.handle_text(speaker, text)


def snapshot(uow: FakeUnitOfWork) -> list[tuple[str, str, int | None]]:
    return [
        (g.title.text, g.status.value, g.rating.value if g.rating else None)
        for g in uow.committed_games.values()
    ]


async def test_the_scripted_session(router: ChatRouter) -> None:
    assert (await say(router, "/add Hades")).text.startswith("Added Hades to your backlog")
    await say(router, "/add Celeste")
    assert (await say(router, "/play Hades")).text == "Now playing Hades. Have fun!"
    assert (await say(router, "/done hades 9")).text == "Completed Hades · 9/10. Well played!"
    assert "• Celeste — backlog" in (await say(router, "/backlog")).text
    assert "✓ Hades — completed · 9/10" in (await say(router, "/backlog completed")).text


async def test_other_players_see_none_of_alices_games(router: ChatRouter) -> None:
    await say(router, "/add Hades")
    reply = await say(router, "/backlog all", BOB)
    assert reply.text == "Your list is empty. Add a game with /add Hades."
    assert (await say(router, "/play hades", BOB)).text.startswith("You have no game called")


async def test_group_commands_may_name_the_bot(router: ChatRouter) -> None:
    reply = await say(router, "/add@QuestryaBot Hades ps5")
    assert reply.text.startswith("Added Hades (PlayStation 5)")


async def test_done_keeps_a_number_that_ends_a_title(router: ChatRouter) -> None:
    await say(router, "/add Portal 2")
    assert (await say(router, "/done Portal 2")).text == "Completed Portal 2. Well played!"


async def test_done_reads_a_rating_after_a_numbered_title(router: ChatRouter) -> None:
    await say(router, "/add Portal 2")
    assert (
        await say(router, "/done portal 2 10")
    ).text == "Completed Portal 2 · 10/10. Well played!"


BAD_INPUT = [
    ("/play Factorio", 'You have no game called "Factorio". See your games with /backlog all.'),
    ("/done Celeste 11", "A rating is from 1 to 10, not 11. Write it like /done Hades 9"),
    (
        "/rate Celeste " + "9" * 5000,
        "A rating is from 1 to 10, not 99999999999…. Write it like /rate Hades 8",
    ),
    (
        "/rate Celeste ²",
        'A rating is a whole number from 1 to 10, not "²". Write it like /rate Hades 8',
    ),
    (
        "/rate Celeste abc",
        'A rating is a whole number from 1 to 10, not "abc". Write it like /rate Hades 8',
    ),
    (
        "/identify ce/leste Celeste",
        '"ce/leste" is no games-database id: pick one of the games offered.'
        " Write it like /identify hades Hades",
    ),
    ("/add", "The title is empty. Write it like /add Hades switch"),
    ("/add    ", "The title is empty. Write it like /add Hades switch"),
    (
        "/add " + "x" * 5000,
        "That title is 5000 characters long; keep it to 200. Write it like /add Hades switch",
    ),
    ("/add \x00\x07\u200b", "The title is empty. Write it like /add Hades switch"),
    ("/add Celeste", "Celeste is already in your list."),
    ("/done Dead Cells", "Cannot complete an abandoned game: /play Dead Cells again first."),
    ("/backlog beaten", None),
    ("/frobnicate", "I don't know /frobnicate. Type /help to see the commands."),
    ("hello", "Commands start with a slash, like /add Hades. Type /help to see them."),
    ("/pause Celeste", None),
    ("/rate Celeste", None),
    ("/drop Dead Cells", "Dead Cells is abandoned; there is nothing to drop."),
]


@pytest.mark.parametrize(("text", "expected"), BAD_INPUT)
async def test_bad_input_gets_one_line_and_changes_nothing(
    router: ChatRouter, uow: FakeUnitOfWork, text: str, expected: str | None
) -> None:
    await say(router, "/add Celeste")
    await say(router, "/add Dead Cells")
    await say(router, "/drop Dead Cells")
    before, commits = snapshot(uow), uow.commits
    reply = await say(router, text)
    assert "\n" not in reply.text
    assert "Traceback" not in reply.text
    if expected is not None:
        assert reply.text == expected
    assert snapshot(uow) == before
    assert uow.commits == commits  # not even a no-op write


@pytest.mark.parametrize("title", ["<b>Hades</b>", "*markdown* _x_", "@everyone Hades", "`rm -rf`"])
async def test_markup_in_titles_is_kept_as_plain_text(
    router: ChatRouter, uow: FakeUnitOfWork, title: str
) -> None:
    reply = await say(router, f"/add {title}")
    assert reply.text.startswith(f"Added {title} to your backlog")
    assert snapshot(uow) == [(title, "backlog", None)]
    assert title in (await say(router, "/backlog")).text


async def test_an_ambiguous_title_offers_choices_that_run_the_same_command(
    router: ChatRouter,
) -> None:
    await say(router, "/add The Legend of Zelda: Breath of the Wild")
    await say(router, "/add The Legend of Zelda: Tears of the Kingdom")
    reply = await say(router, "/done zelda 9")
    assert reply.text == '"zelda" matches more than one of your games. Which one?'
    assert [c.label for c in reply.choices] == [
        "The Legend of Zelda: Breath of the Wild",
        "The Legend of Zelda: Tears of the Kingdom",
    ]
    assert [c.command for c in reply.choices] == ["/done #1 9", "/done #2 9"]
    chosen = await say(router, reply.choices[1].command)
    assert chosen.text == "Completed The Legend of Zelda: Tears of the Kingdom · 9/10. Well played!"


async def test_a_reference_names_only_the_players_own_game(router: ChatRouter) -> None:
    await say(router, "/add Hades")
    assert (await say(router, "/play #1", BOB)).text.startswith('You have no game called "#1"')
    assert (await say(router, "/play #1")).text == "Now playing Hades. Have fun!"


async def test_backlog_pages_offer_next_and_previous(router: ChatRouter) -> None:
    for number in range(25):
        await say(router, f"/add Game {number:02}")
    first = await say(router, "/backlog")
    assert [c.command for c in first.choices] == ["/backlog open 2"]
    second = await say(router, first.choices[0].command)
    assert [c.command for c in second.choices] == ["/backlog open 1", "/backlog open 3"]
    assert "Game 10" in second.text


async def test_help_lists_every_command(router: ChatRouter) -> None:
    reply = await say(router, "/help")
    for name, command in router.commands.items():
        assert (f"/{name}" in reply.text) is command.listed


async def test_start_greets_by_name(router: ChatRouter) -> None:
    assert (await say(router, "/start")).text.startswith("Hi Alice!")


async def test_stats(router: ChatRouter) -> None:
    await say(router, "/add Hades")
    await say(router, "/done Hades 9")
    reply = await say(router, "/stats")
    assert reply.text.startswith("1 game: 1 completed · 1 completed this year · average rating 9.0")

    await say(router, "/add Celeste")
    assert (await say(router, "/stats")).text.startswith("2 games: 1 backlog, 1 completed")


async def test_typed_options_take_the_same_path(router: ChatRouter) -> None:
    await say(router, "/add Portal 2")
    reply = await router.handle_command(ALICE, "done", Arguments(title="Portal 2", rating=8))
    assert reply.text == "Completed Portal 2 · 8/10. Well played!"


async def test_add_moves_a_wishlisted_game_to_the_backlog(router: ChatRouter) -> None:
    await say(router, "/wish Hades II")
    reply = await say(router, "/add hades ii")
    assert reply.text == "Moved Hades II from your wishlist to your backlog. Enjoy!"
    assert "• Hades II — backlog" in (await say(router, "/backlog")).text
