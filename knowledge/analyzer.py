"""Korean morphological analysis behind one small interface, used by NLU tokenization and BM25.

Kiwi (kiwipiepy) is the default: it had the best key-noun recall on noisy citizen input and needs no
JVM. Its model is created lazily, once per process: a Kiwi created before a fork hangs in the child.
Pure standard library apart from the lazily imported analyzer, so the Rasa environment can use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from knowledge.text import clean, normalize

DEFAULT_USER_DICT = Path(__file__).parent / "seed" / "user_dict.tsv"

# Tags whose morphemes carry meaning for search: nouns, roots, foreign words, numbers, verb/adj stems.
_CONTENT_TAGS = ("NNG", "NNP", "NNB", "NR", "NP", "SL", "SH", "SN", "XR", "VV", "VA", "MAG")
_NOUN_TAGS = ("NNG", "NNP", "XR", "SL", "SH")


@dataclass(frozen=True)
class Morpheme:
    """One morpheme with its position in the analyzed text."""

    form: str
    tag: str
    start: int
    end: int


class KoreanAnalyzer(Protocol):
    """What NLU and retrieval need from a Korean analyzer."""

    def morphemes(self, text: str) -> list[Morpheme]:
        """Split text into morphemes whose offsets point into ``text``."""
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
        """Remember the dictionary words; the Kiwi model (~0.6 s, ~500 MB) loads on first use."""
        self._user_words = user_words or []
        self._kiwi: Any = None

    def _model(self) -> Any:
        if self._kiwi is None:
            from kiwipiepy import Kiwi  # lazy: heavy, and must not exist before a fork

            kiwi = Kiwi()
            for word, tag in self._user_words:
                kiwi.add_user_word(word, tag, 0.0)
            self._kiwi = kiwi
        return self._kiwi

    def morphemes(self, text: str) -> list[Morpheme]:
        """Analyze text; offsets refer to ``text`` itself (cleaning keeps lengths)."""
        safe = "".join(ch if clean(ch) == ch else " " for ch in text)
        return [Morpheme(t.form, t.tag, t.start, t.start + t.len) for t in self._model().tokenize(safe) if t.len > 0]


class OktAnalyzer:
    """konlpy's Okt, for cities that standardize on it (optional extra; needs Java)."""

    def __init__(self) -> None:
        """The JVM starts on first use, never at construction (it must start after any fork)."""
        self._okt: Any = None

    def morphemes(self, text: str) -> list[Morpheme]:
        """Analyze text with Okt; offsets are recovered by scanning the text left to right."""
        if self._okt is None:
            try:
                from konlpy.tag import Okt
            except ImportError as exc:  # pragma: no cover - depends on the optional extra
                raise RuntimeError("Okt needs the 'okt' extra: pip install 'bokji-bot[okt]'") from exc
            self._okt = Okt()
        safe = clean(text)
        out: list[Morpheme] = []
        pos = 0
        for form, tag in self._okt.pos(safe):
            start = safe.find(form, pos)
            if start < 0:
                continue
            out.append(Morpheme(form, _OKT_TAGS.get(tag, tag), start, start + len(form)))
            pos = start + len(form)
        return out


_OKT_TAGS = {"Noun": "NNG", "Verb": "VV", "Adjective": "VA", "Number": "SN", "Alpha": "SL"}


def make_analyzer(name: str = "kiwi", user_words: UserWords | None = None) -> KoreanAnalyzer:
    """Build the analyzer named by a setting (default words: the project's welfare dictionary)."""
    match name:
        case "kiwi":
            return KiwiAnalyzer(load_user_dict() if user_words is None else user_words)
        case "okt":
            return OktAnalyzer()
        case _:
            raise ValueError(f"unknown Korean analyzer {name!r}; use 'kiwi' or 'okt'")


def index_terms(analyzer: KoreanAnalyzer, text: str) -> list[str]:
    """Terms for keyword search: content morphemes, joined noun runs and their 2-character pieces.

    Noun runs (across at most one space) are joined pairwise, so "주거 급여" matches "주거급여";
    2-character pieces let "기초연금" match "연금".
    """
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

    for m in analyzer.morphemes(normalize(text).lower()):
        if m.tag.startswith(_CONTENT_TAGS):
            terms.append(m.form)
        if m.tag.startswith(_NOUN_TAGS) and (not run or m.start - run[-1].end <= 1):
            run.append(m)
        else:
            flush()
            if m.tag.startswith(_NOUN_TAGS):
                run.append(m)
    flush()
    return terms
