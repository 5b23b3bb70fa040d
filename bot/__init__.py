"""The Rasa project: config, domain, training data and the Korean NLU components."""

__all__ = ["components"]
