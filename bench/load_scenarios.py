"""The mixed load's scripted conversations, how each reply is judged, and the per-kind figures (no servers here).

A simulated citizen loops over conversations drawn with fixed weights from one seeded random generator: an FAQ
question (answers_dev.yaml), an eligibility form in three turns (question -> household -> income, with the verdict
checked), an FAQ question and its follow-up, and rarely a question the bot answers with the model (the answer
benchmark's runs decide these by generation: not an FAQ, retrieved documents). Each turn has a kind; a reply is an
error when it is not HTTP 200, when it is a degraded or holding reply, or when it lacks the text its turn expects.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bench.load import percentiles

DATA = Path(__file__).parent / "data"
KINDS = ("faq", "form", "followup", "model")
# The web app's degraded reply, the holding text, the HTTP error bodies, an interrupted stream: never a real answer.
DEGRADED = ("질문을 잘 받았어요", "답변 시스템에 잠시 문제가", "잠시 후 다시 시도해 주세요", "답변이 중단")
# Questions the answer benchmark saw answered by generation (bench/results/answers.json, llamacpp): FAQ does not match.
MODEL_QUESTIONS = (
    "의료급여 선정기준은 몇 퍼센트인가요?",
    "범죄 신고는 몇 번이에요?",
    "예시시 노인복지관 요가 강좌 신청은 언제 해요",
)
# An FAQ question, then a follow-up that only makes sense after it, and what the follow-up's answer must contain.
FOLLOWUPS = (
    ("기초연금 얼마에요", "그거 어디서 신청해요?", "신청"),
    ("아동수당은 한 달에 얼마예요?", "그건 몇 살까지 받아요?", ""),
    ("부모급여가 뭐예요?", "그거 신청은 어떻게 해요?", "신청"),
)
# Eligibility forms in three turns (tests/integration/test_dialogue.py): what each reply must contain.
FORMS = (
    (("주거급여 받을수잇나요", "몇 명"), ("네식구요", "소득"), ("월 이백", "받으실 가능성이 있어요")),
    (("울엄마 66살인데 기초연금 받을수있음?", "혼자"), ("혼자 살아요", "소득"), ("100만원 정도", "349,700원")),
)
WEIGHTS = {"faq": 45, "form": 25, "followup": 25, "model": 5}


@dataclass(frozen=True)
class Turn:
    """One message a citizen sends, its kind, and text the reply must contain ("" for any real answer)."""

    kind: str
    text: str
    expect: str = ""


def faq_questions() -> list[str]:
    """The answerable questions of answers_dev.yaml."""
    data = yaml.safe_load((DATA / "answers_dev.yaml").read_text(encoding="utf-8"))
    return [q["question"] for q in data["answerable"]]


def conversation(rng: random.Random, faqs: list[str]) -> list[Turn]:
    """One scripted conversation, drawn with :data:`WEIGHTS`."""
    kind = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
    match kind:
        case "faq":
            return [Turn("faq", rng.choice(faqs))]
        case "form":
            return [Turn("form", text, expect) for text, expect in rng.choice(FORMS)]
        case "followup":
            first, second, expect = rng.choice(FOLLOWUPS)
            return [Turn("faq", first), Turn("followup", second, expect)]
        case _:
            return [Turn("model", rng.choice(MODEL_QUESTIONS))]


def judge(turn: Turn, status: int, reply: str) -> str | None:
    """Why the reply is an error (``http 503``, ``degraded``, ``empty``, ``wrong reply``), or None when it is right."""
    if status != 200:
        return f"http {status}"
    if not reply.strip():
        return "empty"
    if any(marker in reply for marker in DEGRADED):
        return "degraded"
    if turn.expect and turn.expect not in reply:
        return "wrong form verdict" if turn.kind == "form" else "wrong reply"
    return None


@dataclass(frozen=True)
class Record:
    """One turn's outcome: its kind, seconds until the reply, and the error (None when right)."""

    kind: str
    seconds: float
    error: str | None = None


def aggregate(records: list[Record], wall_s: float) -> dict[str, Any]:
    """Per kind and in all: count, turns/s, p50/p95/p99/max ms, errors by reason."""

    def figures(subset: list[Record]) -> dict[str, Any]:
        errors = Counter(r.error for r in subset if r.error)
        timing = percentiles([r.seconds for r in subset]) if subset else {"n": 0}
        return {
            **timing,
            "turns_per_s": round(len(subset) / wall_s, 2) if wall_s > 0 else 0.0,
            "errors": sum(errors.values()),
            "error_reasons": dict(errors),
        }

    by_kind = {kind: figures([r for r in records if r.kind == kind]) for kind in KINDS}
    return {"wall_s": round(wall_s, 1), "all": figures(records), "by_kind": by_kind}


def growth(start: dict[str, float], end: dict[str, float]) -> dict[str, Any]:
    """RSS of every process at start and end (MiB), its growth in %, and the processes that grew over 10% or died."""
    rows = {
        name: {"start_mb": start[name], "end_mb": end.get(name), "growth_pct": _pct(start[name], end.get(name))} for name in start
    }
    over = [name for name, row in rows.items() if row["growth_pct"] is None or row["growth_pct"] > 10.0]
    return {"processes": rows, "over_10_pct": over}


def _pct(before: float, after: float | None) -> float | None:
    if not after or before <= 0:  # no end figure, or 0 MiB: the process is gone
        return None
    return round((after - before) / before * 100, 1)
