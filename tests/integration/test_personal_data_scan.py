"""A corpus of personal identifiers sent through every channel, then every store and log searched for them: none found.

Identifiers are made up fresh for each run (resident numbers with a dot, Unicode dashes and spaces, phones
with +82, dots and spaced digits, e-mails, card numbers, road and lot addresses with apartment units, names
beside an address or given as a name, a KakaoTalk botUserKey), so a hit can only come from this run. They go
through the stack's public chat API and widget API, and through a Kakao skill endpoint built here against the
same Rasa and action server (the stack's web app has no Kakao token, and the shared stack's environment is
left alone). Then searched: every file of both data directories (the SQLite databases with their WAL files,
run.log, Rasa's SQL tracker store rasa_tracker.sqlite3), the stack's var/log files, and Rasa's tracker of every conversation through its HTTP API. The
knowledge store is not written by chat and is left out.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from flask import Flask
from pydantic import SecretStr

from channels.app import create_app
from channels.settings import AppSettings, KakaoSettings
from channels.skill_response import FETCH_LABEL
from tests.citizen_support import API_AUTH, api_sender, open_http_session
from tests.integration.conftest import ROOT, RunningStack
from tests.kakao_support import skill_request

pytestmark = pytest.mark.integration

TOKEN = "scan-test-secret"
SYLLABLES = "가나다라마바사아자차카타파하고노도로모보소오조초코토포호구누두루무부수우주추쿠투푸후"
ROADS = ("솔바람", "은하수", "별빛마루", "달무리", "새봄")


@dataclass
class Corpus:
    """Messages to send and the raw strings none of which may be stored anywhere."""

    messages: list[str] = field(default_factory=list)
    needles: set[str] = field(default_factory=set)

    def add(self, message: str, *needles: str) -> None:
        self.messages.append(message)
        self.needles.update(n for n in needles if n)


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _made_up_name(rng: random.Random) -> str:
    return rng.choice("탁편옥맹") + rng.choice(SYLLABLES) + rng.choice(SYLLABLES)


def _made_up_road(rng: random.Random) -> str:
    return rng.choice(ROADS) + rng.choice(SYLLABLES) + rng.choice(SYLLABLES)


def corpus(seed: int) -> Corpus:
    """Every identifier spelling the masking must catch, with fresh digits, names and street names."""
    rng = random.Random(seed)
    found = Corpus()
    for sep in (".", "–", "—", "−", " ", "-"):
        birth = f"{rng.randint(40, 99)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        rest = rng.choice("12") + _digits(rng, 6)
        found.add(f"제 주민번호는 {birth}{sep}{rest} 이에요", f"{birth}{sep}{rest}", birth + rest)
    spaced = f"{rng.randint(40, 99)}0{rng.randint(1, 9)}1{rng.randint(0, 9)}2{_digits(rng, 6)}"
    found.add("주민번호 " + " ".join(spaced) + " 입니다", spaced)
    a, b = _digits(rng, 4), _digits(rng, 4)
    found.add(f"연락처는 +82 10 {a} {b} 예요", f"10 {a} {b}", f"{a} {b}", f"10{a}{b}")
    a, b = _digits(rng, 4), _digits(rng, 4)
    found.add(f"+82-10-{a}-{b}로 전화 주세요", f"{a}-{b}", f"10{a}{b}")
    a, b = _digits(rng, 4), _digits(rng, 4)
    found.add(f"010.{a}.{b} 로 연락 부탁드려요", f"{a}.{b}", f"010{a}{b}")
    a, b = _digits(rng, 4), _digits(rng, 4)
    found.add("제 번호는 " + " ".join(f"010{a}{b}") + " 이에요", f"010{a}{b}")
    a, b = _digits(rng, 4), _digits(rng, 4)
    found.add(f"010 {a} {b} 으로 문자 주세요", f"{a} {b}", f"010{a}{b}")
    local = "scan" + _digits(rng, 8)
    found.add(f"메일은 {local}@example.com 입니다", local)
    card = [_digits(rng, 4) for _ in range(4)]
    found.add(f"카드번호 {'-'.join(card)} 로 결제됐어요", "-".join(card), "".join(card))
    account = f"{_digits(rng, 3)}-{_digits(rng, 3)}-{_digits(rng, 6)}"
    found.add(f"계좌 {account} 로 받고 싶어요", account, account.replace("-", ""))
    road, number = _made_up_road(rng), rng.randint(100, 999)
    dong, ho = rng.randint(101, 115), rng.randint(1001, 1504)
    found.add(f"주소는 예시시 행복구 {road}로 {number}, {dong}동 {ho}호예요", road, f"{dong}동 {ho}호")
    road2, name = _made_up_road(rng), _made_up_name(rng)
    found.add(f"{name} / 예시시 {road2}길 {rng.randint(10, 99)}-{rng.randint(1, 9)}", name, road2)
    lot = rng.choice(SYLLABLES) + rng.choice(SYLLABLES) + rng.choice(SYLLABLES)
    lot_number = f"{rng.randint(100, 999)}-{rng.randint(1, 99)}"
    found.add(f"{lot}동 {lot_number}번지 살아요", f"{lot}동", f"{lot_number}번지")
    name2 = _made_up_name(rng)
    found.add(f"제 이름은 {name2}이고 66세예요", name2)
    return found


def chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def rasa_token(stack: RunningStack) -> str:
    """Rasa's --auth-token: from the fixture or the environment, else from the running Rasa's command line."""
    token = getattr(stack, "rasa_token", None) or os.environ.get("BOKJI_RASA_TOKEN", "")
    if token:
        return str(token)
    port = stack.rasa.rsplit(":", 1)[1]
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        given = [a for a in args if a.startswith(b"--auth-token=")]
        if given and port.encode() in args:
            return given[0].removeprefix(b"--auth-token=").decode()
    return ""


def tracker(stack: RunningStack, sender_id: str) -> str:
    token = rasa_token(stack)
    response = httpx.get(
        f"{stack.rasa}/conversations/{sender_id}/tracker", params={"token": token} if token else None, timeout=30
    )
    assert response.status_code == 200, f"Rasa's tracker of {sender_id}: {response.status_code} {response.text[:200]}"
    return json.dumps(response.json(), ensure_ascii=False)


def files_under(*folders: Path) -> Iterator[Path]:
    for folder in folders:
        yield from (p for p in folder.rglob("*") if p.is_file())


def hits(data: bytes | str, needles: set[str]) -> list[str]:
    blob = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    escaped = blob.encode("utf-8").decode("unicode_escape", errors="replace") if "\\u" in blob else ""
    return sorted(n for n in needles if n in blob or (escaped and n in escaped))


@pytest.fixture
def kakao_app(stack: RunningStack, tmp_path: Path) -> Iterator[Flask]:
    settings = AppSettings(
        data_dir=tmp_path, rasa_url=stack.rasa, actions_url=stack.actions, kakao=KakaoSettings(token=SecretStr(TOKEN))
    )
    app = create_app(settings)
    yield app
    app.extensions["bokji.kakao"].close()


def test_no_identifier_sent_through_any_channel_is_stored_or_logged(
    stack: RunningStack, kakao_app: Flask, tmp_path: Path
) -> None:
    run = random.SystemRandom().randint(0, 10**9)
    found = corpus(run)
    messages = found.messages
    senders: list[str] = []
    # The public chat API and the widget API of the stack's own web app, a few messages per conversation.
    for i, batch in enumerate(chunks(messages, 4)):
        session = f"scan-{run}-api-{i}"
        for text in batch:
            response = httpx.post(
                f"{stack.web}/api/v1/chat", json={"session_id": session, "text": text}, headers=API_AUTH, timeout=90
            )
            assert response.status_code in (200, 503), response.text
        senders.append(api_sender(session))
    for batch in chunks(list(reversed(messages)), 4):
        session, holder = open_http_session(stack.web)
        for text in batch:
            response = httpx.post(
                f"{stack.web}/api/v1/widget/chat", json={"text": text, "stream": False}, headers=holder, timeout=90
            )
            assert response.status_code in (200, 503), response.text
        senders.append(f"web:{session}")
    # KakaoTalk: the raw botUserKey is an identifier too.
    client = kakao_app.test_client()
    bot_user_key = f"scan{run}kakaoKey{random.SystemRandom().randint(10**8, 10**9)}"
    found.needles.add(bot_user_key)
    kakao_sender = kakao_app.extensions["bokji.kakao"].sender_ids.kakao(bot_user_key)
    transcripts = kakao_app.extensions["bokji.transcripts"]

    def kakao(text: str) -> None:
        body = skill_request(text, user_id=bot_user_key)
        response = client.post(
            "/kakao/skill", data=json.dumps(body), headers={"X-Bokji-Kakao-Token": TOKEN}, content_type="application/json"
        )
        assert response.status_code == 200

    for text in messages[::2]:
        kakao(text)
        deadline = time.monotonic() + 90  # a slow answer waits in the user's inbox: take it before the next message
        while time.monotonic() < deadline and transcripts.recent_turns(kakao_sender, 1)[-1]["role"] == "citizen":
            time.sleep(0.3)
        kakao(FETCH_LABEL)
    senders.append(kakao_sender)

    # The conversations really were stored (masked) and reached Rasa: the scan below searches real data.
    stored = (stack.data_dir / "conversations.sqlite3").read_bytes() + b"".join(
        p.read_bytes() for p in stack.data_dir.glob("conversations.sqlite3-wal")
    )
    assert "[주민등록번호]".encode() in stored or "[주민등록번호]".encode() in (tmp_path / "conversations.sqlite3").read_bytes()

    # The search itself finds what is there: the Kakao user's pseudonym is in its database file, byte for byte.
    assert hits((tmp_path / "conversations.sqlite3").read_bytes() + (tmp_path / "conversations.sqlite3-wal").read_bytes(),
                {kakao_sender}) == [kakao_sender]  # fmt: skip
    # Rasa's SQL tracker store is a file of the data dir (searched below with the rest), and holds the messages masked.
    rasa_store = b"".join(p.read_bytes() for p in stack.data_dir.glob("rasa_tracker.sqlite3*"))
    assert "[주민등록번호]".encode("unicode_escape") in rasa_store or "[주민등록번호]".encode() in rasa_store
    leaks: dict[str, list[str]] = {}
    logs = ROOT / "var" / "log"
    assert {p.name for p in logs.glob("*.log")} >= {"rasa.log", "actions.log", "web.log"}
    for path in files_under(stack.data_dir, tmp_path, logs):
        if path.suffix in (".png", ".jpg") or path.name.startswith("knowledge.sqlite3"):
            continue
        if found_here := hits(path.read_bytes(), found.needles):
            leaks[str(path)] = found_here
    rasa_seen, placeholders = 0, 0
    for sender in senders:
        text = tracker(stack, sender)
        rasa_seen += len(re.findall(r'"event":\s*"user"', text))
        placeholders += text.count("[주민등록번호]") + text.count("[전화번호]") + text.count("[주소]")
        if found_here := hits(text, found.needles):
            leaks[f"rasa tracker {sender}"] = found_here
    # Every conversation reached Rasa (a chat handed to a person holds later messages back from it).
    assert rasa_seen >= len(senders), "Rasa's trackers hold fewer citizen messages than there were conversations"
    assert placeholders > 0, "Rasa received the messages masked"
    assert leaks == {}


def test_deleting_a_conversation_on_request_also_empties_rasas_tracker(stack: RunningStack) -> None:
    from channels.privacy import CitizenData, TrackerEvents
    from channels.store.database import Database, sqlite_url

    session = f"scan-erase-{random.SystemRandom().randint(0, 10**9)}"
    body = {"session_id": session, "text": "기초연금 얼마예요?"}
    response = httpx.post(f"{stack.web}/api/v1/chat", json=body, headers=API_AUTH, timeout=90)
    assert response.status_code == 200
    sender = api_sender(session)
    assert '"event": "user"' in tracker(stack, sender)
    database = Database(sqlite_url(stack.data_dir / "conversations.sqlite3"))
    try:
        tracker_store = TrackerEvents(sqlite_url(stack.data_dir / "rasa_tracker.sqlite3"))  # bokji run's default
        counts = CitizenData(database, tracker_store).delete(sender, None)
    finally:
        database.dispose()
    assert counts.turns >= 2 and counts.rasa_events >= 2
    assert '"event": "user"' not in tracker(stack, sender)
