"""Welfare knowledge: Korean text analysis, FAQ documents, the hybrid store and the answer service.

This package is the bottom layer: it imports no other package of this project. Importing it does no
work; the Rasa tokenizer (Python 3.10, no langchain) only imports :mod:`knowledge.text` and
:mod:`knowledge.analyzer`.
"""

__all__ = [
    "analyzer",
    "answer",
    "backends",
    "chain",
    "chunking",
    "documents",
    "eligibility",
    "embeddings",
    "grounding",
    "ingest",
    "llm",
    "loaders",
    "model_files",
    "privacy",
    "prompts",
    "quantities",
    "ranking",
    "readers",
    "records",
    "safety",
    "settings",
    "store",
    "text",
    "weaviate_store",
]
