"""Replies as Telegram HTML and inline keyboards, polls within Telegram's limits, button data,
and the bot's start-up settings: pure functions, no Bot needed."""

from __future__ import annotations

import io
import logging

import click
import pytest

from bots.chat import Choice, Reply
from bots.messages import Poll
from bots.telegram.app import file_url_of
from bots.telegram.handlers import fits_an_alert
from bots.telegram.polls import NativePoll, fit, native_poll
from bots.telegram.replies import ButtonPress, decode_button, encode_button, render
from bots.telegram.runner import WEBHOOK_SECRET, webhook_secret
from questrya.settings import Settings

TOKEN = "123456:ABC-replies-test"
PAGES = (Choice("‹ Previous page", "/backlog open 1"), Choice("Next page ›", "/backlog open 3"))


def labels(reply: Reply, owner: str = "42") -> list[list[str]]:
    markup = render(reply, owner).markup
    assert markup is not None
    return [[button.text for button in row] for row in markup.inline_keyboard]


def test_every_piece_of_text_is_escaped_for_html() -> None:
    rendered = render(Reply('Added <b>"x"</b> & co'), "42")
    assert rendered.html == 'Added &lt;b&gt;"x"&lt;/b&gt; &amp; co'
    assert rendered.markup is None


def test_choices_go_one_a_row_and_page_buttons_side_by_side_below() -> None:
    reply = Reply(
        "Which one?", choices=(Choice("Hades", "/play #1"), Choice("Hades II", "/play #2"), *PAGES)
    )
    assert labels(reply) == [["Hades"], ["Hades II"], ["‹ Previous page", "Next page ›"]]


def test_button_data_names_its_owner_and_fits_in_64_bytes() -> None:
    markup = render(Reply("Page 2", choices=PAGES), "1234567890123").markup
    assert markup is not None
    data = [button.callback_data for row in markup.inline_keyboard for button in row]
    assert data == ["1234567890123|/backlog open 1", "1234567890123|/backlog open 3"]
    assert all(len(str(item).encode()) <= 64 for item in data)


def test_a_choice_too_long_for_a_button_is_written_out_to_type() -> None:
    command = "/done " + "Ö" * 40 + " 9"  # 80 bytes in UTF-8
    rendered = render(Reply("Did you mean:", choices=(Choice("Ö <long>", command),)), "42")
    assert rendered.markup is None
    assert rendered.html == f"Did you mean:\nÖ &lt;long&gt;: {command}"


def test_a_cover_is_kept_while_the_text_fits_a_caption() -> None:
    cover = "https://media.example.org/cover.jpg"
    assert render(Reply("Hades", image_url=cover), "42").photo == cover
    assert render(Reply("x" * 1025, image_url=cover), "42").photo is None


@pytest.mark.parametrize(
    ("data", "press"),
    [
        ("42|/backlog open 2", ButtonPress("42", "/backlog open 2")),
        ("*|/identify doom-2016 #12", ButtonPress("*", "/identify doom-2016 #12")),
        ("42|backlog", None),
        ("alice|/backlog", None),
        ("|/backlog", None),
        ("/backlog", None),
        (None, None),
    ],
)
def test_button_data_is_checked_on_arrival(data: str | None, press: ButtonPress | None) -> None:
    assert decode_button(data) == press


def test_a_button_is_for_its_owner_or_for_anyone_when_shared() -> None:
    assert ButtonPress("42", "/backlog").allows("42")
    assert not ButtonPress("42", "/backlog").allows("43")
    assert ButtonPress("*", "/backlog").allows("43")
    assert encode_button("42", "/x " + "y" * 60) is None


def test_a_poll_keeps_its_question_and_options_as_written() -> None:
    poll = Poll("What shall we play tonight?", ("Hades", "<b>Tom</b> & Jerry"))
    assert native_poll(poll) == NativePoll(poll.question, poll.options)


def test_a_poll_keeps_within_telegrams_limits() -> None:
    long_title = "Ö" * 150
    poll = Poll("?" * 400, (long_title, *(f"Game {n}" for n in range(1, 15))))

    native = native_poll(poll)

    assert native is not None
    assert len(native.question) == 300
    assert native.options[0] == "Ö" * 99 + "…"
    # Options past the twelfth are left out, so /vote N still names the Nth game.
    assert native.options[1:] == tuple(f"Game {n}" for n in range(1, 12))


def test_a_poll_of_fewer_than_two_options_is_no_poll() -> None:
    assert native_poll(Poll("Tonight?", ("Hades",))) is None


def test_lengths_are_counted_as_telegram_counts_them_in_utf_16() -> None:
    assert fit("🎮" * 60, 100) == "🎮" * 49 + "…"  # each 🎮 is two UTF-16 code units
    assert fit("🎮" * 50, 100) == "🎮" * 50


@pytest.mark.parametrize(
    ("reply", "alert"),
    [
        (Reply("You have no game called X.", refused=True), True),
        (Reply("You have no game called X."), False),
        (Reply("x" * 201, refused=True), False),
        (Reply("Did you mean:", choices=(Choice("Hades", "/play #1"),), refused=True), False),
    ],
)
def test_only_a_short_plain_refusal_fits_an_alert(reply: Reply, alert: bool) -> None:
    assert fits_an_alert(reply) is alert


@pytest.mark.parametrize(
    ("api_url", "file_url"),
    [
        ("https://api.telegram.org/bot", "https://api.telegram.org/file/bot"),
        ("http://botproxy.local:8081/bot", "http://botproxy.local:8081/file/bot"),
    ],
)
def test_files_are_served_next_to_the_api(api_url: str, file_url: str) -> None:
    assert file_url_of(api_url) == file_url


def test_a_configured_webhook_secret_is_used_as_it_is() -> None:
    settings = Settings(_env_file=None, telegram_webhook_secret="my-secret_1")
    assert webhook_secret(settings, TOKEN) == "my-secret_1"


def test_a_webhook_secret_telegram_would_refuse_is_one_clear_error() -> None:
    settings = Settings(_env_file=None, telegram_webhook_secret="not allowed!")
    with pytest.raises(click.ClickException, match="letters, digits"):
        webhook_secret(settings, TOKEN)


def test_without_a_configured_secret_every_instance_derives_the_same_one() -> None:
    settings = Settings(_env_file=None)
    first, second = webhook_secret(settings, TOKEN), webhook_secret(settings, TOKEN)
    assert first == second
    assert WEBHOOK_SECRET.fullmatch(first)
    assert TOKEN not in first
    assert webhook_secret(settings, "654321:other") != first


def test_a_derived_webhook_secret_is_scrubbed_from_the_logs() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        secret = webhook_secret(Settings(_env_file=None), TOKEN)
        logging.getLogger("telegram.ext").warning("setWebhook secret_token=%s", secret)
    finally:
        root.removeHandler(handler)
    assert secret not in stream.getvalue()
    assert "setWebhook secret_token=[secret]" in stream.getvalue()
