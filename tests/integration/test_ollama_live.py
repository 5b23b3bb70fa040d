"""A real Ollama server (production backend): runs only where OLLAMA_HOST is set.

``OLLAMA_HOST=http://gpu-server:11434 OLLAMA_MODEL=qwen2.5:7b-instruct pytest tests/integration/test_ollama_live.py``
"""

from __future__ import annotations

import os

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from knowledge.answering.grounding import check_grounding
from knowledge.answering.llm import build_chat_model
from knowledge.answering.prompts import answer_prompt, format_passages
from knowledge.settings import LlmSettings

HOST = os.environ.get("OLLAMA_HOST", "")
if not HOST:
    pytest.skip("set OLLAMA_HOST (and OLLAMA_MODEL) to test a live Ollama server", allow_module_level=True)

pytestmark = pytest.mark.integration
SETTINGS = LlmSettings(
    backend="ollama",
    ollama_host=HOST if HOST.startswith("http") else f"http://{HOST}",
    ollama_model=os.environ.get("OLLAMA_MODEL", LlmSettings().ollama_model),
    timeout_s=120.0,
)
PASSAGES = format_passages([("보건복지부 기초연금", "기초연금은 얼마인가요?\n2026년 기초연금 기준연금액은 월 349,700원이에요.")])


def test_live_model_answers_in_korean_both_ways() -> None:
    model = build_chat_model(SETTINGS)
    assert model is not None
    messages = [SystemMessage("한국어로 한 문장만 답하세요."), HumanMessage("복지로는 무엇을 하는 곳인가요?")]
    whole = str(model.invoke(messages, stream=False).content)
    streamed = "".join(str(c.content) for c in model.stream(messages))
    for text in (whole, streamed):  # each way on its own: one Korean reply must not cover for an empty other
        assert sum("\uac00" <= ch <= "\ud7a3" for ch in text) >= 5, (whole, streamed)


def test_production_model_writes_a_grounded_cited_answer() -> None:
    model = build_chat_model(SETTINGS)
    assert model is not None
    text = str((answer_prompt() | model).invoke({"passages": PASSAGES, "question": "기초연금 최대 얼마예요?"}).content)
    verdict = check_grounding(text, [PASSAGES])
    assert verdict.ok, (text, verdict.reasons)
    assert "349,700원" in text
