"""Polls as Discord takes and stores them (https://discord.com/developers/docs/resources/poll).

A bot sends a poll *request* with a new message (a channel message, an interaction's answer or
a followup): question, up to 10 answers of 1-55 characters, a duration in whole hours (1 to 32
days), one answer each or several. Discord stores the poll *object*: answers numbered from 1,
an expiry instead of the duration, and results (no votes yet). A poll cannot be edited into a
message that exists; the one exception is the edit that fills a deferred answer in.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.fakes_servers.discord_payloads import JSON, ApiError

QUESTION_LIMIT = 300
ANSWER_LIMIT = 55
ANSWERS_LIMIT = 10
MAX_DURATION_HOURS = 32 * 24
DEFAULT_LAYOUT = 1


def check_poll(poll: Any) -> None:
    """Refuse a poll request Discord would refuse, with its field errors."""
    if not isinstance(poll, dict):
        raise _invalid([], "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
    _check_text(poll.get("question"), ["question"], QUESTION_LIMIT)
    answers = poll.get("answers")
    if not isinstance(answers, list) or not 1 <= len(answers) <= ANSWERS_LIMIT:
        raise _invalid(["answers"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 10 in length.")
    for index, answer in enumerate(answers):
        media = answer.get("poll_media") if isinstance(answer, dict) else None
        _check_text(media, ["answers", index, "poll_media"], ANSWER_LIMIT)
    duration = poll.get("duration", 24)
    whole = isinstance(duration, int | float) and float(duration).is_integer()
    if not whole or not 1 <= duration <= MAX_DURATION_HOURS:
        raise _invalid(
            ["duration"],
            "NUMBER_TYPE_MAX",
            f"Must be a whole number from 1 to {MAX_DURATION_HOURS}.",
        )
    if not isinstance(poll.get("allow_multiselect", False), bool):
        raise _invalid(["allow_multiselect"], "BASE_TYPE_BOOLEAN", "Must be either true or false.")


def stored_poll(poll: JSON, created: dt.datetime) -> JSON:
    """The poll object of a message created at `created` with the (checked) `poll` request."""
    answers = [
        {"answer_id": number, "poll_media": _media(answer["poll_media"])}
        for number, answer in enumerate(poll["answers"], start=1)
    ]
    expiry = created + dt.timedelta(hours=int(poll.get("duration", 24)))
    return {
        "question": _media(poll["question"]),
        "answers": answers,
        "expiry": expiry.isoformat(),
        "allow_multiselect": bool(poll.get("allow_multiselect", False)),
        "layout_type": poll.get("layout_type", DEFAULT_LAYOUT),
        "results": {"is_finalized": False, "answer_counts": []},
    }


def answer_texts(message: JSON) -> list[str]:
    """The answers of a message's poll, in order; [] for a message without one."""
    poll = message.get("poll") or {}
    return [answer["poll_media"]["text"] for answer in poll.get("answers", [])]


def _check_text(media: Any, where: list[str | int], limit: int) -> None:
    text = media.get("text") if isinstance(media, dict) else None
    if not isinstance(text, str) or not 1 <= len(text) <= limit:
        raise _invalid(
            [*where, "text"], "BASE_TYPE_BAD_LENGTH", f"Must be between 1 and {limit} in length."
        )


def _media(media: JSON) -> JSON:
    shown: JSON = {"text": media["text"]}
    if media.get("emoji"):
        shown["emoji"] = media["emoji"]
    return shown


def _invalid(where: list[str | int], code: str, message: str) -> ApiError:
    return ApiError.invalid_form(["poll", *where], code, message)
