"""How Questrya's replies and pushes look on Discord, built as discord.py will send them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from discord.http import handle_message_parameters

from bots.chat import Choice, Reply
from bots.discord.buttons import CommandButton
from bots.discord.commands import platforms
from bots.discord.replies import message_parts, native_poll
from bots.messages import Poll
from questrya.common.values import ChatAddress
from questrya.notifications.domain import Notification, Option
from questrya.notifications.senders.discord import (
    api_base,
    custom_id,
    message_fields,
    text_fields,
)


def payload(fields: dict[str, Any]) -> dict[str, Any]:
    """The JSON discord.py sends for these keyword arguments."""
    return dict(handle_message_parameters(**fields).payload)


def test_plain_text_is_escaped_and_pings_no_one() -> None:
    sent = payload(text_fields("Added *Hades* @everyone", None))

    assert sent["content"] == r"Added \*Hades\* @everyone"
    assert sent["allowed_mentions"] == {"parse": []}
    assert "embeds" not in sent


def test_long_text_is_cut_to_discords_2000_characters() -> None:
    sent = payload(text_fields("x" * 2500, None))

    assert len(sent["content"]) == 2000
    assert sent["content"].endswith("…")


def test_a_cover_and_an_attribution_make_an_embed() -> None:
    text = "Hades (2020) · PC · Metacritic 93\nData: RAWG: https://rawg.io/games/hades"

    sent = payload(text_fields(text, "https://media.rawg.io/h.jpg"))

    [embed] = sent["embeds"]
    assert embed["thumbnail"] == {"url": "https://media.rawg.io/h.jpg"}
    assert embed["description"] == (
        "Hades (2020) · PC · Metacritic 93\n[Data: RAWG](https://rawg.io/games/hades)"
    )
    assert sent["content"] is None


def test_an_attribution_without_a_cover_is_an_embed_too() -> None:
    sent = payload(text_fields("Tunic (2022)\nData: IGDB: https://igdb.com/games/tunic", None))

    assert "thumbnail" not in sent["embeds"][0]
    assert sent["embeds"][0]["description"].endswith("[Data: IGDB](https://igdb.com/games/tunic)")


@pytest.mark.parametrize(
    ("configured", "base"),
    [
        ("http://proxy:8080", "http://proxy:8080/api/v10"),
        ("http://proxy:8080/", "http://proxy:8080/api/v10"),
        ("https://discord.com/api/v10", "https://discord.com/api/v10"),
        ("http://proxy/discord/api/v9/", "http://proxy/discord/api/v9"),
    ],
)
def test_an_api_url_without_a_path_gets_discords(configured: str, base: str) -> None:
    assert api_base(configured) == base


def test_a_command_too_long_for_a_custom_id_gets_no_button() -> None:
    assert custom_id("*", "/play Hades") == "q|*|/play Hades"
    assert custom_id("*", "/play " + "x" * 100) is None


async def test_pushed_choices_are_buttons_anyone_may_press() -> None:
    options = (Option("Doom (1993)", "/identify doom #4"), Option("Doom (2016)", "/identify d #4"))
    address = ChatAddress("discord", "42")
    pushed = Notification("e", address, "Which Doom?", datetime.now(UTC), options)

    [row] = payload(message_fields(pushed))["components"]

    assert [(b["label"], b["custom_id"]) for b in row["components"]] == [
        ("Doom (1993)", "q|*|/identify doom #4"),
        ("Doom (2016)", "q|*|/identify d #4"),
    ]


async def test_reply_buttons_are_the_players_own_and_paging_ones_grey() -> None:
    reply = Reply("Page 1", choices=(Choice("Next page ›", "/backlog open 2"),))

    parts = message_parts(reply, "1001")

    [button] = parts["view"].children
    assert isinstance(button, CommandButton)
    assert (button.owner, button.command) == ("1001", "/backlog open 2")
    [row] = payload(parts)["components"]
    assert row["components"][0] | {"id": None} == {
        "type": 2, "style": 2, "label": "Next page ›", "custom_id": "q|1001|/backlog open 2",
        "disabled": False, "id": None,
    }  # fmt: skip


async def test_a_reply_without_choices_has_no_buttons() -> None:
    parts = message_parts(Reply("Added Hades to your backlog."), "1001")

    assert "view" not in parts
    assert "components" not in payload(parts)


async def test_an_edit_clears_what_the_new_reply_lacks() -> None:
    sent = payload(message_parts(Reply("Page 2"), "1001", editing=True))

    assert (sent["components"], sent["embeds"]) == ([], [])


async def test_platforms_autocomplete_by_name_or_alias() -> None:
    by_name = await platforms(None, "playstation")  # type: ignore[arg-type]
    by_alias = await platforms(None, "ps5")  # type: ignore[arg-type]

    assert [choice.value for choice in by_name][:2] == ["PlayStation", "PlayStation 2"]
    assert len(by_name) <= 25
    assert [choice.value for choice in by_alias] == ["PlayStation 5"]


async def test_platforms_autocomplete_ignores_spaces_case_and_accents() -> None:
    squeezed = await platforms(None, "playstation5")  # type: ignore[arg-type]
    spaced = await platforms(None, "Xbox  Séries")  # type: ignore[arg-type]

    assert [choice.value for choice in squeezed] == ["PlayStation 5"]
    assert [choice.value for choice in spaced] == ["Xbox Series X|S"]


def test_a_vote_is_a_native_poll_one_answer_each_for_the_evening() -> None:
    poll = Poll("What shall we play tonight?", ("Hades", "Celeste"))
    reply = Reply("What shall we play tonight?\n1. Hades\n2. Celeste", poll=poll, public=True)

    sent = payload(message_parts(reply, "1001"))

    assert sent["content"] == "What shall we play tonight?\n1. Hades\n2. Celeste"
    assert sent["poll"] == {
        "question": {"text": "What shall we play tonight?"},
        "answers": [{"poll_media": {"text": "Hades"}}, {"poll_media": {"text": "Celeste"}}],
        "allow_multiselect": False, "duration": 4.0, "layout_type": 1,
    }  # fmt: skip
    assert sent["allowed_mentions"] == {"parse": []}


def test_a_poll_keeps_within_discords_limits() -> None:
    options = tuple(f"Game {number} " + "x" * 60 for number in range(1, 13))

    native = native_poll(Poll("?" * 400, options))

    assert len(native.question) == 300
    assert len(native.answers) == 10  # the first ten: /vote's numbers still match
    assert all(len(answer.text) == 55 for answer in native.answers)
    assert native.answers[0].text.startswith("Game 1 ")


def test_an_edit_carries_no_poll() -> None:
    reply = Reply("Vote", poll=Poll("Tonight?", ("Hades", "Celeste")), public=True)

    assert "poll" not in message_parts(reply, "1001", editing=True)
