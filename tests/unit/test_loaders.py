"""Ingestion formats (YAML, CSV, XLSX, Markdown FAQs; PDF, DOCX, HWPX documents) and the ``bokji ingest`` path."""

from __future__ import annotations

import csv
import time
import zipfile
from datetime import date
from pathlib import Path

import pytest

from bokji.cli import main
from knowledge.domain.document import DocumentError
from knowledge.domain.hit import SearchFilter
from knowledge.ingestion.ingest import index_id, ingest
from knowledge.ingestion.loaders import (
    DocumentDefaults,
    load_document,
    load_faq_csv,
    load_faq_markdown,
    load_faq_xlsx,
    load_knowledge,
)
from knowledge.ingestion.readers import read_docx, read_hwpx, read_pdf
from knowledge.korean.analyzer import KiwiAnalyzer
from knowledge.retrieval.embeddings import E5Embeddings, as_vector
from knowledge.retrieval.sqlite_store import SqliteStore

HEADER = ["id", "question", "alternatives", "answer", "category", "phone", "source_title", "source_url", "updated_at", "valid_until", "needs_review"]
ROWS = [
    ["city-bath", "목욕 서비스가 있나요?", "이동 목욕차 | 어르신 목욕", "이동 목욕차가 집으로 찾아가요.", "노인", "031-000-0000", "예시시 안내", "https://example.go.kr/bath", "2026-02-01", "", "아니오"],
    ["city-meal", "무료 급식소는 어디예요?", "경로식당", "경로식당에서 점심을 드려요.", "노인", "", "예시시 안내", "", "2026-02-01", "2026-12-31", "예"],
]
KOREAN_HEADER = ["아이디", "질문", "다른 표현", "답변", "분류", "전화번호", "출처", "출처 링크", "수정일", "종료일", "검토 필요"]


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        csv.writer(f).writerows([header, *rows])
    return path


def write_xlsx(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def korean_pdf(lines: list[str]) -> bytes:
    """A one-page PDF whose text layer holds ``lines`` (Type0 font, Identity-H, ToUnicode CMap)."""
    chars = sorted({c for line in lines for c in line})
    cmap = "\n".join(f"<{ord(c):04X}> <{ord(c):04X}>" for c in chars)
    tounicode = (
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /U def "
        "1 begincodespacerange <0000> <FFFF> endcodespacerange "
        f"{len(chars)} beginbfchar\n{cmap}\nendbfchar endcmap CMapName currentdict /CMap defineresource pop end end"
    )
    content = "\n".join(
        f"BT /F1 12 Tf 40 {800 - 20 * i} Td <{''.join(f'{ord(c):04X}' for c in line)}> Tj ET" for i, line in enumerate(lines)
    )
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content.encode())} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type0 /BaseFont /Batang /Encoding /Identity-H /DescendantFonts [6 0 R] /ToUnicode 7 0 R >>",
        "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /Batang"
        " /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 1000 >>",
        f"<< /Length {len(tounicode.encode())} >>\nstream\n{tounicode}\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


HP = "http://www.hancom.co.kr/hwpml/2011/paragraph"


def write_hwpx(path: Path, paragraphs: list[tuple[str, str]], title: str = "예시시 주거 안내") -> Path:
    """A minimal OWPML package: styles in header.xml, paragraphs (style id, text) in section0.xml, a table cell too."""
    body = "".join(f'<hp:p styleIDRef="{style}"><hp:run><hp:t>{text}</hp:t></hp:run></hp:p>' for style, text in paragraphs)
    table = (
        '<hp:p styleIDRef="0"><hp:run><hp:tbl><hp:tr><hp:tc><hp:subList>'
        '<hp:p styleIDRef="0"><hp:run><hp:t>표 안의 문장: 월세 계약서가 필요해요.</hp:t></hp:run></hp:p>'
        "</hp:subList></hp:tc></hp:tr></hp:tbl></hp:run></hp:p>"
    )
    section = f'<?xml version="1.0" encoding="UTF-8"?><hs:sec xmlns:hs="http://www.hancom.co.kr/hwpml/2011/section" xmlns:hp="{HP}">{body}{table}</hs:sec>'
    header = (
        '<?xml version="1.0" encoding="UTF-8"?><hh:head xmlns:hh="http://www.hancom.co.kr/hwpml/2011/head"><hh:refList><hh:styles>'
        '<hh:style id="0" name="바탕글"/><hh:style id="2" name="개요 1"/><hh:style id="3" name="개요 2"/>'
        "</hh:styles></hh:refList></hh:head>"
    )
    hpf = f'<?xml version="1.0"?><opf:package xmlns:opf="http://www.idpf.org/2007/opf/"><opf:metadata><opf:title>{title}</opf:title></opf:metadata></opf:package>'
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/hwp+zip")
        z.writestr("Contents/header.xml", header)
        z.writestr("Contents/section0.xml", section)
        z.writestr("Contents/content.hpf", hpf)
    return path


