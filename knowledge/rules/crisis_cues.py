"""The phrases that signal a crisis, matched on a spelling-tolerant "sound" form of the message.

Citizens in distress type fast: no spaces ("죽고싶다"), liaison spellings ("주글래" for 죽을래), vowel
slips ("떄려요", "떼려요" for 때려요), dialect endings ("죽고 싶데이", "몬 살겠다"). :func:`sound` turns a
message into a string of jamo in which those variants coincide: spaces, punctuation and chat jamo
("ㅠㅠ") removed, syllables split into letters with the silent initial ㅇ dropped (so 죽을 and 주글 are both
ㅈㅜㄱㅡㄹ), ㅔ/ㅒ/ㅖ folded into ㅐ and ㅚ/ㅞ into ㅙ. A final ㅆ stays ㅆ: folding it into ㅅ would make 먹었어
("took") and 먹어서 ("because ... took") the same string. Cue patterns are written in ordinary Hangul and
compiled through the same transform by :func:`cue`, so they stay readable.

Pattern syntax (besides regular expressions): every syllable is one unit (``을?`` makes the syllable
optional), ``~`` is a gap of up to about four syllables. Character classes must not contain Hangul.
"""

from __future__ import annotations

import re

from knowledge.korean.text import normalize

_BASE, _LAST = 0xAC00, 0xD7A3
_INITIALS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
_VOWELS = "ㅏㅐㅑㅐㅓㅐㅕㅐㅗㅘㅙㅙㅛㅜㅝㅙㅟㅠㅡㅢㅣ"  # ㅒ ㅔ ㅖ -> ㅐ, ㅚ ㅞ -> ㅙ (common slips)
_FINALS = ("", "ㄱ", "ㄲ", "ㄱㅅ", "ㄴ", "ㄴㅈ", "ㄴㅎ", "ㄷ", "ㄹ", "ㄹㄱ", "ㄹㅁ", "ㄹㅂ", "ㄹㅅ", "ㄹㅌ", "ㄹㅍ",
           "ㄹㅎ", "ㅁ", "ㅂ", "ㅂㅅ", "ㅅ", "ㅆ", "ㅇ", "ㅈ", "ㅊ", "ㅋ", "ㅌ", "ㅍ", "ㅎ")  # fmt: skip
# What survives into the sound form besides Hangul syllables: Latin letters and digits ("119", "kill myself").
_DROP = re.compile(r"[^0-9a-z\uac00-\ud7a3]+")
GAP = "[^|]{0,12}"
"""About four syllables; never across a ``|`` (where an idiom was cut out)."""


def _syllable(ch: str) -> str:
    index = ord(ch) - _BASE
    initial, rest = divmod(index, 21 * 28)
    vowel, final = divmod(rest, 28)
    onset = "" if _INITIALS[initial] == "ㅇ" else _INITIALS[initial]
    return onset + _VOWELS[vowel] + _FINALS[final]


def compact(text: str) -> str:
    """The message in lower case without spaces, punctuation or chat jamo ("ㅠㅠ", "ㅋㅋ")."""
    return _DROP.sub("", normalize(text).lower())


def sound(text: str) -> str:
    """The spelling-tolerant form the cues are matched on (see the module docstring)."""
    return "".join(_syllable(ch) if _BASE <= ord(ch) <= _LAST else ch for ch in compact(text))


def cue(*patterns: str) -> re.Pattern[str]:
    """Compile Hangul patterns to match on :func:`sound` forms (one alternative per argument)."""
    compiled = []
    for pattern in patterns:
        parts = []
        for ch in pattern:
            if _BASE <= ord(ch) <= _LAST:
                parts.append(f"(?:{_syllable(ch)})")
            elif ch == "~":
                parts.append(GAP)
            else:
                parts.append(ch)
        compiled.append("".join(parts))
    return re.compile("|".join(f"(?:{p})" for p in compiled))


# ---- figurative uses, cut out before any cue is matched ----------------------------------------------------
IDIOMS = cue(
    "(기|숨|쥐)죽",  # 기죽다, 숨죽이다, 쥐 죽은 듯
    "죽을(것|거|꺼)같",  # like 죽겠다: an intensifier ("배고파 죽을 것 같아")
    "(시끄러|소음|모기|벌레|더워|추워|더위|추위|냄새|가려)~(못|몬)살겠",
    "(신청|서류|작업|숙제|접수|공부|회의|계약|업무)~끝내",
    "일(을|만|좀|빨리|다)?끝내",
    "(다이어트|단식|금식)~굶",
    "유서깊",
    "(사|경위)유서",  # 사유서, 경위서 (documents)
    # Two words run together: 혼자 살아요, 삼성전자 살까요, 혼자 해요, 한강 간다, 의학 대학, 방 치워요.
    "자살(아|았|고|면|던|게|려|며|지|는|수|까|림|거|다|기(?!도)|때|곳|집|데)",
    "한강간",
    "학대학",
    "방치(우|워|웠)",
    "멍(을)?때리",
    "(나|저|제|우리)(한테|에게)맞는",
    "맞는(복지|서비스|지원|제도|혜택|일자리|정책|프로그램|급여|사이즈|답|서류|것같아요이)",
    "약~모아~(버리|버려|폐기|수거|반납)",  # leftover medicine
    "약을?다먹었~(처방|약국|타러|받으|받아야)",  # ran out of a prescription
)

