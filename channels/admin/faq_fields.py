"""Read an FAQ from a form or a file into a valid FaqEntry, with one Korean message per wrong field.

The rules are FaqEntry's own (knowledge/domain/faq.py); this module only normalizes what browsers and
spreadsheets send (text for lists and dates, flattened source fields) and says in Korean what is wrong.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import ValidationError

from knowledge.domain.faq import FaqEntry

_TEXT_FIELDS = ("id", "question", "answer", "category", "target", "department", "phone", "tenant")
_DATE_FIELDS = ("updated_at", "valid_from", "valid_until")
_TRUE = {"1", "true", "yes", "on", "y", "예", "네", "o"}

MESSAGES = {
    "id": "아이디는 영문 소문자나 숫자로 시작하고 영문 소문자, 숫자, 하이픈(-)만 써서 2~80자로 적어 주세요. 예: basic-pension-amount",
    "question": "질문을 2자 이상 적어 주세요.",
    "answer": "답변을 2자 이상 적어 주세요.",
    "source.title": "출처 제목을 적어 주세요. 예: 보건복지부 보도자료",
    "source.url": "출처 주소는 http:// 또는 https://로 시작하는 인터넷 주소로 적어 주세요.",
    "updated_at": "출처 확인일을 2026-01-31 형식으로 적어 주세요.",
    "valid_from": "게시 시작일을 2026-01-01 형식으로 적어 주세요.",
    "valid_until": "게시 종료일을 2026-12-31 형식으로 적어 주세요.",
    "needs_review": "검토 필요는 예 또는 아니요로 적어 주세요.",
    "alternatives": "다른 표현은 한 줄에 하나씩 적어 주세요.",
}
_GENERIC = "이 칸의 내용을 확인해 주세요."


def normalize(data: dict[str, Any], today: date) -> dict[str, Any]:
    """The FaqEntry fields of a form or row: trimmed text, one alternative a line, ``source`` nested."""
    out: dict[str, Any] = {}
    for name in _TEXT_FIELDS:
        value = data.get(name)
        if value is not None:
            out[name] = str(value).strip()
    alternatives = data.get("alternatives", [])
    if isinstance(alternatives, str):
        alternatives = alternatives.splitlines()
    out["alternatives"] = [str(a).strip() for a in alternatives or [] if str(a).strip()]
    source: dict[str, Any] = data["source"] if isinstance(data.get("source"), dict) else {}
    title = data.get("source_title", source.get("title", ""))
    url = data.get("source_url", source.get("url", ""))
    out["source"] = {"title": str(title or "").strip(), "url": str(url or "").strip()}
    for name in _DATE_FIELDS:
        value = data.get(name)
        if isinstance(value, str):
            value = value.strip()
        out[name] = value if value not in (None, "") else None
    if out["updated_at"] is None:
        out["updated_at"] = today.isoformat()
    review = data.get("needs_review", False)
    out["needs_review"] = review if isinstance(review, bool) else str(review).strip().lower() in _TRUE
    if not out.get("tenant"):
        out["tenant"] = "national"
    return out


def problems_of(data: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, Korean message) for every wrong field of normalized ``data``; empty when it is valid."""
    problems: dict[str, str] = {}
    try:
        entry = FaqEntry.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = [str(part) for part in error["loc"]]
            name = ".".join(loc[:2]) if loc[:1] == ["source"] else (loc[0] if loc else "")
            problems.setdefault(name, MESSAGES.get(name, _GENERIC))
        entry = None
    url = str(data.get("source", {}).get("url", ""))
    if url and not url.lower().startswith(("http://", "https://")):
        problems.setdefault("source.url", MESSAGES["source.url"])
    if entry is not None and entry.valid_from and entry.valid_until and entry.valid_until < entry.valid_from:
        problems["valid_until"] = "게시 종료일은 게시 시작일과 같거나 그 뒤여야 합니다."
    order = list(MESSAGES) + sorted(problems)
    return sorted(problems.items(), key=lambda item: order.index(item[0]) if item[0] in order else len(order))


def entry_of(data: dict[str, Any]) -> FaqEntry:
    """A valid entry from normalized data (call :func:`problems_of` first)."""
    return FaqEntry.model_validate(data)


def as_data(entry: FaqEntry) -> dict[str, Any]:
    """The JSON form kept in ``faq_versions.data``."""
    return entry.model_dump(mode="json")


def display(field: str, data: dict[str, Any]) -> str:
    """A field's value as a person reads it in a diff (lists one a line, 예/아니요, empty for unset)."""
    if field.startswith("source."):
        value: Any = (data.get("source") or {}).get(field.split(".", 1)[1], "")
    else:
        value = data.get(field)
    if isinstance(value, bool):
        return "예" if value else "아니요"
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return "" if value is None else str(value)
