"""Build the configured embedder, store and answer service (lazy imports say what to install)."""

from __future__ import annotations

from langchain_core.embeddings import Embeddings

from knowledge.analyzer import make_analyzer
from knowledge.answer import KnowledgeService
from knowledge.documents import load_helplines
from knowledge.embeddings import E5Embeddings
from knowledge.ingest import index_id
from knowledge.settings import EmbeddingSettings, KnowledgeSettings
from knowledge.store import KnowledgeStore, SqliteStore


def build_embeddings(settings: EmbeddingSettings) -> Embeddings:
    """The embedding model named by ``settings.backend``."""
    match settings.backend:
        case "e5":
            return E5Embeddings(num_threads=settings.threads)
        case "ollama":
            try:
                from langchain_ollama import OllamaEmbeddings
            except ImportError as exc:
                raise RuntimeError("the ollama embedding backend needs 'langchain-ollama'") from exc
            return OllamaEmbeddings(model=settings.ollama_model, base_url=settings.ollama_host)


def embedding_dim(embeddings: Embeddings) -> int:
    """Vector size of a model, measured once with a probe text."""
    return len(embeddings.embed_query("차원 확인"))


def build_store(settings: KnowledgeSettings, embeddings: Embeddings) -> KnowledgeStore:
    """The store named by ``settings.store.backend``."""
    match settings.store.backend:
        case "embedded":
            return SqliteStore(
                settings.store.path,
                make_analyzer(settings.analyzer),
                model_id=index_id(embeddings),
                dim=embedding_dim(embeddings),
            )
        case "weaviate":
            raise RuntimeError("the Weaviate store is not available in this build yet; use store.backend=embedded")


def build_service(settings: KnowledgeSettings) -> KnowledgeService:
    """Everything the action server needs to answer questions."""
    embeddings = build_embeddings(settings.embedding)
    store = build_store(settings, embeddings)
    return KnowledgeService(store, embeddings, settings.retrieval, load_helplines(settings.helplines))
