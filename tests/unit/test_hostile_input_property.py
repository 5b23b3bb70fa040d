"""Property: whatever JSON or text reaches a public endpoint, the answer is below 500 (Hypothesis, a fast sample)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels.app import create_app
from channels.citizen_sessions import HEADER
from channels.settings import AppSettings, KakaoSettings, RateLimitSettings
from tests.citizen_support import open_session
from tests.kakao_support import TOKEN, skill_request
from tests.unit.fakes import ScriptedRasa

# Any code point, lone surrogates included (they survive json.dumps as \udXXX escapes).
TEXT = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=60)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=2**62, max_value=2**70), st.floats(), TEXT)
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4), max_leaves=12)
SESSION = st.one_of(st.from_regex(r"[A-Za-z0-9_.:-]{1,20}", fullmatch=True), TEXT, st.integers())
CHAT = st.fixed_dictionaries(
    {"session_id": SESSION, "text": st.one_of(TEXT, JSON)},
    optional={"label": st.one_of(TEXT, JSON), "stream": st.one_of(st.booleans(), JSON), "message_id": SCALARS, "rating": TEXT},
)
DEEP = st.integers(min_value=100, max_value=6000).map(lambda n: "[" * n + "]" * n)
KAKAO = st.builds(
    lambda text, user, extra: skill_request(text, user, client_extra=extra), TEXT, TEXT, st.dictionaries(TEXT, JSON, max_size=3)
)
BODY = st.one_of(
    JSON.map(lambda v: json.dumps(v).encode()),
    CHAT.map(lambda v: json.dumps(v).encode()),
    KAKAO.map(lambda v: json.dumps(v).encode()),
    DEEP.map(str.encode),
    st.binary(max_size=200),
)
POSTS = [
    "/api/v1/chat",
    "/api/v1/widget/chat",
    "/api/v1/feedback",
    "/api/v1/widget/typing",
    "/kakao/skill",
    "/console/api/chats/1/reply",
    "/console/api/chats/1/claim",
    "/admin/faqs/new",
    "/console/login",
]
GETS = ["/api/v1/history", "/api/v1/widget/events", "/console/api/queue", "/admin/faqs", "/kakao/health"]
# The session token a request carries: the fixture's real one (most), a forged one, or none.
TOKENS = st.one_of(
    st.just("held"), st.just("held"), st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=90), st.none()
)


def token_header(client: FlaskClient, token: str | None) -> dict[str, str]:
    """``X-Bokji-Session`` with the module's real session token ("held"), a forged one, or nothing."""
    if token is None:
        return {}
    return {HEADER: client.held_token if token == "held" else token}  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlaskClient]:
    """One app for every example: limits off, so each example reaches the view itself."""
    settings = AppSettings(
        data_dir=tmp_path_factory.mktemp("fuzz"),
        kakao=KakaoSettings(token=TOKEN),
        rate_limit=RateLimitSettings(enabled=False),
    )
    app = create_app(settings, engine=ScriptedRasa())
    client = app.test_client()
    _, held = open_session(client)
    client.held_token = held[HEADER]  # type: ignore[attr-defined]
    yield client
    app.extensions["bokji.kakao"].close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(path=st.sampled_from(POSTS), body=BODY, content_type=st.sampled_from(["application/json", "text/plain", ""]), token=TOKENS)
def test_posting_anything_never_gets_a_5xx(
    client: FlaskClient, path: str, body: bytes, content_type: str, token: str | None
) -> None:
    headers = {"X-Bokji-Kakao-Token": TOKEN} if path == "/kakao/skill" else token_header(client, token)
    response = client.post(path, data=body, content_type=content_type or None, headers=headers)
    assert response.status_code < 500, (path, body[:200], response.get_data(as_text=True)[:300])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(GETS), session=TEXT, method=st.sampled_from(["GET", "PUT", "DELETE", "PATCH"]), token=TOKENS)
def test_any_query_or_method_never_gets_a_5xx(
    client: FlaskClient, path: str, session: str, method: str, token: str | None
) -> None:
    query = {"session_id": session.encode("utf-8", "surrogatepass"), "after_turn": "999999999"}
    response = client.open(path, method=method, query_string=query, headers=token_header(client, token))
    assert response.status_code < 500, (path, session, response.get_data(as_text=True)[:300])


def test_the_sample_includes_what_broke_the_stack_before(client: FlaskClient) -> None:
    """The three inputs of the issue, sent directly, so the property's sample never has to find them by luck."""
    cases: list[tuple[str, Any]] = [
        ("/api/v1/widget/chat", {"session_id": "s", "text": "\ud800"}),
        ("/api/v1/feedback", {"session_id": "s", "message_id": 2**63, "rating": "up"}),
    ]
    for path, body in cases:
        response = client.post(path, data=json.dumps(body), content_type="application/json", headers=token_header(client, "held"))
        assert response.status_code == 400
    deep = client.post("/kakao/skill", data="[" * 5000 + "]" * 5000, headers={"X-Bokji-Kakao-Token": TOKEN})
    assert deep.status_code == 200 and deep.get_json()["version"] == "2.0"
