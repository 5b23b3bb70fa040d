"""Custom Rasa NLU components.

Rasa imports this package when it loads the model, so the speed fixes for Rasa's own code are installed here
(see ``bot.rasa_speedups``); they only run inside the Rasa environment.
"""

from bot import rasa_speedups

rasa_speedups.install()

__all__ = ["kiwi_tokenizer"]
