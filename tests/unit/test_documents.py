from datetime import date
from pathlib import Path

import pytest

from knowledge.domain.document import DocumentError
from knowledge.domain.faq import FaqEntry
from knowledge.ingestion.seed_files import load_faq_dir, load_faq_file, load_helplines


def test_seed_corpus_is_large_and_every_entry_is_sourced_and_dated(seed_entries: list[FaqEntry]) -> None:
    assert len(seed_entries) >= 150
    for entry in seed_entries:
        assert entry.source.title and entry.source.url.startswith("https://"), entry.id
        assert entry.updated_at.year >= 2026, entry.id


def test_seed_states_the_2026_basic_pension_amount(seed_entries: list[FaqEntry]) -> None:
    amount = next(e for e in seed_entries if e.id == "basic-pension-amount")
    assert "349,700원" in amount.answer


def test_unconfirmed_figures_are_marked_for_review(seed_entries: list[FaqEntry]) -> None:
    by_id = {e.id: e for e in seed_entries}
    assert by_id["median-income-6person"].needs_review
    assert by_id["parental-benefit-amount"].needs_review


def test_bad_rows_are_reported_with_file_row_and_reason(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "- id: ok-entry\n  question: 질문이에요\n  answer: 답이에요\n  source: {title: t}\n  updated_at: '2026-01-02'\n"
        "- id: Bad Id\n  question: 질문\n  answer: 답\n  source: {title: t}\n  updated_at: 'not a date'\n",
        encoding="utf-8",
    )
    with pytest.raises(DocumentError) as err:
        load_faq_file(path)
    message = str(err.value)
    assert "entry 2" in message and "id" in message and "updated_at" in message
    assert "entry 1" not in message


def test_duplicate_ids_across_files_are_rejected(tmp_path: Path) -> None:
    row = "- id: same\n  question: 질문이에요\n  answer: 답이에요\n  source: {title: t}\n  updated_at: '2026-01-02'\n"
    (tmp_path / "a.yaml").write_text(row, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(row, encoding="utf-8")
    with pytest.raises(DocumentError, match="duplicate FAQ id 'same'"):
        load_faq_dir(tmp_path)


def test_broken_yaml_is_an_error_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("- id: [unclosed\n", encoding="utf-8")
    with pytest.raises(DocumentError, match="cannot read YAML"):
        load_faq_file(path)


def test_validity_window() -> None:
    entry = FaqEntry.model_validate(
        {
            "id": "x1",
            "question": "질문",
            "answer": "답변",
            "source": {"title": "t"},
            "updated_at": "2026-01-02",
            "valid_from": "2026-01-01",
            "valid_until": "",
        }
    )
    assert entry.valid_until is None
    assert entry.is_valid_on(date(2030, 1, 1)) and not entry.is_valid_on(date(2025, 12, 31))


def test_helplines_carry_sources() -> None:
    lines = load_helplines()
    assert {lines[k].number for k in ("suicide_prevention", "welfare_call_center", "emergency")} == {
        "109",
        "129",
        "119",
    }
    assert all(line.source.url for line in lines.values())
