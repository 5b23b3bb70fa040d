"""Every Korean prompt the bot sends to a language model, in one place and versioned with the code.

Change a prompt only together with ``PROMPT_VERSION`` and a fresh ``make bench-answers`` run: the
benchmark file records the version it measured.
"""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.prompts import ChatPromptTemplate

PROMPT_VERSION = "2026-05.2"

# The model only phrases what the passages say; the grounding check enforces the first rule afterwards.
# Measured on Qwen2.5-Coder-1.5B (2026-05.1): an explicit "say 확인할 수 없어요 if unsure" rule made it
# refuse answerable questions, and without a worked example it copied the question or left out [n].
# Relevance is decided before the model is asked (KnowledgeService.may_generate), not by the model.
ANSWER_SYSTEM = """당신은 시청의 복지 안내 도우미입니다. [자료]를 읽고 시민의 질문에 해요체로 2~3문장 답하세요.
금액, 비율, 날짜, 전화번호는 [자료]에 적힌 그대로 쓰고, 문장 끝에 근거 자료 번호를 [1]처럼 붙이세요.
[자료]에 없는 내용은 쓰지 마세요."""

ANSWER_HUMAN = """[자료]
{passages}

[질문]
{question}"""

REWRITE_SYSTEM = """대화를 보고 시민의 마지막 질문을 앞의 대화 없이도 뜻이 통하는 질문 한 문장으로 고쳐 쓰세요.
앞에서 말한 제도 이름을 넣고, 새로운 정보나 숫자는 더하지 마세요. 고친 질문 한 문장만 쓰세요."""

REWRITE_HUMAN = """[대화]
{history}

[마지막 질문]
{question}"""

# One worked example keeps a small model on format (measured: without it, it answers the question).
_REWRITE_EXAMPLE = (
    (
        "human",
        REWRITE_HUMAN.format(
            history="시민: 기초연금 얼마 받을 수 있어요?\n도우미: 2026년 기초연금은 ...", question="그거 어디서 신청해요?"
        ),
    ),
    ("ai", "기초연금은 어디서 신청하나요?"),
)


_ANSWER_EXAMPLE = (
    (
        "human",
        ANSWER_HUMAN.format(
            passages="[1] 아동수당 지급액\n아동수당은 얼마인가요?\n아동수당은 만 9세 미만 아동에게 월 100,000원을 드려요.\n\n"
            "[2] 아동수당 신청\n아동수당은 주민센터나 복지로에서 신청해요.",
            question="아동수당 한 달에 얼마 나와요?",
        ),
    ),
    ("ai", "아동수당은 만 9세 미만 아동에게 한 달에 100,000원이 지급돼요 [1]. 신청은 주민센터나 복지로에서 할 수 있어요 [2]."),
)


def answer_prompt() -> ChatPromptTemplate:
    """System rules, a worked example, then the numbered passages and the question (variables: passages, question)."""
    return ChatPromptTemplate.from_messages([("system", ANSWER_SYSTEM), *_ANSWER_EXAMPLE, ("human", ANSWER_HUMAN)])


def rewrite_prompt() -> ChatPromptTemplate:
    """Turn a follow-up into a standalone question (variables: history, question)."""
    return ChatPromptTemplate.from_messages([("system", REWRITE_SYSTEM), *_REWRITE_EXAMPLE, ("human", REWRITE_HUMAN)])


def format_passages(passages: Sequence[tuple[str, str]]) -> str:
    """Number ``(title, text)`` passages from 1 the way answers cite them."""
    return "\n\n".join(f"[{n}] {title}\n{text}" for n, (title, text) in enumerate(passages, start=1))


def format_history(turns: Sequence[tuple[str, str]]) -> str:
    """``(speaker, text)`` turns as lines; speaker is ``user`` or ``bot``."""
    names = {"user": "시민", "bot": "도우미"}
    return "\n".join(f"{names.get(speaker, speaker)}: {text}" for speaker, text in turns)
