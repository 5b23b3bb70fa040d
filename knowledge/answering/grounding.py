"""The grounding check: a generated answer may only state numbers that its cited passages state.

Pure functions, no model and no I/O. Every number, amount, percentage, date and phone number in
the answer is read into a canonical fact (``"34만 9,700원"`` and ``"349,700원"`` are the same amount,
``"65살"`` and ``"만 65세"`` the same age) and must be found among the facts of the passages the
answer cites. Each citation ``[n]`` must point to a retrieved passage. An answer that fails is
replaced by :func:`best_extract`, sentences copied from the passages themselves.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

# "[1]", "[1, 2]", "[1][2]": citations of retrieved passages, numbered from 1.
_CITATION = re.compile(r"\[\s*(\d{1,3}(?:\s*,\s*\d{1,3})*)\s*\]")
# "1. ", "2) " at the start of a line: list numbering the model adds, not a fact.
_LIST_MARKER = re.compile(r"(?m)^\s*\d{1,2}[.)]\s+")
# Digit groups joined by hyphens: phone numbers ("1577-1000", "02-123-4567") and ISO dates.
_DASHED = re.compile(r"(?<![\d.,])\d{1,4}(?:-\d{1,4})+(?![\d,])")
_NUMBER = r"\d+(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
# One number with an optional Korean multiplier ("34만", "1억", "2천"); runs of these form one amount.
_CHUNK = re.compile(rf"({_NUMBER})(?:\s*(억|천만|백만|만|천))?")
_MULTIPLIER = {"억": 100_000_000, "천만": 10_000_000, "백만": 1_000_000, "만": 10_000, "천": 1_000}
# Units after a number; synonyms fold to one canonical unit.
_UNIT = re.compile(
    r"\s*(퍼센트포인트|%p|%|퍼센트|프로|원|세|살|개월|년|월|일|주|시간|시|분|명|인|가구|개|회|번|배|km|kg|등급|단계|가지|층|호|차)"
)
_UNIT_ALIAS = {"퍼센트": "%", "프로": "%", "살": "세", "퍼센트포인트": "%p"}
# "112번" says no more than "112" does: a bare number in a passage supports it.
_UNIT_OPTIONAL = {"번"}
# Spelled-out Sino-Korean amounts ("십만 원", "삼십이 퍼센트"): allowed only if a passage has the same words.
_SPELLED = re.compile(r"(?<![\d가-힣])[일이삼사오육칠팔구십백천만억]{2,}\s?(?:원|퍼센트|프로)")
_SENTENCE_END = re.compile(r"(?<=[.!?。])\s+|\n+")


@dataclass(frozen=True)
class Fact:
    """A number as it is meant: its value, its unit (``""`` if none) and how it was written."""

    value: str
    unit: str
    text: str


@dataclass(frozen=True)
class Grounding:
    """The verdict on one answer against the passages it was written from."""

    ok: bool
    unsupported: tuple[str, ...] = ()
    bad_citations: tuple[int, ...] = ()
    cited: tuple[int, ...] = ()
    reasons: tuple[str, ...] = field(default_factory=tuple)


def citations(text: str) -> list[int]:
    """Passage numbers cited in ``text``, in order of first appearance."""
    seen: list[int] = []
    for group in _CITATION.findall(text):
        for part in group.split(","):
            number = int(part)
            if number not in seen:
                seen.append(number)
    return seen


def strip_citations(text: str) -> str:
    """The text without ``[n]`` markers (what the facts are read from)."""
    return _CITATION.sub(" ", text)


def _canonical(number: str) -> str:
    value = float(number.replace(",", ""))
    return str(int(value)) if value.is_integer() else f"{value:g}"


def extract_facts(text: str) -> list[Fact]:
    """Every number-bearing expression in ``text`` as a canonical fact.

    Citations and list numbering are not facts. Phone numbers and dashed dates are compared as
    written (digits and hyphens); amounts are summed over Korean multipliers.
    """
    body = _LIST_MARKER.sub(" ", strip_citations(text))
    facts: list[Fact] = []
    facts.extend(Fact(value=m.group(0), unit="-", text=m.group(0)) for m in _DASHED.finditer(body))
    body = _DASHED.sub(" ", body)
    facts.extend(Fact(value=m.group(0).replace(" ", ""), unit="spelled", text=m.group(0)) for m in _SPELLED.finditer(body))
    pos = 0
    while first := _CHUNK.search(body, pos):
        start, total, end = first.start(), 0.0, first.end()
        last_multiplier: int | None = None
        current: re.Match[str] | None = first
        while current is not None:
            multiplier = _MULTIPLIER.get(current.group(2) or "", 1)
            if last_multiplier is not None and multiplier >= last_multiplier:
                break  # "3만 2만" are two amounts, not one
            total += float(current.group(1).replace(",", "")) * multiplier
            end, last_multiplier = current.end(), multiplier
            if multiplier == 1:
                break
            nxt = _CHUNK.match(body, end + len(body[end:]) - len(body[end:].lstrip()))
            current = nxt if nxt and body[end : nxt.start()].strip() == "" else None
        unit_match = _UNIT.match(body, end)
        unit = ""
        if unit_match:
            unit = _UNIT_ALIAS.get(unit_match.group(1), unit_match.group(1))
            end = unit_match.end()
        facts.append(Fact(value=_canonical(str(total)), unit=unit, text=body[start:end].strip()))
        pos = end
    return facts


def _supported(fact: Fact, known: list[Fact], source_text: str) -> bool:
    if fact.unit == "spelled":
        return fact.value in source_text.replace(" ", "")
    if fact.unit == "-":
        return any(k.unit == "-" and k.value == fact.value for k in known)
    if fact.unit in _UNIT_OPTIONAL:
        return any(k.value == fact.value and k.unit in (fact.unit, "") for k in known)
    if fact.unit:
        return any(k.value == fact.value and k.unit == fact.unit for k in known)
    return any(k.value == fact.value for k in known)


def check_grounding(answer: str, passages: Sequence[str]) -> Grounding:
    """Whether every fact of ``answer`` appears in a passage it cites, and every citation exists.

    Args:
        answer: generated text with citations ``[1]``, ``[2]`` numbered from 1.
        passages: the retrieved passages, in the order they were numbered for the model.

    Returns:
        The verdict with the unsupported facts and the citations that point nowhere.
    """
    cited = citations(answer)
    bad = tuple(n for n in cited if not 1 <= n <= len(passages))
    good = tuple(n for n in cited if 1 <= n <= len(passages))
    cited_text = "\n".join(passages[n - 1] for n in good)
    known = extract_facts(cited_text)
    unsupported = tuple(f.text for f in extract_facts(answer) if not _supported(f, known, cited_text))
    reasons = []
    if bad:
        reasons.append("citation to a passage that was not retrieved")
    if not good:
        reasons.append("no citation")
    if unsupported:
        reasons.append("number not in a cited passage")
    return Grounding(ok=not reasons, unsupported=unsupported, bad_citations=bad, cited=good, reasons=tuple(reasons))


def unsupported_facts(text: str, sources: Sequence[str]) -> list[str]:
    """Facts of ``text`` that appear in none of ``sources`` (citations ignored): the benchmark's audit."""
    joined = "\n".join(sources)
    known = extract_facts(joined)
    return [f.text for f in extract_facts(text) if not _supported(f, known, joined)]