def write_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.core_properties.title = "기초연금 업무 안내"
    document.add_heading("기초연금 업무 안내", level=1)
    document.add_heading("1. 신청 방법", level=2)
    document.add_paragraph("주민센터나 국민연금공단 지사에서 신청해요. 복지로에서 온라인 신청도 돼요.")
    document.add_heading("2. 준비 서류", level=2)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "서류", "비고"
    table.cell(1, 0).text, table.cell(1, 1).text = "신분증", "본인 것"
    document.save(path)
    return path


# -- FAQ tables and Markdown ---------------------------------------------------------------
def test_csv_xlsx_and_korean_headers_give_the_same_entries(tmp_path: Path) -> None:
    from_csv = load_faq_csv(write_csv(tmp_path / "faq.csv", HEADER, ROWS))
    from_cp949 = load_faq_csv(write_csv(tmp_path / "excel.csv", KOREAN_HEADER, ROWS, encoding="cp949"))
    from_xlsx = load_faq_xlsx(write_xlsx(tmp_path / "faq.xlsx", KOREAN_HEADER, ROWS))
    assert from_csv == from_cp949 == from_xlsx
    bath, meal = from_csv
    assert bath.alternatives == ["이동 목욕차", "어르신 목욕"] and bath.source.url == "https://example.go.kr/bath"
    assert bath.valid_until is None and not bath.needs_review
    assert meal.valid_until == date(2026, 12, 31) and meal.needs_review


def test_xlsx_dates_and_numbers_are_read_as_written(tmp_path: Path) -> None:
    from datetime import datetime

    row: list[object] = list(ROWS[0])
    row[5], row[8] = 129, datetime(2026, 3, 4)
    (entry,) = load_faq_xlsx(write_xlsx(tmp_path / "typed.xlsx", HEADER, [row]))
    assert entry.phone == "129" and entry.updated_at == date(2026, 3, 4)


def test_bad_rows_are_reported_with_file_row_and_reason(tmp_path: Path) -> None:
    bad = [ROWS[0], ["Bad Id", "질문", "", "", "", "", "출처", "", "someday", "", ""]]
    with pytest.raises(DocumentError) as err:
        load_faq_csv(write_csv(tmp_path / "bad.csv", HEADER, bad))
    message = str(err.value)
    assert "bad.csv: row 3" in message and "id" in message and "answer" in message and "updated_at" in message
    assert "row 2" not in message
    with pytest.raises(DocumentError, match="unknown column"):
        load_faq_xlsx(write_xlsx(tmp_path / "cols.xlsx", [*HEADER, "비밀 메모"], [[*ROWS[0], "x"]]))


def test_markdown_faq_with_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "city.md"
    path.write_text(
        "---\ncategory: 노인\ntenant: yesi\nsource: {title: 예시시 노인복지과, url: 'https://example.go.kr'}\nupdated_at: 2026-03-02\n---\n\n"
        "# 예시시 어르신 안내\n\n"
        "## 경로당은 누가 이용해요? {#yesi-hall}\n\n다른 표현: 노인정 | 경로당 가입\n전화번호: 031-111-2222\n\n"
        "만 65세 이상 어르신이 이용해요.\n회비는 경로당마다 달라요.\n\n"
        "## 무더위쉼터는 어디예요? {#yesi-cool}\n\n가까운 경로당과 주민센터예요.\n",
        encoding="utf-8",
    )
    hall, cool = load_faq_markdown(path)
    assert hall.id == "yesi-hall" and hall.tenant == "yesi" and hall.category == "노인"
    assert hall.alternatives == ["노인정", "경로당 가입"] and hall.phone == "031-111-2222"
    assert hall.answer == "만 65세 이상 어르신이 이용해요.\n회비는 경로당마다 달라요."
    assert cool.answer == "가까운 경로당과 주민센터예요." and cool.source.url == "https://example.go.kr"
    path.write_text("## 아이디 없는 질문\n\n답\n", encoding="utf-8")
    with pytest.raises(DocumentError, match="line 1: a question heading needs an id"):
        load_faq_markdown(path)


