"""Checked uploads waiting for the editor's "가져오기" after the preview: one JSON file each, for one hour.

The preview and the commit are two requests; the validated entries wait on the server (never in the
browser, so what is committed is exactly what was checked and shown) under ``<data_dir>/imports/``.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from knowledge.domain.faq import FaqEntry

KEEP_S = 3600.0
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


@dataclass(frozen=True)
class PendingImport:
    """A checked file: who uploaded it, its name and its entries."""

    token: str
    user_id: int
    file_name: str
    entries: list[FaqEntry]


class PendingImports:
    """Checked uploads on disk, keyed by an unguessable token and tied to the uploader."""

    def __init__(self, folder: Path, keep_s: float = KEEP_S) -> None:
        """Use ``folder`` (made on first save)."""
        self.folder = folder
        self.keep_s = keep_s

    def save(self, user_id: int, file_name: str, entries: list[FaqEntry]) -> str:
        """Keep the entries; returns the token the commit form sends back."""
        self._forget_old()
        self.folder.mkdir(parents=True, exist_ok=True)
        token = secrets.token_urlsafe(24)
        body = {
            "user_id": user_id,
            "file_name": file_name,
            "entries": [entry.model_dump(mode="json") for entry in entries],
        }
        path = self._path(token)
        path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
        return token

    def load(self, token: str, user_id: int) -> PendingImport | None:
        """The upload behind ``token`` if it is this user's and not expired; else None."""
        if not _TOKEN.match(token or ""):
            return None
        path = self._path(token)
        try:
            if time.time() - path.stat().st_mtime > self.keep_s:
                path.unlink(missing_ok=True)
                return None
            body = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if body.get("user_id") != user_id:
            return None
        entries = [FaqEntry.model_validate(row) for row in body["entries"]]
        return PendingImport(token, user_id, str(body.get("file_name", "")), entries)

    def discard(self, token: str) -> None:
        """Forget an upload (committed or cancelled)."""
        if _TOKEN.match(token or ""):
            self._path(token).unlink(missing_ok=True)

    def _path(self, token: str) -> Path:
        return self.folder / f"{token}.json"

    def _forget_old(self) -> None:
        if not self.folder.is_dir():
            return
        now = time.time()
        for path in self.folder.glob("*.json"):
            try:
                if now - path.stat().st_mtime > self.keep_s:
                    path.unlink(missing_ok=True)
            except OSError:
                continue
