"""Agent assist: a case card from what the dialogue already knows, and suggested replies from the knowledge base.

``bp`` is registered in ``channels.app.create_app``; the action server answers ``POST /assist/suggestions``.
"""

from channels.assist.blueprint import bp
from channels.assist.case_card import CaseCard, build_case_card, last_question
from channels.assist.client import AssistClient, AssistSources, AssistUnavailableError

__all__ = ["AssistClient", "AssistSources", "AssistUnavailableError", "CaseCard", "bp", "build_case_card", "last_question"]
