"""Korean numbers and units in citizens' words, normalized in one place.

"네 식구" -> 4 people, "이백오십만 원" -> 2,500,000 won, "월300" -> 3,000,000 won, "일흔둘" -> 72 years.
Pure standard library: NLU-side code and the action server both use it.
"""

from __future__ import annotations

import re

from knowledge.korean.text import normalize

_SINO_DIGITS = {"영": 0, "공": 0, "일": 1, "이": 2, "삼": 3, "사": 4, "오": 5, "육": 6, "칠": 7, "팔": 8, "구": 9}
_SINO_SMALL = {"십": 10, "백": 100, "천": 1000}
_SINO_BIG = {"만": 10_000, "억": 100_000_000}
_NATIVE_TENS = {
    "열": 10,
    "스물": 20,
    "스무": 20,
    "서른": 30,
    "마흔": 40,
    "쉰": 50,
    "예순": 60,
    "일흔": 70,
    "여든": 80,
    "아흔": 90,
}
_NATIVE_ONES = {
    "하나": 1, "한": 1, "둘": 2, "두": 2, "셋": 3, "세": 3, "석": 3, "넷": 4, "네": 4, "넉": 4,
    "다섯": 5, "여섯": 6, "일곱": 7, "여덟": 8, "아홉": 9,
}  # fmt: skip
_NATIVE = sorted(_NATIVE_ONES, key=len, reverse=True)
_NATIVE_TENS_SORTED = sorted(_NATIVE_TENS, key=len, reverse=True)

_SINO_RUN = re.compile(r"[영공일이삼사오육칠팔구십백천만억]+")
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")


def _sino(word: str) -> int | None:
    """Sino-Korean numerals: "이백오십만" -> 2500000, "삼십" -> 30."""
    total = section = digit = 0
    seen = False
    for ch in word:
        if ch in _SINO_DIGITS:
            digit, seen = _SINO_DIGITS[ch], True
        elif ch in _SINO_SMALL:
            section += (digit or 1) * _SINO_SMALL[ch]
            digit, seen = 0, True
        elif ch in _SINO_BIG:
            total += (section + digit or 1) * _SINO_BIG[ch]
            section = digit = 0
            seen = True
        else:
            return None
    return total + section + digit if seen else None


def _native(text: str) -> int | None:
    """Native Korean numerals at the start of text: "일흔둘" -> 72, "네" -> 4."""
    value = 0
    rest = text
    for tens in _NATIVE_TENS_SORTED:
        if rest.startswith(tens):
            value, rest = _NATIVE_TENS[tens], rest[len(tens) :]
            break
    for ones in _NATIVE:
        if rest.startswith(ones):
            return value + _NATIVE_ONES[ones]
    return value or None


def _number_at(text: str) -> tuple[float, str] | None:
    """The first number in text (digits, digits with 만/천, or Sino-Korean words) and what follows it."""
    text = normalize(text).replace(" ", "")
    digits = _DIGITS.search(text)
    sino = _SINO_RUN.search(text)
    # A lone "이" or "사" is usually a particle or a word ("이제 66세"), not a number: skip it.
    while sino and len(sino.group()) == 1 and sino.group() in "이사오구일":
        sino = _SINO_RUN.search(text, sino.end())
    if digits and (not sino or digits.start() <= sino.start()):
        raw = digits.group().replace(",", "")
        try:
            value = float(raw)
        except ValueError:
            return None
        rest = text[digits.end() :]
        # "250만", "1억2천만", "3천" — a digit followed by Sino-Korean magnitude words.
        mult = re.match(r"[십백천만억]+", rest)
        if mult:
            word = mult.group()
            magnitude = _sino("일" + word) or 1
            value *= magnitude
            rest = rest[len(word) :]
            more = re.match(r"(\d+)([천백십]?)만?", rest)  # "1억2천만"
            if more and word.endswith("억"):
                value += float(more.group(1)) * (_sino("일" + more.group(2)) or 1) * 10_000
                rest = rest[more.end() :]
        return value, rest
    if sino:
        value_int = _sino(sino.group())
        if value_int is not None:
            return float(value_int), text[sino.end() :]
    for start in range(len(text)):
        native = _native(text[start:])
        if native is not None:
            return float(native), text[start:]
    return None


