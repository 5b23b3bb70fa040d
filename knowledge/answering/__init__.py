"""Answering a question: the policy for each mode, follow-up rewrite, generation, grounding, prompts, LLM backends.

The top of the knowledge layer: may use every other part; nothing in knowledge/ imports it but
:mod:`knowledge.backends` (the composition root).
"""

__all__ = [
    "chain",
    "grounding",
    "llm",
    "model_files",
    "prompts",
    "service",
    "streaming",
]
