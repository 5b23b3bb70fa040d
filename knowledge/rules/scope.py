"""Questions the knowledge cannot answer however well they match: another year, country, person's file, shop.

The rules read the structure of the question (Kiwi's part-of-speech tags), not lists of the questions seen
so far: a foreign system is a proper noun that the matched entry never mentions, used as the owner of a
benefit ("스웨덴 육아휴직 급여"); a personal case is a person (first person, a relative, a named person, a
neighbour) together with a record only the agency holds (status, result, payment received, account); shopping
advice is a "which one is best / cheapest / where to buy" question about products or shops. The analyzer is
always Kiwi (the tags below are Kiwi's), created on first use in this process, never at import.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from knowledge.korean.analyzer import KoreanAnalyzer, Morpheme, load_user_dict, make_analyzer

YEAR, FOREIGN, PERSONAL, PRODUCT = "year", "foreign_system", "personal_record", "product_advice"

_YEAR = re.compile(r"(?<![\d,.])(20\d\d)\s*(?:년|학년도)")
# Years counted from today: the knowledge describes the current year only, unless the entry says otherwise.
_RELATIVE_FUTURE_YEARS = ("내후년", "내년", "다음 해", "다음해", "후년")

# Heads that name a benefit system: "일본 연금", "독일 아동수당", "핀란드 기본소득", "스웨덴 육아휴직 급여".
_SYSTEM_NOUNS = frozenset(
    {"연금", "수당", "제도", "복지", "급여", "보험", "혜택", "지원", "지원금", "보조금", "장려금", "소득", "휴직",
     "정책", "바우처", "보장", "의료", "수급", "복지제도", "사회보장", "기본소득", "연금제도"}
)  # fmt: skip
# Nouns any welfare question may carry: they do not show which program the question is about.
_QUESTION_NOUNS = frozenset(
    {"신청", "방법", "얼마", "금액", "대상", "자격", "조건", "서류", "기간", "나라", "이민", "사람", "나이", "정도",
     "한국", "국내", "외국", "해외", "경우", "때문", "생활", "가족", "문의", "안내"}
)  # fmt: skip
# Our own country and its 17 provinces and metropolitan cities (a closed set, unlike the countries abroad).
_HOME = frozenset(
    {"한국", "대한민국", "우리나라", "서울", "부산", "대구", "인천", "광주", "대전", "울산", "세종", "경기", "강원",
     "충북", "충남", "전북", "전남", "경북", "경남", "제주", "충청", "전라", "경상"}
)  # fmt: skip
_DOMESTIC_SUFFIX = re.compile(r"(?:특별시|광역시|특별자치시|특별자치도|시|도|군|구|읍|면|동)$")
_LOCATIVE = frozenset({"에", "에서", "로", "으로", "에게", "서"})

# Whose case: first person, family, a named person ("김철수 씨"), a neighbour.
_FIRST_PERSON_NP = frozenset({"저", "나", "저희", "우리", "울"})
_FIRST_PERSON_MM = frozenset({"제", "내", "우리", "울"})
_FAMILY = frozenset(
    {"엄마", "아빠", "어머니", "아버지", "어머님", "아버님", "할머니", "할아버지", "할매", "할배", "남편", "아내",
     "와이프", "부인", "아들", "딸", "손자", "손녀", "손주", "동생", "누나", "언니", "오빠", "형", "며느리", "사위",
     "시어머니", "시아버지", "장모", "장인", "자녀", "애", "애기", "아기", "영감", "할멈"}
)  # fmt: skip
_OTHERS = frozenset({"옆집", "이웃", "친구", "지인", "이웃집", "동료"})
_HONORIFICS = frozenset({"씨", "님", "군", "양"})
# A record only the agency holds: looked up, or an event that already happened to this person's file.
_LOOKUP_NOUNS = frozenset({"여부", "내역", "수령액", "조회", "주민등록번호", "주민번호", "계좌번호", "가입기간", "입금액"})
_PROCESS_NOUNS = frozenset({"판정", "심사", "진행", "처리", "신청", "등급", "조사", "접수", "결정"})
_STATE_NOUNS = frozenset({"결과", "상황", "상태"})
_EVENT_NOUNS = frozenset({"처리", "승인", "탈락", "선정", "지급", "입금", "접수", "삭감", "중단", "정지", "결정", "반려", "환수"})
# Verbs that say something happened to a payment ("안 들어왔어요", "끊겼어요"), when a benefit is named.
_EVENT_VERBS = frozenset({"들어오", "끊기", "깎이", "줄어들", "끊어지"})
_PAST = frozenset({"었", "았", "였", "ᆫ", "은"})  # 었/았 (EP), or a past adnominal (ETM): "들어온", "입금된"

# Shopping and product advice.
_RANKING_ADVERBS = frozenset({"제일", "가장", "젤", "최고"})
_PRAISE = frozenset({"좋", "싸", "저렴", "괜찮", "낫", "맛있", "유명", "인기", "튼튼", "최고"})
_WHICH = frozenset({"어떤", "어느", "무슨", "뭐", "어디", "무엇"})
_SHOP_NOUNS = frozenset(
    {"제품", "상품", "브랜드", "모델", "업체", "가게", "매장", "쇼핑몰", "회사", "메이커", "기종", "곳", "집", "식당", "종목"}
)  # fmt: skip
_BUY = frozenset({"사", "구매", "구입", "장만"})
_DEAL_NOUNS = frozenset({"최저가", "가성비", "핫딜", "직구"})

_analyzer: KoreanAnalyzer | None = None
_welfare_terms: frozenset[str] | None = None


def _kiwi() -> KoreanAnalyzer:
    """Kiwi for this process, made on first use (a Kiwi made before a fork hangs in the child)."""
    global _analyzer
    if _analyzer is None:
        _analyzer = make_analyzer("kiwi")
    return _analyzer


@lru_cache(maxsize=256)
def _analyzed(question: str) -> tuple[Morpheme, ...]:
    """The question's morphemes (the policy asks about one question several times)."""
    return tuple(_kiwi().morphemes(question))


