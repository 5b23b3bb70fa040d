"""Korean text normalization shared by the NLU tokenizer and retrieval, so both see the same tokens.

Pure standard library: the Rasa environment (Python 3.10, pydantic 1) imports this module too.
"""

from __future__ import annotations

import re
import unicodedata

# Zero-width and bidi control characters that citizens paste from other apps.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
# C0/C1 control characters except tab and newline.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")
_REPEAT = re.compile(r"([ㅋㅎㅠㅜ!?~.])\1{2,}")


def clean(text: str) -> str:
    """Remove characters that break analyzers: controls, zero-width marks and lone surrogates."""
    text = _SURROGATE.sub("", text)
    text = _INVISIBLE.sub("", text)
    return _CONTROL.sub(" ", text)


def normalize(text: str) -> str:
    """Return text in the one form that NLU and retrieval both analyze.

    NFKC folds full-width digits (compatibility jamo such as "ㅠ" are kept as typed); runs of the same laughing/crying jamo or
    punctuation ("ㅠㅠㅠㅠ", "???") shrink to two; whitespace collapses to single spaces.
    """
    # NFKC folds full-width forms, but would turn chat jamo ("ㅠㅠ", "ㅋㅋ") into conjoining jamo.
    text = "".join(
        ch if "\u3130" <= ch <= "\u318f" else unicodedata.normalize("NFKC", ch)
        for ch in unicodedata.normalize("NFC", clean(text))
    )
    text = _REPEAT.sub(r"\1\1", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


# Chat noise that says how the citizen feels, not what they ask (issue 15: an emoji alone moved a
# curated answer below the FAQ bar). Laughing/crying jamo runs, emoticons, emoji and their modifiers.
_CHAT_JAMO = re.compile(r"[ㅋㅎㅠㅜㅡㄷ]+(?:[._;^]*[ㅋㅎㅠㅜㅡㄷ]+)*")
_EMOTICON = re.compile(r"\^\^+|;;+|[TㅠㅜQ][._]?[TㅠㅜQ](?=\s|$|[?!.])|:\)|:\(|:D\b")
_EMOJI_CATEGORIES = frozenset({"So", "Sk", "Cs", "Co"})
_EMOJI_MARKS = re.compile("[\ufe0e\ufe0f\u200d\u20e3]|[\U0001f3fb-\U0001f3ff]")
_QUESTION_MARKS = re.compile(r"[?？]+[?!？！]*|![!?]*\?[?!]*")
_BANGS = re.compile(r"!{2,}")
_TRAILING_DOTS = re.compile(r"\.{2,}|…+|~{2,}|~(?=\s|$)")  # "3~5세" keeps its range
# A filler opening the message ("저기요,", "근데", "음...") or a courtesy closing it ("감사합니다").
_LEADING_FILLER = re.compile(
    r"^(?:저기요|저기|저|근데요?|그런데요?|그리고|음+|흠+|어+|아+|에+|혹시요?|안녕하세요|실례합니다|"
    r"(?:제가 |저 )?궁금한 ?(?:게|것이|점이) ?있(?:는데요?|어요|습니다)|여쭤볼 ?게 ?있(?:는데요?|어요)|"
    r"질문(?:이 ?)?있(?:는데요?|어요|습니다)|문의(?:드립니다|드려요|할게요))(?:[\s,.!?~]+|$)"
)
# "몇 프로", "50프로": chat Korean for percent, written "퍼센트" and "%" in the knowledge base.
_PERCENT_WORD = re.compile(r"몇\s?프로(?![그젝필])")
_PERCENT_NUMBER = re.compile(r"(\d)\s?프로(?![그젝필])")
_TRAILING_FILLER = re.compile(
    r"[\s,.!~]*(?:감사합니다|고맙습니다|감사해요|고마워요|부탁드려요|부탁드립니다|부탁합니다|부탁해요|수고하세요)[\s.!~]*$"
)


def _is_emoji(ch: str) -> bool:
    """Pictographs and other symbols (category So/Sk), except the few that carry meaning in a question."""
    return unicodedata.category(ch) in _EMOJI_CATEGORIES and ch not in "%^°₩"


def denoise(text: str) -> str:
    """The question without chat noise, so it scores as the clean question does.

    Drops emoji, laughing/crying jamo ("ㅋㅋ", "ㅠㅠ"), emoticons, a leading filler ("저기요", "근데", "음")
    and a closing courtesy ("감사합니다"); repeated question or exclamation marks become one; chat
    "몇 프로" / "50프로" are read as the knowledge base writes percent. Applied
    after :func:`normalize` by retrieval and the answer policy (not by the NLU tokenizer: the trained
    model saw its data without this). Returns ``text`` unchanged if nothing would be left.
    """
    out = "".join(" " if _is_emoji(ch) else ch for ch in _EMOJI_MARKS.sub("", text))
    out = _EMOTICON.sub(" ", out)
    out = _CHAT_JAMO.sub(" ", out)
    out = _QUESTION_MARKS.sub("?", out)
    out = _BANGS.sub("!", out)
    out = _TRAILING_DOTS.sub(" ", out)
    out = _PERCENT_NUMBER.sub(r"\1%", _PERCENT_WORD.sub(" 몇 퍼센트", out))
    out = _SPACES.sub(" ", out).strip()
    while (stripped := _LEADING_FILLER.sub("", out, count=1).lstrip()) != out and stripped:
        out = stripped
    out = _TRAILING_FILLER.sub("", out).strip() or out
    out = re.sub(r"\s+([?!.,])", r"\1", out)
    return out if any(ch.isalnum() for ch in out) else text
