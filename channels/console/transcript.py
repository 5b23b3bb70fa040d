"""The chat as staff read it: every turn labelled by who wrote it, each bot answer with its mode and sources."""

from __future__ import annotations

from typing import Any

MODE_LABELS = {
    "faq": "FAQ",
    "extractive": "문서 인용",
    "generated": "생성",
    "none": "답 없음",
    "handoff": "상담 안내",
    "unavailable": "챗봇 장애 안내",
}
ROLE_LABELS = {"citizen": "시민", "bot": "챗봇", "agent": "상담원"}

# Offered in the close dialog; the agent may also write their own reason.
CLOSE_REASONS = (
    "문의를 해결했어요",
    "담당 기관·부서로 안내했어요",
    "시민이 더 이상 답하지 않아요",
    "같은 문의가 이미 있어요 (중복)",
    "상담과 관계없는 대화예요",
)


def render_turn(turn: dict[str, Any]) -> dict[str, Any]:
    """One transcript turn for the console (text already masked by the conversation flow)."""
    meta = turn.get("meta") or {}
    role = turn["role"]
    rendered: dict[str, Any] = {
        "id": turn["id"],
        "role": role,
        "role_label": ROLE_LABELS.get(role, role),
        "text": turn["text"],
        "created_at": turn["created_at"],
    }
    if role == "citizen":
        rendered["text"] = meta.get("label") or turn["text"]
    elif role == "bot":
        mode = str(meta.get("mode") or "")
        rendered["mode"] = mode
        rendered["mode_label"] = MODE_LABELS.get(mode, "챗봇 답변")
        rendered["sources"] = [_source(s) for s in meta.get("sources") or [] if isinstance(s, dict) and s.get("title")]
        rendered["crisis"] = bool(meta.get("crisis"))
        rendered["degraded"] = bool(meta.get("degraded"))
        rendered["pending"] = bool(meta.get("stream"))  # a generated answer still being written
        rendered["feedback"] = turn.get("feedback")
    elif role == "agent":
        rendered["author"] = str(meta.get("agent") or "상담원")
    return rendered


def _source(raw: dict[str, Any]) -> dict[str, str]:
    return {
        "title": str(raw["title"]),
        "url": str(raw.get("url") or ""),
        "updated_at": str(raw.get("updated_at") or ""),
        "location": str(raw.get("location") or ""),
    }
