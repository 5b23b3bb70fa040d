"""Mask personal data before text reaches a model, another service or a log (PIPA)."""

from __future__ import annotations

import re

# Order matters: the longest, most specific patterns first.
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("이메일", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    ("주민등록번호", re.compile(r"(?<!\d)\d{6}\s?-?\s?[1-8]\d{6}(?!\d)")),
    ("카드번호", re.compile(r"(?<!\d)\d{4}[- ]\d{4}[- ]\d{4}[- ]\d{4}(?!\d)")),
    ("전화번호", re.compile(r"(?<!\d)(?:01[016789]|0[2-6]\d?|070)[- .]?\d{3,4}[- .]?\d{4}(?!\d)")),
    ("계좌번호", re.compile(r"(?<!\d)\d{2,6}-\d{2,6}-\d{2,8}(?:-\d{1,4})?(?!\d)")),
    ("카드번호", re.compile(r"(?<!\d)\d{15,16}(?!\d)")),
    ("계좌번호", re.compile(r"(?<!\d)\d{10,14}(?!\d)")),
]


def mask(text: str) -> str:
    """Replace personal identifiers with a Korean placeholder such as ``[전화번호]``."""
    for label, pattern in _PATTERNS:
        text = pattern.sub(f"[{label}]", text)
    return text
