"""Tuning and held-out splits chosen by a hash of each item's id, never by its position in a file.

A position split moves items between splits whenever a file is reordered or an item is inserted; a hash
of the id keeps every item in its split for good. Every benchmark calls :func:`split_of`; code that
tunes or sweeps anything (a threshold, alpha, a rule) looks only at the ``tuning`` split, and reports show
``tuning`` and ``heldout`` side by side.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

TUNING = "tuning"
HELDOUT = "heldout"
SPLITS = (TUNING, HELDOUT)
HELDOUT_SHARE = 0.25
_TEXT_KEYS = ("question", "query", "text")

T = TypeVar("T", bound=Mapping[str, Any])


def item_id(item: Mapping[str, Any]) -> str:
    """The item's ``id``, or a stable id made from its text (and history) when it has none."""
    if item.get("id"):
        return str(item["id"])
    text = next((str(item[key]) for key in _TEXT_KEYS if item.get(key)), None)
    if text is None:
        raise ValueError(f"item has neither an id nor a question/query/text: {item!r}")
    history = " | ".join(f"{speaker}: {said}" for speaker, said in item.get("history", []))
    return f"text:{history} || {text}" if history else f"text:{text}"


def split_of(item: Mapping[str, Any] | str) -> str:
    """``heldout`` for about a quarter of ids (first 8 bytes of sha256 below the share), else ``tuning``."""
    key = item if isinstance(item, str) else item_id(item)
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return HELDOUT if int.from_bytes(digest[:8], "big") < HELDOUT_SHARE * 2**64 else TUNING


def tuning(items: Iterable[T]) -> list[T]:
    """Only the items a tuning script may see."""
    return [item for item in items if split_of(item) == TUNING]


def split_counts(items: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """How many items fall in each split."""
    counts = dict.fromkeys(SPLITS, 0)
    for item in items:
        counts[split_of(item)] += 1
    return counts
