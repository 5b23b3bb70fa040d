""" "What would the bot answer?": the action server's POST /assist/explain in process, and the /admin/test page."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from langchain_core.language_models import BaseChatModel
from langchain_core.outputs import ChatResult
from sanic import Sanic

from actions.explain import Explainer
from actions.server import build_app
from actions.settings import ActionServerSettings
from channels.admin.explain_client import ExplainClient, ExplainUnavailableError
from channels.store.models import QuestionTest
from knowledge.answering.service import KnowledgeService
from knowledge.ingestion.seed_files import load_helplines
from knowledge.korean.analyzer import KiwiAnalyzer
from knowledge.retrieval.embeddings import E5Embeddings
from knowledge.settings import RetrievalSettings
from tests.unit.fakes import ScriptedRasa
from tests.unit.test_admin_pages import FakePublisher, Staff, build
from tests.unit.test_assist_suggestions import _lifespan, knowledge  # noqa: F401 - the module's knowledge base fixture
from tests.unit.test_document_answers import COPAY_Q, COPAY_SENTENCE

FAQ_Q = "기초연금 얼마 받을 수 있어요?"


class NeverCalled(BaseChatModel):
    """A configured model the test box must leave alone."""

    @property
    def _llm_type(self) -> str:
        return "never-called"

    def _generate(self, *args: Any, **kwargs: Any) -> ChatResult:
        raise AssertionError("the test box asked the model")


@pytest.fixture
def explain(knowledge: KnowledgeService, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:  # noqa: F811
    """POST to the real action server app (rasa-sdk's Sanic app plus our routes) in process, through ASGI."""
    monkeypatch.setattr(Sanic, "test_mode", True)
    app = build_app(knowledge, ActionServerSettings())

    async def exchange(raw: bytes) -> httpx.Response:
        startup = await _lifespan(app)
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://actions") as client:
                return await client.post("/assist/explain", content=raw, headers={"Content-Type": "application/json"})
        finally:
            startup.cancel()

    def _post(body: Any = None, raw: bytes | None = None) -> httpx.Response:
        return asyncio.run(exchange(raw if raw is not None else json.dumps(body, ensure_ascii=False).encode()))

    yield _post


# -- the action server ---------------------------------------------------------------------------------------


def test_an_faq_question_shows_the_curated_answer_its_hits_bars_and_decision(explain: Any) -> None:
    response = explain({"question": FAQ_Q})
    assert response.status_code == 200
    body = response.json()
    assert body["answer"]["mode"] == "faq" and body["bot_mode"] == "faq" and body["would_generate"] is False
    assert "기초연금" in body["answer"]["text"] and body["answer"]["sources"][0]["title"]
    top = body["hits"][0]
    assert top["doc_id"] == "basic-pension-amount" and top["kind"] == "faq" and top["title"]
    assert top["above_bar"] is True and top["dense"] >= top["bar"] == body["thresholds"]["faq_min_dense"] == 0.94
    assert {"score", "dense", "keyword"} <= set(top) and len(body["hits"]) > 1
    decision = body["decision"]
    assert decision["mode"] == "faq" and decision["reason"] == "confident_faq" and decision["checks"]["confident"] is True
    assert [h["doc_id"] for h in decision["hits"]] == [h["doc_id"] for h in body["hits"]]
    assert decision["thresholds"]["generate_min_dense"] == body["thresholds"]["generate_min_dense"]


def test_a_question_the_knowledge_base_cannot_answer_is_mode_none_with_the_reason(explain: Any) -> None:
    body = explain({"question": "반려견 동물등록은 어디서 하나요?"}).json()
    assert body["answer"]["mode"] == "none" and body["bot_mode"] == "none"
    assert "129" in body["answer"]["text"]
    assert body["decision"]["reason"] in ("below_bar", "no_hits") or body["decision"]["reason"].startswith("out_of_scope")
    assert body["decision"]["checks"].get("confident") is False


def test_a_document_passage_is_quoted_with_its_source(explain: Any) -> None:
    body = explain({"question": COPAY_Q}).json()
    assert body["answer"]["mode"] == "extractive" and COPAY_SENTENCE in body["answer"]["text"]
    assert body["hits"][0]["kind"] == "document" and body["hits"][0]["bar"] == body["thresholds"]["document_min_dense"]


def test_a_crisis_message_gets_the_crisis_reply_as_the_bot_would_give_it(explain: Any) -> None:
    body = explain({"question": "요즘 너무 힘들어서 죽고 싶어요"}).json()
    assert body["crisis"] and body["decision"]["reason"] == "crisis" and body["hits"] == []
    assert "109" in body["answer"]["text"]


def test_where_the_bot_would_use_its_model_the_box_says_so_and_shows_the_extractive_fallback(
    knowledge: KnowledgeService,  # noqa: F811
    embeddings: E5Embeddings,
    analyzer: KiwiAnalyzer,
) -> None:
    # faq_min_dense=1.0: no FAQ is confident, so a relevant question goes to the model.
    with_model = KnowledgeService(
        knowledge.store, embeddings, RetrievalSettings(faq_min_dense=1.0), load_helplines(), llm=NeverCalled(), analyzer=analyzer
    )
    body = Explainer(with_model).explain(FAQ_Q)
    assert body["would_generate"] is True and body["bot_mode"] == "generated"
    assert body["answer"]["mode"] == "extractive" and body["answer"]["text"]
    assert body["decision"]["model_skipped"] == "explain_without_model"
    assert Explainer(knowledge).explain(FAQ_Q)["would_generate"] is False  # no model configured: nothing to say


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (b"{}", 400, "missing_question"),
        (b'{"question": "   "}', 400, "missing_question"),
        (b"not json", 400, "bad_json"),
        (b"[1]", 400, "bad_request"),
        (json.dumps({"question": "가" * 1001}).encode(), 413, "question_too_long"),
        (b"x" * 9000, 413, "too_large"),
    ],
)
def test_bad_requests_get_a_4xx(explain: Any, raw: bytes, status: int, code: str) -> None:
    response = explain(raw=raw)
    assert response.status_code == status and response.json()["error"] == code


