"""Where a piece of knowledge comes from, as written in the files and as shown to citizens."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class SourceRef(BaseModel):
    """Where a piece of knowledge comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1, description="Human-readable name of the source")
    url: str = Field(default="", description="Link a citizen can open")


class Source(BaseModel):
    """A source as shown to citizens: title, link and the date the text was last checked."""

    model_config = ConfigDict(frozen=True)

    title: str
    url: str
    updated_at: str


def empty_to_none(value: Any) -> Any:
    """Read an empty cell or field as "not set"."""
    return None if value in ("", None) else value
