"""Welfare knowledge: the bottom layer of bokji-bot, as subpackages that name its parts.

Lower parts never import higher ones (``tests/unit/test_layering.py`` checks it)::

    korean     Korean text: normalization, analyzer, quantities (the only part Rasa imports)
    domain     types: FAQ entry, document and chunk, source, hit, answer, program catalogue
    rules      eligibility, crisis, scope, privacy
    retrieval  embeddings, ranking, embedded store, Weaviate
    ingestion  readers, loaders, chunking, writing records into a store
    answering  policy, rewrite, generation, grounding, prompts, LLM backends, the service

``settings`` (configuration, imports nothing of ours) may be used by any part; ``backends`` builds
the parts from settings and is imported by no part. Importing a package does no work.
"""

__all__ = ["answering", "backends", "domain", "ingestion", "korean", "retrieval", "rules", "settings"]
