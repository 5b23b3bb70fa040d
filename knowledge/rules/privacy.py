"""Mask personal data before text reaches a model, another service, a log or a store (PIPA).

Three passes, in this order:

1. e-mail addresses;
2. numbers: every run of digits joined by spaces, dots or any dash (``-``, ``–``, ``—``, ``−``, ``‐`` ...) is
   read as one candidate, so "900101.1234567", "900101–1234567", "+82 10 1234 5678" and "0 1 0 1 2 3 4 5 6 7 8"
   are caught like their plain forms. A run that is not one identifier is tried piece by piece (two numbers
   written side by side). Welfare figures are never identifiers: amounts with commas ("349,700원"), ages,
   years, household sizes and helplines (129, 1577-1389) are too short or not shaped like one;
3. places and names: a road-name address ("세종대로 110", "중앙로123번길 45"), a lot number ("역삼동 123-4번지"),
   an apartment unit ("101동 1203호"), with the city and district written before them; a Korean name next to
   such an address ("홍길동 / 서울시 ...") or introduced as a name ("제 이름은 홍길동이고"). A neighbourhood
   alone ("예시시 사는데") is kept: it says which office helps, not who is asking.
"""

from __future__ import annotations

import re

EMAIL = "[이메일]"
RESIDENT_NUMBER = "[주민등록번호]"
PHONE = "[전화번호]"
CARD = "[카드번호]"
ACCOUNT = "[계좌번호]"
ADDRESS = "[주소]"
NAME = "[이름]"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")

# What may stand between the digits of one number: spaces, dots, middle dots and every dash people type.
_DASHES = "\\-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d\u30fc"
_SEP = f"[\\s.\u00b7\u30fb{_DASHES}]"
_GROUP = re.compile(r"\d+")
# A run: optional "+", then digit groups joined by at most three separator characters.
_RUN = re.compile(rf"(?<!\d)\+?\s?\d+(?:{_SEP}{{1,3}}\d+)*(?!\d)")
# A resident number already half hidden by its owner: "900101-1******".
_RRN_STARRED = re.compile(rf"(?<!\d)\d{{6}}\s?{_SEP}?\s?[1-8][*xX＊]{{6}}")

_MOBILE = re.compile(r"01[016789]\d{7,8}")
_LANDLINE = re.compile(r"0(?:2|[3-6][1-5]|70|50\d)\d{7,8}")


def _is_rrn(digits: str) -> bool:
    """13 digits: a birth date (YYMMDD) and a 7th digit 1-8."""
    if len(digits) != 13 or digits[6] not in "12345678":
        return False
    month, day = int(digits[2:4]), int(digits[4:6])
    return 1 <= month <= 12 and 1 <= day <= 31


def _phone(digits: str, plus: bool) -> bool:
    """A Korean phone number, national ("010...", "02...") or international ("+82 10 ...")."""
    if digits.startswith("82") and (plus or _MOBILE.fullmatch("0" + digits[2:].removeprefix("0"))):
        digits = "0" + digits[2:].removeprefix("0")
    return bool(_MOBILE.fullmatch(digits) or _LANDLINE.fullmatch(digits))


def _identifier(groups: list[str], plus: bool, dashed: bool) -> str | None:
    """The placeholder for digit groups read as one number, or None when they are not an identifier."""
    digits = "".join(groups)
    if plus and _phone(digits, plus):
        return PHONE
    sizes = [len(g) for g in groups]
    if _is_rrn(digits) and (len(groups) == 1 or sizes == [6, 7] or set(sizes) == {1}):
        return RESIDENT_NUMBER
    if _phone(digits, plus):
        return PHONE
    if len(digits) in (15, 16) and (len(groups) == 1 or all(len(g) >= 4 for g in groups)):
        return CARD
    # Korean account numbers have 10-14 digits, written plainly or in groups joined by dashes only (a date
    # "2026-01-15" is too short; "1577-1389 129", a helpline beside another number, has a space).
    if 10 <= len(digits) <= 14 and (len(groups) == 1 or (dashed and len(groups) <= 4 and all(len(g) >= 2 for g in groups))):
        return ACCOUNT
    return None


def _mask_numbers(text: str) -> str:
    def replace(run: re.Match[str]) -> str:
        chunk = run.group()
        spans = [(m.start(), m.end()) for m in _GROUP.finditer(chunk)][:40]
        out, cursor, i = [], 0, 0
        while i < len(spans):
            for j in range(len(spans), i, -1):  # the longest piece starting here that is one identifier
                piece = chunk[spans[i][0] : spans[j - 1][1]]
                plus = i == 0 and chunk.lstrip().startswith("+")
                joints = re.split(r"\d+", piece)[1:-1]
                dashed = bool(joints) and all(re.fullmatch(f"[{_DASHES}]", j) for j in joints)
                label = _identifier([chunk[a:b] for a, b in spans[i:j]], plus, dashed)
                if label is not None:
                    start = 0 if plus else spans[i][0]
                    out.append(chunk[cursor:start] + label)
                    cursor, i = spans[j - 1][1], j
                    break
            else:
                i += 1
        return "".join(out) + chunk[cursor:]

    text = _RRN_STARRED.sub(RESIDENT_NUMBER, text)
    return _RUN.sub(replace, text)


