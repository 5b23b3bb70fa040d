"""Korean morphological analysis behind one small interface, used by NLU tokenization and BM25.

Kiwi (kiwipiepy) is the default: it had the best key-noun recall on noisy citizen input and needs no
JVM. Its model is created lazily, once per process: a Kiwi created before a fork hangs in the child.
Okt (konlpy, ``BOKJI_KNOWLEDGE__ANALYZER=okt``) is the alternative; its JVM likewise starts on first use.
Pure standard library apart from the lazily imported analyzer, so the Rasa environment can use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from knowledge.korean.text import clean, denoise, normalize

DEFAULT_USER_DICT = Path(__file__).resolve().parents[1] / "seed" / "user_dict.tsv"

# Tags whose morphemes carry meaning for search: nouns, roots, foreign words, numbers, verb/adj stems.
_CONTENT_TAGS = ("NNG", "NNP", "NNB", "NR", "NP", "SL", "SH", "SN", "XR", "VV", "VA", "MAG")
_NOUN_TAGS = ("NNG", "NNP", "XR", "SL", "SH")

# Who the question is about ("울엄마", "제가", "우리 아버지") says whose case it is, not which program:
# such words are left out of search queries. Words that do name a program's subject (자녀, 아동,
# 어르신, 부모) are not in these lists.
_PRONOUNS = frozenset({"나", "저", "우리", "울", "내", "제", "너", "니", "저희"})
_RELATIVES = frozenset(
    {"엄마", "아빠", "어머니", "아버지", "어머님", "아버님", "할머니", "할아버지", "남편", "아내", "와이프", "부인",
     "아들", "딸", "손자", "손녀", "동생", "누나", "언니", "오빠", "영감", "할멈", "시어머니", "장모", "장인"}
)  # fmt: skip
# Counted people: "4인", "4명", "네 식구", "여섯명" all become the term "4인" / "6인".
_PERSON_COUNTERS = frozenset({"인", "명", "식구", "가족", "사람"})
_NUMERALS = {
    "하나": "1", "한": "1", "둘": "2", "두": "2", "셋": "3", "세": "3", "넷": "4", "네": "4", "다섯": "5",
    "여섯": "6", "일곱": "7", "여덟": "8", "아홉": "9", "열": "10", "일": "1", "이": "2", "삼": "3", "사": "4",
    "오": "5", "육": "6", "칠": "7", "팔": "8", "구": "9", "십": "10",
}  # fmt: skip


@dataclass(frozen=True)
class Morpheme:
    """One morpheme with its position in the analyzed text."""

    form: str
    tag: str
    start: int
    end: int


class KoreanAnalyzer(Protocol):
    """What NLU and retrieval need from a Korean analyzer."""

    def morphemes(self, text: str, *, correct_typos: bool = False) -> list[Morpheme]:
        """Split text into morphemes whose offsets point into ``text``.

        ``correct_typos`` asks the analyzer to repair common typos ("생게급여" -> 생계급여) where it can;
        analyzers without a typo model ignore it.
        """
        ...


UserWords = list[tuple[str, str]]


def parse_user_dict(text: str) -> UserWords:
    """Parse ``word<TAB>tag`` lines, skipping comments and blanks."""
    words: UserWords = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        word, _, tag = line.partition("\t")
        words.append((word.strip(), (tag.strip() or "NNP")))
    return words


def load_user_dict(path: Path = DEFAULT_USER_DICT) -> UserWords:
    """Read a user dictionary file."""
    return parse_user_dict(path.read_text(encoding="utf-8"))


class KiwiAnalyzer:
    """Kiwi with the welfare-term user dictionary, created on first use in this process."""

    def __init__(self, user_words: UserWords | None = None) -> None:
        """Remember the dictionary words; the Kiwi model (~0.6 s, ~300 MB) loads on first use."""
        self._user_words = user_words or []
        self._kiwi: Any = None

    def _model(self) -> Any:
        if self._kiwi is None:
            from kiwipiepy import Kiwi  # lazy: heavy, and must not exist before a fork

            # Without Kiwi's multi-word proper-noun dictionary (titles such as "해리 포터와 마법사의 돌"): 180 MB less in
            # each of Rasa and the action server. Measured 2026-12-02 on every Korean line of the NLU data, FAQs,
            # benchmark and test sets, fixtures and ingested chunks (10,609 lines, with and without typo correction):
            # not one morpheme differs, so the index and the NLU model stay valid.
            kiwi = Kiwi(load_multi_dict=False)
            for word, tag in self._user_words:
                kiwi.add_user_word(word, tag, 0.0)
            self._kiwi = kiwi
        return self._kiwi

    def morphemes(self, text: str, *, correct_typos: bool = False) -> list[Morpheme]:
        """Analyze text; offsets refer to ``text`` itself (cleaning keeps lengths).

        ``correct_typos`` uses Kiwi's basic typo model (about twice as slow; the first call builds it).
        """
        safe = "".join(ch if clean(ch) == ch else " " for ch in text)
        tokens = self._model().tokenize(safe, typos="basic") if correct_typos else self._model().tokenize(safe)
        return [Morpheme(t.form, t.tag, t.start, t.start + t.len) for t in tokens if t.len > 0]


class OktAnalyzer:
    """konlpy's Okt with the welfare-term user dictionary (needs Java; ``make setup`` installs both)."""

    def __init__(self, user_words: UserWords | None = None) -> None:
        """Remember the dictionary words; the JVM (~2 s, ~450 MB) starts on first use, after any fork."""
        self._user_words = user_words or []
        self._okt: Any = None

    def _model(self) -> Any:
        if self._okt is None:
            try:
                import jpype
                from konlpy.tag import Okt
            except ImportError as exc:
                raise RuntimeError("the okt analyzer needs konlpy and Java: run 'make setup'") from exc
            okt = Okt()
            # Okt's dictionary lives in the JVM, one per process: every OktAnalyzer here shares these nouns.
            nouns = [word for word, tag in self._user_words if tag.startswith("NN")]
            if nouns:
                processor = jpype.JClass("org.openkoreantext.processor.OpenKoreanTextProcessorJava")
                processor.addNounsToDictionary(jpype.java.util.Arrays.asList(nouns))
            self._okt = okt
        return self._okt

    def morphemes(self, text: str, *, correct_typos: bool = False) -> list[Morpheme]:
        """Analyze text with Okt (no typo model); offsets are recovered by scanning left to right."""
        safe = "".join(ch if clean(ch) == ch else " " for ch in text)
        out: list[Morpheme] = []
        pos = 0
        for form, tag in self._model().pos(safe):
            start = safe.find(form, pos)
            if start < 0:
                continue
            out.append(Morpheme(form, _OKT_TAGS.get(tag, tag), start, start + len(form)))
            pos = start + len(form)
        return out