# -- the web page -----------------------------------------------------------------------------------------------


class FakeExplainer:
    """The action server as the page sees it: the real explainer in process, or down."""

    def __init__(self, explainer: Explainer | None) -> None:
        self.explainer = explainer
        self.asked: list[str] = []

    def explain(self, question: str) -> dict[str, Any]:
        self.asked.append(question)
        if self.explainer is None:
            raise ExplainUnavailableError("connection refused")
        return self.explainer.explain(question)


@pytest.fixture
def rasa() -> ScriptedRasa:
    return ScriptedRasa()


@pytest.fixture
def web(tmp_path: Path, rasa: ScriptedRasa, knowledge: KnowledgeService) -> Flask:  # noqa: F811
    app = build(tmp_path, rasa, FakePublisher())
    app.extensions["bokji.explain"] = FakeExplainer(Explainer(knowledge))
    return app


def kept(app: Flask) -> list[QuestionTest]:
    with app.extensions["bokji.database"].session() as session:
        return list(session.query(QuestionTest).order_by(QuestionTest.id))


def test_an_editor_sees_the_answer_mode_hits_thresholds_and_decision_and_the_test_is_kept(web: Flask) -> None:
    lee = Staff(web, "lee")
    asked = lee.post("/admin/test", {"question": FAQ_Q})
    assert asked.status_code == 303 and "/admin/test/" in asked.headers["Location"]
    html = lee.page(asked.headers["Location"])
    assert "FAQ 답변 그대로" in html and "가장 가까운 FAQ가 기준을 넘었어요" in html
    assert 'href="/admin/faqs/basic-pension-amount"' in html and "<strong>넘음</strong>" in html
    assert "FAQ를 그대로 답하는 유사도" in html and "0.94" in html
    assert "전체 결정 기록(JSON)" in html and "confident_faq" in html
    (test,) = kept(web)
    assert test.question == FAQ_Q and json.loads(test.result)["answer"]["mode"] == "faq"

    Staff(web, "choi").post("/admin/test", {"question": COPAY_Q})
    listing = lee.page("/admin/test").split('id="tests-title"', 1)[1]
    assert listing.index(COPAY_Q) < listing.index(FAQ_Q)  # newest first
    assert "최관리" in listing and "이편집" in listing  # who asked


def test_personal_details_are_masked_before_they_leave_the_web_app_or_are_kept(web: Flask) -> None:
    lee = Staff(web, "lee")
    lee.post("/admin/test", {"question": "010-1234-5678로 기초연금 얼마 받을 수 있어요?"})
    fake: FakeExplainer = web.extensions["bokji.explain"]
    assert "010-1234-5678" not in fake.asked[0] and "[전화번호]" in fake.asked[0]
    assert "010-1234-5678" not in kept(web)[0].question


def test_action_server_down_gives_a_korean_notice_on_a_200_page_and_keeps_nothing(web: Flask) -> None:
    web.extensions["bokji.explain"] = FakeExplainer(None)
    response = Staff(web, "lee").post("/admin/test", {"question": FAQ_Q})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "답변 서버(액션 서버)에 연결하지 못해서" in html
    assert FAQ_Q in html  # the question stays in the box to try again
    assert kept(web) == []


def test_the_client_reports_a_down_slow_or_old_action_server_as_unavailable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(ExplainUnavailableError):
        ExplainClient("http://actions", transport=httpx.MockTransport(refuse)).explain(FAQ_Q)
    old = httpx.MockTransport(lambda request: httpx.Response(404, json={"error": "not found"}))
    with pytest.raises(ExplainUnavailableError):
        ExplainClient("http://actions", transport=old).explain(FAQ_Q)
    odd = httpx.MockTransport(lambda request: httpx.Response(200, json={"suggestions": []}))
    with pytest.raises(ExplainUnavailableError):
        ExplainClient("http://actions", transport=odd).explain(FAQ_Q)


def test_bad_input_and_guards(web: Flask) -> None:
    lee = Staff(web, "lee")
    empty = lee.post("/admin/test", {"question": "   "})
    assert empty.status_code == 400 and "시험할 질문을 적어 주세요" in empty.get_data(as_text=True)
    long = lee.post("/admin/test", {"question": "기초연금 " * 300})
    assert long.status_code == 400 and "1,000자까지" in long.get_data(as_text=True)
    assert lee.client.post("/admin/test", data={"question": FAQ_Q}).status_code == 400  # no CSRF token
    assert lee.get("/admin/test/999").status_code == 404
    assert Staff(web, "jung").get("/admin/test").status_code == 403
    anonymous = web.test_client().get("/admin/test")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert kept(web) == []
    prefilled = lee.page("/admin/test?question=주거급여 신청")
    assert ">주거급여 신청</textarea>" in prefilled
