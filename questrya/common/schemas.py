"""The one pydantic base for everything that leaves a service."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class QuestryaBase(BaseModel):
    """Strips whitespace, validates on assignment, reads attributes of domain objects."""

    model_config = ConfigDict(
        str_strip_whitespace=True,
        validate_assignment=True,
        from_attributes=True,
        frozen=False,
    )