# Okt's coarse tags as the Sejong tags the rest of this module reads (particles matter to focus_text).
_OKT_TAGS = {
    "Noun": "NNG", "Verb": "VV", "Adjective": "VA", "Adverb": "MAG", "Number": "SN", "Alpha": "SL",
    "Josa": "JX", "Modifier": "MM", "Determiner": "MM", "Suffix": "XSN", "Eomi": "EF", "PreEomi": "EP",
    "Punctuation": "SF", "Conjunction": "MAJ", "Exclamation": "IC",
}  # fmt: skip


def make_analyzer(name: str = "kiwi", user_words: UserWords | None = None) -> KoreanAnalyzer:
    """Build the analyzer named by a setting (default words: the project's welfare dictionary)."""
    match name:
        case "kiwi":
            return KiwiAnalyzer(load_user_dict() if user_words is None else user_words)
        case "okt":
            return OktAnalyzer(load_user_dict() if user_words is None else user_words)
        case _:
            raise ValueError(f"unknown Korean analyzer {name!r}; use 'kiwi' or 'okt'")


def _counted(m: Morpheme, nxt: Morpheme) -> str | None:
    """A joined count term ("4인", "66살") when ``m`` is a number directly counting ``nxt``."""
    if nxt.start - m.end > 1 or not nxt.tag.startswith(("NNB", "NNG")):
        return None
    number = m.form if m.tag == "SN" else _NUMERALS.get(m.form) if m.tag in ("NR", "MM") else None
    if number is None:
        return None
    if nxt.form in _PERSON_COUNTERS:
        return number + "인"
    return number + nxt.form if m.tag == "SN" and nxt.start == m.end else None


def _is_referent(m: Morpheme) -> bool:
    return (m.tag == "NP" and m.form in _PRONOUNS) or (m.tag.startswith("NN") and m.form in _RELATIVES)


