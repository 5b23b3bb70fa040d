"""A document is cited by the title it shows, not by a template's leftover metadata (a real press release stored "3")."""

from __future__ import annotations

import zipfile
from pathlib import Path

from knowledge.domain.document import Section
from knowledge.ingestion.loaders import document_title, load_document
from knowledge.ingestion.readers import read_hwpx

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "documents"
PRESS_RELEASE = FIXTURES / "mcst-press-release-2024.hwpx"  # see PROVENANCE.md there
HEADLINE = "2024 파리 올림픽·패럴림픽 준비하는 우리 선수단 격려한다"
SUBTITLE = "진천 국가대표 선수촌 양궁 훈련장 등 살피고 선수들 격려, 이천 장애인 국가대표 선수촌에서 선수들과 함께 식사"


def test_a_real_press_release_is_titled_by_its_headline_not_its_stored_title() -> None:
    with zipfile.ZipFile(PRESS_RELEASE) as archive:
        assert "<opf:title>3</opf:title>" in archive.read("Contents/content.hpf").decode("utf-8")
    title, sections = read_hwpx(PRESS_RELEASE)
    assert title == HEADLINE
    document = load_document(PRESS_RELEASE)
    assert document.title == HEADLINE and document.source.title == HEADLINE


def test_a_real_press_release_keeps_its_bold_subtitle_as_one_heading_and_notes_as_text() -> None:
    _, sections = read_hwpx(PRESS_RELEASE)
    headings = [(s.level, s.text) for s in sections if s.level]
    assert headings == [(1, HEADLINE), (2, SUBTITLE)], "the subtitle set over two bold lines is one heading"
    body = {s.text for s in sections if not s.level}
    assert "※ 현장 사진 별도 배포 예정" in body
    # Tables come row by row, each row's cells in order: a label stays beside its value.
    assert "보도시점 | 2024. 1. 2.(화) 08:00 | 배포 | 2024. 1. 2.(화) 08:00" in body
    assert "담당 부서 | 체육국 | 책임자 | 과장 | 정태경 | (044-203-3111)" in body
    position = [s.text for s in sections].index(SUBTITLE)
    assert sections[position + 1].text.startswith("장미란 차관은 먼저 진천 국가대표 선수촌을 방문해")


HP = "http://www.hancom.co.kr/hwpml/2011/paragraph"


def write_hwpx(
    path: Path, paragraphs: list[tuple[str, str]], stored_title: str, table_cells: tuple[tuple[str, str], ...] = ()
) -> Path:
    """An OWPML package whose paragraphs are (character shape id, text); shape 1 is body type, 2 bold, 3 large bold."""
    run = '<hp:p styleIDRef="0"><hp:run charPrIDRef="{}"><hp:t>{}</hp:t></hp:run></hp:p>'
    body = "".join(run.format(shape, text) for shape, text in paragraphs)
    cells = "".join(f"<hp:tc><hp:subList>{run.format(shape, text)}</hp:subList></hp:tc>" for shape, text in table_cells)
    table = (
        f'<hp:p styleIDRef="0"><hp:run charPrIDRef="1"><hp:tbl><hp:tr>{cells}</hp:tr></hp:tbl></hp:run></hp:p>' if cells else ""
    )
    section = (
        '<?xml version="1.0" encoding="UTF-8"?><hs:sec xmlns:hs="http://www.hancom.co.kr/hwpml/2011/section"'
        f' xmlns:hp="{HP}">{body}{table}</hs:sec>'
    )
    header = (
        '<?xml version="1.0" encoding="UTF-8"?><hh:head xmlns:hh="http://www.hancom.co.kr/hwpml/2011/head"><hh:refList>'
        '<hh:charProperties><hh:charPr id="1" height="1400"/><hh:charPr id="2" height="1400"><hh:bold/></hh:charPr>'
        '<hh:charPr id="3" height="2000"><hh:bold/></hh:charPr></hh:charProperties>'
        '<hh:styles><hh:style id="0" name="바탕글"/></hh:styles></hh:refList></hh:head>'
    )
    hpf = (
        '<?xml version="1.0"?><opf:package xmlns:opf="http://www.idpf.org/2007/opf/"><opf:metadata>'
        f"<opf:title>{stored_title}</opf:title></opf:metadata></opf:package>"
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/hwp+zip")
        z.writestr("Contents/header.xml", header)
        z.writestr("Contents/section0.xml", section)
        z.writestr("Contents/content.hpf", hpf)
    return path


def test_bold_table_cells_are_labels_not_headings(tmp_path: Path) -> None:
    path = write_hwpx(
        tmp_path / "voucher.hwpx",
        [("3", "예시시 청년 마음건강 바우처 안내"), ("2", "지원 내용"), ("1", "심리상담을 8회까지 받을 수 있어요.")],
        stored_title="1",
        table_cells=(("2", "구분"), ("2", "본인부담금"), ("1", "회당 5,000원")),
    )
    title, sections = read_hwpx(path)
    assert title == "예시시 청년 마음건강 바우처 안내"
    assert [(s.level, s.text) for s in sections] == [
        (1, "예시시 청년 마음건강 바우처 안내"),
        (2, "지원 내용"),
        (0, "심리상담을 8회까지 받을 수 있어요."),
        (0, "구분 | 본인부담금 | 회당 5,000원"),
    ]


def test_a_title_that_reads_like_one_is_kept_else_the_first_top_heading_else_the_file_name(tmp_path: Path) -> None:
    sections = [Section(text="머리말", level=0), Section(text="예시시 주거 안내", level=1), Section(text="1. 신청", level=2)]
    assert document_title("예시시 주거급여 업무 안내", sections) == "예시시 주거급여 업무 안내"
    assert document_title("3", sections) == "예시시 주거 안내"
    assert document_title(None, [Section(text="1. 신청", level=2), Section(text="본문", level=0)]) == "1. 신청"
    assert document_title("- 1 -", [Section(text="본문뿐이에요.")]) is None
    plain = write_hwpx(
        tmp_path / "주거 안내문.hwpx", [("1", "주민센터에 신청해요."), ("1", "월세 계약서가 필요해요.")], stored_title="3"
    )
    assert load_document(plain).title == "주거 안내문"
