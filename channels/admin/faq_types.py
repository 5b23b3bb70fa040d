"""What the FAQ service returns and raises: typed rows for the admin screens, errors with Korean messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

# Fields of an entry in the order the admin shows them, with their Korean labels (diffs, validation).
FIELD_LABELS: dict[str, str] = {
    "id": "아이디",
    "question": "질문",
    "alternatives": "다른 표현",
    "answer": "답변",
    "category": "분류",
    "target": "대상",
    "department": "담당 부서",
    "phone": "전화번호",
    "source.title": "출처 제목",
    "source.url": "출처 주소",
    "updated_at": "출처 확인일",
    "valid_from": "게시 시작일",
    "valid_until": "게시 종료일",
    "needs_review": "검토 필요",
    "tenant": "지역(기관)",
}

STATUS_LABELS = {"draft": "작성 중", "review": "검토 대기", "published": "게시됨", "unpublished": "게시 중단"}
VERSION_STATE_LABELS = {
    "draft": "작성 중",
    "review": "검토 대기",
    "published": "게시됨",
    "superseded": "이전 게시본",
    "rejected": "반려됨",
}


@dataclass(frozen=True)
class FaqRow:
    """One line of the FAQ list."""

    id: str
    question: str
    category: str
    tenant: str
    status: str  # draft | review | published | unpublished (the latest version's workflow)
    latest_state: str  # state of the latest version (draft, review, published, superseded, rejected)
    live: bool  # a published version is answering citizens now
    needs_review: bool
    valid_until: date | None
    updated_at: datetime
    updated_by: str  # display name; "시스템" for commands
    updated_by_id: int | None
    lock_version: int
    latest_version: int
    published_version: int | None

    @property
    def status_label(self) -> str:
        """The status in Korean."""
        return STATUS_LABELS.get(self.status, self.status)


@dataclass(frozen=True)
class VersionRow:
    """One saved version of an entry."""

    version: int
    state: str
    author: str
    author_id: int | None
    created_at: datetime
    note: str
    reviewed_by: str
    reviewed_at: datetime | None
    question: str

    @property
    def state_label(self) -> str:
        """The state in Korean."""
        return VERSION_STATE_LABELS.get(self.state, self.state)


@dataclass(frozen=True)
class FaqDetail:
    """An entry as the edit screen reads it: the latest text, what is live, and the history."""

    id: str
    entry: dict[str, Any]  # the FaqEntry fields of the latest version (JSON form: dates as YYYY-MM-DD)
    status: str
    latest_state: str
    lock_version: int
    published_version: int | None
    latest_version: int
    published: dict[str, Any] | None  # the live text, when one is published
    versions: list[VersionRow]

    @property
    def status_label(self) -> str:
        """The status in Korean."""
        return STATUS_LABELS.get(self.status, self.status)


@dataclass(frozen=True)
class FieldDiff:
    """One field of two versions side by side."""

    field: str
    label: str
    before: str
    after: str
    changed: bool


@dataclass(frozen=True)
class Reminders:
    """Entries to re-check, by reason (an entry may appear under several)."""

    earlier_year: list[FaqRow] = field(default_factory=list)  # figures or checks from an earlier year
    expired: list[FaqRow] = field(default_factory=list)  # valid_until has passed
    expiring: list[FaqRow] = field(default_factory=list)  # valid_until within 30 days
    needs_review: list[FaqRow] = field(default_factory=list)
    yearly_figures: list[FaqRow] = field(default_factory=list)  # January: every entry with a yearly figure
    reasons: dict[str, list[str]] = field(default_factory=dict)  # entry id -> Korean reasons

    @property
    def counts(self) -> dict[str, int]:
        """How many entries each reason flags."""
        return {
            "earlier_year": len(self.earlier_year),
            "expired": len(self.expired),
            "expiring": len(self.expiring),
            "needs_review": len(self.needs_review),
            "yearly_figures": len(self.yearly_figures),
        }

    @property
    def total(self) -> int:
        """Entries flagged for any reason."""
        return len(self.reasons)


@dataclass(frozen=True)
class ImportResult:
    """What an import changed."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    published: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # touched by staff in the admin: files do not overwrite them

    def __str__(self) -> str:
        """One line for operators."""
        return (
            f"{len(self.created)} new, {len(self.updated)} changed, {len(self.unchanged)} unchanged,"
            f" {len(self.published)} published, {len(self.skipped)} kept as edited in the admin"
        )


class FaqError(Exception):
    """A refused FAQ change; ``message`` is Korean for staff, ``status`` the HTTP status to answer with."""

    status = 400

    def __init__(self, message: str) -> None:
        """Keep the Korean message."""
        super().__init__(message)
        self.message = message


class FaqNotFoundError(FaqError):
    """No entry with that id (or no such version)."""

    status = 404


class FaqPermissionError(FaqError):
    """The actor's role may not do this (agents edit nothing; only admins approve unless self-publishing)."""

    status = 403


class FaqStateError(FaqError):
    """The entry is not in a state that allows this (e.g. approving a draft nobody submitted)."""

    status = 409


class FaqConflictError(FaqError):
    """Someone saved the entry since this editor opened it: both texts are kept, the caller shows both."""

    status = 409

    def __init__(self, mine: dict[str, Any], theirs: dict[str, Any], theirs_by: str, kept_as: int | None = None) -> None:
        """``kept_as``: the version number under which ``mine`` was kept as a draft."""
        super().__init__(
            f"{theirs_by}님이 먼저 이 항목을 저장했습니다. 두 내용을 비교해 다시 저장해 주세요."
            + (f" 내 편집은 버전 {kept_as}에 보관했습니다." if kept_as else "")
        )
        self.mine = mine
        self.theirs = theirs
        self.theirs_by = theirs_by
        self.kept_as = kept_as


class FaqValidationError(FaqError):
    """The entry's fields are not valid: ``problems`` lists (field, Korean message)."""

    status = 422

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        """Keep every problem, one per field."""
        super().__init__(" ".join(message for _, message in problems) or "입력 내용을 확인해 주세요.")
        self.problems = problems


__all__ = [
    "FIELD_LABELS",
    "STATUS_LABELS",
    "VERSION_STATE_LABELS",
    "FaqConflictError",
    "FaqDetail",
    "FaqError",
    "FaqNotFoundError",
    "FaqPermissionError",
    "FaqRow",
    "FaqStateError",
    "FaqValidationError",
    "FieldDiff",
    "ImportResult",
    "Reminders",
    "VersionRow",
]