def _terms(morphemes: list[Morpheme]) -> list[str]:
    terms: list[str] = []
    run: list[Morpheme] = []

    def flush() -> None:
        # Adjacent pairs ("주거"+"급여") and the whole run ("기준중위소득"+"4인"...).
        terms.extend(a.form + b.form for a, b in zip(run, run[1:]))
        if len(run) > 2:
            terms.append("".join(m.form for m in run))
        for m in run:
            if len(m.form) > 2 and m.tag in ("NNG", "NNP"):
                terms.extend(m.form[i : i + 2] for i in range(len(m.form) - 1))
        run.clear()

    for i, m in enumerate(morphemes):
        if m.tag.startswith(_CONTENT_TAGS):
            terms.append(m.form)
        if i + 1 < len(morphemes) and (count := _counted(m, morphemes[i + 1])):
            terms.append(count)
        if m.tag.startswith(_NOUN_TAGS) and (not run or m.start - run[-1].end <= 1):
            run.append(m)
        else:
            flush()
            if m.tag.startswith(_NOUN_TAGS):
                run.append(m)
    flush()
    return terms


def index_terms(analyzer: KoreanAnalyzer, text: str) -> list[str]:
    """Terms for keyword search: content morphemes, joined noun runs and their 2-character pieces.

    Noun runs (across at most one space) are joined pairwise, so "주거 급여" matches "주거급여";
    2-character pieces let "기초연금" match "연금"; counted people and ages become one term
    ("네 식구" and "4인가구" both give "4인", "66살" gives "66살").
    """
    return _terms(analyzer.morphemes(normalize(text).lower()))


def query_terms(analyzer: KoreanAnalyzer, text: str) -> list[str]:
    """Terms of a citizen's question: like :func:`index_terms`, typos repaired, who-words dropped.

    Pronouns and family words ("울엄마", "제가") say whose case it is, not which program, and would
    pull in the one FAQ that happens to mention a mother.
    """
    morphemes = analyzer.morphemes(normalize(text).lower(), correct_typos=True)
    return _terms([m for m in morphemes if not _is_referent(m)])


def focus_text(analyzer: KoreanAnalyzer, text: str) -> str:
    """The question without who-words and their particles, for the dense query ("울엄마 66살인데" -> "66살인데").

    Returns the text unchanged when nothing else would be left.
    """
    text = normalize(text)
    morphemes = analyzer.morphemes(text)
    cut: list[tuple[int, int]] = []
    for i, m in enumerate(morphemes):
        if _is_referent(m):
            end = m.end
            for nxt in morphemes[i + 1 :]:
                if not nxt.tag.startswith("J") or nxt.start != end:
                    break
                end = nxt.end
            cut.append((m.start, end))
    if not cut:
        return text
    kept, pos = [], 0
    for start, end in cut:
        kept.append(text[pos:start])
        pos = end
    kept.append(text[pos:])
    focused = " ".join("".join(kept).split())
    return focused if any(ch.isalnum() for ch in focused) else text


# Where a run-together question ("받을수있어요", "네식구") hides a word boundary: after a particle, an
# ending or a determiner, before a content word; and between a noun and a verb, adjective, adverb or determiner.
# Never between two nouns: "중위소득" and "중위 소득" are the same term to the index, and compounds stay whole.
_WORD_START_TAGS = ("NNG", "NNP", "NNB", "NR", "NP", "VV", "VA", "MAG", "MM", "XR", "SL", "SH")
_WORD_END_TAGS = ("J", "E", "MM", "MAG", "VCN")
_PREDICATE_TAGS = ("VV", "VA", "MAG", "MM")


def _starts_word(left: Morpheme, right: Morpheme) -> bool:
    if not right.tag.startswith(_WORD_START_TAGS):
        return False
    if left.tag.startswith(_WORD_END_TAGS):
        return True
    return left.tag.startswith(("NN", "NR", "NP", "XR", "SN")) and right.tag.startswith(_PREDICATE_TAGS)


def respace(analyzer: KoreanAnalyzer, text: str) -> str:
    """Put back the spaces a run-together question left out ("받을수있어요" -> "받을 수 있어요").

    Only inserts spaces (never removes one) and only between morphemes that the analyzer read as
    separate words; a well-spaced question comes back as it was.
    """
    morphemes = analyzer.morphemes(text)
    cuts = [
        right.start
        for left, right in zip(morphemes, morphemes[1:], strict=False)
        if left.end == right.start and _starts_word(left, right)
    ]
    if not cuts:
        return text
    pieces, pos = [], 0
    for cut in cuts:
        pieces.append(text[pos:cut])
        pos = cut
    pieces.append(text[pos:])
    return " ".join(pieces)


def query_form(analyzer: KoreanAnalyzer, text: str) -> str:
    """A citizen's question as retrieval and the answer policy read it: normalized, chat noise gone, respaced."""
    return respace(analyzer, denoise(normalize(text)))
