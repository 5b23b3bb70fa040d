"""The benchmark split: chosen by a hash of the item's id, stable, about a quarter held out."""

from __future__ import annotations

import random

import pytest

from bench.splits import HELDOUT, HELDOUT_SHARE, TUNING, item_id, split_counts, split_of, tuning


def test_the_split_depends_on_the_id_not_the_position() -> None:
    items = [{"id": f"q-{n:04d}", "question": f"질문 {n}"} for n in range(200)]
    before = {item["id"]: split_of(item) for item in items}
    shuffled = items[:]
    random.Random(3).shuffle(shuffled)
    assert {item["id"]: split_of(item) for item in shuffled} == before
    assert [i["id"] for i in tuning(shuffled)] == [i["id"] for i in shuffled if before[i["id"]] == TUNING]


def test_the_split_is_fixed_for_good() -> None:
    # sha256("cq-001") starts with 0xdb...: above a quarter of 2**64, so tuning, on every machine and run.
    assert split_of("cq-001") == TUNING
    assert split_of({"id": "cq-001", "question": "anything"}) == TUNING
    assert split_of("fixed-heldout-3") == split_of("fixed-heldout-3")


def test_about_a_quarter_is_held_out() -> None:
    counts = split_counts({"id": f"item-{n}"} for n in range(4000))
    assert abs(counts[HELDOUT] / 4000 - HELDOUT_SHARE) < 0.03
    assert counts[TUNING] + counts[HELDOUT] == 4000


def test_items_without_an_id_get_one_from_their_text() -> None:
    assert item_id({"question": "기초연금 얼마예요?"}) == item_id({"question": "기초연금 얼마예요?", "expected": "x"})
    assert item_id({"query": "기초연금"}) != item_id({"query": "아동수당"})
    followup = {"question": "어디서 신청해요?", "history": [["user", "기초연금 얼마예요?"]]}
    assert item_id(followup) != item_id({"question": "어디서 신청해요?"})
    with pytest.raises(ValueError):
        item_id({"expected": "x"})
