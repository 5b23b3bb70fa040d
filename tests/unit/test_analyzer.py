from knowledge.korean.analyzer import KiwiAnalyzer, index_terms, make_analyzer


def test_user_dictionary_keeps_welfare_terms_whole(analyzer: KiwiAnalyzer) -> None:
    forms = [m.form for m in analyzer.morphemes("울엄마 66살인데 기초연금 받을수있음?")]
    assert "기초연금" in forms
    assert "66" in forms


def test_morpheme_offsets_point_into_the_text(analyzer: KiwiAnalyzer) -> None:
    text = "4명이요 주거급여"
    for m in analyzer.morphemes(text):
        assert 0 <= m.start < m.end <= len(text)
    assert any(text[m.start : m.end] == "주거급여" for m in analyzer.morphemes(text))


def test_index_terms_join_spaced_nouns_and_split_compounds(analyzer: KiwiAnalyzer) -> None:
    spaced = index_terms(analyzer, "주거 급여 신청")
    compound = index_terms(analyzer, "주거급여")
    assert "주거급여" in spaced  # a citizen's spacing still meets the dictionary term
    assert "급여" in compound  # and the compound still meets a partial query


def test_index_terms_survive_noise(analyzer: KiwiAnalyzer) -> None:
    assert index_terms(analyzer, "\u200b\x00ㅋㅋㅋㅋ 기초연금!!!!") == ["기초연금", "기초", "초연", "연금"]


def test_unknown_analyzer_is_a_clear_error() -> None:
    try:
        make_analyzer("mecab")
    except ValueError as exc:
        assert "mecab" in str(exc)
    else:
        raise AssertionError("expected ValueError")
