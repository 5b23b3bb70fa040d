"""An FAQ entry: one curated question and answer, as the welfare team writes it."""

from __future__ import annotations

import hashlib
import json
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator

from knowledge.domain.source import Source, SourceRef, empty_to_none


class FaqEntry(BaseModel):
    """One curated question and answer, owned by a welfare team."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,79}$", description="Stable id, lowercase-kebab")
    question: str = Field(min_length=2)
    alternatives: list[str] = Field(default_factory=list, description="Other ways citizens ask it")
    answer: str = Field(min_length=2, description="Curated answer shown as written")
    category: str = ""
    target: str = ""
    department: str = ""
    phone: str = ""
    source: SourceRef
    updated_at: date
    valid_from: date | None = None
    valid_until: date | None = None
    needs_review: bool = False
    tenant: str = "national"

    _none_if_empty = field_validator("valid_from", "valid_until", mode="before")(empty_to_none)

    def is_valid_on(self, day: date) -> bool:
        """Whether the entry may be shown on ``day`` (expired entries are never returned)."""
        if self.valid_from is not None and day < self.valid_from:
            return False
        return self.valid_until is None or day <= self.valid_until

    @property
    def doc_id(self) -> str:
        """The id the store ranks it by (the entry's id)."""
        return self.id

    @property
    def title(self) -> str:
        """What the passage is about: the question."""
        return self.question

    @property
    def body(self) -> str:
        """The text a citizen is shown: the curated answer."""
        return self.answer

    def searchable_text(self) -> str:
        """Everything the entry says (question, phrasings, answer): what scope rules check a question against."""
        return " ".join([self.question, *self.alternatives, self.answer])

    def as_source(self) -> Source:
        """The citation shown next to an answer from this entry."""
        return Source(title=self.source.title, url=self.source.url, updated_at=self.updated_at.isoformat())

    def content_hash(self) -> str:
        """Hash of everything indexed, so unchanged entries are skipped on re-ingest."""
        raw = json.dumps(self.model_dump(mode="json"), ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]
