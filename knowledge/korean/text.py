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
