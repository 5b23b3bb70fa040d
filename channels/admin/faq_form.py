"""The FAQ edit form: its fields and Korean labels, reading a submitted form, filling the form from an entry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from channels.admin.faq_types import FIELD_LABELS

MAX_FIELD_CHARS = 20_000  # far beyond any real answer; a longer field is a mistake, not content


@dataclass(frozen=True)
class Field:
    """One input of the edit form."""

    name: str
    label: str
    kind: str = "text"  # text | textarea | lines | date | url | checkbox
    hint: str = ""
    required: bool = False


FIELDS = (
    Field("question", FIELD_LABELS["question"], "textarea", "시민이 묻는 말 그대로 적어 주세요.", required=True),
    Field("alternatives", FIELD_LABELS["alternatives"], "lines", "같은 뜻의 다른 질문을 한 줄에 하나씩 적어 주세요."),
    Field("answer", FIELD_LABELS["answer"], "textarea", "챗봇이 그대로 보여 줄 답변이에요.", required=True),
    Field("category", FIELD_LABELS["category"], hint="예: 노인, 기초생활보장, 아동·가족"),
    Field("target", FIELD_LABELS["target"], hint="예: 만 65세 이상 어르신"),
    Field("tenant", FIELD_LABELS["tenant"], hint="national(전국 공통) 또는 시·군·구 코드"),
    Field("source_title", FIELD_LABELS["source.title"], required=True),
    Field("source_url", FIELD_LABELS["source.url"], "url", "https:// 로 시작하는 주소"),
    Field("updated_at", FIELD_LABELS["updated_at"], "date", required=True),
    Field("valid_from", FIELD_LABELS["valid_from"], "date", "비워 두면 게시하는 날부터 답변에 쓰여요."),
    Field("valid_until", FIELD_LABELS["valid_until"], "date", "이날이 지나면 챗봇이 이 답변을 쓰지 않아요."),
    Field("department", FIELD_LABELS["department"]),
    Field("phone", FIELD_LABELS["phone"], hint="예: 129, 02-1234-5678"),
    Field("needs_review", FIELD_LABELS["needs_review"], "checkbox", "내용이 맞는지 다시 확인해야 하면 표시해 주세요."),
)
TEXT_FIELDS = [field.name for field in FIELDS if field.kind not in ("lines", "checkbox")]


def read_form(form: Mapping[str, str]) -> dict[str, Any]:
    """The entry's fields (FaqEntry's shape) from a submitted edit form; checking them is the service's job."""
    flat = {name: form.get(name, "").replace("\r\n", "\n").strip()[:MAX_FIELD_CHARS] for name in TEXT_FIELDS}
    lines = form.get("alternatives", "").replace("\r\n", "\n")[:MAX_FIELD_CHARS].split("\n")
    data: dict[str, Any] = {
        "question": flat["question"],
        "alternatives": [line.strip() for line in lines if line.strip()],
        "answer": flat["answer"],
        "category": flat["category"],
        "target": flat["target"],
        "tenant": flat["tenant"] or "national",
        "department": flat["department"],
        "phone": flat["phone"],
        "source": {"title": flat["source_title"], "url": flat["source_url"]},
        "updated_at": flat["updated_at"] or None,
        "valid_from": flat["valid_from"] or None,
        "valid_until": flat["valid_until"] or None,
        "needs_review": form.get("needs_review") in ("on", "true", "1"),
    }
    new_id = form.get("id", "").strip()[:80]
    if new_id:
        data["id"] = new_id
    return data


def form_values(entry: Mapping[str, Any]) -> dict[str, str | bool]:
    """What each input shows for an entry (a FaqEntry-shaped dict)."""
    source = entry.get("source") or {}
    values: dict[str, str | bool] = {name: _text(entry.get(name)) for name in TEXT_FIELDS}
    values["source_title"] = _text(source.get("title") if isinstance(source, Mapping) else "")
    values["source_url"] = _text(source.get("url") if isinstance(source, Mapping) else "")
    values["alternatives"] = "\n".join(str(line) for line in entry.get("alternatives") or [])
    values["needs_review"] = bool(entry.get("needs_review"))
    values["id"] = _text(entry.get("id"))
    return values


def field_errors(problems: list[tuple[str, str]]) -> tuple[dict[str, list[str]], list[str]]:
    """Validation problems by form input (``source.title`` -> source_title); those no input owns, apart."""
    by_field: dict[str, list[str]] = {}
    general: list[str] = []
    names = {field.name for field in FIELDS} | {"id"}
    for field, message in problems:
        name = field.replace(".", "_")
        if name == "source":
            name = "source_title"
        if name in names:
            by_field.setdefault(name, []).append(message)
        else:
            general.append(message)
    return by_field, general


def prefill(args: Mapping[str, str]) -> dict[str, str | bool]:
    """A new entry's form filled from the query string (the unanswered-questions inbox links here)."""
    values = form_values({})
    for name in ("question", "answer", "category", "tenant", "alternatives"):
        if args.get(name):
            values[name] = args[name][:MAX_FIELD_CHARS]
    values["tenant"] = values["tenant"] or "national"
    return values


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
