"""Real HWPX files: titled by their headline (never "3"), no field instructions, headers or shape notes in the body."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest

from knowledge.ingestion.errors import UnreadableDocumentError
from knowledge.ingestion.loaders import load_document, load_knowledge
from knowledge.ingestion.readers import read_hwpx

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "documents"  # see PROVENANCE.md there
PRESS_RELEASE = FIXTURES / "mcst-press-release-2024.hwpx"
HEADER_FOOTER = FIXTURES / "header-footer.hwpx"
SHAPES_FIELDS = FIXTURES / "shapes-and-fields.hwpx"
HEADLINE = "2024 파리 올림픽·패럴림픽 준비하는 우리 선수단 격려한다"
DIRTY = re.compile(r"[\x00-\x1f\x7f\ue000-\uf8ff\ufffd]")


def body_of(path: Path) -> list[str]:
    return [s.text for s in read_hwpx(path)[1]]


def assert_clean(texts: list[str]) -> None:
    for text in texts:
        assert not DIRTY.search(text), repr(text)
        for code in ("Clickhere", "HelpState", "HYPERLINK", "사각형입니다", "타원입니다", "image1", ".jpg"):
            assert code not in text, (code, text)


def test_a_press_release_stored_as_3_is_cited_by_its_headline() -> None:
    with zipfile.ZipFile(PRESS_RELEASE) as archive:
        assert "<opf:title>3</opf:title>" in archive.read("Contents/content.hpf").decode("utf-8")
        assert "Clickhere:set" in archive.read("Contents/section0.xml").decode("utf-8")
    document = load_document(PRESS_RELEASE)
    assert document.title == HEADLINE and document.source.title == HEADLINE and document.source.url == ""
    assert_clean([s.text for s in document.sections])
    texts = [s.text for s in document.sections]
    assert "장미란 차관은 먼저 진천 국가대표 선수촌을 방문해 선수들의 훈련 상황을 점검한다." in " ".join(texts)
    assert "담당 부서 | 체육국 | 책임자 | 과장 | 정태경 | (044-203-3111)" in texts  # a table row, cells in order


def test_a_bare_number_never_becomes_the_source_a_citizen_reads(tmp_path: Path) -> None:
    path = tmp_path / "보도자료.hwpx"
    shutil.copy2(PRESS_RELEASE, path)
    (tmp_path / "보도자료.hwpx.meta.yaml").write_text("source: {title: '3', url: ''}\n", encoding="utf-8")
    document = load_document(path)
    assert document.source.title == HEADLINE and document.as_source().title == HEADLINE


def test_header_and_footer_text_stays_out_of_the_body(tmp_path: Path) -> None:
    with pytest.raises(UnreadableDocumentError) as caught:
        read_hwpx(HEADER_FOOTER)  # the real file has only a header ("머리말 테스트") and a footer ("꼬리말")
    assert "본문에 글자가 없는 문서예요" in caught.value.korean
    # The same file with a sentence typed into its body: the body is that sentence alone.
    path = tmp_path / "with-body.hwpx"
    with zipfile.ZipFile(HEADER_FOOTER) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "Contents/section0.xml":
                text = data.decode("utf-8")
                assert text.count("<hp:t/>") == 1
                data = text.replace("<hp:t/>", "<hp:t>주민센터에서<hp:tab/>신청해요.</hp:t>").encode("utf-8")
            target.writestr(item, data)
    assert body_of(path) == ["주민센터에서 신청해요."]


def test_field_instructions_and_shape_notes_are_not_text() -> None:
    texts = body_of(SHAPES_FIELDS)
    assert_clean(texts)
    assert texts == ["수학", "우리는 수학 이다.더"], "a field's shown text stays; its instruction and the shapes' notes do not"
    assert load_document(SHAPES_FIELDS).title == "shapes-and-fields"  # no title in the file: its name, not "" or a number


def test_unreadable_hwpx_files_are_reported_with_the_file_and_a_korean_reason(tmp_path: Path) -> None:
    (tmp_path / "빈 문서.hwpx").write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip
    shutil.copy2(HEADER_FOOTER, tmp_path / "머리말만.hwpx")
    problems = sorted(load_knowledge(tmp_path).problems)
    assert len(problems) == 2
    assert "머리말만.hwpx" in problems[0] and "본문에 글자가 없는 문서예요" in problems[0]
    assert "빈 문서.hwpx" in problems[1] and "HWPX 파일을 읽을 수 없어요" in problems[1]