def _words(question: str, analyzer: KoreanAnalyzer | None) -> Sequence[Morpheme]:
    return analyzer.morphemes(question) if analyzer is not None else _analyzed(question)


def _terms() -> frozenset[str]:
    """Program and office names of the welfare dictionary (ours, never a foreign system)."""
    global _welfare_terms
    if _welfare_terms is None:
        _welfare_terms = frozenset(word for word, _ in load_user_dict())
    return _welfare_terms


def _squash(text: str) -> str:
    return "".join(text.split()).lower()


def _next(words: Sequence[Morpheme], i: int) -> Morpheme | None:
    return words[i + 1] if i + 1 < len(words) else None


def _is_family(form: str) -> bool:
    return form in _FAMILY or any(form.endswith(f) and form[: -len(f)] in ("울", "우리", "내", "제", "") for f in _FAMILY)


def _is_noun(m: Morpheme) -> bool:
    return m.tag in ("NNG", "NNP")


def other_year(question: str, entry_text: str) -> bool:
    """A year (or "내년") the question names that the entry does not: the 2026 figure does not answer 2028."""
    if any(year not in entry_text for year in _YEAR.findall(question)):
        return True
    squashed, entry = _squash(question), _squash(entry_text)
    return any(word.replace(" ", "") in squashed and word.replace(" ", "") not in entry for word in _RELATIVE_FUTURE_YEARS)


def foreign_system(words: Sequence[Morpheme], entry_text: str) -> bool:
    """A place or system abroad: a proper noun the entry never mentions, owning a benefit the question asks about.

    "독일 아동수당", "일본은 연금 같은 거 있어요?" are about another country's system. A place where the
    citizen lives or stays ("미국에 사는 아들이 있어도 기초연금 받나요") is only context when the question
    names a program the entry is about.
    """
    entry = _squash(entry_text)
    nouns = [m for m in words if _is_noun(m)]
    has_system = any(m.form in _SYSTEM_NOUNS or m.form in _terms() for m in nouns)
    if not has_system:
        return False
    for i, m in enumerate(words):
        if m.tag != "NNP" or len(m.form) < 2 or not _is_candidate(m.form) or m.form.lower() in entry:
            continue
        nxt = _next(words, i)
        if nxt is not None and nxt.form in _HONORIFICS:
            continue  # "김철수 씨": a person, the personal-record rule's business
        if _owns_a_benefit(words, i):
            return True
        if not _names_entry_topic([n for n in nouns if n is not m], entry):
            return True
    return False


def _names_entry_topic(nouns: Sequence[Morpheme], entry: str) -> bool:
    """Whether one of ``nouns`` (beyond generic question words) is something the entry is about."""
    return any(
        len(n.form) >= 2 and n.form not in _SYSTEM_NOUNS and n.form not in _QUESTION_NOUNS and n.form.lower() in entry
        for n in nouns
    )


def _is_candidate(form: str) -> bool:
    """A proper noun that may name a foreign place or system (not ours, not a relative)."""
    domestic = form in _HOME or bool(_DOMESTIC_SUFFIX.search(form)) and (3 <= len(form) <= 4 or "특별" in form or "광역" in form)
    return not (form in _terms() or domestic or _is_family(form))


def _owns_a_benefit(words: Sequence[Morpheme], i: int) -> bool:
    """Whether the proper noun at ``i`` is the owner of a benefit: "독일 아동수당", "일본의 연금", "미국은 ... 연금"."""
    nxt = _next(words, i)
    if nxt is None:
        return False
    if nxt.tag in ("JX", "JKS") and nxt.form in ("은", "는", "도", "이", "가"):
        return True  # the country is the topic: "일본도 기초연금 같은 게 있나요"
    j = i + 1 + (nxt.tag == "JKG")
    while j < len(words) and _is_noun(words[j]):
        if words[j].form in _SYSTEM_NOUNS or words[j].form in _terms():
            return True
        j += 1
    return False


