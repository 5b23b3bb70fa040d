"""Kakao i Open Builder SkillResponse (version 2.0), always built within Kakao's format limits.

Pure functions: bot messages in, response JSON out. Limits follow /work/shared/reference/kakao-skill.md;
list-card text lengths are the conservative ones from Kakao's guide (its UI cuts longer text anyway).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from channels.conversation import BotMessage, Button

VERSION = "2.0"
MAX_OUTPUTS = 3
MAX_TEXT = 1000
MAX_QUICK_REPLIES = 10
MAX_LABEL = 14
LIST_ITEMS = 5
LIST_BUTTONS = 2
LIST_HEADER_TITLE = 15
LIST_ITEM_TITLE = 36
LIST_ITEM_DESCRIPTION = 16

PREPARING = "답변을 준비하고 있어요..."
FETCH_LABEL = "답변 보기"
OPERATOR_LABEL = "상담직원 연결"
_CUT_NOTE = "\n(답변이 길어 앞부분만 보여 드려요. 자세한 내용은 출처에서 확인해 주세요.)"
_SENTENCE_END = re.compile(r"[.!?。](?=\s)")


@dataclass(frozen=True)
class Rendered:
    """A SkillResponse and whether every word of the messages made it in."""

    body: dict[str, Any]
    complete: bool


def clip(text: str, limit: int) -> str:
    """Shorten to ``limit`` characters, marking the cut with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split text into pieces of at most ``limit`` characters, at a paragraph, sentence or word end."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"))
        if cut < limit // 2:
            ends = [m.end() for m in _SENTENCE_END.finditer(window)]
            cut = ends[-1] if ends else -1
        if cut < limit // 2:
            cut = window.rfind(" ")
        if cut < limit // 2:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def _merge(chunks: list[str], slots: int) -> list[str]:
    """Join neighbouring chunks (shortest pair first) until they fit ``slots`` bubbles or cannot be joined."""
    chunks = list(chunks)
    while len(chunks) > slots:
        i = min(range(len(chunks) - 1), key=lambda k: len(chunks[k]) + len(chunks[k + 1]))
        joined = f"{chunks[i]}\n\n{chunks[i + 1]}"
        if len(joined) > MAX_TEXT:
            break
        chunks[i : i + 2] = [joined]
    return chunks


def fit_texts(chunks: list[str], slots: int, tail: str | None = None) -> tuple[list[str], bool]:
    """At most ``slots`` text bubbles; ``tail`` (a notice) always survives, the body is cut if it must be."""
    whole = _merge(chunks + ([tail] if tail else []), slots)
    if len(whole) <= slots:
        return whole, True
    room = slots - (1 if tail else 0)
    if room < 1:
        return [clip(tail or "", MAX_TEXT)], False
    body = _merge(chunks, room)[:room]
    body[-1] = body[-1][: MAX_TEXT - len(_CUT_NOTE)].rstrip() + _CUT_NOTE
    return body + ([tail] if tail else []), False


def simple_text(text: str) -> dict[str, Any]:
    """One text bubble."""
    return {"simpleText": {"text": text[:MAX_TEXT]}}


