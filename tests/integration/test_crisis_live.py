"""A crisis through the real web app, Rasa and action server: its lines first and an urgent handoff, in a form too."""

from __future__ import annotations

import sqlite3
import time

import pytest

from knowledge.ingestion.seed_files import load_helplines
from tests.integration.conftest import RunningStack
from tests.integration.test_chat import chat

pytestmark = pytest.mark.integration


def open_handoffs(stack: RunningStack, sender_id: str) -> list[tuple[str, int]]:
    db = sqlite3.connect(stack.data_dir / "conversations.sqlite3")
    return db.execute("SELECT reason, urgent FROM handoffs WHERE sender_id = ? AND state = 'waiting'", (sender_id,)).fetchall()


def test_violence_on_the_web_gets_112_and_1366_first_and_an_urgent_handoff(stack: RunningStack) -> None:
    message, _notice = chat(stack, "cr1", "남편이 술 먹고 때려요")
    text = message["text"]
    assert text.index("112") < text.index("1366") < text.index("129")
    helplines = load_helplines()
    assert [s["title"] for s in message["sources"]][:2] == [
        helplines["police"].source.title, helplines["women_emergency"].source.title]  # fmt: skip
    assert open_handoffs(stack, "api:test:cr1") == [("crisis", 1)]


def test_a_crisis_inside_the_eligibility_form_gets_the_lines_first_and_stops_the_form(stack: RunningStack) -> None:
    asked = "\n".join(m["text"] for m in chat(stack, "cr2", "기초연금 받을 수 있나요"))
    assert "몇 세" in asked, "the form asks for the age"
    message, _notice = chat(stack, "cr2", "죽고싶어요")
    assert message["text"].index("109") < message["text"].index("129") < message["text"].index("119")
    assert open_handoffs(stack, "api:test:cr2") == [("crisis", 1)]
    time.sleep(1)  # Rasa is told in the background; a citizen's next message comes seconds later
    after = "\n".join(m["text"] for m in chat(stack, "cr2", "66세예요"))
    assert "혼자" not in after and "부부" not in after, "the form is over: it does not go on to the next question"
