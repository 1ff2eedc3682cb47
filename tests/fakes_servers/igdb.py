"""A fake IGDB API (https://api.igdb.com/v4) and Twitch token endpoint, real-shaped.

It reads the Apicalypse clauses the provider sends (search, fields, where, limit), answers
only the fields asked for and, like IGDB, leaves out fields a game lacks. A body it cannot
parse (an unescaped quote) gets IGDB's 400. API calls need the Client-ID header and a bearer
token the fake issued and has not expired.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from aiohttp import web

from tests.fakes_servers import FakeServer, RecordedRequest, json_response

CLIENT_ID = "igdb-test-client-id"
CLIENT_SECRET = "igdb-test-secret-9d2bead5"
TOKEN_LIFETIME_SECONDS = 5_011_271  # what Twitch typically grants: about 58 days
DEFAULT_LIMIT = 10  # IGDB's, when a query says none
MAX_LIMIT = 500

_CLAUSE = re.compile(r'\s*(\w+)\s*((?:"(?:[^"\\]|\\.)*"|[^;"])*);')
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_WHERE_IN = re.compile(r"(\w+)\s*=\s*\(([\d,\s]*)\)")
_WHERE_IS = re.compile(r"(\w+)\s*=\s*(\d+)")
_ESCAPE = re.compile(r"\\(.)")


def _named(pairs: list[tuple[int, str]]) -> list[dict[str, Any]]:
    return [{"id": item_id, "name": name} for item_id, name in pairs]


PC = (6, "PC (Microsoft Windows)")
MAC = (14, "Mac")
LINUX = (3, "Linux")
SWITCH = (130, "Nintendo Switch")
PS4, PS5 = (48, "PlayStation 4"), (167, "PlayStation 5")
XBOX_ONE, XBOX_SERIES = (49, "Xbox One"), (169, "Xbox Series X|S")
IOS = (39, "iOS")
WEB = (82, "Web browser")
RPG, HACK_AND_SLASH = (12, "Role-playing (RPG)"), (25, "Hack and slash/Beat 'em up")
PLATFORM, ADVENTURE, INDIE = (8, "Platform"), (31, "Adventure"), (32, "Indie")

GAMES: list[dict[str, Any]] = [
    {
        "id": 262186, "name": "Hades II", "slug": "hades-ii", "first_release_date": 1758758400,
        "platforms": _named([PC, MAC, SWITCH]), "genres": _named([RPG, HACK_AND_SLASH, INDIE]),
        "cover": {"id": 364721, "image_id": "co7ulz"}, "aggregated_rating": 92.49,
        "total_rating": 91.8, "url": "https://www.igdb.com/games/hades-ii",
    },
    {
        "id": 113112, "name": "Hades", "slug": "hades--1", "first_release_date": 1600300800,
        "platforms": _named([PC, MAC, SWITCH, PS4, PS5, XBOX_ONE, XBOX_SERIES, IOS]),
        "genres": _named([RPG, HACK_AND_SLASH, INDIE, ADVENTURE]),
        "cover": {"id": 85209, "image_id": "co39vc"}, "aggregated_rating": 93.5,
        "total_rating": 92.6, "url": "https://www.igdb.com/games/hades--1",
    },
    {
        "id": 26226, "name": "Celeste", "slug": "celeste", "first_release_date": 1516838400,
        "platforms": _named([PC, MAC, LINUX, SWITCH, PS4, XBOX_ONE]),
        "genres": _named([PLATFORM, INDIE, ADVENTURE]),
        "cover": {"id": 93512, "image_id": "co3byy"}, "aggregated_rating": 91.3,
        "total_rating": 90.7, "url": "https://www.igdb.com/games/celeste",
    },
    {
        "id": 14593, "name": "Hollow Knight", "slug": "hollow-knight",
        "first_release_date": 1487894400,
        "platforms": _named([PC, MAC, LINUX, SWITCH, PS4, XBOX_ONE, WEB]),
        "genres": _named([PLATFORM, ADVENTURE, INDIE]),
        "cover": {"id": 86219, "image_id": "co1rgi"}, "aggregated_rating": 87.6,
        "total_rating": 89.9, "url": "https://www.igdb.com/games/hollow-knight",
    },
    {
        "id": 999001, "name": "Untitled Knight Prototype", "slug": "untitled-knight-prototype",
        "url": "https://www.igdb.com/games/untitled-knight-prototype",
    },
]  # fmt: skip

TIMES_TO_BEAT: list[dict[str, Any]] = [
    {"id": 501, "game_id": 113112, "hastily": 61200, "normally": 81000, "completely": 180000},
    {"id": 502, "game_id": 26226, "hastily": 23400, "normally": 30600, "completely": 108000},
    {"id": 503, "game_id": 14593, "hastily": 79200, "normally": 97200, "completely": 226800},
]

UNAUTHORIZED = {
    "message": "Authorization Failure. Have you tried:",
    "Tip 1": "Ensure you are sending Authorization and Client-ID as headers.",
    "Tip 2": "Ensure Authorization value starts with 'Bearer ', including the space",
    "Tip 3": "Ensure Authorization value ends with the App Access Token you generated, "
    "NOT your Client Secret.",
    "Docs": "https://api-docs.igdb.com/#authentication",
}


class ApicalypseSyntaxError(ValueError):
    pass


def parse_apicalypse(body: str) -> dict[str, str]:
    """The clauses of a query, keyword -> text; raises on what IGDB would call a syntax error."""
    clauses: dict[str, str] = {}
    position = 0
    while body[position:].strip():
        match = _CLAUSE.match(body, position)
        if match is None:
            raise ApicalypseSyntaxError(f"cannot parse from: {body[position:]!r}")
        clauses[match[1]] = match[2].strip()
        position = match.end()
    return clauses


class FakeIgdb(FakeServer):
    """IGDB's /v4/games and /v4/game_time_to_beats, and Twitch's /oauth2/token."""

    def __init__(self, client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET) -> None:
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self.valid_tokens: set[str] = set()
        self.searched_titles: list[str] = []
        self.tables = {"games": GAMES, "game_time_to_beats": TIMES_TO_BEAT}

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/v4"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/oauth2/token"

    @property
    def api_requests(self) -> list[RecordedRequest]:
        return [request for request in self.requests if request.path.startswith("/v4/")]

    @property
    def token_requests(self) -> list[RecordedRequest]:
        return [request for request in self.requests if request.path == "/oauth2/token"]

    def expire_tokens(self) -> None:
        """Make every token issued so far answer 401, as an expired or revoked one does."""
        self.valid_tokens.clear()

    def is_scripted(self, request: web.Request) -> bool:
        return request.path.startswith("/v4/")

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/oauth2/token", self._grant_token)
        app.router.add_post("/v4/{endpoint}", self._query)

    async def _grant_token(self, request: web.Request) -> web.Response:
        # Twitch takes the parameters from the query string or a form body alike.
        params = dict(request.query) | dict(await request.post())
        if params.get("client_id") != self.client_id:
            return json_response({"status": 400, "message": "invalid client"}, status=400)
        if params.get("client_secret") != self.client_secret:
            return json_response({"status": 403, "message": "invalid client secret"}, status=403)
        token = secrets.token_hex(15)
        self.valid_tokens.add(token)
        grant = {"access_token": token, "expires_in": TOKEN_LIFETIME_SECONDS}
        return json_response(grant | {"token_type": "bearer"})

    async def _query(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return json_response(UNAUTHORIZED, status=401)
        table = self.tables.get(request.match_info["endpoint"])
        if table is None:
            return json_response({"message": "no such endpoint"}, status=404)
        try:
            clauses = parse_apicalypse(await request.text())
            rows = self._select(table, clauses)
        except ApicalypseSyntaxError as error:
            syntax_error = {"title": "Syntax Error", "status": 400, "cause": str(error)}
            return json_response([syntax_error], status=400)
        return json_response(rows)

    def _authorized(self, request: web.Request) -> bool:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        return request.headers.get("Client-ID") == self.client_id and token in self.valid_tokens

    def _select(self, table: list[dict[str, Any]], clauses: dict[str, str]) -> list[dict[str, Any]]:
        rows = table
        if "search" in clauses:
            rows = [row for row in rows if self._matches_search(row, clauses["search"])]
        if "where" in clauses:
            field, wanted = _where(clauses["where"])
            rows = [row for row in rows if row.get(field) in wanted]
        limit = int(clauses.get("limit", DEFAULT_LIMIT))
        if not 1 <= limit <= MAX_LIMIT:
            raise ApicalypseSyntaxError(f"limit must be between 1 and {MAX_LIMIT}")
        return [_only_fields(row, clauses.get("fields", "*")) for row in rows[:limit]]

    def _matches_search(self, row: dict[str, Any], quoted: str) -> bool:
        match = _QUOTED.fullmatch(quoted)
        if match is None:
            raise ApicalypseSyntaxError(f"search needs one quoted string, not {quoted}")
        title = _ESCAPE.sub(r"\1", match[1])
        if title not in self.searched_titles:
            self.searched_titles.append(title)
        words = set(re.findall(r"\w+", title.casefold()))
        return bool(words & set(re.findall(r"\w+", row["name"].casefold())))


def _where(condition: str) -> tuple[str, set[int]]:
    if match := _WHERE_IN.fullmatch(condition):
        return match[1], {int(item) for item in match[2].split(",") if item.strip()}
    if match := _WHERE_IS.fullmatch(condition):
        return match[1], {int(match[2])}
    raise ApicalypseSyntaxError(f"unsupported where: {condition}")


def _only_fields(row: dict[str, Any], fields: str) -> dict[str, Any]:
    if fields.strip() == "*":
        return row
    wanted = {"id"} | {field.strip().split(".")[0] for field in fields.split(",")}
    return {key: value for key, value in row.items() if key in wanted}
