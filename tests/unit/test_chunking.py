from knowledge.ingestion.chunking import Block, Chunk, chunk_blocks, split_sentences


def test_sentences_split_at_korean_sentence_ends_not_inside_numbers() -> None:
    text = "기초연금은 2.1% 올랐어요. 최대 월 349,700원이에요! 신청은 주민센터에서 하나요? 네\n복지로도 돼요"
    assert split_sentences(text) == [
        "기초연금은 2.1% 올랐어요.",
        "최대 월 349,700원이에요!",
        "신청은 주민센터에서 하나요?",
        "네 복지로도 돼요",  # a piece too short to stand alone joins the next sentence
    ]


def test_list_bullets_start_new_sentences() -> None:
    text = "준비물은 다음과 같아요 ○ 신분증 사본 ○ 통장 사본 1. 임대차계약서"
    assert split_sentences(text) == ["준비물은 다음과 같아요", "○ 신분증 사본", "○ 통장 사본", "1. 임대차계약서"]


def test_chunks_keep_their_headings_and_never_cross_one() -> None:
    blocks = [
        Block("기초연금 안내", level=1),
        Block("1. 지원 대상", level=2),
        Block("만 65세 이상 어르신이 받을 수 있어요. 소득인정액이 선정기준액 이하여야 해요."),
        Block("2. 신청 방법", level=2),
        Block("주민센터나 국민연금공단 지사에서 신청해요."),
    ]
    chunks = chunk_blocks(blocks, max_chars=200)
    assert [c.headings for c in chunks] == [("기초연금 안내", "1. 지원 대상"), ("기초연금 안내", "2. 신청 방법")]
    assert chunks[1].text == "주민센터나 국민연금공단 지사에서 신청해요."
    assert chunks[1].heading_path() == "기초연금 안내 > 2. 신청 방법"


def test_long_sections_are_packed_to_the_limit_with_one_sentence_of_overlap() -> None:
    sentences = [f"{i}번째 안내 문장은 신청 방법과 준비 서류를 설명해요." for i in range(30)]
    chunks = chunk_blocks([Block("안내", level=1), Block(" ".join(sentences))], max_chars=120)
    assert len(chunks) > 5
    assert all(len(c.text) <= 120 for c in chunks)
    for before, after in zip(chunks, chunks[1:]):
        assert after.text.startswith(before.text.split(". ")[-1].rstrip("."))  # the last sentence repeats
    joined = " ".join(c.text for c in chunks)
    assert all(s in joined for s in sentences)  # nothing is lost


def test_a_sentence_longer_than_a_chunk_is_cut_at_spaces() -> None:
    long = " ".join(["주거급여"] * 100)
    chunks = chunk_blocks([Block(long)], max_chars=60, overlap=0)
    assert all(len(c.text) <= 60 for c in chunks)
    assert sum(c.text.count("주거급여") for c in chunks) == 100


def test_pages_and_indexes_are_kept_and_blank_blocks_skipped() -> None:
    chunks = chunk_blocks([Block("  ", page=1), Block("첫 쪽 내용이에요.", page=1), Block("둘째 쪽 제목", level=1, page=2), Block("둘째 쪽 내용이에요.", page=2)])
    assert chunks == [Chunk(0, (), "첫 쪽 내용이에요.", 1), Chunk(1, ("둘째 쪽 제목",), "둘째 쪽 내용이에요.", 2)]
