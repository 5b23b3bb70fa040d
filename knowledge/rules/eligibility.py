"""Mock eligibility check (모의 계산) against the 2026 criteria: pure, typed functions over a data file.

A verdict is never an official decision: it compares what the citizen told us with the published
thresholds, shows the numbers compared, and names what is not modelled (assets, 부양의무자,
소득인정액 conversion). Only figures from ``seed/criteria_2026.yaml`` (each with its source) are used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from knowledge.domain.programs import Fact, ProgramCatalogue, load_catalogue
from knowledge.domain.source import Source

CRITERIA_FILE = Path(__file__).resolve().parents[1] / "seed" / "criteria_2026.yaml"

Verdict = Literal["likely", "unlikely", "needs_visit"]
LIVELIHOOD_PROGRAMS = ("생계급여", "의료급여", "주거급여", "교육급여")
# Below this share of a threshold, assets are unlikely to change the outcome; above it, they might.
SAFE_SHARE = 0.9

NOT_MODELLED_INCOME = (
    "재산(집·예금·자동차 등)의 소득 환산액",
    "부양의무자 기준",
    "소득인정액 계산에 쓰이는 공제",
)


@dataclass(frozen=True)
class Household:
    """What the citizen told us; None means not asked (not needed for the program) or unknown."""

    size: int | None = None
    monthly_income: int | None = None
    age: int | None = None
    couple: bool | None = None
    child_age: int | None = None


@dataclass(frozen=True)
class Result:
    """A mock verdict with its reasoning."""

    program: str
    verdict: Verdict
    reasons: tuple[str, ...]
    not_modelled: tuple[str, ...]
    sources: tuple[Source, ...]
    threshold_won: int | None = None
    amount_note: str | None = None
    caveats: tuple[str, ...] = field(default_factory=tuple)


def won(value: int) -> str:
    """Format won the way the sources do: 3,117,474원."""
    return f"{value:,}원"


def _source(section: dict[str, Any]) -> Source:
    return Source(title=section["source"]["title"], url=section["source"]["url"], updated_at=section["updated_at"])


class Criteria:
    """The 2026 criteria file, loaded once."""

    def __init__(self, data: dict[str, Any]) -> None:
        """Keep the parsed criteria."""
        self.data = data

    @classmethod
    def load(cls, path: Path = CRITERIA_FILE) -> Criteria:
        """Read the criteria YAML."""
        return cls(yaml.safe_load(path.read_text(encoding="utf-8")))

    def median_income(self, size: int) -> tuple[int | None, bool]:
        """기준 중위소득 for a household size, and whether the figure is confirmed."""
        section = self.data["median_income"]
        if size in section["won_by_household_size"]:
            return int(section["won_by_household_size"][size]), True
        unconfirmed = section.get("unconfirmed_won_by_household_size", {})
        return (int(unconfirmed[size]), False) if size in unconfirmed else (None, False)

    def section(self, name: str) -> dict[str, Any]:
        """A section of the criteria file."""
        return dict(self.data[name])


def _income_verdict(income: int, threshold: int) -> Verdict:
    if income > threshold:
        return "unlikely"
    return "likely" if income <= threshold * SAFE_SHARE else "needs_visit"


def _income_reason(income: int, threshold: int, label: str) -> str:
    if income > threshold:
        return f"말씀하신 월 소득 {won(income)}이 {label} {won(threshold)}보다 많아요."
    return f"말씀하신 월 소득 {won(income)}이 {label} {won(threshold)} 이하예요."


def check_livelihood(program: str, household: Household, criteria: Criteria) -> Result:
    """기초생활보장 급여 (생계/의료/주거/교육): income against a share of 기준 중위소득."""
    section = criteria.section("basic_livelihood")
    median_section = criteria.section("median_income")
    sources = (_source(median_section), _source(section))
    if program == "기초생활보장":
        program = "생계급여"  # the broadest question: the strictest income line decides 생계급여
    if household.size is None or household.monthly_income is None:
        return Result(program, "needs_visit", ("가구원 수와 월 소득을 알아야 계산할 수 있어요.",), NOT_MODELLED_INCOME, sources)
    median, confirmed = criteria.median_income(household.size)
    if median is None or not confirmed:
        reason = f"{household.size}인 가구의 2026년 기준 중위소득은 아직 공식 고시로 확인하고 있어서 계산하지 않았어요."
        return Result(program, "needs_visit", (reason,), NOT_MODELLED_INCOME, sources)
    percent = int(section["percent_of_median"][program])
    threshold = median * percent // 100  # 원 미만 버림
    label = f"{household.size}인 가구 {program} 선정기준(기준 중위소득 {won(median)}의 {percent}%)인"
    verdict = _income_verdict(household.monthly_income, threshold)
    reasons = [_income_reason(household.monthly_income, threshold, label)]
    if verdict == "needs_visit":
        reasons.append("기준에 가까워서 재산을 소득으로 환산하면 결과가 달라질 수 있어요.")
    return Result(program, verdict, tuple(reasons), NOT_MODELLED_INCOME, sources, threshold_won=threshold)


def check_basic_pension(household: Household, criteria: Criteria) -> Result:
    """기초연금: age 65+, income against the single/couple 선정기준액."""
    section = criteria.section("basic_pension")
    sources = (_source(section),)
    amount = f"받게 되면 한 달 최대 {won(int(section['max_amount_won']))}(기준연금액)이에요."
    min_age = int(section["min_age"])
    if household.age is not None and household.age < min_age:
        reason = f"기초연금은 만 {min_age}세 이상부터 받을 수 있는데, 말씀하신 나이는 만 {household.age}세예요."
        return Result("기초연금", "unlikely", (reason,), (), sources)
    if household.monthly_income is None or household.couple is None or household.age is None:
        return Result("기초연금", "needs_visit", ("나이, 가구 형태, 월 소득을 알아야 계산할 수 있어요.",), NOT_MODELLED_INCOME, sources)
    key = "threshold_couple_won" if household.couple else "threshold_single_won"
    threshold = int(section[key])
    label = f"{'부부가구' if household.couple else '단독가구'} 선정기준액"
    verdict = _income_verdict(household.monthly_income, threshold)
    reasons = [
        f"만 {household.age}세로 나이 기준(만 {min_age}세 이상)은 맞아요.",
        _income_reason(household.monthly_income, threshold, label),
    ]
    if verdict == "needs_visit":
        reasons.append("기준에 가까워서 재산을 소득으로 환산하면 결과가 달라질 수 있어요.")
    not_modelled = (*NOT_MODELLED_INCOME[:1], "국민연금 등 다른 연금 수령에 따른 감액", "부부 모두 받을 때의 감액")
    return Result(
        "기초연금", verdict, tuple(reasons), not_modelled, sources,
        threshold_won=threshold, amount_note=amount if verdict != "unlikely" else None,
    )  # fmt: skip


def check_child_allowance(household: Household, criteria: Criteria) -> Result:
    """아동수당: a child under the age limit (no income test)."""
    section = criteria.section("child_allowance")
    sources = (_source(section),)
    limit = int(section["max_age_exclusive"])
    if household.child_age is None:
        return Result("아동수당", "needs_visit", ("아이 나이를 알아야 안내할 수 있어요.",), (), sources)
    amount = f"기본 월 {won(int(section['amount_won']))}이에요(지역에 따라 더 받을 수 있어요)."
    if household.child_age < limit:
        reason = f"아동수당은 만 {limit}세 미만 아동이 받을 수 있고, 아이는 만 {household.child_age}세예요."
        return Result("아동수당", "likely", (reason,), ("거주지·국적 요건",), sources, amount_note=amount)
    reason = f"아동수당은 만 {limit}세 미만까지인데, 아이는 만 {household.child_age}세예요."
    return Result("아동수당", "unlikely", (reason,), (), sources)


def check_parental_benefit(household: Household, criteria: Criteria) -> Result:
    """부모급여: a child aged 0 or 1 (amounts still under review)."""
    section = criteria.section("parental_benefit")
    sources = (_source(section),)
    amounts = {int(k): int(v) for k, v in section["amount_won_by_child_age"].items()}
    caveats = ("부모급여 금액은 아직 공식 고시로 확인하고 있어요. 신청 전에 꼭 확인해 주세요.",) if section.get("needs_review") else ()
    if household.child_age is None:
        return Result("부모급여", "needs_visit", ("아이 나이를 알아야 안내할 수 있어요.",), (), sources, caveats=caveats)
    if household.child_age in amounts:
        reason = f"부모급여는 만 0~1세 아이를 키우는 가정이 받을 수 있고, 아이는 만 {household.child_age}세예요."
        note = f"만 {household.child_age}세는 월 {won(amounts[household.child_age])}으로 알려져 있어요(확인 중)."
        return Result("부모급여", "likely", (reason,), ("거주지 요건",), sources, amount_note=note, caveats=caveats)
    reason = f"부모급여는 만 0~1세 아이가 대상인데, 아이는 만 {household.child_age}세예요."
    return Result("부모급여", "unlikely", (reason,), (), sources, caveats=caveats)


def supported_programs(catalogue: ProgramCatalogue | None = None) -> tuple[str, ...]:
    """The programs the mock check judges (``mock_check`` in the program catalogue)."""
    return (catalogue or load_catalogue()).mock_checked()


def required_facts(program: str, catalogue: ProgramCatalogue | None = None) -> tuple[Fact, ...]:
    """What the screening form must ask for a program (slot names), from the program catalogue."""
    return (catalogue or load_catalogue()).facts(program)


def check(program: str, household: Household, criteria: Criteria) -> Result | None:
    """Run the rules for a program; None when the program has no mock check."""
    if program in (*LIVELIHOOD_PROGRAMS, "기초생활보장"):
        return check_livelihood(program, household, criteria)
    if program == "기초연금":
        return check_basic_pension(household, criteria)
    if program == "아동수당":
        return check_child_allowance(household, criteria)
    if program == "부모급여":
        return check_parental_benefit(household, criteria)
    return None


_VERDICT_TEXT = {
    "likely": "받으실 가능성이 있어요.",
    "unlikely": "받기 어려우실 것 같아요.",
    "needs_visit": "여기서는 판단하기 어려워요. 주민센터 상담을 권해 드려요.",
}


def explain(result: Result) -> str:
    """The verdict in plain Korean: outcome, the numbers compared, the caveat."""
    lines = [f"[모의 계산] {result.program}: {_VERDICT_TEXT[result.verdict]}"]
    lines += [f"- {reason}" for reason in result.reasons]
    if result.amount_note:
        lines.append(f"- {result.amount_note}")
    lines += [f"※ {caveat}" for caveat in result.caveats]
    tail = "이 결과는 말씀하신 내용만으로 계산한 모의 결과예요. 실제 지원 여부와 금액은 신청 후 소득인정액 조사를 거쳐 결정돼요."
    if result.not_modelled:
        tail += f" 여기서는 다음 내용을 반영하지 않았어요: {', '.join(result.not_modelled)}."
    lines.append(tail)
    return "\n".join(lines)
