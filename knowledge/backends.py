"""Build the configured embedder, store and answer service (lazy imports say what to install)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel

from knowledge.answering.llm import LlmUnavailableError, build_chat_model
from knowledge.answering.service import KnowledgeService
from knowledge.ingestion.ingest import index_id
from knowledge.ingestion.seed_files import load_helplines
from knowledge.korean.analyzer import KoreanAnalyzer, make_analyzer
from knowledge.retrieval.embeddings import E5Embeddings, FocusedQueryEmbeddings
from knowledge.retrieval.records import KnowledgeStore
from knowledge.retrieval.sqlite_store import SqliteStore
from knowledge.settings import EmbeddingSettings, KnowledgeSettings, LlmSettings

logger = logging.getLogger(__name__)


if TYPE_CHECKING:
    from knowledge.retrieval.weaviate_store import WeaviateStore


def build_embeddings(settings: EmbeddingSettings) -> Embeddings:
    """The embedding model named by ``settings.backend``."""
    match settings.backend:
        case "e5":
            return E5Embeddings(num_threads=settings.threads, query_cache_size=settings.query_cache_size)
        case "ollama":
            try:
                from langchain_ollama import OllamaEmbeddings
            except ImportError as exc:
                raise RuntimeError("the ollama embedding backend needs 'langchain-ollama': pip install langchain-ollama") from exc
            # No request is made here: the model is first called at ingest or search time.
            return OllamaEmbeddings(model=settings.ollama_model, base_url=settings.ollama_host)


def embedding_dim(embeddings: Embeddings) -> int:
    """Vector size of a model, measured once with a probe text."""
    return len(embeddings.embed_query("차원 확인"))


def build_store(settings: KnowledgeSettings, embeddings: Embeddings, analyzer: KoreanAnalyzer | None = None) -> KnowledgeStore:
    """The store named by ``settings.store.backend``."""
    match settings.store.backend:
        case "embedded":
            return SqliteStore(
                settings.store.path,
                analyzer or make_analyzer(settings.analyzer),
                model_id=index_id(embeddings),
                dim=embedding_dim(embeddings),
            )
        case "weaviate":
            store = weaviate_store(settings, embeddings, analyzer)
            store.ensure_schema()
            return store


def weaviate_store(
    settings: KnowledgeSettings, embeddings: Embeddings, analyzer: KoreanAnalyzer | None = None
) -> WeaviateStore:
    """A Weaviate store for this deployment and embedding model (schema not yet ensured)."""
    from knowledge.retrieval.weaviate_store import WeaviateStore, connect_weaviate

    return WeaviateStore(
        connect_weaviate(settings.store),
        collection=settings.store.weaviate_collection,
        model_id=index_id(embeddings),
        dim=embedding_dim(embeddings),
        replication_factor=settings.store.weaviate_replication_factor,
        async_replication=settings.store.weaviate_async_replication,
        analyzer=analyzer or make_analyzer(settings.analyzer),
    )


def build_llm(settings: LlmSettings) -> BaseChatModel | None:
    """The configured chat model, or None (retrieval only) when it is off or cannot be used here.

    Raises:
        LlmUnavailableError: the model cannot be used and ``settings.required`` is set.
    """
    try:
        return build_chat_model(settings)
    except LlmUnavailableError as exc:
        if settings.required:
            raise
        logger.warning("language model %r unavailable, answering from retrieval only: %s", settings.backend, exc)
        return None


def build_service(settings: KnowledgeSettings) -> KnowledgeService:
    """Everything the action server needs to answer questions."""
    embeddings = build_embeddings(settings.embedding)
    analyzer = make_analyzer(settings.analyzer)
    store = build_store(settings, embeddings, analyzer)
    query_embeddings = FocusedQueryEmbeddings(embeddings, analyzer) if settings.retrieval.focus_queries else embeddings
    return KnowledgeService(
        store,
        query_embeddings,
        settings.retrieval,
        load_helplines(settings.helplines),
        llm=build_llm(settings.llm),
        llm_settings=settings.llm,
        analyzer=analyzer,
        model_name=model_name(settings.llm),
    )


def model_name(settings: LlmSettings) -> str:
    """How decision records name the configured model: backend and model file or tag."""
    match settings.backend:
        case "llamacpp":
            return f"llamacpp:{settings.model_path.name}"
        case "ollama":
            return f"ollama:{settings.ollama_model}"
        case _:
            return ""