# -- places and names ------------------------------------------------------------------------------------
# A city, county, district, town or neighbourhood written before the street ("서울특별시 중구", "예시시 행복동").
_REGION = r"[가-힣]{1,12}(?:특별시|광역시|특별자치시|특별자치도|도|시|군|구|읍|면|동|리)"
# Words ending in 로/길 that are not streets: adverbs, particles, "가는 길".
_NOT_STREETS = (
    "바로", "으로", "별로", "새로", "따로", "주로", "서로", "대로", "그대로", "제대로", "멋대로", "마음대로", "실제로",
    "정말로", "진짜로", "절대로", "날로", "길", "가는길", "오는길", "지름길", "한길", "외길", "먼길", "째로", "하루로",
    "앞으로", "뒤로", "위로", "아래로", "옆으로", "이대로", "저대로", "말대로", "혼자로", "처음으로", "마지막으로",
)  # fmt: skip
_NUMBER_UNITS = (
    r"(?:원|만|천|억|세|살|명|인|개|년|월|일|시|분|초|%|퍼센트|가구|식구|번째|차|회|배|평|층이상|km|m\b|키로|kg|등급|호선|"
    r"시간|주|달|건|장|권|대|마리|점|위)"
)
_STREET = rf"(?P<street>[가-힣]{{1,12}}(?:대로|로|길))\s?(?:\d{{1,4}}(?:번?[가-힣]?길))?\s?\d{{1,5}}(?:\s?-\s?\d{{1,4}})?(?!\d|{_NUMBER_UNITS})"
_LOT = r"[가-힣]{1,12}(?:동|리|가)\s?(?:산\s?)?\d{1,5}(?:\s?-\s?\d{1,4})?\s?번지|[가-힣]{1,12}(?:동|리)\s?(?:산\s?)?\d{1,5}-\d{1,4}(?!\d)"
_UNIT = r"(?:[가-힣A-Za-z0-9]{0,12}(?:아파트|빌라|맨션|오피스텔|타운|하이츠|빌딩|주택)\s?)?(?:[A-Za-z가-힣]|\d{1,4})\s?동\s?\d{1,5}\s?호"
_TAIL = rf"(?:\s?[,(]?\s?(?:{_UNIT}|\d{{1,3}}\s?층|\d{{1,5}}\s?호(?!선))\)?)?"
_ADDRESS = re.compile(rf"(?:{_REGION}\s?){{0,4}}(?:(?:{_STREET}|{_LOT}){_TAIL}|{_UNIT})")

# Common Korean surnames (one and two syllables); a name beside an address starts with one of them.
_SURNAMES = (
    "남궁|황보|제갈|선우|독고|서문|사공|"
    "김|이|박|최|정|강|조|윤|장|임|한|오|서|신|권|황|안|송|류|유|전|홍|고|문|양|손|배|백|허|남|심|노|하|곽|성|차|주|"
    "우|구|민|진|지|엄|채|원|천|방|공|현|함|변|염|여|추|도|소|석|선|설|마|길|연|위|표|명|기|반|라|왕|금|옥|육|인|맹|"
    "모|탁|국|어|은|편|용|예|경|봉|부|나|태|빈|가|피|감|음"
)
_NOT_NAMES = {"주소", "주소는", "집주소", "현주소", "거주지", "우리집", "저희집", "이사", "이사간", "제가", "저희", "우리", "여기", "거기", "지금", "현재", "본인", "실제", "주민"}  # fmt: skip
_NAME_BESIDE = re.compile(
    rf"(?<![가-힣])(?P<name>(?:{_SURNAMES})[가-힣]{{1,3}})(?P<sep>\s*[/,|·:]\s*|\s+)(?={re.escape(ADDRESS)})"
)
_NAME_GIVEN = re.compile(
    rf"(?P<lead>(?:이름|성함|성명)\s?(?:은|는|이|:)?\s?)(?P<name>(?:{_SURNAMES})[가-힣]{{1,3}}?)"
    r"(?=이고|이에요|이예요|입니다|이며|이구요|이고요|이라고|라고|인데|예요|이요|요|고|\s|[,./)]|$)"
)
_NAME_STOPS = {
    "뭐",
    "무엇",
    "본인",
    "실명",
    "한글",
    "영문",
    "변경",
    "비밀",
    "바뀌",
    "어떻게",
    "필요",
    "무슨",
    "다르",
    "틀리",
    "적어",
}


def _mask_places_and_names(text: str) -> str:
    def address(match: re.Match[str]) -> str:
        street = match.groupdict().get("street")
        if street and street in _NOT_STREETS or (street and street.endswith("으로")):
            return match.group()
        return ADDRESS

    text = _ADDRESS.sub(address, text)

    def beside(match: re.Match[str]) -> str:
        name = match.group("name")
        if (
            name in _NOT_NAMES
            or name.endswith(("은", "는", "가", "을", "를", "에", "도", "서", "요"))
            and not match.group("sep").strip()
        ):
            return match.group()
        return NAME + match.group("sep")

    text = _NAME_BESIDE.sub(beside, text)

    def given(match: re.Match[str]) -> str:
        if match.group("name") in _NAME_STOPS:
            return match.group()
        return match.group("lead") + NAME

    return _NAME_GIVEN.sub(given, text)


def mask(text: str) -> str:
    """Replace personal identifiers with a Korean placeholder such as ``[전화번호]`` or ``[주소]``."""
    text = _EMAIL.sub(EMAIL, text)
    text = _mask_numbers(text)
    return _mask_places_and_names(text)
