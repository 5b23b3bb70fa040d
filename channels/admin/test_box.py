"""The "what would the bot answer?" box at /admin/test: the answer a citizen would get, its mode, the hits, the bars, the decision.

The action server answers (``POST /assist/explain``: the web app never loads the model or the store); every
test is kept in ``question_tests`` and listed newest first with who asked. When the action server is down the
page still opens and says so in Korean.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from flask import Blueprint, current_app, redirect, request, url_for
from flask.sansio.blueprints import BlueprintSetupState

from channels.admin.explain_client import AnswerExplainer, ExplainClient, ExplainUnavailableError
from channels.admin.page import actor, problem, render
from channels.admin.question_log import QuestionLog
from knowledge.korean.text import normalize
from knowledge.rules.privacy import mask

logger = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 1000
UNAVAILABLE = (
    "지금은 답변 서버(액션 서버)에 연결하지 못해서 시험할 수 없어요. 잠시 후 다시 해 보시고, "
    "계속 안 되면 운영 담당자에게 액션 서버가 켜져 있는지 확인해 달라고 해 주세요."
)
MODE_LABELS = {
    "faq": "FAQ 답변 그대로",
    "extractive": "문서·FAQ 문장 인용",
    "generated": "모델이 작성",
    "none": "답을 찾지 못함(상담 안내)",
}
REASON_LABELS = {
    "confident_faq": "가장 가까운 FAQ가 기준을 넘었어요",
    "confident_document": "가장 가까운 문서 구절이 기준을 넘었어요",
    "relevant_passages": "관련 구절로 모델이 답을 작성해요",
    "no_model": "관련 구절에서 문장을 그대로 옮겨요",
    "below_bar": "가장 가까운 항목도 기준에 못 미쳐요",
    "no_hits": "찾은 항목이 없어요",
    "empty": "질문이 비어 있어요",
    "crisis": "위기 신호가 있어 긴급 안내를 먼저 해요",
}

bp = Blueprint("admin_test", __name__)


@bp.record_once
def _wire(state: BlueprintSetupState) -> None:
    """One HTTP client per app and the log of tests (tests put fakes in ``app.extensions`` first)."""
    settings = state.app.extensions["bokji.settings"]
    client = ExplainClient(settings.actions_url, token=settings.actions_token.get_secret_value())
    state.app.extensions.setdefault("bokji.explain", client)
    state.app.extensions.setdefault("bokji.question_tests", QuestionLog(state.app.extensions["bokji.database"]))


def question_log() -> QuestionLog:
    """The app's record of tests."""
    return cast(QuestionLog, current_app.extensions["bokji.question_tests"])


@bp.get("/test")
def page() -> tuple[str, int]:
    """The question box (``?question=``: filled in, e.g. from the inbox) and the tests so far."""
    return _page(question=request.args.get("question", "")[:MAX_QUESTION_CHARS])


@bp.post("/test")
def ask() -> Any:
    """Try a question: keep the test and show it (its own address, so a reload does not ask again)."""
    question = mask(normalize(request.form.get("question", "")))
    if not question:
        return _page(400, error="시험할 질문을 적어 주세요.")
    if len(question) > MAX_QUESTION_CHARS:
        return _page(400, error=f"질문은 {MAX_QUESTION_CHARS:,}자까지 적을 수 있어요.", question=question[:MAX_QUESTION_CHARS])
    explainer = cast(AnswerExplainer, current_app.extensions["bokji.explain"])
    try:
        result = explainer.explain(question)
    except ExplainUnavailableError as exc:
        logger.warning("answer test: %s", exc)
        return _page(200, unavailable=UNAVAILABLE, question=question)
    test_id = question_log().add(question, result, actor().id)
    return redirect(url_for("admin.admin_test.show", test_id=test_id), 303)


@bp.get("/test/<int:test_id>")
def show(test_id: int) -> tuple[str, int]:
    """One kept test, with the list of tests beside it."""
    test = question_log().get(test_id)
    if test is None:
        return problem(404, "시험 기록이 없어요", "찾는 시험 기록이 없어요. 목록에서 다시 골라 주세요.")
    return _page(test=test, question=test.question)


def _page(status: int = 200, **context: Any) -> tuple[str, int]:
    context.setdefault("question", "")
    return render(
        "admin/test_box.html",
        status,
        tests=question_log().recent(),
        mode_labels=MODE_LABELS,
        reason_labels=REASON_LABELS,
        max_chars=MAX_QUESTION_CHARS,
        **context,
    )
