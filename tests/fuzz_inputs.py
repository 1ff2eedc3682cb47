"""The bad input the router's fuzz tests generate, and who types it: shared by the tests on
fakes and on the real databases."""

from __future__ import annotations

from hypothesis import strategies as st

from bots.chat import Speaker, build_router
from tests.fakes import FakeUnitOfWork

ALICE = Speaker("console", "alice", "Alice", "user:alice")
ALICE_IN_FRIENDS = Speaker("console", "alice", "Alice", "group:friends", is_group=True)
COMMANDS = sorted(build_router(lambda: FakeUnitOfWork()).commands)
MAX_REFUSAL_LENGTH = 400

nasty_text = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=50),
    st.sampled_from(
        [
            "x" * 5_000,
            "9" * 5_000,
            "<b>Hades</b>",
            "*Hades* _x_ `y` [z](http://e.example)",
            "@everyone @here",
            "Hades\x00\x1b[31m\u202e\u200b",
            "Hades 11",
            "Hades -3",
            "Hades 9/10/10",
            "Celeste abc",
            "²",
            "",
            " ",
        ]
    ),
)
option_value = st.one_of(
    st.none(), st.integers(), st.floats(allow_nan=True), st.booleans(), nasty_text
)