# -- long documents ------------------------------------------------------------------------
def test_docx_headings_paragraphs_and_tables(tmp_path: Path) -> None:
    title, sections = read_docx(write_docx(tmp_path / "guide.docx"))
    assert title == "기초연금 업무 안내"
    assert [(s.level, s.text) for s in sections] == [
        (1, "기초연금 업무 안내"),
        (2, "1. 신청 방법"),
        (0, "주민센터나 국민연금공단 지사에서 신청해요. 복지로에서 온라인 신청도 돼요."),
        (2, "2. 준비 서류"),
        (0, "서류 | 비고"),
        (0, "신분증 | 본인 것"),
    ]


def test_pdf_text_layer_with_heading_lines(tmp_path: Path) -> None:
    path = tmp_path / "notice.pdf"
    path.write_bytes(korean_pdf(["□ 지원 대상", "만 65세 이상이고 소득인정액이", "선정기준액 이하인 어르신이에요.", "2. 신청 방법", "주민센터에 신청해요."]))
    _, sections = read_pdf(path)
    assert [(s.level, s.text, s.page) for s in sections] == [
        (3, "□ 지원 대상", 1),
        (0, "만 65세 이상이고 소득인정액이 선정기준액 이하인 어르신이에요.", 1),  # wrapped lines joined
        (2, "2. 신청 방법", 1),
        (0, "주민센터에 신청해요.", 1),
    ]


def test_hwpx_outline_styles_become_headings(tmp_path: Path) -> None:
    path = write_hwpx(tmp_path / "housing.hwpx", [("2", "주거급여 안내"), ("3", "1. 신청 방법"), ("0", "주민센터에 신청해요.")])
    title, sections = read_hwpx(path)
    assert title == "예시시 주거 안내"
    assert [(s.level, s.text) for s in sections] == [
        (1, "주거급여 안내"),
        (2, "1. 신청 방법"),
        (0, "주민센터에 신청해요."),
        (0, "표 안의 문장: 월세 계약서가 필요해요."),
    ]