def parse_household_size(text: str) -> int | None:
    """People in the household: "4인", "4명이요", "네 식구", "혼자 살아요" -> 1."""
    flat = normalize(text).replace(" ", "")
    if re.search(r"혼자|독거|1인가구|저혼자|나혼자", flat):
        return 1
    if re.search(r"둘이|부부둘|우리둘", flat):
        return 2
    found = _number_at(flat)
    if found is None:
        return None
    value, rest = found
    if rest.startswith(("만", "원", "살", "세")) or value != int(value):
        return None
    return int(value) if 1 <= value <= 20 else None


def parse_income(text: str, *, assume_manwon: bool = True) -> int | None:
    """Monthly income in won: "월 300" -> 3,000,000; "이백오십만 원" -> 2,500,000; "소득 없어요" -> 0.

    A bare small number ("300") is read as 만원 when ``assume_manwon`` (the bot just asked for income);
    a number with another unit ("3명", "66살") is not income.
    """
    flat = normalize(text).replace(" ", "")
    if re.search(r"(소득|수입|버는거?|월급)?(이|은|는)?(없|0원|한푼도|못벌|무소득|무직)", flat) and not _DIGITS.search(flat):
        return 0
    found = _number_at(flat)
    if found is None:
        return None
    value, rest = found
    if re.match(r"(명|인|살|세|식구|가구|개월|년)", rest):
        return None
    if value >= 10_000:
        return int(value)
    if rest.startswith("원"):
        return int(value)
    # "월 300", "300 벌어요": a small number said as income is in 만원.
    if assume_manwon or rest.startswith("만") or re.search(r"월\d|벌|소득|수입|월급", flat):
        return int(value * 10_000)
    return None


_FULL_AGE = re.compile(r"(^|\s)만\s*(?=[\d영일이삼사오육칠팔구십])")


def parse_age(text: str) -> int | None:
    """Age in years: "66살", "만 65세", "칠십", "일흔둘"."""
    found = _number_at(_FULL_AGE.sub(r"\1", normalize(text)))
    if found is None:
        return None
    value, rest = found
    if re.match(r"(명|인|만원|원|식구)", rest):
        return None
    return int(value) if 0 <= value <= 120 else None


def parse_child_age(text: str) -> int | None:
    """A child's age in whole years: "8개월" -> 0, "돌 전" -> 0, "두 살" -> 2, "0세" -> 0."""
    flat = _FULL_AGE.sub(r"\1", normalize(text)).replace(" ", "")
    if re.search(r"돌전|돌안|신생아|갓난|태어난지|아직안태어|출산예정", flat):
        return 0
    found = _number_at(flat)
    if found is None:
        return None
    value, rest = found
    if rest.startswith("개월"):
        return int(value // 12)
    if re.match(r"(명|인|만원|원|식구)", rest):
        return None
    return int(value) if 0 <= value <= 18 else None


def parse_household_type(text: str) -> str | None:
    """Single or couple household for 기초연금: "혼자 살아요" -> "single", "부부" -> "couple"."""
    flat = normalize(text).replace(" ", "")
    if re.search(r"부부|남편|아내|와이프|영감|할멈|할아버지랑|할머니랑|둘이|배우자", flat):
        return "couple"
    if re.search(r"혼자|단독|독거|홀로|사별|이혼|싱글|1인", flat):
        return "single"
    return None


_DIGIT_HAS_FINAL = {
    "0": True,
    "1": True,
    "2": False,
    "3": True,
    "4": False,
    "5": False,
    "6": True,
    "7": True,
    "8": True,
    "9": False,
}


def particle(word: str, with_final: str, without_final: str) -> str:
    """Attach the right Korean particle, e.g. "3명" + 으로/로 -> "3명으로", "만 66세" -> "만 66세로".

    "으로/로" also takes "로" after a final ㄹ.
    """
    last = word.rstrip()[-1:] or " "
    if "가" <= last <= "힣":
        final = (ord(last) - 0xAC00) % 28
        has_final = final != 0 and not (with_final == "으로" and final == 8)
    else:  # a digit is read in Sino-Korean: 일, 칠, 팔 end in ㄹ
        has_final = _DIGIT_HAS_FINAL.get(last, False) and not (with_final == "으로" and last in "178")
    return word + (with_final if has_final else without_final)
