"""The metadata slice: facts about games (year, platforms, scores, hours) from a games database."""