# ---- suicide and self-harm ------------------------------------------------------------------------------
_DIE = "(죽|쥭|디지|뒤지|뒈지)"
SUICIDE = cue(
    f"{_DIE}(고|구|코)만?(싶|십|잡)",
    f"{_DIE}(을|으)(래|란|라|려|까|게|거|꺼)",
    f"{_DIE}어(야겠|야지|버리|버릴|삘|불|뿔)",
    f"{_DIE}는(게|것이|거)(낫|나아|편)",
    f"{_DIE}는(방법|법)",
    f"{_DIE}으면~편",
    "자(살|샬|쌀)(하고|하려|할|하는|시도|충동|생각)",
    "자(살|샬|쌀)~(방법|도구|장소)",
    "목숨을?끊",
    "목을?매",
    "살기(싫|실)",
    "살고(싶|십)지(가|는)?않",
    "(다|모든걸|모든것을|모두|전부|삶을|인생을)(내려)?놓(고싶|고십|아버리)",
    "(살아있는|사는|살아가는)(게|것이|것)~(고통|지옥)",
    "죽어도~(아무도|모를|상관없|슬퍼할)",
    "(다|모든걸|모든것을|전부|삶을|인생을|살기를)포기하고(싶|십)",
    "(다|모든게|모든것이|전부)끝났으면",
    "(그만|더이상|더는)살(고|래|란|까|아야)",
    "(못|몬)살겠",
    "(살|사는|삶)~(이유|의미|가치)~(없|모르|몰)",
    "살아(서|봤자|봐야|도)~(뭐|무슨|소용)",
    "(사라지|없어지|사라져버리|없어져버리)고(싶|십)",
    "(내가|나하나|저하나|제가)(사라지|없어지|없어져)",
    "눈을?안(떴|뜨|떠)",
    "안깨(어나|났|나)",
    "깨지않았으면",
    "내일이?안(왔|오)으면",
    "태어나지(말았|않았)",
    "세상을?떠나",
    "하늘나라~(가고|갈래|가야)",
    "곁으로~(가고|갈래)",
    "그만(가고|갈래|가야)",
    "극단적인?(생각|선택)",
    "나쁜생각",
    "유서",
    "정리하고~떠나",
    "끝내(고싶|고십|고잡|려|버리|야겠|고말)",
    "(약|수면제|수면유도제|안정제|진통제)~(다|한꺼번에|몽땅|한통)~(먹어버|먹을|먹으면|삼키|털어)",
    "(약|수면제)을?모아",
    "(약|수면제|수면유도제|안정제|진통제)~(다|한꺼번에|몽땅|한통|왕창|잔뜩)~(먹었|삼켰)",
    "농약~(마시|먹)",
    "번개탄",
    "연탄~(피우|피워)",
    "뛰어내리",
    "투신(하|할|했|자살)",
    "옥상(에|인데|이에요)~(올라와|서있|왔어|뛰어)",
    "한강물~(온도|차갑|차가|깊)",
    "(대교|다리)위에~서있",
    "(손목|팔|허벅지)을?~(긋|그었|그어|자르|잘랐)",
    "칼로~(긋|그었|그어)",
    "몸에상처를?(내|냈)",
    "자해(를|했|하고|해|할|충동)",
    "wanttodie|killmyself|endmylife|suicid",
)

# ---- violence, child abuse, elder abuse -----------------------------------------------------------------
# Hitting and the like count only next to a person (who hits, or who is hit): "비가 창문을 때려요" is weather.
HITTING = cue("때(리|려|렸|린|림|릴)", "(나를|저를|날|절|애를|아이를|아내를|엄마를)패", "발로(차|찼)", "걷어(차|찼)", "주먹으로", "밀(쳐|치|쳤)", "꼬집",
              "묶어(놓|놨|두|뒀)", "굶(겨|기)", "밥(을|도)?안(줘|주|준)", "뺏(어|고|았|는)", "욕(하고|을하)",
              "(가둬|가두)")  # fmt: skip
