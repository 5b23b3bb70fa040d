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
    """A source as shown to citizens: title, link, the date the text was last checked, and where in a document."""

    model_config = ConfigDict(frozen=True)

    title: str
    url: str
    updated_at: str
    page: int | None = Field(None, description="Page of the document the text is on (formats with pages)")
    heading: str = Field("", description="Section of the document the text is under")

    @property
    def location(self) -> str:
        """Where in the document, in Korean ("3쪽 · 지원 대상"); empty for an FAQ entry."""
        return document_location(self.page, self.heading)


def document_location(page: int | None, heading: str) -> str:
    """Page and section as citizens read them ("3쪽 · 2. 지원 대상"); either may be missing."""
    return " · ".join(p for p in (f"{page}쪽" if page else "", heading.strip()) if p)


def empty_to_none(value: Any) -> Any:
    """Read an empty cell or field as "not set"."""
    return None if value in ("", None) else value
