"""The program catalogue: every welfare program the bot knows by name, its aliases, and what its mock check asks.

One file (``seed/programs.yaml``) is the only list of programs. The eligibility form and rules read it here;
the NLU synonyms and lookup table (``bot/data/programs.yml``) and the analyzer's user dictionary
(``seed/user_dict.tsv``) are generated from it (:mod:`knowledge.domain.program_files`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

CATALOGUE_FILE = Path(__file__).resolve().parents[1] / "seed" / "programs.yaml"

Fact = Literal["household_size", "monthly_income", "age", "household_type", "child_age"]

# Spacing and the middle dot never change which program a name means: "기초 연금" = "기초연금".
_SEPARATORS = " \t\u00b7\u30fb\u318d\u2027"  # space, tab, ·, ・, ㆍ, ‧
_GAP = r"[\s\u00b7\u30fb\u318d\u2027]*"
_WORD_CHAR = re.compile(r"[0-9A-Za-z\uac00-\ud7a3\u3131-\u318e]")
# Citizens often write a space before these endings: "기초 연금", "주거 급여", "노인 일자리".
_SUFFIXES = ("급여", "연금", "수당", "복지", "보험", "바우처", "이용권", "일자리")
# A name this long is specific enough to match inside a run-on word ("우리엄마기초연금"); shorter ones
# ("차상위", "한부모") must start a word.
_SAFE_INSIDE_A_WORD = 4


def name_key(text: str) -> str:
    """A name without spaces or middle dots, for comparing names however they are spaced."""
    return "".join(ch for ch in text.strip().lower() if ch not in _SEPARATORS)


def spellings(name: str) -> list[str]:
    """The ways a name is written: as given, with spaces for middle dots, run together, and "기초 연금"-style."""
    variants = [name, re.sub(f"[{_SEPARATORS}]+", " ", name).strip(), name_key(name)]
    if " " not in name and (suffix := next((s for s in _SUFFIXES if name.endswith(s)), None)):
        if len(name) > len(suffix) + 1:
            variants.append(f"{name[: -len(suffix)]} {suffix}")
    return list(dict.fromkeys(variants))


class Program(BaseModel):
    """One welfare program: its canonical name, other names, and what its mock check needs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=2, description="Canonical name: the `program` slot's value, shown to citizens")
    aliases: tuple[str, ...] = Field((), description="Other names citizens use (typos included)")
    mock_check: bool = Field(False, description="Whether knowledge.rules.eligibility judges it")
    facts: tuple[Fact, ...] = Field((), description="Slots the mock check asks for, in order")
    terms: tuple[str, ...] = Field((), description="Words the Korean analyzer keeps whole")

    @model_validator(mode="after")
    def _facts_only_with_a_check(self) -> Program:
        if self.mock_check != bool(self.facts):
            raise ValueError(f"{self.name}: a mock-checked program lists its facts, and only such a program does")
        return self

    @property
    def names(self) -> tuple[str, ...]:
        """The canonical name first, then the aliases."""
        return (self.name, *self.aliases)


class AmbiguousName(BaseModel):
    """A name citizens use for more than one program ("월세 지원"): never judged, the citizen is asked."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=2)
    aliases: tuple[str, ...] = ()
    programs: tuple[str, ...] = Field(min_length=2, description="The programs it may mean")
    question: str = Field(min_length=2, description="How the bot asks which one is meant")

    @property
    def names(self) -> tuple[str, ...]:
        """The name first, then the aliases."""
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class Mention:
    """Where a text names a program (or an ambiguous name), and which."""

    start: int
    end: int
    program: Program | None = None
    ambiguous: AmbiguousName | None = None


class CatalogueFile(BaseModel):
    """What ``seed/programs.yaml`` holds, validated: each name means one program (or is listed as ambiguous)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    programs: tuple[Program, ...]
    ambiguous: tuple[AmbiguousName, ...] = ()
    extra_terms: tuple[str, ...] = Field((), description="Non-program words the analyzer keeps whole")

    @model_validator(mode="after")
    def _each_name_means_one_thing(self) -> CatalogueFile:
        owner: dict[str, str] = {}
        known = {p.name for p in self.programs}
        entries: tuple[Program | AmbiguousName, ...] = (*self.programs, *self.ambiguous)
        for entry in entries:
            for name in entry.names:
                key = name_key(name)
                if owner.setdefault(key, entry.name) != entry.name:
                    raise ValueError(f"'{name}' names both {owner[key]} and {entry.name}: list it under `ambiguous`")
        for entry in self.ambiguous:
            if unknown := set(entry.programs) - known:
                raise ValueError(f"ambiguous '{entry.name}' points at unknown programs {sorted(unknown)}")
        return self