VIOLENCE = cue(
    "(두들겨|뚜드려)(맞|패)",
    "(한테|에게)맞",
    "맞(아서|고서)?~(멍|다쳤|피가|무서)",
    "멍~맞",
    "집에(가면|서)맞",
    "(맞|때리)는소리",
    "목을?졸",
    "협박",
    "위협",
    "죽(인다|이겠|여버리|여버린|일거|일꺼)",
    "칼을?들고",
    "문을?부수",
    "(따라와|따라오|쫓아와|쫓아오|미행)~(무서|살려|도와)",
    "몸을?(만져|만지|더듬)",
    "(억지로|강제로)~(관계|만지|만져)",
    "hitsme|hitme|beatsme|beatme|hurtsme",
)
# Words that name a crisis topic: a crisis unless the message only asks about the topic (INFORMATION).
TOPIC_SUICIDE = cue("자(살|샬|쌀)", "자해(를|했|하|충동|생각|흔적|상처|자국|행위|할|한|$)")
TOPIC_VIOLENCE = cue("폭행", "폭력", "성추행", "강간", "스토킹", "몰카", "불법촬영", "학대", "방치")
# Being the victim now ("당하고 있어요", "당했어요") outweighs any question form; "당하면" is hypothetical.
SUFFERED = cue("당(하고|했|한|해|하는|함)")
INFORMATION = re.compile(
    "신고|방법|번호|어디|어떻게|처벌|[가-힣]죄(?!송)|뜻|의미|예방|교육|지원|제도|피해자|통계|뉴스|기사|사건|"
    "법률|법적|처벌법|센터|자원봉사|유가족|유족|상담전화|뭐예요|뭐에요|알려|보상|배상|받을수|있나요|되나요|궁금"
)  # fmt: skip
# Roles, matched on the compact syllable text (not the sound form: short words like 애 would match anywhere).
ELDER = re.compile(
    "할머니|할아버지|할매|할배|어르신|노인|요양원|요양병원|요양보호사|"
    "(?<!시)(어머니|아버지|어머님|아버님|부모님)(을|를|한테|께|에게)|시(어머니|아버지)를|"
    "(아들|딸|자식|며느리|손자|손녀|사위)(이|가|놈|한테|에게)"
)  # fmt: skip
CHILD = re.compile(
    "애가|애를|애들|애우|애울|우리애|옆집애|아이|아기|애기|동생|초등|중학생|고등학생|학생|어린이집|유치원|학원|아동|"
    "(?<!시)(아빠|아버지|엄마|어머니|새아빠|새엄마|계부|계모|부모)(가|이|께서|한테|에게)|계부|계모|새아빠|새엄마"
)  # fmt: skip
PARTNER = re.compile(
    "남편|신랑|아내|집사람|와이프|남친|남자친구|여친|여자친구|애인|동거인|성폭|성추행|강간|스토킹|몰카|불법촬영|"
    "가정폭력|데이트폭력|husband|wife|boyfriend|girlfriend"
)  # fmt: skip
PERSON = re.compile(
    "남편|신랑|아내|집사람|와이프|남친|남자친구|여친|여자친구|애인|동거인|시어머니|시아버지|오빠|형이|형한테|"
    "누나|언니|선생님|교사|직원|상사|사장|남자가|여자가|누가|사람이|나를|저를|한테|에게"
)  # fmt: skip

# ---- emergencies (119) ------------------------------------------------------------------------------------
EMERGENCY = cue(
    "숨(을|이)?(못|몬|안)(쉬|숴)",
    "숨을?쉴수(가|도)?없",
    "숨(쉬기|쉬는게)(힘들|어렵|곤란)",
    "쓰러(졌|져|지셨|지셔)",
    "의식(이|을)?(없|잃)",
    "피가(안|계속)?(멈|멎|안멈|많이나|철철|콸콸|쏟아)",
    "불(이)?났",
    "불이야",
    "경련(을|이)?(해|하|일으)",
    "마비(됐|되었|와|가)",
    "말이어눌",
    "(세제|락스|배터리|건전지|농약|살충제|부동액)을?~(삼켰|마셨|먹었)",
    "약을?~삼켰",
    "약을?(한꺼번에|너무많이|잔뜩|왕창)~먹었",
    "가스냄새",
    "살려(주세요|줘|주십시오|달라)",
    "119(좀|를|를좀)?불러",
    "가슴(이|을)?~(쥐어짜|조여|조이)",
    "식은땀",
    "넘어져서~(못일어나|못움직|일어나지못)",
    "심장(이)?(멎|멈|안뛰)",
    "cantbreathe|cannotbreathe|ambulance",
)
# A question about money, care or help after the event ("쓰러지셔서 입원했는데 간병비 지원") is not an emergency now.
AFTERWARDS = re.compile("지원|비용|병원비|간병비|의료비|진료비|입원|수술|신청|수급|급여|보험")

# ---- hardship: no food, no shelter tonight, heating cut (129) -----------------------------------------------
HARDSHIP = cue(
    "(며칠|사흘|이틀|나흘|일주일)~(굶|못먹|안먹|먹지못)",
    "(굶|못먹|먹지못)~(며칠|사흘|이틀|나흘|일주일)",
    "굶(고있|고살|었|어요|음|은지|는중)",
    "먹을(게|것이|거|것)~없",
    "먹일돈이?~없",
    "한푼도없",
    "(잘|갈|머물|지낼)(곳|데|대)~없",
    "쫓겨(났|나요|나서|나게|나는중)",
    "짐(을)?빼래",
    "길거리(에|에서)~(있|자|잠|지내|나앉)",
    "노숙(하고|중|해|하는)",
)
# Weaker: a question about help with it ("가스 끊겼는데 요금 지원돼요?") is answered, not an emergency.
HARDSHIP_UNLESS_ASKING = cue(
    "(전기|가스|난방|보일러|수도)~끊(겨서|겨있|겼|긴지|긴채)",
    "쌀이?(다)?떨어(졌|져서|졌는데|짐)",
)