def quick_reply(title: str, payload: str | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A quick reply that sends ``title`` as the user's words; the real payload rides in ``extra``."""
    body: dict[str, Any] = {"label": clip(title, MAX_LABEL), "action": "message", "messageText": title}
    extra = dict(extra or {})
    if payload is not None and payload != title:
        extra["payload"] = payload
    if extra:
        body["extra"] = extra
    return body


def fetch_quick_reply() -> dict[str, Any]:
    """The quick reply that collects an answer that was not ready in time."""
    return quick_reply(FETCH_LABEL, extra={"bokji": "fetch"})


def _quick_replies(buttons: Sequence[Button], first: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Quick replies without repeats; two long questions that clip alike show their different endings."""
    replies = list(first)
    for button in buttons:
        reply = quick_reply(button.title, button.payload)
        if any(r["messageText"] == reply["messageText"] for r in replies):
            continue
        if any(r["label"] == reply["label"] for r in replies):
            reply["label"] = "…" + " ".join(button.title.split())[-(MAX_LABEL - 1) :].lstrip()
            if any(r["label"] == reply["label"] for r in replies):
                continue
        replies.append(reply)
    return replies[:MAX_QUICK_REPLIES]


def _unique_sources(messages: Sequence[BotMessage]) -> list[dict[str, str]]:
    sources: list[dict[str, str]] = []
    for message in messages:
        for source in message.sources:
            # Two passages of one document are two places to look: the location tells them apart.
            key = (source["title"], source.get("url"), source.get("location"))
            if all((s["title"], s.get("url"), s.get("location")) != key for s in sources):
                sources.append(source)
    return sources


def _web_url(url: str | None) -> str | None:
    return url if url and url.startswith(("https://", "http://")) else None


def source_title(source: dict[str, str]) -> str:
    """A list item's title: the source's title, then where in the document ("안내서 (3쪽 · 지원 대상)").

    Both fit in the item's title limit: the location is cut to half of it at most, the title takes the rest
    (the description keeps the date).
    """
    location = source.get("location", "")
    if not location:
        return clip(source["title"], LIST_ITEM_TITLE)
    where = f" ({clip(location, LIST_ITEM_TITLE // 2)})"
    return clip(source["title"], LIST_ITEM_TITLE - len(where)) + where


def sources_card(sources: Sequence[dict[str, str]], operator: bool) -> dict[str, Any] | None:
    """A list card of sources (each links to its page, with its date), plus 상담직원 연결 on a handoff."""
    if not sources and not operator:
        return None
    items: list[dict[str, Any]] = []
    for source in sources[:LIST_ITEMS]:
        item: dict[str, Any] = {"title": source_title(source)}
        if source.get("updated_at"):
            item["description"] = clip(f"{source['updated_at']} 기준", LIST_ITEM_DESCRIPTION)
        if url := _web_url(source.get("url")):
            item["link"] = {"web": url}
        items.append(item)
    if not items:
        items.append({"title": "상담직원과 1:1 채팅", "description": "아래 버튼을 눌러 주세요"})
    buttons: list[dict[str, Any]] = []
    if operator:
        buttons.append({"action": "operator", "label": OPERATOR_LABEL})
    first_url = next((u for u in (_web_url(s.get("url")) for s in sources) if u), None)
    if first_url:
        buttons.append({"action": "webLink", "label": "출처 보기", "webLinkUrl": first_url})
    header = "출처" if sources else OPERATOR_LABEL
    card: dict[str, Any] = {"header": {"title": clip(header, LIST_HEADER_TITLE)}, "items": items}
    if buttons:
        card["buttons"] = buttons[:LIST_BUTTONS]
    return {"listCard": card}


def render(
    messages: Sequence[BotMessage],
    *,
    operator: bool,
    notice: str | None = None,
    first_quick_replies: Sequence[dict[str, Any]] = (),
    person: bool = False,
) -> Rendered:
    """Bot messages as one SkillResponse: text bubbles, a sources card, quick replies, all within limits.

    With ``operator`` (the channel has 1:1 chat or 상담톡), 상담직원 연결 is offered when a message asks for a
    person or ``person`` says one has or is about to take the chat.
    """
    offer = operator and (person or any(m.handoff is not None for m in messages))
    card = sources_card(_unique_sources(messages), offer)
    chunks = [piece for m in messages for piece in split_text(m.text)]
    texts, complete = fit_texts(chunks, MAX_OUTPUTS - (1 if card else 0), notice)
    outputs = [simple_text(t) for t in texts] + ([card] if card else [])
    if not outputs:
        outputs = [simple_text("죄송해요. 답변을 만들지 못했어요. 다시 한번 보내 주세요.")]
    template: dict[str, Any] = {"outputs": outputs}
    replies = _quick_replies([b for m in messages for b in m.buttons], first_quick_replies)
    if replies:
        template["quickReplies"] = replies
    return Rendered({"version": VERSION, "template": template}, complete)


def text_response(text: str, quick_replies: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """A plain reply (notices, errors) in as many bubbles as it needs, up to the output limit."""
    texts, _ = fit_texts(split_text(text), MAX_OUTPUTS)
    template: dict[str, Any] = {"outputs": [simple_text(t) for t in texts]}
    if quick_replies:
        template["quickReplies"] = list(quick_replies)[:MAX_QUICK_REPLIES]
    return {"version": VERSION, "template": template}


def callback_ack(text: str = PREPARING) -> dict[str, Any]:
    """The immediate reply that tells Kakao the answer will come through the callbackUrl."""
    return {"version": VERSION, "useCallback": True, "data": {"text": text}}
