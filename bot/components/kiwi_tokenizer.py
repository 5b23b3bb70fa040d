"""Korean tokenizer for Rasa: morphemes from Kiwi with the welfare-term user dictionary.

Shaped like rasa/nlu/tokenizers/jieba_tokenizer.py. Whitespace tokens fail Korean ("4명이요" is one
word but two facts); morphemes keep the number, unit and ending apart. Analysis and normalization
are the ones retrieval uses (knowledge.korean.analyzer, knowledge.korean.text), so NLU and search see the same
tokens.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from knowledge.korean.analyzer import DEFAULT_USER_DICT, KoreanAnalyzer, UserWords, make_analyzer, parse_user_dict
from knowledge.korean.text import normalize

logger = logging.getLogger(__name__)

_DICT_FILE = "user_dict.tsv"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class KiwiTokenizer(Tokenizer):
    """Tokenize Korean text into morphemes (Kiwi by default, Okt as an option)."""

    @staticmethod
    def supported_languages() -> Optional[List[Text]]:
        """Korean only."""
        return ["ko"]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Defaults: Kiwi with the project's welfare-term dictionary."""
        return {
            "analyzer": "kiwi",
            "user_dictionary": str(DEFAULT_USER_DICT),
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    @staticmethod
    def required_packages() -> List[Text]:
        """The analyzer package."""
        return ["kiwipiepy"]

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        user_dictionary: Optional[Text] = None,
    ) -> None:
        """Keep the configuration and dictionary text; the analyzer loads on first use."""
        super().__init__(config)
        self._model_storage = model_storage
        self._resource = resource
        self._user_dictionary = user_dictionary
        self._analyzer: Optional[KoreanAnalyzer] = None

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> KiwiTokenizer:
        """Create a tokenizer for training, reading the dictionary from the configured path."""
        path = config.get("user_dictionary")
        text = Path(path).read_text(encoding="utf-8") if path else None
        return cls(config, model_storage, resource, text)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> KiwiTokenizer:
        """Load with the dictionary persisted in the model, so a model never depends on the checkout."""
        try:
            with model_storage.read_from(resource) as directory:
                persisted = Path(directory) / _DICT_FILE
                if persisted.exists():
                    text = persisted.read_text(encoding="utf-8")
                    return cls(config, model_storage, resource, text)
        except ValueError:
            logger.debug("No persisted user dictionary in resource %s", resource.name)
        return cls.create(config, model_storage, resource, execution_context)

    def train(self, training_data: TrainingData) -> Resource:
        """Persist the user dictionary into the model."""
        if self._user_dictionary is not None:
            with self._model_storage.write_to(self._resource) as directory:
                (Path(directory) / _DICT_FILE).write_text(self._user_dictionary, encoding="utf-8")
        return self._resource

    def _get_analyzer(self) -> KoreanAnalyzer:
        if self._analyzer is None:
            words: UserWords = parse_user_dict(self._user_dictionary or "")
            self._analyzer = make_analyzer(self._config["analyzer"], words)
        return self._analyzer

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        """Morphemes as tokens: offsets point into the message text, token text is normalized."""
        text = message.get(attribute) or ""
        tokens = [
            Token(normalize(m.form).lower() or m.form, m.start, m.end)
            for m in self._get_analyzer().morphemes(text)
        ]
        return self._apply_token_pattern(tokens)
