"""What a quick reply shows in the history: the title of a button the bot really offered, never a label the client made up.

A widget sends a quick reply's payload as the text; the history shows the button's title instead. The title
comes from the bot's own recorded turns (or from this module for the widget's own controls), so a forged
``label`` can never put words in a citizen's mouth: without a matching offer the history shows the text as sent.
"""

from __future__ import annotations

from channels.conversation import CANCEL_HANDOFF
from channels.store.transcripts import TranscriptStore

# The widget's own controls, which no bot turn offers as a button.
WIDGET_LABELS = {"/request_human": "상담원 연결", CANCEL_HANDOFF: "대기 취소"}
# How far back an offer still counts (a citizen may scroll up and press an older button).
RECENT_TURNS = 12


def offered_label(transcripts: TranscriptStore, sender_id: str, text: str) -> str | None:
    """The title of the newest button whose payload is ``text`` in the conversation's recent bot turns, if any."""
    for turn in reversed(transcripts.recent_turns(sender_id, RECENT_TURNS)):
        if turn["role"] != "bot":
            continue
        for button in turn["meta"].get("buttons") or []:
            if isinstance(button, dict) and button.get("payload") == text and isinstance(button.get("title"), str):
                return str(button["title"])
    return WIDGET_LABELS.get(text)
