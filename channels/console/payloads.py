"""Reading the console's JSON request bodies: one object, typed fields, clear Korean 4xx errors."""

from __future__ import annotations

from typing import Any

from flask import request

from channels.handoff import HandoffError


def json_object() -> dict[str, Any]:
    """The request body as a JSON object, or a 400/415 the console shows as it is."""
    if not request.is_json:
        raise HandoffError(415, "unsupported_media_type", "Content-Type: application/json 으로 보내 주세요.")
    body = request.get_json(silent=True)  # reading the body enforces MAX_CONTENT_LENGTH (413)
    if not isinstance(body, dict):
        raise HandoffError(400, "invalid_json", "요청 형식이 올바르지 않아요. JSON 객체로 보내 주세요.")
    return body


def text_field(body: dict[str, Any], name: str, what: str, limit: int) -> str:
    """A required, non-empty string of at most ``limit`` characters (stripped)."""
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise HandoffError(400, "missing_field", f"{what}을(를) 입력해 주세요.")
    value = value.strip()
    if len(value) > limit:
        raise HandoffError(400, "text_too_long", f"{what}은(는) {limit:,}자 이내로 써 주세요.")
    return value


def id_field(body: dict[str, Any], name: str, what: str) -> int:
    """A required positive integer id."""
    value = body.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise HandoffError(400, "invalid_field", f"{what}을(를) 골라 주세요.")
    return value


def page_cursor(raw: str | None) -> int | None:
    """``?before=<id>`` of a paged list: a positive integer, or None for the first page."""
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise HandoffError(400, "invalid_cursor", "페이지 번호가 올바르지 않아요.")
    return int(raw)
