"""A phone line the bot may name in its fixed messages (129, 109, 119 ...), with its source."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

from knowledge.domain.source import Source, SourceRef


class Helpline(BaseModel):
    """A phone line the bot may name in its fixed messages, with its source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    number: str
    name: str
    hours: str
    source: SourceRef
    updated_at: date

    def as_source(self) -> Source:
        """The citation for this number."""
        return Source(title=self.source.title, url=self.source.url, updated_at=self.updated_at.isoformat())
