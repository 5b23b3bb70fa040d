from knowledge.korean.text import clean, normalize


def test_normalize_folds_full_width_and_collapses_spaces() -> None:
    assert normalize("  기초연금   ４인  가구 ") == "기초연금 4인 가구"


def test_normalize_removes_invisible_and_control_characters() -> None:
    assert normalize("기초\u200b연금\x07 얼마") == "기초연금 얼마"


def test_normalize_shrinks_repeated_jamo_and_punctuation() -> None:
    assert normalize("왜 안돼요ㅠㅠㅠㅠㅠ???") == "왜 안돼요ㅠㅠ??"


def test_clean_drops_lone_surrogates() -> None:
    assert clean("연금\ud800") == "연금"
