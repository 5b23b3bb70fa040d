"""The KakaoTalk skill endpoint with a stand-in for Rasa and a local receiver standing in for Kakao's callbackUrl.

Every response is checked against the SkillResponse format and Kakao's limits, and against the 5-second rule.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from channels.app import create_app
from channels.rasa_client import RasaUnavailableError
from channels.settings import AppSettings
from tests.kakao_support import (
    KAKAO_LIMIT_S,
    SOURCE,
    TOKEN,
    SlowRasa,
    ask,
    list_card,
    make_app,
    sender,
    skill_request,
    texts,
)


# ---- plain requests -------------------------------------------------------------------------------------
def test_plain_question_gets_text_sources_card_and_quick_replies(app: Flask, client: FlaskClient, rasa: SlowRasa) -> None:
    status, body, elapsed = ask(client, skill_request("기초연금 얼마 받을 수 있어요?"))
    assert status == 200 and elapsed < KAKAO_LIMIT_S
    assert "349,700원" in texts(body)
    card = list_card(body)
    assert card["items"][0]["link"]["web"] == "https://basicpension.mohw.go.kr"
    assert card["items"][0]["description"] == "2026-01-09 기준"
    assert {"action": "webLink", "label": "출처 보기", "webLinkUrl": "https://basicpension.mohw.go.kr"} in card["buttons"]
    [reply] = body["template"]["quickReplies"]
    assert reply["label"] == "기초연금 신청 방법" and reply["messageText"] == "기초연금 신청 방법"
    assert reply["extra"] == {"payload": "기초연금 어디서 신청해요?"}
    assert rasa.sent == [(sender(app, "8a1d6f0c2b7e4d9f"), "기초연금 얼마 받을 수 있어요?")]


def test_turns_are_recorded_per_kakao_user_and_masked(app: Flask, client: FlaskClient, rasa: SlowRasa) -> None:
    ask(client, skill_request("제 번호는 010-1234-5678 이에요", user_id="userA"))
    ask(client, skill_request("기초연금 얼마예요", user_id="userB"))
    assert rasa.sent[0] == (sender(app, "userA"), "제 번호는 [전화번호] 이에요")
    turns = app.extensions["bokji.transcripts"].turns(sender(app, "userA"))
    assert [t["role"] for t in turns] == ["citizen", "bot"] and "5678" not in turns[0]["text"]


def test_quick_reply_payload_from_client_extra_and_params_are_understood(app: Flask, client: FlaskClient, rasa: SlowRasa) -> None:
    rasa.replies["/request_human"] = [
        {"text": "상담원에게 연결해 드릴게요. 기다리기 어려우시면 보건복지상담센터(129)로 전화하셔도 돼요."},
        {"custom": {"sources": [SOURCE], "handoff": {"reason": "requested"}}},
    ]
    request = skill_request("상담원 연결", client_extra={"payload": "/request_human"}, params={"program": "기초연금"})
    _, body, _ = ask(client, request)
    assert rasa.sent[-1] == (sender(app, "8a1d6f0c2b7e4d9f"), "/request_human")
    assert "상담원" in texts(body)
    assert {"action": "operator", "label": "상담직원 연결"} in list_card(body)["buttons"]
    queue = app.extensions["bokji.handoffs"].queue()
    assert [(h.sender_id, h.reason, h.channel, h.state) for h in queue] == [
        (sender(app, "8a1d6f0c2b7e4d9f"), "requested", "kakao", "waiting")]  # fmt: skip
    citizen = app.extensions["bokji.transcripts"].turns(sender(app, "8a1d6f0c2b7e4d9f"))[0]
    assert citizen["text"] == "/request_human" and citizen["meta"] == {"label": "상담원 연결"}


def test_handoff_without_sources_still_offers_the_operator(client: FlaskClient, rasa: SlowRasa) -> None:
    """One response: the bot's words, the queue notice (with 129), the operator button first, and a way back."""
    rasa.default = [{"text": "상담원에게 연결해 드릴게요."}, {"custom": {"handoff": {"reason": "requested"}}}]
    _, body, _ = ask(client, skill_request("사람이랑 얘기할래요"))
    assert texts(body).startswith("상담원에게 연결해 드릴게요.") and "129" in texts(body)
    card = list_card(body)
    assert card["buttons"][0] == {"action": "operator", "label": "상담직원 연결"}
    assert "129" in card["items"][0]["title"]
    assert [r["extra"] for r in body["template"]["quickReplies"]] == [{"payload": "/cancel_handoff"}]


def test_operator_button_can_be_turned_off(tmp_path: Path, rasa: SlowRasa) -> None:
    rasa.default = [{"text": "상담원에게 연결해 드릴게요."}, {"custom": {"handoff": {"reason": "requested"}}}]
    app = make_app(tmp_path, rasa, operator_button=False)
    _, body, _ = ask(app.test_client(), skill_request("사람이랑 얘기할래요"))
    assert "operator" not in json.dumps(body)
    app.extensions["bokji.kakao"].close()