class ProgramCatalogue:
    """Every program the bot knows by name; look-ups ignore spacing and middle dots."""

    def __init__(self, data: CatalogueFile) -> None:
        """Index the validated catalogue by name and compile the patterns free text is searched with."""
        self.data = data
        self.programs = data.programs
        self.ambiguous = data.ambiguous
        self.extra_terms = data.extra_terms
        self._index = {name_key(n): p for p in data.programs for n in p.names}
        entries: list[tuple[str, Program | None, AmbiguousName | None]] = [
            *((n, p, None) for p in data.programs for n in p.names),
            *((n, None, a) for a in data.ambiguous for n in a.names),
        ]
        unique = {name_key(n): (p, a) for n, p, a in entries}
        self._patterns = [(re.compile(_GAP.join(map(re.escape, key)), re.IGNORECASE), p, a) for key, (p, a) in unique.items()]

    @classmethod
    def parse(cls, raw: object) -> ProgramCatalogue:
        """Validate parsed YAML (a mapping with ``programs``, ``ambiguous``, ``extra_terms``)."""
        return cls(CatalogueFile.model_validate(raw))

    @classmethod
    def load(cls, path: Path = CATALOGUE_FILE) -> ProgramCatalogue:
        """Read and validate the catalogue file."""
        return cls.parse(yaml.safe_load(path.read_text(encoding="utf-8")))

    def get(self, name: str) -> Program | None:
        """The program a name (canonical or alias, however spaced) stands for; None if unknown or ambiguous."""
        return self._index.get(name_key(name))

    def ambiguous_name(self, name: str) -> AmbiguousName | None:
        """The ambiguous entry a name stands for, if it is one."""
        key = name_key(name)
        return next((a for a in self.ambiguous if key in {name_key(n) for n in a.names}), None)

    def find_in(self, text: str) -> list[Mention]:
        """The programs a free text names, in order; the longest name wins ("청년 월세 지원" is not "월세 지원")."""
        found: list[Mention] = []
        for pattern, program, ambiguous in self._patterns:
            for match in pattern.finditer(text):
                short = len(name_key(match.group())) < _SAFE_INSIDE_A_WORD
                if short and match.start() > 0 and _WORD_CHAR.match(text[match.start() - 1]):
                    continue
                found.append(Mention(match.start(), match.end(), program, ambiguous))
        chosen: list[Mention] = []
        for mention in sorted(found, key=lambda m: (m.start - m.end, m.start)):
            if all(mention.end <= c.start or mention.start >= c.end for c in chosen):
                chosen.append(mention)
        return sorted(chosen, key=lambda m: m.start)

    def mock_checked(self) -> tuple[str, ...]:
        """Names of the programs the mock check judges."""
        return tuple(p.name for p in self.programs if p.mock_check)

    def facts(self, name: str) -> tuple[Fact, ...]:
        """What the mock check must ask for a program (none for a program without a check or an unknown name)."""
        program = self.get(name)
        return program.facts if program else ()

    def user_words(self) -> list[str]:
        """Words the analyzer keeps whole: every program's terms, then the extra terms."""
        words = [t for p in self.programs for t in p.terms] + list(self.extra_terms)
        return list(dict.fromkeys(words))


@cache
def load_catalogue() -> ProgramCatalogue:
    """The catalogue from ``seed/programs.yaml``, read on first use and kept for the process."""
    return ProgramCatalogue.load()
