"""Custom Rasa NLU components."""

__all__ = ["kiwi_tokenizer"]
