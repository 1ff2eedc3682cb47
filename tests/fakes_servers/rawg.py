"""A fake RAWG API (https://api.rawg.io/api) serving real-shaped /games and /games/{id}.

The shapes follow RAWG's answers: a page is {count, next, previous, results} and `next` is the
request's own URL with the page moved on, `key=` included, exactly as RAWG does. Search
results come in a deliberately unhelpful order (Hades II before Hades), like RAWG's.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.fakes_servers import FakeServer, json_response

API_KEY = "rawg-test-key-5f1c0ffee"

# RAWG's own ids and names for the platforms and genres used below.
PLATFORMS = {
    "PC": 4,
    "PlayStation 5": 187,
    "PlayStation 4": 18,
    "Xbox One": 1,
    "Xbox Series S/X": 186,
    "Nintendo Switch": 7,
    "macOS": 5,
    "Linux": 6,
    "iOS": 3,
    "Android": 21,
    "Web": 171,
}
GENRES = {"Action": 4, "Indie": 51, "Adventure": 3, "RPG": 5, "Platformer": 83, "Strategy": 10}


def _platform(name: str, released: str | None) -> dict[str, Any]:
    slug = name.lower().replace(" ", "-").replace("/", "-")
    return {
        "platform": {
            "id": PLATFORMS[name],
            "name": name,
            "slug": slug,
            "image": None,
            "year_end": None,
            "year_start": None,
            "games_count": 1000,
            "image_background": f"https://media.rawg.io/media/games/{slug}.jpg",
        },
        "released_at": released,
        "requirements_en": None,
        "requirements_ru": None,
    }


def _genre(name: str) -> dict[str, Any]:
    return {
        "id": GENRES[name],
        "name": name,
        "slug": name.lower(),
        "games_count": 50000,
        "image_background": "https://media.rawg.io/media/games/genre.jpg",
    }


def rawg_game(
    *,
    game_id: int,
    slug: str,
    name: str,
    released: str | None,
    platforms: list[str] | None,
    genres: list[str],
    image: str | None,
    metacritic: int | None,
    playtime: int,
    search_score: str,
) -> dict[str, Any]:
    """One game as it appears in RAWG's /games results."""
    return {
        "id": game_id,
        "slug": slug,
        "name": name,
        "released": released,
        "tba": released is None,
        "background_image": image,
        "rating": 4.4 if metacritic else 0.0,
        "rating_top": 5 if metacritic else 0,
        "ratings": [],
        "ratings_count": 1200 if metacritic else 0,
        "reviews_text_count": 10,
        "added": 9000,
        "added_by_status": {"yet": 400, "owned": 5000, "beaten": 1500, "playing": 300},
        "metacritic": metacritic,
        "playtime": playtime,
        "suggestions_count": 600,
        "updated": "2025-10-01T12:00:00",
        "user_game": None,
        "reviews_count": 1210,
        "saturated_color": "0f0f0f",
        "dominant_color": "0f0f0f",
        "platforms": None if platforms is None else [_platform(p, released) for p in platforms],
        "parent_platforms": [],
        "genres": [_genre(genre) for genre in genres],
        "stores": [],
        "clip": None,
        "tags": [],
        "esrb_rating": None,
        "short_screenshots": [],
        "score": search_score,  # RAWG's search relevance, a string
    }


def rawg_details(game: dict[str, Any]) -> dict[str, Any]:
    """The same game as RAWG's /games/{id} describes it: more fields, no search score."""
    details = {key: value for key, value in game.items() if key != "score"}
    return details | {
        "name_original": game["name"],
        "description": f"<p>{game['name']} is a game.</p>",
        "description_raw": f"{game['name']} is a game.",
        "metacritic_platforms": [],
        "background_image_additional": None,
        "website": "",
        "reactions": {},
        "screenshots_count": 0,
        "movies_count": 0,
        "creators_count": 0,
        "achievements_count": 0,
        "parent_achievements_count": 0,
        "reddit_url": "",
        "alternative_names": [],
        "developers": [],
        "publishers": [],
    }


