"""Finding knowledge: embeddings, ranking, the embedded SQLite store and the Weaviate store.

May use korean, domain and rules; never ingestion or answering.
"""

__all__ = [
    "embeddings",
    "ranking",
    "records",
    "sqlite_store",
    "weaviate_store",
]
