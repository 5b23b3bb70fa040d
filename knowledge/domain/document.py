"""A long document (PDF, DOCX, HWPX, HWP) as read from a file, before it is chunked."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from knowledge.domain.source import Source, SourceRef, empty_to_none


class DocumentError(ValueError):
    """A file or row that cannot be read, with where and why."""


class Section(BaseModel):
    """A heading or a paragraph of a long document, in reading order (level 0 is a paragraph)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str
    level: int = Field(0, ge=0, le=9, description="Heading level; 0 for body text")
    page: int | None = Field(None, description="Page number where the format has pages (PDF)")


class LongDocument(BaseModel):
    """A long document (PDF, DOCX, HWPX) to be chunked: its text and where it comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,79}$", description="Stable id, lowercase-kebab")
    title: str = Field(min_length=1)
    source: SourceRef
    updated_at: date
    category: str = ""
    tenant: str = "national"
    valid_from: date | None = None
    valid_until: date | None = None
    file_name: str = Field("", description="The file it was read from, for operators")
    sections: tuple[Section, ...] = Field(min_length=1, description="Headings and paragraphs in reading order")

    _none_if_empty = field_validator("valid_from", "valid_until", mode="before")(empty_to_none)

    def as_source(self) -> Source:
        """The citation shown next to text from this document."""
        return Source(title=self.source.title, url=self.source.url, updated_at=self.updated_at.isoformat())

    def content_hash(self) -> str:
        """Hash of everything indexed, so unchanged files are skipped on re-ingest."""
        raw = json.dumps(self.model_dump(mode="json"), ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]


class DocumentChunk(BaseModel):
    """One chunk of a long document as the store returns it: the text, where it sits, and the document's source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["document"] = "document"
    doc_id: str = Field(description="The document's id")
    title: str = Field(description="The document's title")
    heading: str = Field(description="Heading path, the title first: '안내서 > 2. 지원 대상'")
    text: str = Field(min_length=1)
    chunk: int = Field(ge=0, description="Position of the chunk in the document")
    page: int | None = None
    file_name: str = ""
    category: str = ""
    tenant: str = "national"
    source: SourceRef
    updated_at: date
    valid_from: date | None = None
    valid_until: date | None = None

    _none_if_empty = field_validator("valid_from", "valid_until", mode="before")(empty_to_none)

    @property
    def needs_review(self) -> bool:
        """Documents are published as a whole; their text is not flagged per chunk."""
        return False

    @property
    def body(self) -> str:
        """The text a citizen is shown."""
        return self.text

    @property
    def section(self) -> str:
        """The heading path below the document's title ("" for text directly under it)."""
        parts = self.heading.split(" > ")
        return " > ".join(parts[1:]) if parts[:1] == [self.title] else self.heading

    def searchable_text(self) -> str:
        """Heading path and text: what scope rules check a question against."""
        return f"{self.heading} {self.text}"

    def as_source(self) -> Source:
        """The citation: the document's source, with the page and the section the text is under."""
        return Source(
            title=self.source.title,
            url=self.source.url,
            updated_at=self.updated_at.isoformat(),
            page=self.page,
            heading=self.section,
        )
