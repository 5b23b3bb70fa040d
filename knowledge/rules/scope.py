"""Questions the knowledge cannot answer whatever matches: another year, another country, a person's own file, shopping."""

from __future__ import annotations

import re

_YEAR = re.compile(r"(20\d\d)\s*년")
# Another country's system: only answerable if the entry itself is about it.
_COUNTRY = re.compile(r"일본|미국|중국|독일|영국|프랑스|캐나다|호주|뉴질랜드|베트남|필리핀|러시아|대만|싱가포르|태국")
# A person's own file (application status, account, exact payment) or someone else's: the bot sees no records.
_PERSONAL_RECORD = re.compile(
    r"(?:^|\s)(?:제|저의|저희|우리\s?\S+|옆집|\S+\s?씨)(?:가|의|는)?\s.*?"
    r"(?:처리\s?됐|처리\s?되었|어디까지|조회|계좌|판정\s?결과|수령액|들어왔|수급자인지|진행\s?상황)"
)
# Shopping and product advice is outside a welfare service.
_RECOMMENDATION = re.compile(r"추천")


def is_personal_record(question: str) -> bool:
    """A question about a person's own file (application status, account, exact payment): the bot sees no records."""
    return bool(_PERSONAL_RECORD.search(question))


def out_of_scope(question: str, entry_text: str) -> bool:
    """Whether ``question`` cannot be answered from ``entry_text`` however well it matches.

    A year or a foreign country the entry does not mention, a person's own records (application
    status, account, exact payment), and product or shop recommendations.
    """
    if any(year not in entry_text for year in _YEAR.findall(question)):
        return True
    if any(country not in entry_text for country in _COUNTRY.findall(question)):
        return True
    return is_personal_record(question) or bool(_RECOMMENDATION.search(question))
