"""Domain types every layer speaks: FAQ entries, long documents and their chunks, sources, hits, answers, programs.

Pydantic and dataclasses only; imports nothing above :mod:`knowledge.korean`.
"""

__all__ = [
    "answer",
    "document",
    "faq",
    "helpline",
    "hit",
    "program_files",
    "programs",
    "source",
]