# ---- the shared secret ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("token", "path"), [(None, "/kakao/skill"), ("wrong", "/kakao/skill"), (None, "/kakao/skill/wrong")])
def test_requests_without_the_secret_are_refused_with_a_valid_body(
    client: FlaskClient, rasa: SlowRasa, token: str | None, path: str
) -> None:
    status, body, _ = ask(client, skill_request("기초연금"), token=token, path=path)
    assert status == 401 and "허용되지 않은" in texts(body)
    assert rasa.sent == []


def test_the_secret_may_be_in_the_path(client: FlaskClient, rasa: SlowRasa) -> None:
    status, body, _ = ask(client, skill_request("기초연금"), token=None, path=f"/kakao/skill/{TOKEN}")
    assert status == 200 and "349,700원" in texts(body)


def test_without_a_configured_secret_the_endpoint_is_off(tmp_path: Path, rasa: SlowRasa) -> None:
    app = create_app(AppSettings(data_dir=tmp_path), engine=rasa)
    status, body, _ = ask(app.test_client(), skill_request("기초연금"), token="")
    assert status == 403 and "준비되지 않았어요" in texts(body)
    assert rasa.sent == []
    assert app.test_client().get("/kakao/health").get_json() == {"kakao": "not_configured"}


def test_the_secret_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BOKJI_KAKAO__TOKEN", "from-env")
    monkeypatch.setenv("BOKJI_KAKAO__ANSWER_BUDGET_S", "2.5")
    settings = AppSettings(data_dir=tmp_path)
    assert settings.kakao.token.get_secret_value() == "from-env" and settings.kakao.answer_budget_s == 2.5
    assert "from-env" not in repr(settings)


# ---- malformed and oversized ----------------------------------------------------------------------------
MALFORMED: list[Any] = [
    b"",
    b"not json at all",
    b'{"userRequest": ',
    b"\xff\xfe\x00garbage",
    [],
    "문자열",
    {},
    {"userRequest": None},
    {"userRequest": {"utterance": "기초연금"}},
    {"userRequest": {"utterance": "기초연금", "user": {"type": "botUserKey"}}},
    {"userRequest": {"utterance": "기초연금", "user": {"id": 12345}}},
    {"userRequest": {"utterance": "기초연금", "user": {"id": "has space"}}},
    {"userRequest": {"utterance": "기초연금", "user": {"id": "x" * 200}}},
    {"userRequest": {"utterance": ["기초연금"], "user": {"id": "u1"}}},
    {"userRequest": {"utterance": None, "user": {"id": "u1"}}},
    {"userRequest": {"utterance": "기초연금", "user": "u1"}},
    # Well-formed enough to answer: a bad callbackUrl and action are ignored, not a reason to refuse the question.
    {"userRequest": {"utterance": "기초연금", "user": {"id": "u1"}, "callbackUrl": 5}, "action": "x"},
]


@pytest.mark.parametrize("body", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_requests_get_a_korean_skill_response(app: Flask, client: FlaskClient, rasa: SlowRasa, body: Any) -> None:
    status, response, elapsed = ask(client, body)
    assert status == 200 and elapsed < KAKAO_LIMIT_S
    if body is MALFORMED[-1]:
        assert rasa.sent == [(sender(app, "u1"), "기초연금")] and "349,700원" in texts(response)
    else:
        assert rasa.sent == [] and "이해하지 못했어요" in texts(response)


@pytest.mark.parametrize("utterance", ["", "   ", "\n"])
def test_empty_utterance_asks_for_words(client: FlaskClient, rasa: SlowRasa, utterance: str) -> None:
    _, body, _ = ask(client, skill_request(utterance))
    assert "비어 있어요" in texts(body) and rasa.sent == []


def test_oversized_body_and_overlong_utterance_get_a_polite_answer(client: FlaskClient, rasa: SlowRasa) -> None:
    _, body, _ = ask(client, skill_request("가" * 100_000))
    assert "너무 커요" in texts(body)
    _, body, _ = ask(client, skill_request("가" * 1001))
    assert "1,000자 이내" in texts(body)
    assert rasa.sent == []
    _, body, _ = ask(client, skill_request("기초연금"))
    assert "349,700원" in texts(body)


def test_a_failing_conversation_still_answers_in_format(client: FlaskClient, rasa: SlowRasa) -> None:
    rasa.error = RuntimeError("boom")
    _, body, _ = ask(client, skill_request("기초연금 얼마예요"))
    assert "죄송해요" in texts(body) and "boom" not in json.dumps(body)
    rasa.error = RasaUnavailableError("down")
    _, body, _ = ask(client, skill_request("너무 힘들어서 죽고 싶어요"))
    assert texts(body).index("109") < texts(body).index("129")
