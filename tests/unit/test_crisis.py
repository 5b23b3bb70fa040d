"""The crisis check on the evaluation set (every crisis caught with its kind, false alarms counted) and the reply."""

from __future__ import annotations

import contextlib
import re
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from bench.splits import SPLITS, split_of
from knowledge.domain.helpline import Helpline
from knowledge.ingestion.seed_files import load_helplines
from knowledge.rules.crisis import Crisis, CrisisKind, check_in_reply, crisis_lines, crisis_reply, detect_crisis

EVAL = yaml.safe_load((Path(__file__).resolve().parents[1] / "data" / "crisis_eval.yaml").read_text(encoding="utf-8"))
# A false alarm costs a staff member a look at a chat that needed none; a missed crisis can cost a life.
FALSE_ALARM_SHARE = 0.05
HELPLINES = load_helplines()
# The numbers each kind must name before any other (issue 13), 129 always.
FIRST: dict[CrisisKind, tuple[str, ...]] = {
    "suicide": ("109",),
    "violence": ("112", "1366"),
    "child_abuse": ("112",),
    "elder_abuse": ("1577-1389",),
    "emergency": ("119",),
    "hardship": ("129",),
}


def report(pytestconfig: pytest.Config, line: str) -> None:
    """Show a figure in the test output even without ``-s``."""
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        sys.stdout.write(f"\n{line}\n")


def items(group: str, split: str) -> list[dict[str, Any]]:
    return [item for item in EVAL[group] if split_of(item["id"]) == split]


def test_the_set_is_big_enough_and_every_id_is_unique() -> None:
    assert len(EVAL["crises"]) >= 100 and len(EVAL["lookalikes"]) >= 100
    ids = [item["id"] for group in ("crises", "lookalikes") for item in EVAL[group]]
    assert len(ids) == len(set(ids))
    assert {item["kind"] for item in EVAL["crises"]} == set(FIRST)
    assert all(items(group, split) for group in ("crises", "lookalikes") for split in SPLITS)


@pytest.mark.parametrize("split", SPLITS)
def test_every_crisis_is_caught_with_its_kind(split: str, pytestconfig: pytest.Config) -> None:
    crises = items("crises", split)
    found = {item["id"]: detect_crisis(item["text"]) for item in crises}
    missed = [item["text"] for item in crises if found[item["id"]] is None]
    wrong = [(item["text"], item["kind"], c.kinds) for item in crises if (c := found[item["id"]]) and c.kind != item["kind"]]
    caught = len(crises) - len(missed)
    report(
        pytestconfig,
        f"crisis eval [{split}]: recall {caught}/{len(crises)} = {caught / len(crises):.3f}, wrong kind {len(wrong)}",
    )
    assert missed == [] and wrong == []


@pytest.mark.parametrize("split", SPLITS)
def test_look_alikes_rarely_raise_an_alarm(split: str, pytestconfig: pytest.Config) -> None:
    lookalikes = items("lookalikes", split)
    alarms = [(item["text"], c.kinds) for item in lookalikes if (c := detect_crisis(item["text"])) is not None]
    report(pytestconfig, f"crisis eval [{split}]: false alarms {len(alarms)}/{len(lookalikes)} {alarms}")
    assert len(alarms) <= FALSE_ALARM_SHARE * len(lookalikes)


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("남편이 때려서 죽고 싶어요", ("violence", "suicide")),
        ("모르는 남자가 따라와요 살려주세요", ("violence", "emergency")),
        ("약 다 먹었어요 숨이 안 쉬어져요", ("emergency", "suicide")),
        ("남편이 애들을 때려요", ("child_abuse", "violence")),
    ],
)
def test_a_message_with_several_crises_names_each_the_most_urgent_first(text: str, kinds: tuple[CrisisKind, ...]) -> None:
    assert detect_crisis(text) == Crisis(kinds)


def numbers_in_order(text: str) -> list[str]:
    """The helpline numbers a reply names, in the order it names them."""
    numbers = {line.number for line in HELPLINES.values()}
    found = [(text.find(n), n) for n in numbers if n in text]
    return [n for _, n in sorted(found)]


