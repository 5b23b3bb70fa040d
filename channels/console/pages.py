"""The console's pages: the queue beside the open chat, canned responses and the audit log."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request

from channels.auth import current_actor, roles_required
from channels.auth.accounts import ROLE_LABELS
from channels.console.admin import audit_page, canned_responses
from channels.console.canned import MAX_TEXT_CHARS, MAX_TITLE_CHARS
from channels.console.payloads import page_cursor
from channels.handoff import MAX_REPLY_CHARS, REASONS, WORKS_CHATS, HandoffError, HandoffService

bp = Blueprint("pages", __name__)

ACTION_LABELS = {
    "requested": "상담 요청",
    "made_urgent": "긴급으로 바뀜",
    "opened": "열람",
    "claimed": "맡음",
    "replied": "답장",
    "noted": "내부 메모",
    "transferred": "넘김",
    "returned": "챗봇으로 돌려보냄",
    "closed": "종료",
    "cancelled": "시민이 취소",
    "escalated": "긴급 대기 시간 초과",
    "canned_added": "상용구 추가",
    "canned_edited": "상용구 수정",
    "canned_deleted": "상용구 삭제",
    "signed_in": "로그인",
    "signed_out": "로그아웃",
    "sign_in_failed": "로그인 실패",
    "locked": "계정 잠김",
    "user_added": "계정 추가",
    "user_disabled": "계정 사용 중지",
    "user_enabled": "계정 다시 사용",
    "password_reset": "비밀번호 재설정",
    "citizen_exported": "대화 내보내기",
    "citizen_deleted": "대화 삭제",
    "purged": "보관 기간 지난 기록 삭제",
    "faq_create": "FAQ 새로 만듦",
    "faq_save": "FAQ 저장",
    "faq_conflict": "FAQ 편집 충돌(따로 보관)",
    "faq_submit": "FAQ 검토 요청",
    "faq_approve": "FAQ 승인·게시",
    "faq_reject": "FAQ 반려",
    "faq_unpublish": "FAQ 게시 중단",
    "faq_rollback": "FAQ 이전 버전으로 되돌림",
    "faq_import": "FAQ 가져오기",
    "document_upload": "문서 올림",
    "document_replace": "문서 새 판으로 바꿈",
    "document_chunk_toggle": "문서 조각 사용 여부 바꿈",
    "document_disable": "문서 사용 중지",
    "document_enable": "문서 다시 사용",
    "inbox_resolved": "미답변 질문 해결",
}


@bp.app_context_processor
def _staff() -> dict[str, Any]:
    """The top bar's name and role on every console page."""
    return {"role_labels": ROLE_LABELS}


def _page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    actor = current_actor()
    return render_template(template, me=actor, role_label=ROLE_LABELS.get(actor.role, actor.role), **context), status


@bp.get("")
@roles_required(*WORKS_CHATS)
def console() -> tuple[str, int]:
    """The queue beside the open chat (side by side at 1366x768, stacked on a tablet)."""
    return _page("console/console.html", chat_id=None, max_reply=MAX_REPLY_CHARS, reasons=REASONS)


@bp.get("/chats/<int:handoff_id>")
@roles_required(*WORKS_CHATS)
def chat(handoff_id: int) -> tuple[str, int]:
    """A deep link to one chat (the same screen, with that chat open)."""
    handoffs: HandoffService = current_app.extensions["bokji.handoffs"]
    try:
        handoffs.get(handoff_id)
    except HandoffError as error:
        return _page("console/problem.html", error.status, title="상담을 찾을 수 없어요", message=error.message)
    return _page("console/console.html", chat_id=handoff_id, max_reply=MAX_REPLY_CHARS, reasons=REASONS)


@bp.get("/canned")
@roles_required(*WORKS_CHATS)
def canned() -> tuple[str, int]:
    """Canned responses: admins add, edit and delete them; agents read them here and use them in the chat view."""
    return _page("console/canned.html", canned=canned_responses().all(), max_title=MAX_TITLE_CHARS, max_text=MAX_TEXT_CHARS)


@bp.get("/audit")
@roles_required("admin")
def audit() -> tuple[str, int]:
    """The audit log, newest first, 50 to a page."""
    try:
        before = page_cursor(request.args.get("before"))
    except HandoffError as error:
        return _page("console/problem.html", error.status, title="잘못된 주소예요", message=error.message)
    return _page("console/audit.html", page=audit_page(before), actions=ACTION_LABELS, first=before is None)
