"""What each HTTP error says to a citizen or staff member, in Korean (werkzeug's and waitress's texts are English)."""

from __future__ import annotations

GENERIC = "요청을 처리하지 못했어요. 잠시 후 다시 시도해 주세요."

MESSAGES = {
    400: "요청 형식이 올바르지 않아요. 내용을 확인한 뒤 다시 보내 주세요.",
    401: "로그인이 필요해요.",
    403: "이 작업을 할 권한이 없어요.",
    404: "요청하신 주소를 찾을 수 없어요.",
    405: "이 주소에서는 허용되지 않는 요청 방식이에요.",
    406: "요청하신 형식으로는 답할 수 없어요.",
    408: "요청이 너무 오래 걸려서 끊겼어요. 다시 보내 주세요.",
    409: "다른 변경과 겹쳤어요. 새로 고친 뒤 다시 시도해 주세요.",
    410: "더 이상 제공하지 않는 주소예요.",
    411: "요청의 길이(Content-Length)가 필요해요.",
    412: "요청의 조건이 맞지 않아요. 새로 고친 뒤 다시 시도해 주세요.",
    413: "보내신 내용이 너무 커요. 메시지를 짧게 나누어 보내 주세요.",
    414: "주소가 너무 길어요.",
    415: "지원하지 않는 형식이에요. Content-Type: application/json 으로 보내 주세요.",
    416: "요청하신 범위를 보내 드릴 수 없어요.",
    417: "요청의 Expect 헤더를 처리할 수 없어요.",
    422: "요청 내용을 처리할 수 없어요. 내용을 확인해 주세요.",
    428: "조건부 요청이 필요해요.",
    429: "요청이 너무 많아요. 잠시 후 다시 시도해 주세요.",
    431: "요청 헤더가 너무 커요.",
    500: "죄송해요. 일시적인 오류가 있었어요. 잠시 후 다시 시도해 주세요.",
    501: "지원하지 않는 요청 방식이에요.",
    502: "연결된 서비스가 응답하지 않아요. 잠시 후 다시 시도해 주세요.",
    503: "지금은 요청을 처리할 수 없어요. 잠시 후 다시 시도해 주세요.",
    504: "연결된 서비스의 응답이 늦어요. 잠시 후 다시 시도해 주세요.",
    505: "지원하지 않는 HTTP 버전이에요.",
}

CODES = {
    400: "bad_request",
    405: "method_not_allowed",
    413: "request_entity_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
    431: "request_header_fields_too_large",
    500: "internal_error",
}


def korean_message(status: int) -> str:
    """The Korean text for an HTTP status (a general one for statuses without their own)."""
    return MESSAGES.get(status, GENERIC)


def error_code(status: int, name: str | None = None) -> str:
    """A stable code for an HTTP status: werkzeug's name in snake case, or ours."""
    return CODES.get(status) or (name or "error").lower().replace(" ", "_").replace("'", "")
