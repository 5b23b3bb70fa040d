"""HWP 5.0 files written by 한글 come out as clean text with their title, headings and tables; bad files say why."""

from __future__ import annotations

import re
import shutil
import struct
import zlib
from array import array
from pathlib import Path

import olefile
import pytest

from knowledge.ingestion import hwp
from knowledge.ingestion.chunking import Block, chunk_blocks
from knowledge.ingestion.errors import UnreadableDocumentError
from knowledge.ingestion.loaders import load_document, load_knowledge
from knowledge.ingestion.readers import read_hwp

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "documents"  # see PROVENANCE.md there
NOORI = FIXTURES / "noori-press-release-2018.hwp"
REPORT = FIXTURES / "report-template.hwp"
NOORI_TITLE = "우리가 독자 개발하여 최초 발사하는 한국형발사체, 국민이 정한 그 이름은 「누리」"  # NFKC of ｢누리｣
NOORI_SENTENCES = (
    "□ 과학기술정보통신부(장관 유영민, 이하 ‘과기정통부’)는 우리나라 최초로 순수 우리기술로 개발 중인 "
    "한국형발사체(KSLV-2)의 새로운 이름으로 “누리”가 선정되었다고 밝혔다.",
    "o 4월 27일부터 5월 31일까지 실시한 동 명칭 공모에는 약 6,300여명의 국민이 참여하여 총 10,000건 이상의 "
    "응모작을 제출하여 뜨거운 관심을 보였다.",
    "과학기술정보통신부 용찬재 사무관(☎ 02-2110-2428)에게 연락주시기 바랍니다.",
)
# Control characters other than none at all, private-use characters, replacement characters.
DIRTY = re.compile(r"[\x00-\x1f\x7f\ue000-\uf8ff\ufffd]")


def assert_clean(texts: list[str]) -> None:
    for text in texts:
        assert not DIRTY.search(text), repr(text)
        assert text == text.strip() and "  " not in text, repr(text)
        for code in ("HYPERLINK", "Clickhere", "MERGEFIELD", "tbl ", "gso ", "secd", "cold"):
            assert code not in text, (code, text)


def test_a_real_press_release_reads_as_its_text_with_its_headline_as_title() -> None:
    title, sections = read_hwp(NOORI)
    assert title == NOORI_TITLE
    texts = [s.text for s in sections]
    assert_clean(texts)
    for sentence in NOORI_SENTENCES:
        assert sentence in texts
    assert [(s.level, s.text) for s in sections if s.level] == [(1, NOORI_TITLE)]
    # The sub-headlines under the headline are its lead, not sections of their own.
    at = texts.index(NOORI_TITLE)
    assert texts[at + 1] == "“세상”의 옛말로, 우주까지 확장된 새로운 세상을 연다는 의미 -"


def test_table_cells_come_row_by_row_in_reading_order() -> None:
    _, sections = read_hwp(NOORI)
    texts = [s.text for s in sections]
    assert "보도일시 | 2018. 9. 4.(화) 조간(온라인 9. 3. 12:00)부터 보도해 주시기 바랍니다." in texts
    assert "담당과장 | 장인숙(02-2110-2430) | 담 당 자 | 용찬재 사무관(02-2110-2428)" in texts
    comparison = ["구 분 | 한국형발사체(누리호) | 시험발사체", "총 길이 | 47.2 m | 25.8 m", "단 수 | 3단 | 1단"]
    positions = [texts.index(row) for row in comparison]
    assert positions == sorted(positions), "rows in the order the table prints them"
    assert all(s.level == 0 for s in sections if " | " in s.text), "table rows are never headings"


def test_a_report_template_keeps_its_title_headings_and_no_codes() -> None:
    title, sections = read_hwp(REPORT)
    assert title == "리포트의 제목 두 줄로 작성"
    assert_clean([s.text for s in sections])
    headings = [(s.level, s.text) for s in sections if s.level]
    assert headings[0] == (1, "리포트의 제목 두 줄로 작성") and (2, "차 례") in headings
    assert "과목명 | ○○○○" in [s.text for s in sections]


def test_a_folder_with_an_hwp_file_is_read_not_skipped(tmp_path: Path) -> None:
    shutil.copy2(NOORI, tmp_path / "누리 보도자료.hwp")
    loaded = load_knowledge(tmp_path)
    assert not loaded.problems and loaded.files == 1
    [document] = loaded.documents
    assert document.title == NOORI_TITLE and document.source.title == NOORI_TITLE
    chunks = chunk_blocks(Block(s.text, s.level, s.page) for s in document.sections)
    assert chunks[0].headings == () and chunks[0].text.startswith("보도일시 | 2018. 9. 4.(화)")
    assert all(c.headings == (NOORI_TITLE,) for c in chunks[1:]), "the body sits under the headline"
    assert_clean([c.text for c in chunks])


def test_load_document_names_an_hwp_by_its_headline() -> None:
    document = load_document(NOORI)
    assert document.title == NOORI_TITLE and document.file_name == NOORI.name


