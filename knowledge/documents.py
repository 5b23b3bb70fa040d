"""Typed knowledge documents: FAQ entries as the welfare team writes them, long documents, helplines."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

SEED_DIR = Path(__file__).parent / "seed"


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


def _empty_to_none(value: Any) -> Any:
    return None if value in ("", None) else value


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

    _none_if_empty = field_validator("valid_from", "valid_until", mode="before")(_empty_to_none)

    def is_valid_on(self, day: date) -> bool:
        """Whether the entry may be shown on ``day`` (expired entries are never returned)."""
        if self.valid_from is not None and day < self.valid_from:
            return False
        return self.valid_until is None or day <= self.valid_until

    def as_source(self) -> Source:
        """The citation shown next to an answer from this entry."""
        return Source(title=self.source.title, url=self.source.url, updated_at=self.updated_at.isoformat())

    def content_hash(self) -> str:
        """Hash of everything indexed, so unchanged entries are skipped on re-ingest."""
        raw = json.dumps(self.model_dump(mode="json"), ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]


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

    _none_if_empty = field_validator("valid_from", "valid_until", mode="before")(_empty_to_none)

    def as_source(self) -> Source:
        """The citation shown next to text from this document."""
        return Source(title=self.source.title, url=self.source.url, updated_at=self.updated_at.isoformat())

    def content_hash(self) -> str:
        """Hash of everything indexed, so unchanged files are skipped on re-ingest."""
        raw = json.dumps(self.model_dump(mode="json"), ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]


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


class DocumentError(ValueError):
    """A file or row that cannot be read, with where and why."""


def _read_yaml_list(path: Path) -> list[Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DocumentError(f"{path}: cannot read YAML: {exc}") from exc
    if data is None:
        return []
    if not isinstance(data, list):
        raise DocumentError(f"{path}: expected a list of entries, got {type(data).__name__}")
    return data


def describe_validation_error(exc: ValidationError) -> str:
    """One line per invalid field: ``field: reason; other: reason``."""
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'entry'}: {e['msg']}" for e in exc.errors())


def validate_faq_rows(path: Path, rows: Iterable[tuple[str, Any]]) -> list[FaqEntry]:
    """Validate ``(where, row)`` pairs read from ``path``; any bad row fails the file with every reason listed."""
    entries: list[FaqEntry] = []
    problems: list[str] = []
    for where, row in rows:
        try:
            entries.append(FaqEntry.model_validate(row))
        except ValidationError as exc:
            problems.append(f"{path}: {where}: {describe_validation_error(exc)}")
    if problems:
        raise DocumentError("\n".join(problems))
    return entries


def load_faq_file(path: Path) -> list[FaqEntry]:
    """Parse one YAML FAQ file; any bad row fails the whole file with every reason listed."""
    return validate_faq_rows(path, ((f"entry {i + 1}", row) for i, row in enumerate(_read_yaml_list(path))))


def load_faq_dir(directory: Path) -> list[FaqEntry]:
    """Parse every ``*.yaml`` file under a folder; duplicate ids are an error."""
    entries: list[FaqEntry] = []
    problems: list[str] = []
    for path in sorted(directory.rglob("*.yaml")):
        try:
            entries.extend(load_faq_file(path))
        except DocumentError as exc:
            problems.append(str(exc))
    seen: set[str] = set()
    for entry in entries:
        if entry.id in seen:
            problems.append(f"duplicate FAQ id {entry.id!r}")
        seen.add(entry.id)
    if problems:
        raise DocumentError("\n".join(problems))
    return entries


def load_helplines(path: Path = SEED_DIR / "helplines.yaml") -> dict[str, Helpline]:
    """Read the helplines file, keyed by ``key``."""
    try:
        lines = [Helpline.model_validate(row) for row in _read_yaml_list(path)]
    except ValidationError as exc:
        raise DocumentError(f"{path}: {describe_validation_error(exc)}") from exc
    return {line.key: line for line in lines}