GAMES = [
    rawg_game(
        game_id=795632, slug="hades-ii", name="Hades II", released="2025-09-25",
        platforms=["PC", "macOS", "Nintendo Switch"], genres=["Action", "RPG", "Indie"],
        image="https://media.rawg.io/media/games/hades-ii.jpg", metacritic=95, playtime=0,
        search_score="62.4",
    ),
    rawg_game(
        game_id=274755, slug="hades-2", name="Hades", released="2020-09-17",
        platforms=["PC", "Nintendo Switch", "PlayStation 5", "PlayStation 4", "Xbox One",
                   "Xbox Series S/X", "macOS", "iOS"],
        genres=["Action", "Indie", "RPG"],
        image="https://media.rawg.io/media/games/1f4/1f47a270b8f241e4676b14d39ec620f7.jpg",
        metacritic=93, playtime=22, search_score="61.9",
    ),
    rawg_game(
        game_id=21958, slug="hades-star", name="Hades' Star", released="2017-08-31",
        platforms=["PC", "iOS", "Android"], genres=["Strategy"],
        image="https://media.rawg.io/media/games/hades-star.jpg", metacritic=None, playtime=3,
        search_score="58.0",
    ),
    rawg_game(
        game_id=58175, slug="celeste", name="Celeste", released="2018-01-25",
        platforms=["PC", "Nintendo Switch", "PlayStation 4", "Xbox One", "macOS", "Linux"],
        genres=["Platformer", "Indie"],
        image="https://media.rawg.io/media/games/594/59487800889ebac294c7c2c070d02356.jpg",
        metacritic=88, playtime=8, search_score="70.2",
    ),
    rawg_game(
        game_id=9767, slug="hollow-knight", name="Hollow Knight", released="2017-02-24",
        platforms=["PC", "Nintendo Switch", "PlayStation 4", "Xbox One", "macOS", "Linux", "Web"],
        genres=["Action", "Indie", "Platformer", "Adventure"],
        image="https://media.rawg.io/media/games/4cf/4cfc6b7f1850590a4634b08bfab308ab.jpg",
        metacritic=87, playtime=19, search_score="69.7",
    ),
    rawg_game(
        game_id=1000001, slug="untitled-knight-prototype", name="Untitled Knight Prototype",
        released=None, platforms=None, genres=[], image=None, metacritic=None, playtime=0,
        search_score="12.0",
    ),
]  # fmt: skip


class FakeRawg(FakeServer):
    """RAWG's /games search and /games/{id}, behind the `key=` query parameter."""

    def __init__(self, api_key: str = API_KEY, games: list[dict[str, Any]] | None = None) -> None:
        super().__init__()
        self.api_key = api_key
        self.games = GAMES if games is None else games
        self.max_page_size = 40  # RAWG's cap; lower it to make a search answer have pages

    @property
    def url(self) -> str:
        """The API root to give RawgProvider, like https://api.rawg.io/api."""
        return f"{self.base_url}/api"

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/api/games", self._search)
        app.router.add_get("/api/games/{id_or_slug}", self._details)

    async def _search(self, request: web.Request) -> web.Response:
        if refusal := self._refuse_bad_key(request):
            return refusal
        words = request.query.get("search", "").casefold().split()
        found = [game for game in self.games if _words_matched(game["name"], words)]
        # Most words matched first, as RAWG's relevance would have it: with a few hundred
        # games, "Mario Kart DS" must not sink below every other "Mario".
        found.sort(
            key=lambda game: (_words_matched(game["name"], words), float(game["score"])),
            reverse=True,
        )
        page = int(request.query.get("page", "1"))
        size = min(int(request.query.get("page_size", "20")), self.max_page_size)
        return json_response(
            {
                "count": len(found),
                "next": _page_url(request, page + 1) if page * size < len(found) else None,
                "previous": _page_url(request, page - 1) if page > 1 else None,
                "results": found[(page - 1) * size : page * size],
                "user_platforms": False,
            }
        )

    async def _details(self, request: web.Request) -> web.Response:
        if refusal := self._refuse_bad_key(request):
            return refusal
        wanted = request.match_info["id_or_slug"]
        for game in self.games:
            if wanted in (game["slug"], str(game["id"])):
                return json_response(rawg_details(game))
        return json_response({"detail": "Not found."}, status=404)

    def _refuse_bad_key(self, request: web.Request) -> web.Response | None:
        if request.query.get("key") == self.api_key:
            return None
        return json_response({"error": "The key parameter is not provided"}, status=401)


def _words_matched(name: str, words: list[str]) -> int:
    title_words = name.casefold().replace("'", " ").split()
    return sum(word in title_words for word in words)


def _page_url(request: web.Request, page: int) -> str:
    # RAWG builds its links from the request's own query, so they carry the caller's key.
    return str(request.url.update_query(page=page))
