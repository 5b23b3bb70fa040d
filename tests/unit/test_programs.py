"""The program catalogue: one list of programs, names resolved however citizens write them, generated files in step."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from bokji.cli import main
from knowledge.domain.program_files import NLU_FILE, USER_DICT_FILE, generated_files, stale_files, write_files
from knowledge.domain.programs import Program, ProgramCatalogue, load_catalogue
from knowledge.korean.analyzer import load_user_dict
from knowledge.rules.eligibility import Criteria, Household, check, supported_programs

ROOT = Path(__file__).resolve().parents[2]
# Rasa's inline annotations: [text](entity) or [text]{"entity": ..., "value": ...}
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\((\w+)\)|(\{[^}]*\}))")


@pytest.fixture(scope="module")
def catalogue() -> ProgramCatalogue:
    return load_catalogue()


def names(catalogue: ProgramCatalogue, text: str) -> list[str]:
    return [m.program.name if m.program else f"?{m.ambiguous.name if m.ambiguous else ''}" for m in catalogue.find_in(text)]


def test_every_program_the_bot_handles_is_in_the_catalogue(catalogue: ProgramCatalogue) -> None:
    known = {p.name for p in catalogue.programs}
    assert {"기초생활보장", "생계급여", "의료급여", "주거급여", "교육급여", "기초연금", "노령연금", "부모급여", "아동수당",
            "긴급복지지원", "실업급여", "장애인연금", "첫만남이용권", "에너지바우처", "산모·신생아 건강관리 지원", "차상위계층",
            "청년월세 지원", "기저귀·조제분유 지원", "한부모가족 지원", "노인장기요양보험", "노인일자리"} <= known  # fmt: skip


def test_names_resolve_however_they_are_written(catalogue: ProgramCatalogue) -> None:
    def canonical(name: str) -> str | None:
        program = catalogue.get(name)
        return program.name if program else None

    assert canonical("노인연금") == "기초연금"
    assert canonical("기초 연금") == "기초연금"
    assert canonical("국민연금") == "노령연금"  # a different program from 기초연금
    assert canonical("기초수급") == "기초생활보장"
    assert canonical("청년 월세") == "청년월세 지원"
    assert canonical("기저귀 조제분유 지원") == "기저귀·조제분유 지원"
    assert canonical("지원") is None
    assert canonical("월세 지원") is None and catalogue.ambiguous_name("월세지원") is not None


def test_free_text_prefers_the_longest_name(catalogue: ProgramCatalogue) -> None:
    assert names(catalogue, "청년 월세 지원 받을 수 있나요") == ["청년월세 지원"]
    assert names(catalogue, "월세 지원 받을 수 있나요") == ["?월세 지원"]
    assert names(catalogue, "기저귀 분유 지원 대상이 어떻게 돼요") == ["기저귀·조제분유 지원"]
    assert names(catalogue, "기초생활수급자인데 에너지바우처 되나요") == ["기초생활보장", "에너지바우처"]
    assert names(catalogue, "국민연금 받는데 기초연금도 되나요") == ["노령연금", "기초연금"]
    assert names(catalogue, "지원 받을 수 있는 거 있나요") == []


def test_short_names_must_start_a_word_long_ones_need_not(catalogue: ProgramCatalogue) -> None:
    assert names(catalogue, "우리엄마기초연금받을수있음") == ["기초연금"]
    assert names(catalogue, "차상위인데요") == ["차상위계층"]
    assert names(catalogue, "비수급자도 돼요") == []  # "수급자" inside another word is not 기초생활보장


def test_mock_checked_programs_are_exactly_those_the_rules_judge(catalogue: ProgramCatalogue) -> None:
    criteria = Criteria.load()
    judged = {p.name for p in catalogue.programs if check(p.name, Household(), criteria) is not None}
    assert set(supported_programs(catalogue)) == judged
    assert judged == {"생계급여", "의료급여", "주거급여", "교육급여", "기초생활보장", "기초연금", "부모급여", "아동수당"}


def test_a_name_for_two_programs_is_refused() -> None:
    with pytest.raises(ValidationError, match="names both"):
        ProgramCatalogue.parse({"programs": [{"name": "주거급여", "aliases": ["월세 지원"]},
                                                      {"name": "청년월세 지원", "aliases": ["월세지원"]}]})  # fmt: skip
    with pytest.raises(ValidationError, match="facts"):
        ProgramCatalogue.parse({"programs": [{"name": "주거급여", "mock_check": True}]})


def test_generated_files_are_up_to_date(catalogue: ProgramCatalogue) -> None:
    assert stale_files(catalogue) == [], "knowledge/seed/programs.yaml changed: run `bokji catalogue` and commit the files"


def test_the_check_notices_a_catalogue_change(tmp_path: Path, catalogue: ProgramCatalogue) -> None:
    for path, text in generated_files(catalogue).items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    assert stale_files(catalogue, tmp_path) == []
    grown = ProgramCatalogue(catalogue.data.model_copy(update={"programs": (*catalogue.programs, Program(name="새 제도"))}))
    assert stale_files(grown, tmp_path) == [NLU_FILE]
    assert write_files(grown, tmp_path) == [NLU_FILE] and "새 제도" in (tmp_path / NLU_FILE).read_text(encoding="utf-8")


def test_user_dictionary_comes_from_the_catalogue(catalogue: ProgramCatalogue) -> None:
    words = [word for word, _ in load_user_dict(ROOT / USER_DICT_FILE)]
    assert words == catalogue.user_words()
    assert {"기초연금", "첫만남이용권", "소득인정액", "주민센터"} <= set(words)


@pytest.mark.parametrize("path", ["bot/data/nlu.yml", "bot/tests/test_stories.yml"])
def test_nlu_program_annotations_agree_with_the_catalogue(path: str, catalogue: ProgramCatalogue) -> None:
    """An inline value ([월세 지원]{"value": "주거급여"}) would be a second, conflicting synonym list."""
    wrong = []
    for line in (ROOT / path).read_text(encoding="utf-8").splitlines():
        for match in _ANNOTATION.finditer(line):
            text, entity, extra = match.groups()
            meta = json.loads(extra) if extra else {"entity": entity}
            if meta["entity"] != "program":
                continue
            program, ambiguous = catalogue.get(text), catalogue.ambiguous_name(text)
            expected = program.name if program else ambiguous.name if ambiguous else None
            if meta.get("value", text) != expected:
                wrong.append(f"{line.strip()}: catalogue says {expected}")
    assert wrong == []


def test_the_operator_command_checks_the_generated_files(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalogue", "--check"]) == 0
    assert capsys.readouterr().err == ""
