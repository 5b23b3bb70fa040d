"""Korean text: normalization, morphological analysis, numbers and units.

The lowest layer and the only part the Rasa environment (Python 3.10, no langchain) imports:
standard library plus kiwipiepy (and konlpy for the optional Okt analyzer).
"""

__all__ = [
    "analyzer",
    "quantities",
    "text",
]