# -- control characters inside PARA_TEXT ------------------------------------------------------------
def wchars(*parts: str | int | tuple[int, str]) -> bytes:
    """PARA_TEXT: text, one-WCHAR controls (int), and eight-WCHAR controls ((code, four-letter id))."""
    units = array("H")
    for part in parts:
        if isinstance(part, str):
            units.frombytes(part.encode("utf-16-le"))
        elif isinstance(part, int):
            units.append(part)
        else:
            code, ident = part
            ident_units = struct.unpack("<HH", ident[::-1].encode("latin-1"))
            units.extend([code, *ident_units, 0, 0, 0, 0, code])
    return units.tobytes()


def paragraph(text: bytes, controls: list[hwp._Record] = ()) -> hwp._Record:  # type: ignore[assignment]
    header = hwp._Record(66, 0, struct.pack("<IIHBB", len(text) // 2, 0, 0, 0, 0) + bytes(12))
    header.children = [hwp._Record(67, 1, text), *controls]
    return header


def control(ident: str, *children: hwp._Record) -> hwp._Record:
    return hwp._Record(71, 1, ident[::-1].encode("latin-1") + bytes(4), list(children))


def test_control_characters_are_skipped_with_their_sizes() -> None:
    text = wchars(
        (2, "secd"), (2, "cold"), "기초연금은", (3, "%clk"), "만 65세", (4, "\0\0\0\0"), (9, "\0\0\0\0"), "이상",
        10, "어르신이", 30, "받아요", (16, "head"), 13,
    )  # fmt: skip
    header = paragraph(
        text, [control("secd"), control("cold"), control("%clk"), control("head", paragraph(wchars("머리말", 13)))]
    )
    [out] = hwp._paragraph(header, hwp._Styles([], []))
    assert out.text == "기초연금은만 65세 이상 어르신이 받아요"


def test_a_table_in_a_paragraph_comes_where_it_stands_and_notes_after() -> None:
    def cell(row: int, col: int, text: str) -> list[hwp._Record]:
        return [hwp._Record(72, 1, struct.pack("<hHIHHHH", 1, 0, 0, col, row, 1, 1)), paragraph(wchars(text, 13))]

    table = control(
        "tbl ",
        hwp._Record(77, 2, bytes(24)),
        *cell(0, 0, "구분"),
        *cell(0, 1, "금액"),
        *cell(1, 0, "단독"),
        *cell(1, 1, "34만 원"),
    )
    note = control("fn  ", hwp._Record(72, 2, bytes(8)), paragraph(wchars("2026년 기준", 13)))
    text = wchars("표 앞", (11, "tbl "), "표 뒤", (17, "fn  "), 13)
    out = [p.text for p in hwp._paragraph(paragraph(text, [table, note]), hwp._Styles([], []))]
    assert out == ["표 앞", "구분 | 금액", "단독 | 34만 원", "표 뒤", "2026년 기준"]


# -- files that cannot be read say why ---------------------------------------------------------------
def with_header_flags(tmp_path: Path, flags: int) -> Path:
    path = tmp_path / "protected.hwp"
    shutil.copy2(NOORI, path)
    with olefile.OleFileIO(str(path), write_mode=True) as ole:
        header = bytearray(ole.openstream("FileHeader").read())
        struct.pack_into("<I", header, 36, struct.unpack_from("<I", header, 36)[0] | flags)
        ole.write_stream("FileHeader", bytes(header))
    return path


@pytest.mark.parametrize(
    ("flags", "korean"), [(0x2, "암호가 걸린 문서예요"), (0x4, "배포용(보안) 문서"), (0x10, "배포용(보안) 문서")]
)
def test_protected_documents_are_refused_with_what_to_do(tmp_path: Path, flags: int, korean: str) -> None:
    with pytest.raises(UnreadableDocumentError) as caught:
        read_hwp(with_header_flags(tmp_path, flags))
    assert korean in caught.value.korean and "protected.hwp" in str(caught.value)


def test_a_corrupt_body_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.hwp"
    shutil.copy2(NOORI, path)
    with olefile.OleFileIO(str(path), write_mode=True) as ole:
        size = len(ole.openstream("BodyText/Section0").read())
        ole.write_stream("BodyText/Section0", zlib.compress(b"x" * 10)[2:].ljust(size, b"\xff"))
    with pytest.raises(UnreadableDocumentError, match="cannot read HWP") as caught:
        read_hwp(path)
    assert "HWP 파일을 읽을 수 없어요" in caught.value.korean


@pytest.mark.parametrize(
    ("content", "korean"),
    [
        (b"HWP Document File V3.00 \x1a\x01\x02\x03\x04\x05" + bytes(100), "예전 한글(HWP 3.0) 형식"),
        (b"%PDF-1.4 renamed to .hwp", "HWP 파일을 읽을 수 없어요"),
        (b"", "HWP 파일을 읽을 수 없어요"),
    ],
)
def test_files_that_are_not_hwp_5_are_reported_in_a_folder(tmp_path: Path, content: bytes, korean: str) -> None:
    (tmp_path / "공고문.hwp").write_bytes(content)
    loaded = load_knowledge(tmp_path)
    [problem] = loaded.problems
    assert "공고문.hwp" in problem and korean in problem and not loaded.documents
