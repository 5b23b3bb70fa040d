"""Why a document cannot be read, in English for operators and in Korean for the welfare team that uploaded it."""

from __future__ import annotations

from pathlib import Path

from knowledge.domain.document import DocumentError


class UnreadableDocumentError(DocumentError):
    """A file the readers cannot take in: the path, the reason (English) and what to do about it (Korean)."""

    def __init__(self, path: Path | str, reason: str, korean: str) -> None:
        """Keep both messages; ``str()`` names the file and gives both."""
        super().__init__(f"{path}: {reason} ({korean})")
        self.path = str(path)
        self.reason = reason
        self.korean = korean


class NeedsTextError(UnreadableDocumentError):
    """A document with no text to index (a scanned PDF): it needs OCR before it can be uploaded."""

    def __init__(self, path: Path | str, reason: str = "the PDF has no text layer (scanned pages need OCR first)") -> None:
        """A scanned document: indexing it would add nothing a citizen could find."""
        super().__init__(path, reason, "텍스트가 없는 스캔 문서예요: OCR 후 다시 올려 주세요")


def korean_reason(error: Exception) -> str:
    """The Korean message for staff: the reader's own, else a general one with the English detail."""
    if isinstance(error, UnreadableDocumentError):
        return error.korean
    return f"파일을 읽을 수 없어요: {error}"
