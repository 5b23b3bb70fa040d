"""The staff console as an agent and an admin use it: queue, chat actions, canned responses, audit, live stream, bad input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient

from channels.app import create_app
from channels.console.events import LIFETIME_CONFIG
from channels.handoff import CLOSED, RETURNED, HandoffService
from channels.settings import AppSettings, HandoffSettings
from channels.store.models import AuditEntry, CannedResponse, Handoff, Note, Turn
from tests.unit.fakes import ScriptedRasa
from tests.unit.staff_support import csrf_token, make_staff, sign_in


@pytest.fixture
def rasa() -> ScriptedRasa:
    return ScriptedRasa()


def cheap_hashes(app: Flask) -> Flask:
    """Argon2 at its lowest cost: these tests are about the console, and a loaded 2-core box signs in many times."""
    app.extensions["bokji.accounts"].hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    return app


@pytest.fixture
def staffed(app: Flask) -> Flask:
    cheap_hashes(app)
    make_staff(app, "kim", "agent", name="김상담")
    make_staff(app, "park", "agent", name="박상담")
    make_staff(app, "choi", "admin", name="최관리")
    make_staff(app, "lee", "editor", name="이편집")
    return app


class Staff:
    """A signed-in browser: JSON calls with the CSRF header."""

    def __init__(self, app: Flask, username: str) -> None:
        self.client = app.test_client()
        self.token = sign_in(self.client, username)

    def get(self, path: str) -> Any:
        return self.client.get(path)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.client.post(path, json=body or {}, headers={"X-CSRFToken": self.token})

    def put(self, path: str, body: dict[str, Any]) -> Any:
        return self.client.put(path, json=body, headers={"X-CSRFToken": self.token})

    def delete(self, path: str) -> Any:
        return self.client.delete(path, headers={"X-CSRFToken": self.token})


def handoffs(app: Flask) -> HandoffService:
    return app.extensions["bokji.handoffs"]


def say(app: Flask, session_id: str, text: str) -> dict[str, Any]:
    """The citizen writes in the widget."""
    response = app.test_client().post("/api/v1/widget/chat", json={"session_id": session_id, "text": text})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def history(app: Flask, session_id: str) -> list[dict[str, Any]]:
    return app.test_client().get(f"/api/v1/history?session_id={session_id}").get_json()["messages"]


def waiting_chat(app: Flask, session_id: str = "s1", urgent: bool = False) -> int:
    """A citizen asked something, then asked for a person."""
    say(app, session_id, "기초연금 얼마예요?")
    view, _ = handoffs(app).request(f"web:{session_id}", "crisis" if urgent else "requested", urgent)
    return view.id


# --- pages --------------------------------------------------------------------------------------------------


def test_console_page_is_korean_with_skip_link_landmarks_and_who_is_signed_in(staffed: Flask) -> None:
    kim = Staff(staffed, "kim")
    html = kim.get("/console").get_data(as_text=True)
    assert '<html lang="ko">' in html
    assert 'href="#main"' in html and "본문으로 건너뛰기" in html
    assert "<main" in html and "<nav" in html and "<header" in html
    assert "김상담" in html and "상담원" in html
    assert 'name="csrf-token"' in html
    assert "내부 메모 (시민에게 보이지 않음)" in html


def test_deep_link_opens_one_chat_and_an_unknown_chat_is_a_404_page(staffed: Flask) -> None:
    chat_id = waiting_chat(staffed)
    kim = Staff(staffed, "kim")
    page = kim.get(f"/console/chats/{chat_id}")
    assert page.status_code == 200 and f'data-chat-id="{chat_id}"' in page.get_data(as_text=True)
    missing = kim.get("/console/chats/999")
    assert missing.status_code == 404 and "그런 상담을 찾을 수 없어요" in missing.get_data(as_text=True)


def test_pages_send_strangers_to_sign_in_and_refuse_the_wrong_role(staffed: Flask) -> None:
    for path in ("/console", "/console/canned", "/console/audit", "/console/chats/1"):
        response = staffed.test_client().get(path)
        assert response.status_code == 302 and "/console/login" in response.headers["Location"], path
    editor = Staff(staffed, "lee")
    for path in ("/console", "/console/canned", "/console/audit"):
        assert editor.get(path).status_code == 403, path
    assert Staff(staffed, "kim").get("/console/audit").status_code == 403


# --- the queue and the chat ---------------------------------------------------------------------------------


def test_queue_puts_a_crisis_above_an_older_ordinary_request(staffed: Flask) -> None:
    ordinary = waiting_chat(staffed, "older")
    say(staffed, "crisis", "요즘 너무 힘들어서 죽고 싶어요")
    queue = Staff(staffed, "kim").get("/console/api/queue").get_json()["queue"]
    assert [q["sender_id"] for q in queue] == ["web:crisis", "web:older"]
    assert queue[0]["urgent"] is True and queue[0]["reason_label"] == "위기 신호"
    assert queue[1]["id"] == ordinary and queue[1]["urgent"] is False and queue[1]["reason_label"] == "상담 요청"


def test_opening_a_chat_shows_the_whole_transcript_with_modes_and_sources(staffed: Flask) -> None:
    chat_id = waiting_chat(staffed)
    chat = Staff(staffed, "kim").get(f"/console/api/chats/{chat_id}").get_json()
    assert chat["handoff"]["state"] == "waiting"
    citizen, bot = chat["turns"][:2]
    assert (citizen["role_label"], citizen["text"]) == ("시민", "기초연금 얼마예요?")
    assert bot["role_label"] == "챗봇" and bot["mode_label"] == "FAQ"
    assert bot["sources"][0]["title"] == "기초연금 안내" and bot["sources"][0]["updated_at"] == "2026-01-09"
    assert [a["name"] for a in chat["agents"]] == ["박상담", "최관리"]  # whom kim could transfer to
    assert chat["close_reasons"]


def test_claim_and_a_second_agent_is_told_who_has_it(staffed: Flask) -> None:
    chat_id = waiting_chat(staffed)
    kim, park = Staff(staffed, "kim"), Staff(staffed, "park")
    claimed = kim.post(f"/console/api/chats/{chat_id}/claim")
    assert claimed.status_code == 200 and claimed.get_json()["handoff"]["agent_name"] == "김상담"
    late = park.post(f"/console/api/chats/{chat_id}/claim")
    assert late.status_code == 409
    assert "김상담님이 이미" in late.get_json()["error"]["message"]
    assert handoffs(staffed).get(chat_id).agent_name == "김상담"
    assert any(m["text"].startswith("상담원이 연결되었어요") for m in history(staffed, "s1"))


def test_reply_reaches_the_citizen_and_the_bot_stays_silent(staffed: Flask, rasa: ScriptedRasa) -> None:
    chat_id = waiting_chat(staffed)
    kim = Staff(staffed, "kim")
    kim.post(f"/console/api/chats/{chat_id}/claim")
    reply = kim.post(f"/console/api/chats/{chat_id}/reply", {"text": "안녕하세요, 김상담이에요. 무엇을 도와드릴까요?"})
    assert reply.status_code == 200 and reply.get_json()["turn"]["author"] == "김상담"
    last = history(staffed, "s1")[-1]
    assert (last["role"], last["text"]) == ("agent", "안녕하세요, 김상담이에요. 무엇을 도와드릴까요?")
    sent = len(rasa.sent)
    answer = say(staffed, "s1", "제가 받을 수 있는 지원이 궁금해요")
    assert answer["messages"] == [] and len(rasa.sent) == sent
    turns = kim.get(f"/console/api/chats/{chat_id}").get_json()["turns"]
    assert turns[-1]["role"] == "citizen" and turns[-1]["text"] == "제가 받을 수 있는 지원이 궁금해요"
    assert [t["role_label"] for t in turns if t["role"] == "agent"] == ["상담원"]


def test_a_note_never_reaches_the_citizen(staffed: Flask) -> None:
    chat_id = waiting_chat(staffed)
    kim = Staff(staffed, "kim")
    noted = kim.post(f"/console/api/chats/{chat_id}/note", {"text": "주민센터 확인 필요 (내부)"})
    assert noted.status_code == 200
    assert noted.get_json()["notes"][0]["author"] == "김상담"
    assert all("주민센터 확인 필요" not in m["text"] for m in history(staffed, "s1"))
    chat = kim.get(f"/console/api/chats/{chat_id}").get_json()
    assert [n["text"] for n in chat["notes"]] == ["주민센터 확인 필요 (내부)"]
    assert all("주민센터 확인 필요" not in t["text"] for t in chat["turns"])


def test_transfer_gives_the_chat_to_another_agent(staffed: Flask) -> None:
    chat_id = waiting_chat(staffed)
    kim, park = Staff(staffed, "kim"), Staff(staffed, "park")
    kim.post(f"/console/api/chats/{chat_id}/claim")
    agents = {a["name"]: a["id"] for a in kim.get(f"/console/api/chats/{chat_id}").get_json()["agents"]}
    editor_id = make_staff(staffed, "editor2", "editor").id
    refused = kim.post(f"/console/api/chats/{chat_id}/transfer", {"agent_id": editor_id})
    assert refused.status_code == 400 and handoffs(staffed).get(chat_id).agent_name == "김상담"
    moved = kim.post(f"/console/api/chats/{chat_id}/transfer", {"agent_id": agents["박상담"]})
    assert moved.status_code == 200 and moved.get_json()["handoff"]["agent_name"] == "박상담"
    no_longer = kim.post(f"/console/api/chats/{chat_id}/reply", {"text": "제가 답할게요"})
    assert no_longer.status_code == 403 and "박상담님이 맡은 상담" in no_longer.get_json()["error"]["message"]
    assert park.post(f"/console/api/chats/{chat_id}/reply", {"text": "박상담이 이어서 도와드릴게요."}).status_code == 200


def test_return_hands_the_chat_back_to_the_bot(staffed: Flask, rasa: ScriptedRasa) -> None:
    chat_id = waiting_chat(staffed)
    kim = Staff(staffed, "kim")
    kim.post(f"/console/api/chats/{chat_id}/claim")
    returned = kim.post(f"/console/api/chats/{chat_id}/return")
    assert returned.status_code == 200 and returned.get_json()["handoff"]["state"] == "returned"
    assert history(staffed, "s1")[-1]["text"] == RETURNED
    sent = len(rasa.sent)
    answer = say(staffed, "s1", "기초연금 신청은 어디서 해요?")
    assert len(rasa.sent) == sent + 1 and answer["messages"][0]["text"].startswith("2026년 기초연금은")
    assert all(q["id"] != chat_id for q in kim.get("/console/api/queue").get_json()["queue"])


def test_close_needs_a_reason_and_tells_the_citizen(staffed: Flask) -> None:
    chat_id = waiting_chat(staffed)
    kim = Staff(staffed, "kim")
    kim.post(f"/console/api/chats/{chat_id}/claim")
    blank = kim.post(f"/console/api/chats/{chat_id}/close", {"reason": "  "})
    assert blank.status_code == 400 and handoffs(staffed).get(chat_id).state == "with_agent"
    closed = kim.post(f"/console/api/chats/{chat_id}/close", {"reason": "문의를 해결했어요"})
    assert closed.status_code == 200
    assert closed.get_json()["handoff"]["close_reason"] == "문의를 해결했어요"
    assert history(staffed, "s1")[-1]["text"] == CLOSED
    assert kim.get("/console/api/queue").get_json()["queue"] == []


def test_typing_ping_is_only_for_the_holder(staffed: Flask) -> None:
    chat_id = waiting_chat(staffed)
    kim, park = Staff(staffed, "kim"), Staff(staffed, "park")
    assert kim.post(f"/console/api/chats/{chat_id}/typing").status_code == 409  # not claimed yet
    kim.post(f"/console/api/chats/{chat_id}/claim")
    assert kim.post(f"/console/api/chats/{chat_id}/typing").status_code == 200
    assert handoffs(staffed).get(chat_id).agent_typing is True
    assert park.post(f"/console/api/chats/{chat_id}/typing").status_code == 403


# --- canned responses and audit -----------------------------------------------------------------------------


def test_canned_responses_admins_edit_and_agents_read(staffed: Flask) -> None:
    admin, kim = Staff(staffed, "choi"), Staff(staffed, "kim")
    added = admin.post("/console/api/canned", {"title": "인사", "text": "안녕하세요, 복지 상담원이에요."})
    assert added.status_code == 201
    canned_id = added.get_json()["canned"]["id"]
    assert admin.post("/console/api/canned", {"title": "인사", "text": "또"}).status_code == 409
    assert kim.get("/console/api/canned").get_json()["canned"][0]["text"] == "안녕하세요, 복지 상담원이에요."
    assert kim.post("/console/api/canned", {"title": "몰래", "text": "x"}).status_code == 403
    assert kim.put(f"/console/api/canned/{canned_id}", {"title": "인사", "text": "바꿈"}).status_code == 403
    assert kim.delete(f"/console/api/canned/{canned_id}").status_code == 403
    assert [c["text"] for c in kim.get("/console/api/canned").get_json()["canned"]] == ["안녕하세요, 복지 상담원이에요."]
    edited = admin.put(f"/console/api/canned/{canned_id}", {"title": "첫 인사", "text": "반가워요."})
    assert edited.status_code == 200 and edited.get_json()["canned"]["title"] == "첫 인사"
    page = kim.get("/console/canned").get_data(as_text=True)
    assert "반가워요." in page and "data-canned-form" not in page  # agents read, no edit form
    assert "data-canned-form" in admin.get("/console/canned").get_data(as_text=True)
    assert admin.delete(f"/console/api/canned/{canned_id}").status_code == 200
    assert admin.delete(f"/console/api/canned/{canned_id}").status_code == 404
    assert kim.get("/console/api/canned").get_json()["canned"] == []


def test_audit_is_admin_only_and_lists_every_action_newest_first(staffed: Flask) -> None:
    chat_id = waiting_chat(staffed)
    kim, admin = Staff(staffed, "kim"), Staff(staffed, "choi")
    park_id = next(a["id"] for a in kim.get(f"/console/api/chats/{chat_id}").get_json()["agents"] if a["name"] == "박상담")
    kim.post(f"/console/api/chats/{chat_id}/claim")
    kim.post(f"/console/api/chats/{chat_id}/reply", {"text": "안녕하세요"})
    kim.post(f"/console/api/chats/{chat_id}/note", {"text": "메모"})
    kim.post(f"/console/api/chats/{chat_id}/transfer", {"agent_id": park_id})
    admin.post(f"/console/api/chats/{chat_id}/close", {"reason": "중복"})
    assert kim.get("/console/api/audit").status_code == 403
    entries = admin.get("/console/api/audit").get_json()["entries"]
    chat_entries = [(e["actor"], e["action"]) for e in entries if e["handoff_id"] == chat_id]
    assert chat_entries == [
        ("최관리", "closed"),
        ("김상담", "transferred"),
        ("김상담", "noted"),
        ("김상담", "replied"),
        ("김상담", "claimed"),
        ("김상담", "opened"),
        ("시스템", "requested"),
    ]
    assert [e["id"] for e in entries] == sorted((e["id"] for e in entries), reverse=True)
    page = admin.get("/console/audit").get_data(as_text=True)
    assert "감사 기록" in page and "맡음" in page and "김상담" in page
    older = admin.get(f"/console/api/audit?before={entries[0]['id']}").get_json()["entries"]
    assert older == entries[1:]
    assert admin.get("/console/api/audit?before=abc").status_code == 400


# --- bad input: a clear 4xx, never a 500, nothing changed ---------------------------------------------------

CHAT_POSTS = [
    ("claim", {}),
    ("reply", {"text": "답장"}),
    ("note", {"text": "메모"}),
    ("typing", {}),
    ("transfer", {"agent_id": 2}),
    ("return", {}),
    ("close", {"reason": "해결"}),
]
ADMIN_WRITES = [("POST", "/console/api/canned", {"title": "t", "text": "x"}), ("PUT", "/console/api/canned/{canned}", {"title": "t", "text": "x"}), ("DELETE", "/console/api/canned/{canned}", None)]  # fmt: skip
GETS = ["/console/api/queue", "/console/api/chats/{chat}", "/console/api/canned", "/console/api/audit", "/console/api/events"]


def endpoints(chat: int, canned: int) -> list[tuple[str, str, dict[str, Any] | None]]:
    rows: list[tuple[str, str, dict[str, Any] | None]] = [("GET", p, None) for p in GETS]
    rows += [("POST", f"/console/api/chats/{{chat}}/{name}", body) for name, body in CHAT_POSTS]
    rows += ADMIN_WRITES
    return [(m, p.format(chat=chat, canned=canned), b) for m, p, b in rows]


def snapshot(app: Flask) -> dict[str, Any]:
    with app.extensions["bokji.database"].session() as session:
        return {
            "handoffs": [(h.id, h.state, h.agent_id, h.close_reason, h.agent_typing_until) for h in session.query(Handoff)],
            "turns": session.query(Turn).count(),
            "notes": session.query(Note).count(),
            "canned": [(c.id, c.title, c.text) for c in session.query(CannedResponse)],
            "audit": session.query(AuditEntry).count(),
        }


@pytest.fixture
def held(staffed: Flask) -> tuple[Flask, int, int, dict[str, Staff]]:
    """A chat kim holds and one canned response, with every role signed in."""
    chat_id = waiting_chat(staffed)
    people = {name: Staff(staffed, name) for name in ("kim", "choi", "lee")}
    people["kim"].post(f"/console/api/chats/{chat_id}/claim")
    canned = people["choi"].post("/console/api/canned", {"title": "인사", "text": "안녕하세요"}).get_json()["canned"]["id"]
    return staffed, chat_id, canned, people


def call(client: FlaskClient, method: str, path: str, **kwargs: Any) -> Any:
    return client.open(path, method=method, **kwargs)


def test_bad_input_matrix_gets_a_clear_4xx_and_changes_nothing(held: tuple[Flask, int, int, dict[str, Staff]]) -> None:
    app, chat_id, canned, people = held
    before = snapshot(app)
    stranger = app.test_client()
    stranger_token = csrf_token(stranger, "/console/login")
    admin_only = {"/console/api/audit", "/console/api/canned"}
    failures: list[str] = []

    def expect(label: str, response: Any, status: int) -> None:
        body = response.get_json(silent=True)
        if response.status_code != status or not (body and body.get("error", {}).get("message")):
            failures.append(f"{label}: {response.status_code} {response.get_data(as_text=True)[:120]}")

    for method, path, body in endpoints(chat_id, canned):
        writes = method != "GET"
        kwargs: dict[str, Any] = {"json": body or {}} if writes else {}
        # Unauthenticated (with a valid anonymous CSRF token, so the sign-in check is what answers).
        expect(f"anonymous {method} {path}", call(stranger, method, path, headers={"X-CSRFToken": stranger_token}, **kwargs), 401)
        # An editor has no business in the console.
        lee = people["lee"]
        expect(f"editor {method} {path}", call(lee.client, method, path, headers={"X-CSRFToken": lee.token}, **kwargs), 403)
        # An agent on admin endpoints.
        kim = people["kim"]
        if path.startswith("/console/api/audit") or (writes and path.startswith("/console/api/canned")):
            expect(f"agent {method} {path}", call(kim.client, method, path, headers={"X-CSRFToken": kim.token}, **kwargs), 403)
        if not writes:
            continue
        actor = people["choi"] if path.startswith("/console/api/canned") or path in admin_only else kim
        expect(f"no csrf {method} {path}", call(actor.client, method, path, **kwargs), 400)
        oversized = json.dumps({"text": "가" * 20000})
        expect(
            f"oversized {method} {path}",
            call(
                actor.client, method, path, data=oversized, content_type="application/json", headers={"X-CSRFToken": actor.token}
            ),
            413,
        )
        if method != "DELETE":
            expect(
                f"malformed {method} {path}",
                call(
                    actor.client,
                    method,
                    path,
                    data="{not json",
                    content_type="application/json",
                    headers={"X-CSRFToken": actor.token},
                ),
                400,
            )
    # Unknown chat or canned response: 404.
    kim, admin = people["kim"], people["choi"]
    expect("unknown chat GET", kim.get("/console/api/chats/999"), 404)
    expect("unknown chat stream", kim.get("/console/api/events?chat=999"), 404)
    expect("bad chat stream", kim.get("/console/api/events?chat=abc"), 400)
    for name, body in CHAT_POSTS:
        expect(f"unknown chat {name}", kim.post(f"/console/api/chats/999/{name}", body), 404)
    expect("unknown canned PUT", admin.put("/console/api/canned/999", {"title": "t", "text": "x"}), 404)
    expect("unknown canned DELETE", admin.delete("/console/api/canned/999"), 404)
    # Wrong field types.
    expect("reply not text", kim.post(f"/console/api/chats/{chat_id}/reply", {"text": 5}), 400)
    expect("reply too long", kim.post(f"/console/api/chats/{chat_id}/reply", {"text": "가" * 2001}), 400)
    expect("transfer no id", kim.post(f"/console/api/chats/{chat_id}/transfer", {"agent_id": "2"}), 400)
    expect("canned no title", admin.post("/console/api/canned", {"text": "x"}), 400)
    expect("body is a list", kim.post(f"/console/api/chats/{chat_id}/note", [1]), 400)  # type: ignore[arg-type]
    assert not failures, "\n".join(failures)
    assert snapshot(app) == before


# --- live updates -------------------------------------------------------------------------------------------


def read_events(chunks: Iterator[bytes]) -> list[tuple[str, dict[str, Any], str]]:
    """(event, data, id) of every event in a finished stream."""
    text = b"".join(chunks).decode()
    events = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "event" in fields:
            events.append((fields["event"], json.loads(fields["data"]), fields.get("id", "")))
    return events


def test_stream_sends_a_queue_event_after_a_new_handoff_and_resumes(staffed: Flask) -> None:
    staffed.config[LIFETIME_CONFIG] = 1.2
    kim = Staff(staffed, "kim")
    response = kim.client.get("/console/api/events", buffered=False)
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    chat_id = waiting_chat(staffed, "new")  # arrives after the stream started
    events = read_events(response.response)
    queues = [(data["queue"], event_id) for event, data, event_id in events if event == "queue"]
    assert queues[0][0] == []  # the snapshot at connection time
    assert any(q and q[0]["id"] == chat_id and q[0]["reason_label"] == "상담 요청" for q, _ in queues[1:])
    # A browser that reconnects from the first event id is sent what it missed.
    resumed = kim.client.get("/console/api/events", headers={"Last-Event-ID": queues[0][1]}, buffered=False)
    replayed = [(d["queue"], int(i)) for e, d, i in read_events(resumed.response)[1:] if e == "queue"]
    assert replayed and replayed[-1][0][0]["id"] == chat_id
    assert replayed[-1][1] == max(int(i) for _, i in queues) > int(queues[0][1])


def test_stream_follows_the_open_chat(staffed: Flask) -> None:
    staffed.config[LIFETIME_CONFIG] = 1.2
    chat_id = waiting_chat(staffed)
    kim = Staff(staffed, "kim")
    kim.post(f"/console/api/chats/{chat_id}/claim")
    last_turn = kim.get(f"/console/api/chats/{chat_id}").get_json()["turns"][-1]["id"]
    response = kim.client.get(f"/console/api/events?chat={chat_id}&turn={last_turn}", buffered=False)
    say(staffed, "s1", "네, 기다릴게요")
    handoffs(staffed).citizen_typing("web:s1")
    chats = [data for event, data, _ in read_events(response.response) if event == "chat"]
    turns = [t for update in chats for t in update["turns"]]
    assert [t["text"] for t in turns] == ["네, 기다릴게요"]  # only what the page did not have
    assert any(update["handoff"]["citizen_typing"] for update in chats)


def test_stream_flags_an_urgent_chat_nobody_claimed_in_time(tmp_path: Path, rasa: ScriptedRasa) -> None:
    app = create_app(AppSettings(data_dir=tmp_path, handoff=HandoffSettings(urgent_sla_minutes=0.03)), engine=rasa)
    app.config[LIFETIME_CONFIG] = 3.5
    cheap_hashes(app)
    make_staff(app, "kim", "agent", name="김상담")
    kim = Staff(app, "kim")
    chat_id = waiting_chat(app, "urgent", urgent=True)
    response = kim.client.get("/console/api/events", buffered=False)
    queues = [data["queue"] for event, data, _ in read_events(response.response) if event == "queue"]
    assert queues[0][0]["id"] == chat_id and queues[0][0]["escalated"] is False
    assert queues[-1][0]["escalated"] is True  # the stream's tick escalated it and every agent is told


def test_stream_needs_a_sign_in_and_the_right_role(staffed: Flask) -> None:
    assert staffed.test_client().get("/console/api/events").status_code == 401
    assert Staff(staffed, "lee").get("/console/api/events").status_code == 403