def attribute_citations(answer: str, passages: Sequence[str]) -> str:
    """Add ``[n]`` to sentences of an uncited answer whose numbers all come from passage n.

    Small models often copy a passage faithfully but forget the marker. The check that follows is
    unchanged: a sentence whose numbers are in no single passage stays uncited and fails it.
    Sentences without numbers get the first passage's marker only if nothing else was cited.
    """
    if citations(answer) or not passages:
        return answer
    known = [extract_facts(p) for p in passages]
    out: list[str] = []
    for sentence in sentences(answer):
        facts = extract_facts(sentence)
        source = next(
            (n for n, (k, p) in enumerate(zip(known, passages), start=1) if facts and all(_supported(f, k, p) for f in facts)),
            None,
        )
        out.append(sentence if source is None else _cite(sentence, source))
    text = " ".join(out)
    return text if citations(text) else _cite(text, 1) if not extract_facts(text) else text


def _cite(sentence: str, number: int) -> str:
    stripped = sentence.rstrip()
    if stripped and stripped[-1] in ".!?":
        return f"{stripped[:-1]} [{number}]{stripped[-1]}"
    return f"{stripped} [{number}]"


def renumber_citations(text: str, order: Sequence[int]) -> str:
    """Rewrite citations so the passages in ``order`` become [1], [2], ... (the sources shown)."""
    mapping = {old: new for new, old in enumerate(order, start=1)}

    def replace(match: re.Match[str]) -> str:
        numbers = [mapping[int(p)] for p in match.group(1).split(",") if int(p) in mapping]
        return "".join(f"[{n}]" for n in dict.fromkeys(numbers))

    return _CITATION.sub(replace, text)


def sentences(text: str) -> list[str]:
    """Split Korean prose into sentences (on final punctuation and line breaks)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def _bigrams(text: str) -> set[str]:
    compact = re.sub(r"\W+", "", text)
    return {compact[i : i + 2] for i in range(len(compact) - 1)}


def focus_passage(question: str, text: str, limit: int) -> str:
    """``text`` within ``limit`` characters: its first line (the title) and the sentences closest to the question.

    Sentences keep their order; a text that already fits is returned as it is. The model reads fewer
    tokens (each costs ~30 ms on one CPU thread) and the sentences that answer the question stay in.
    """
    if len(text) <= limit:
        return text
    head, _, body = text.partition("\n")
    if len(head) >= limit:
        return text[:limit]
    parts = sentences(body)
    wanted = _bigrams(question)
    kept, size = set(), len(head)
    for i in sorted(range(len(parts)), key=lambda i: (-len(wanted & _bigrams(parts[i])), i)):
        if size + 1 + len(parts[i]) <= limit:
            kept.add(i)
            size += 1 + len(parts[i])
    if not kept:
        return text[:limit]
    return head + "\n" + " ".join(parts[i] for i in sorted(kept))


def best_extract(question: str, passages: Sequence[str], *, max_sentences: int = 2) -> tuple[str, int]:
    """The passage sentences closest to the question, copied as written: the fallback answer.

    The best passage is the one whose best sentences share the most character bigrams with the
    question (ties go to the earlier, better-ranked passage).

    Returns:
        The sentences joined, and the number (from 1) of the passage they come from; ``("", 0)``
        when there are no passages.
    """
    wanted = _bigrams(question)
    best: tuple[float, int, list[str]] = (-1.0, 0, [])
    for number, passage in enumerate(passages, start=1):
        ranked = sorted(
            ((len(wanted & _bigrams(s)), -i, s) for i, s in enumerate(sentences(passage))),
            reverse=True,
        )[:max_sentences]
        if not ranked:
            continue
        score = sum(r[0] for r in ranked) / len(ranked) - 0.5 * (number - 1)
        if score > best[0]:
            chosen = [s for _, _, s in sorted(ranked, key=lambda r: -r[1])]  # keep the passage's order
            best = (score, number, chosen)
    return " ".join(best[2]), best[1]
