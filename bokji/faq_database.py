"""FAQ files go into the staff database, and the search index is derived from what is published there.

``bokji ingest`` imports the FAQs it reads (published at once; entries staff touched in the admin are left
alone), then indexes every published entry, so the index always equals the database. ``bokji export``
writes the published entries back out as YAML or XLSX.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from knowledge.settings import ProcessSettings

if TYPE_CHECKING:
    from channels.admin.faq_types import ImportResult
    from channels.admin.faqs import FaqService
    from channels.store.database import Database
    from knowledge.domain.faq import FaqEntry


def faq_service(database: Database, *, index_later: bool = False) -> FaqService:
    """The FAQ service of a command (audit entries name no person).

    ``index_later``: publishing only changes the database; the command then writes the index itself in one
    run (so its report counts what changed in the index, and a failed index write is mended by re-running).
    """
    from channels.admin.faqs import FaqService
    from channels.admin.publisher import Publisher, build_parts
    from channels.handoff import HandoffService
    from channels.settings import AppSettings
    from channels.store.transcripts import TranscriptStore

    class IndexedLater(Publisher):
        def publish(self, entries: Sequence[FaqEntry]) -> None:
            """The command indexes every published entry afterwards."""

        def unpublish(self, entry_ids: Iterable[str]) -> None:
            """The command removes unpublished entries from the index afterwards."""

    settings = AppSettings()
    publisher = IndexedLater(build_parts(settings.knowledge)) if index_later else Publisher.from_settings(settings.knowledge)
    audit = HandoffService(database, TranscriptStore(database), settings.handoff).record
    return FaqService(database, publisher, settings.admin, audit)


def staff_database() -> Database:
    """The migrated staff database of this deployment (BOKJI_DATA_DIR / BOKJI_DATABASE_URL)."""
    from channels.settings import AppSettings
    from channels.store.database import Database

    database = Database(AppSettings().database())
    database.upgrade()
    return database


def import_faqs(
    faqs: Sequence[FaqEntry], source: Path, *, prune: bool
) -> tuple[ImportResult, list[str], list[FaqEntry], set[str]]:
    """Import file FAQs (published), unpublish file-only entries no longer given (``prune``); returns what to index.

    Returns:
        the import result, the ids pruned, every published entry (the index's FAQs), and the ids of
        documents the database knows (uploaded in the admin: never pruned from the index here).
    """
    from sqlalchemy import select

    from channels.store.models import DocumentRecord

    database = staff_database()
    try:
        service = faq_service(database, index_later=True)
        result = service.import_entries(None, list(faqs), publish=True, note=f"{source}에서 가져옴", from_files=True)
        pruned = service.prune_imported([e.id for e in faqs]) if prune else []
        with database.session() as session:
            documents = set(session.scalars(select(DocumentRecord.id)).all())
        return result, pruned, service.export(), documents
    finally:
        database.dispose()


def export(settings: ProcessSettings, args: argparse.Namespace) -> int:
    """``bokji export --format yaml|xlsx OUT``: the published FAQs, re-importable with ``bokji ingest``."""
    from knowledge.ingestion.faq_export import write_faqs

    database = staff_database()
    try:
        entries = faq_service(database).export(latest=args.latest)
    finally:
        database.dispose()
    fmt = args.format or args.out.suffix.lower().lstrip(".").replace("yml", "yaml")
    if fmt not in ("yaml", "xlsx"):
        print(f"export: say --format yaml or xlsx (cannot tell from {args.out.name!r})", file=sys.stderr)  # noqa: T201
        return 2
    write_faqs(entries, args.out, fmt)
    print(f"export: {len(entries)} {'latest' if args.latest else 'published'} FAQs written to {args.out}")  # noqa: T201
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``bokji export``."""
    cmd = sub.add_parser("export", help="write the published FAQs of the staff database as YAML or XLSX")
    cmd.add_argument("out", type=Path, help="file to write, e.g. faq.xlsx")
    cmd.add_argument("--format", choices=("yaml", "xlsx"), help="default: from the file name")
    cmd.add_argument("--latest", action="store_true", help="every entry's latest text, drafts included")
    cmd.set_defaults(func=export)
