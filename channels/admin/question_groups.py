"""Group citizens' questions that ask the same thing, by character pairs (no model: the web app never loads one).

A question is normalized (``knowledge.korean.text.normalize``), its polite ending ("...할 수 있나요", "...해요")
and the particles after a word ("기초연금은") are dropped, spaces and punctuation go, and what is left is
compared by the Jaccard index of its character bigrams. "기초연금 얼마 받아요?" and "기초연금은 얼마나 받을 수
있나요" share enough pairs (0.71); "기초연금 얼마" and "기초연금 신청" do not (0.43). Each group is held together
by its first (newest) question: every member is close to it, so a resolution recorded with that question
covers the whole group.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from knowledge.korean.text import normalize

SAME_QUESTION = 0.5
KEY_CHARS = 200

_ENDING = re.compile(
    r"\s*(?:(?:할|될|받을|볼|을|ㄹ)?\s*수\s*(?:있나요|있어요|있을까요|있습니까|없나요|없어요)|있나요|있어요|없나요|없어요|"
    r"인가요|한가요|할까요|을까요|나요|까요|어요|아요|해요|에요|예요|세요|습니까|니까|는지|죠|요)$"
)
_PARTICLE = re.compile(r"(?<=[가-힣])(?:은|는|을|를|이|가|에서|에게|에|의|도|으로|로|와|과|랑)(?=\s)")
_NOISE = re.compile(r"[\s\W_]+")


class Asked(Protocol):
    """What grouping reads of a question occurrence."""

    @property
    def question(self) -> str:
        """The (masked) text."""
        ...

    @property
    def at(self) -> datetime:
        """When it was asked."""
        ...


A = TypeVar("A", bound=Asked)


def question_key(text: str) -> str:
    """The folded core of a question: what grouping compares and resolutions are stored under."""
    core = normalize(text).lower().strip()
    core = re.sub(r"[\s?？!.~ㅠㅜ]+$", "", core)
    core = _ENDING.sub("", core)
    core = _PARTICLE.sub("", core + " ").strip()
    return _NOISE.sub("", core)[:KEY_CHARS] or _NOISE.sub("", normalize(text).lower())[:KEY_CHARS]


def bigrams(key: str) -> frozenset[str]:
    """Character pairs of a folded question (a one-character question is its own pair)."""
    return frozenset(key[i : i + 2] for i in range(len(key) - 1)) or frozenset({key})


def similarity(first: str, second: str) -> float:
    """Jaccard index of two questions' character pairs (1.0: the same once folded)."""
    a, b = question_key(first), question_key(second)
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    pairs_a, pairs_b = bigrams(a), bigrams(b)
    return len(pairs_a & pairs_b) / len(pairs_a | pairs_b)


def same_question(first: str, second: str) -> bool:
    """Whether two questions ask the same thing (for grouping and for resolutions)."""
    return similarity(first, second) >= SAME_QUESTION


@dataclass
class QuestionGroup(Generic[A]):
    """Questions that ask the same thing, newest first; the first one holds the group together."""

    key: str
    members: list[A] = field(default_factory=list)

    @property
    def seed(self) -> A:
        """The question every member is close to (the newest)."""
        return self.members[0]

    @property
    def count(self) -> int:
        """How many times it was asked."""
        return len(self.members)

    @property
    def last_seen(self) -> datetime:
        """When it was last asked."""
        return max(m.at for m in self.members)

    def variants(self, limit: int = 8) -> list[str]:
        """The different wordings, most asked first (then newest), the seed's wording first."""
        counts: dict[str, int] = {}
        for member in self.members:
            text = member.question.strip()
            counts[text] = counts.get(text, 0) + 1
        seed = self.seed.question.strip()
        ordered = sorted(counts, key=lambda t: (t != seed, -counts[t]))
        return ordered[:limit]


def group_questions(asked: Iterable[A]) -> list[QuestionGroup[A]]:
    """Group occurrences (any order); each joins the most similar group whose seed it is close to, else starts one."""
    groups: list[QuestionGroup[A]] = []
    pairs_of: list[frozenset[str]] = []
    by_key: dict[str, int] = {}
    by_pair: dict[str, set[int]] = {}
    for item in sorted(asked, key=lambda a: a.at, reverse=True):
        key = question_key(item.question)
        if not key:
            continue
        if key in by_key:
            groups[by_key[key]].members.append(item)
            continue
        pairs = bigrams(key)
        candidates = set().union(*(by_pair.get(p, set()) for p in pairs)) if pairs else set()
        best, best_score = -1, SAME_QUESTION
        for index in sorted(candidates):
            seed_pairs = pairs_of[index]
            score = len(pairs & seed_pairs) / len(pairs | seed_pairs)
            if score >= best_score and (best < 0 or score > best_score):
                best, best_score = index, score
        if best >= 0:
            groups[best].members.append(item)
            by_key[key] = best
            continue
        groups.append(QuestionGroup(key, [item]))
        pairs_of.append(pairs)
        by_key[key] = len(groups) - 1
        for pair in pairs:
            by_pair.setdefault(pair, set()).add(len(groups) - 1)
    return groups


def covered_by(item: Asked, resolutions: Sequence[tuple[str, datetime]]) -> bool:
    """Whether a resolution made after ``item`` was asked covers it (``resolutions``: question, resolved at).

    Times are kept to the second: a question asked in the second of the click shows again (better seen twice than lost).
    """
    return any(item.at < at and same_question(item.question, question) for question, at in resolutions)