@pytest.mark.parametrize("kind", list(FIRST))
def test_every_kind_gets_its_lines_first_and_129(kind: CrisisKind) -> None:
    reply = crisis_reply(Crisis((kind,)), HELPLINES)
    named = numbers_in_order(reply.text)
    assert tuple(named[: len(FIRST[kind])]) == FIRST[kind], reply.text
    assert "129" in named
    lines = [HELPLINES[key] for key in crisis_lines(Crisis((kind,)))]
    assert [s.title for s in reply.sources] == [line.source.title for line in lines]
    assert [line.number for line in lines][: len(FIRST[kind])] == list(FIRST[kind])
    assert all("24시간" in line.hours for line in lines), "the reply says every line it names answers around the clock"
    assert len(reply.text) <= 200 and reply.text.count(".") <= 6


def test_the_reply_is_polite_and_requests_a_counsellor_without_promising_one() -> None:
    for kind in FIRST:
        text = crisis_reply(Crisis((kind,)), HELPLINES).text
        assert "요청해 두었" in text and "먼저 전화해 주세요" in text
        assert "연결해 드릴게요" not in text and "곧 연결" not in text
        assert text.rstrip().endswith("요.") and "해라" not in text and "하세요." not in text


def test_every_number_comes_from_the_helplines_file() -> None:
    moved = {key: Helpline.model_validate({**line.model_dump(), "number": f"{line.number}0"}) for key, line in HELPLINES.items()}
    text = crisis_reply(Crisis(("violence",)), moved).text
    assert "1120" in text and "13660" in text and "1290" in text


def test_the_new_lines_carry_their_official_sources() -> None:
    assert HELPLINES["police"].number == "112" and "police.go.kr" in HELPLINES["police"].source.url
    assert HELPLINES["women_emergency"].number == "1366" and "mogef.go.kr" in HELPLINES["women_emergency"].source.url
    assert HELPLINES["elder_protection"].number == "1577-1389" and "noinboho.or.kr" in HELPLINES["elder_protection"].source.url


def test_the_check_in_names_109_and_129_and_hands_nothing_off() -> None:
    reply = check_in_reply(HELPLINES)
    assert numbers_in_order(reply.text) == ["109", "129"] and "요청해 두었" not in reply.text


def test_a_long_message_is_checked_quickly() -> None:
    started = time.perf_counter()
    for text in ("죽" * 1000, "살아" * 500, "남편이 " * 140, "가" * 1000):
        detect_crisis(text)
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(
    "text",
    [
        "혼자 살아요",  # the eligibility form's own quick reply: 혼자+살 must not read as 자살
        "저 혼자 살고 월 150 버는데 주거급여 돼요?",
        "삼성전자 살까요?",
        "혼자 해도 되나요",
        "저한테 맞는 지원금 알려줘",
        "혼자 사는 부모님이 쓰러지면 알려 주는 서비스가 있나요?",
        "월세를 못 내서 집에서 쫓겨날 것 같아요",
        "사유서 어디에 내요",
        "남은 약 모아서 버리는 곳",
    ],
)
def test_words_run_together_do_not_make_a_crisis(text: str) -> None:
    """Found in the project's own texts (NLU examples, FAQ alternatives), not in the evaluation set."""
    assert detect_crisis(text) is None


def nlu_examples() -> dict[str, list[str]]:
    nlu = yaml.safe_load((Path(__file__).resolve().parents[2] / "bot" / "data" / "nlu.yml").read_text(encoding="utf-8"))
    entity = re.compile(r"\[([^\]]+)\]\([^)]*\)")
    return {
        block["intent"]: [entity.sub(r"\1", line[2:]) for line in block["examples"].splitlines() if line.startswith("- ")]
        for block in nlu["nlu"]
        if "intent" in block
    }


def test_the_nlu_crisis_examples_are_crises_and_no_other_example_is() -> None:
    examples = nlu_examples()
    assert [text for text in examples["crisis"] if detect_crisis(text) is None] == []
    others = [(intent, text) for intent, texts in examples.items() if intent != "crisis" for text in texts]
    assert [(intent, text) for intent, text in others if detect_crisis(text) is not None] == []
