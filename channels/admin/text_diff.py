"""Word-level comparison of two texts for the side-by-side diff: what was removed and what was added, marked up."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from markupsafe import Markup, escape

_TOKENS = re.compile(r"\s+|[^\s]+")
# Marks that say in words what changed (screen readers, printouts, people who do not see colour).
_DELETED = Markup('<del><span class="visually-hidden">[삭제 시작] </span>{}<span class="visually-hidden"> [삭제 끝]</span></del>')
_INSERTED = Markup(
    '<ins><span class="visually-hidden">[추가 시작] </span>{}<span class="visually-hidden"> [추가 끝]</span></ins>'
)


def inline_diff(before: str, after: str) -> tuple[Markup, Markup]:
    """``before`` with removed words in ``<del>`` and ``after`` with added words in ``<ins>``, both escaped."""
    old, new = _TOKENS.findall(before), _TOKENS.findall(after)
    left: list[Markup] = []
    right: list[Markup] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        removed, added = "".join(old[i1:i2]), "".join(new[j1:j2])
        if op == "equal":
            left.append(escape(removed))
            right.append(escape(added))
            continue
        if removed:
            left.append(_DELETED.format(removed))
        if added:
            right.append(_INSERTED.format(added))
    return Markup("").join(left), Markup("").join(right)
