"""The configured knowledge store's document count for health checks, without loading an embedding model."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from knowledge.retrieval.sqlite_store import SqliteStore
from knowledge.settings import StoreSettings

if TYPE_CHECKING:
    from knowledge.retrieval.weaviate_store import WeaviateStore

logger = logging.getLogger(__name__)


class StoreHealth:
    """How many documents the configured store holds, for ``/healthz``: no embedding model is loaded to ask.

    The embedded store is read from its file; Weaviate through one client, kept between checks and made
    again after a failure. None means the store is down or empty (the app cannot answer from it).
    """

    def __init__(self, settings: StoreSettings) -> None:
        """Nothing is connected until the first :meth:`documents`."""
        self._settings = settings
        self._weaviate: WeaviateStore | None = None

    def documents(self) -> int | None:
        """Documents in the store, or None when it cannot be read."""
        match self._settings.backend:
            case "embedded":
                return SqliteStore.document_count(self._settings.path)
            case "weaviate":
                return self._weaviate_documents()

    def _weaviate_documents(self) -> int | None:
        from knowledge.retrieval.weaviate_store import WeaviateStore, connect_weaviate

        try:
            if self._weaviate is None:
                # Index id and size are only checked when writing or searching: a count needs neither.
                client = connect_weaviate(self._settings)
                self._weaviate = WeaviateStore(client, collection=self._settings.weaviate_collection, model_id="", dim=0)
            return self._weaviate.count_existing()
        except Exception as exc:  # noqa: BLE001 - any failure of the client means the store is down for this check
            logger.warning("the Weaviate store could not be counted: %s", type(exc).__name__)
            self.close()
            return None

    def close(self) -> None:
        """Close the Weaviate client, if one was made."""
        if self._weaviate is not None:
            try:
                self._weaviate.close()
            except Exception:  # noqa: BLE001 - closing a broken client must not fail a health check
                pass
            self._weaviate = None