@pytest.mark.parametrize("name", ["broken.pdf", "broken.docx", "broken.hwpx"])
def test_unreadable_documents_are_reported_not_raised(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(b"this is not a real file")
    loaded = load_knowledge(tmp_path)
    assert len(loaded.problems) == 1 and name in loaded.problems[0] and "cannot read" in loaded.problems[0]
    assert not loaded.documents


def test_document_metadata_from_a_sidecar_file(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "기초연금 안내.docx")
    default = load_document(path, DocumentDefaults(tenant="yesi", category="노인"))
    assert default.id.startswith("doc-") and default.tenant == "yesi" and default.source.title == "기초연금 업무 안내"
    (tmp_path / "기초연금 안내.docx.meta.yaml").write_text(
        "id: pension-guide\ntitle: 기초연금 업무 안내 2026\nsource: {title: 보건복지부, url: 'https://www.mohw.go.kr'}\n"
        "updated_at: 2026-01-02\nvalid_until: 2026-12-31\n",
        encoding="utf-8",
    )
    doc = load_document(path)
    assert (doc.id, doc.title, doc.source.url, doc.valid_until) == ("pension-guide", "기초연금 업무 안내 2026", "https://www.mohw.go.kr", date(2026, 12, 31))


def test_a_folder_of_every_format_is_read_and_checked_as_a_whole(tmp_path: Path) -> None:
    write_csv(tmp_path / "a.csv", HEADER, ROWS[:1])
    write_xlsx(tmp_path / "b.xlsx", HEADER, ROWS[1:])
    write_docx(tmp_path / "guide.docx")
    write_hwpx(tmp_path / "housing.hwpx", [("2", "주거급여 안내"), ("0", "주민센터에 신청해요.")])
    (tmp_path / "notice.pdf").write_bytes(korean_pdf(["주민센터에 신청해요."]))
    (tmp_path / ".hidden.txt").write_text("not ours", encoding="utf-8")
    loaded = load_knowledge(tmp_path)
    assert not loaded.problems and loaded.files == 5
    (tmp_path / "notes.txt").write_text("not knowledge", encoding="utf-8")
    [problem] = load_knowledge(tmp_path).problems  # reported, never skipped without a word
    assert "notes.txt: unsupported format '.txt'" in problem and "텍스트 파일은 읽지 않아요" in problem
    (tmp_path / "notes.txt").unlink()
    assert {e.id for e in loaded.faqs} == {"city-bath", "city-meal"} and len(loaded.documents) == 3
    write_csv(tmp_path / "c.csv", HEADER, ROWS[:1])  # the same id twice
    assert any("duplicate FAQ id 'city-bath'" in p for p in load_knowledge(tmp_path).problems)


# -- bokji ingest / search ---------------------------------------------------------------------
@pytest.fixture
def cli_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "kb.sqlite3"
    monkeypatch.setenv("BOKJI_KNOWLEDGE__STORE__PATH", str(path))
    monkeypatch.setenv("BOKJI_KNOWLEDGE__LLM__BACKEND", "none")
    monkeypatch.setenv("BOKJI_DATA_DIR", str(tmp_path / "data"))  # `bokji ingest` imports FAQs into the staff database
    return path


def test_a_bad_file_rejects_the_whole_run(tmp_path: Path, cli_store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "kb"
    folder.mkdir()
    write_csv(folder / "good.csv", HEADER, ROWS)
    write_csv(folder / "bad.csv", HEADER, [["bad id", "", "", "", "", "", "", "", "", "", ""]])
    assert main(["ingest", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "nothing was changed" in err and "bad.csv: row 2" in err
    assert SqliteStore.document_count(cli_store) in (None, 0)


def test_edit_through_ingestion_is_seen_by_the_next_search_within_2_seconds(
    tmp_path: Path, cli_store: Path, analyzer: KiwiAnalyzer, embeddings: E5Embeddings, capsys: pytest.CaptureFixture[str]
) -> None:
    faq = write_csv(tmp_path / "city.csv", HEADER, ROWS)
    assert main(["ingest", str(faq)]) == 0
    reader = SqliteStore(cli_store, analyzer, index_id(embeddings), 384)  # e.g. the running action server
    where = SearchFilter(tenants=("national",), on_date=date(2026, 6, 1))
    question = "목욕 서비스 있어요?"
    vector = as_vector(embeddings, question)
    assert reader.search(question, vector, alpha=0.5, k=1, where=where)[0].payload["answer"] == ROWS[0][3]

    # Through the command: the edit is read, validated, re-embedded and written; the open reader sees it.
    write_csv(faq, HEADER, [[*ROWS[0][:3], "이동 목욕차가 주 2회 찾아가요.", *ROWS[0][4:]], ROWS[1]])
    assert main(["ingest", str(faq)]) == 0
    assert "updated 1, unchanged 1" in capsys.readouterr().out
    assert reader.search(question, vector, alpha=0.5, k=1, where=where)[0].payload["answer"] == "이동 목욕차가 주 2회 찾아가요."

    # Timed as a running service ingests (models already loaded; a fresh `bokji` process adds ~2 s of model loading).
    writer = SqliteStore(cli_store, analyzer, index_id(embeddings), 384)
    write_csv(faq, HEADER, [[*ROWS[0][:3], "2026년부터 이동 목욕차가 주 3회 찾아가요.", *ROWS[0][4:]], ROWS[1]])
    started = time.perf_counter()
    loaded = load_knowledge(faq)
    report = ingest(writer, embeddings, loaded.faqs, loaded.documents)
    hit = reader.search(question, as_vector(embeddings, question), alpha=0.5, k=1, where=where)[0]
    elapsed = time.perf_counter() - started
    assert (report.updated, report.unchanged) == (1, 1)
    assert hit.payload["answer"] == "2026년부터 이동 목욕차가 주 3회 찾아가요."
    assert elapsed < 2.0, f"edit took {elapsed:.2f} s to be searchable"


def test_search_prints_ranked_hits_with_scores_and_sources(tmp_path: Path, cli_store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    write_csv(docs / "city.csv", HEADER, ROWS)
    write_docx(docs / "guide.docx")
    assert main(["ingest", str(docs)]) == 0
    capsys.readouterr()
    assert main(["search", "기초연금 신청 어디서 해요", "-k", "3"]) == 0
    out = capsys.readouterr().out
    ranks = [line for line in out.splitlines() if line[:2] in ("1.", "2.", "3.")]
    assert len(ranks) == 3 and all("score=" in r and "dense=" in r and "keyword=" in r for r in ranks)
    assert "   기초연금 업무 안내 > 1. 신청 방법\n   주민센터나 국민연금공단 지사에서 신청해요." in out  # the chunk and its headings
    assert "source: 기초연금 업무 안내 <-> updated" in out and "source: 예시시 안내 <https://example.go.kr/bath>" in out


def test_must_show_search_ranks_pension_eligibility_first_on_the_seed(
    cli_store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Who the question is about (울엄마) must not pull in the proxy-application FAQ (issue 4, must show)."""
    monkeypatch.setenv("BOKJI_KNOWLEDGE__EMBEDDING__THREADS", "2")
    assert main(["ingest"]) == 0  # the seed FAQs
    capsys.readouterr()
    assert main(["search", "울엄마 66살인데 기초연금 받을수있음"]) == 0
    assert capsys.readouterr().out.startswith("1. basic-pension-eligibility ")
    assert main(["search", "엄마 기초연금 내가 대신 신청해도 됨?"]) == 0
    assert capsys.readouterr().out.startswith("1. basic-pension-proxy ")