def _owner(words: Sequence[Morpheme]) -> bool:
    """Whether the question is about a particular person: me, my family, a named person, a neighbour."""
    for i, m in enumerate(words):
        if m.tag == "NP" and m.form in _FIRST_PERSON_NP or m.tag == "MM" and m.form in _FIRST_PERSON_MM:
            return True
        if m.tag.startswith("NN") and (_is_family(m.form) or m.form in _OTHERS):
            return True
        nxt = _next(words, i)
        if m.tag == "NNP" and nxt is not None and nxt.form in _HONORIFICS:
            return True
    return False


def _record(words: Sequence[Morpheme]) -> tuple[bool, bool]:
    """(asks about a record, mentions an event that already happened to it)."""
    names_benefit = any(m.form in _terms() or m.form in _SYSTEM_NOUNS for m in words if _is_noun(m))
    lookup = past = False
    for i, m in enumerate(words):
        nxt = _next(words, i)
        if m.form in _LOOKUP_NOUNS:
            lookup = True
        elif m.form in _STATE_NOUNS and any(p.form in _PROCESS_NOUNS for p in words[max(0, i - 2) : i]):
            lookup = True  # "판정 결과", "진행 상황"
        elif m.form == "어디" and nxt is not None and nxt.form == "까지":
            lookup = True  # "어디까지 처리됐어요"
        elif m.tag == "VCP" and nxt is not None and nxt.form in ("ᆫ지", "인지") and i > 0 and words[i - 1].form.endswith("자"):
            lookup = True  # "수급자인지": whether someone is on the rolls
        if m.form in _EVENT_NOUNS or (m.form in _EVENT_VERBS and names_benefit):
            past = past or _happened(words, i + 1, verb=m.form in _EVENT_VERBS)
    return lookup or past, past


def _happened(words: Sequence[Morpheme], k: int, *, verb: bool) -> bool:
    """Whether the event noun or verb ending before ``k`` is in the past: "처리됐", "안 됐", "들어온"."""
    if not verb:
        while k < len(words) and words[k].tag == "MAG":  # "지급 안 됐어요"
            k += 1
        if k >= len(words) or words[k].tag not in ("XSV", "VV"):
            return False
        k += 1
    return k < len(words) and words[k].tag in ("EP", "ETM") and words[k].form in _PAST


def is_personal_record(question: str, *, analyzer: KoreanAnalyzer | None = None) -> bool:
    """A question about a person's own file (status, result, payment received, account): the bot sees no records."""
    return personal_record(_words(question, analyzer))


def personal_record(words: Sequence[Morpheme]) -> bool:
    """A particular person and a record only the agency holds ("제 ... 어디까지 처리됐어요", "옆집 ... 수급자인지").

    "제가 신청하면 결과는 언제 나와요?" is a general question put hypothetically, and stays answerable.
    """
    if not _owner(words):
        return False
    asks, happened = _record(words)
    hypothetical = any(m.tag == "EC" and m.form in ("면", "으면", "려면", "으려면") for m in words)
    return asks and (happened or not hypothetical)


def product_advice(words: Sequence[Morpheme]) -> bool:
    """Shopping advice: which product, brand or shop is best or cheapest, where to buy it, or "추천해 줘" for goods."""
    forms = {m.form for m in words}
    names_welfare = any(m.form in _terms() or m.form in _SYSTEM_NOUNS for m in words if _is_noun(m))
    if forms & _DEAL_NOUNS or any(a.form == "최저" and b.form == "가" for a, b in zip(words, words[1:])):
        return True  # "최저가", "가성비": price hunting
    ranks = bool(forms & _RANKING_ADVERBS) and bool(forms & _PRAISE)
    which = bool(forms & _WHICH)
    if which and forms & _SHOP_NOUNS and forms & (_PRAISE | {"추천"}):
        return True  # "어떤 상품이 좋아요", "어느 업체가 싸요"
    if ranks and which and not names_welfare:
        return True  # "어디가 제일 맛있어요"
    if forms & _BUY and "어디" in forms and ranks:
        return True  # "어디서 사면 제일 싸요"
    return "추천" in forms and not names_welfare  # recommending goods, not a benefit


def scope_reason(question: str, entry_text: str, *, analyzer: KoreanAnalyzer | None = None) -> str | None:
    """Why ``question`` cannot be answered from ``entry_text`` (``year``, ``foreign_system``, ...), or None."""
    if other_year(question, entry_text):
        return YEAR
    words = _words(question, analyzer)
    if foreign_system(words, entry_text):
        return FOREIGN
    if personal_record(words):
        return PERSONAL
    if product_advice(words):
        return PRODUCT
    return None


def out_of_scope(question: str, entry_text: str, *, analyzer: KoreanAnalyzer | None = None) -> bool:
    """Whether ``question`` cannot be answered from ``entry_text`` however well it matches.

    A year or a foreign system the entry does not mention, a person's own records (application status,
    account, payment received), and product or shop recommendations.
    """
    return scope_reason(question, entry_text, analyzer=analyzer) is not None
