"""``bokji``: the operator's command line (ingest, search, run, catalogue)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bokji import faq_database, privacy_commands, staff_commands
from knowledge.settings import KnowledgeSettings, ProcessSettings

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from knowledge.domain.hit import Hit
    from knowledge.retrieval.records import KnowledgeStore


def _ingest(settings: ProcessSettings, args: argparse.Namespace) -> int:
    from bokji.faq_database import import_faqs
    from knowledge.backends import build_embeddings, build_store
    from knowledge.ingestion.ingest import index_id, ingest
    from knowledge.ingestion.loaders import DocumentDefaults, load_knowledge
    from knowledge.retrieval.records import StoreMismatchError
    from knowledge.retrieval.sqlite_store import SqliteStore

    ks = live = settings.knowledge
    path: Path = args.path or ks.seed_dir
    if args.collection:
        if ks.store.backend != "weaviate":
            print(  # noqa: T201
                "ingest: --collection names a Weaviate collection: set BOKJI_KNOWLEDGE__STORE__BACKEND=weaviate", file=sys.stderr
            )
            return 2
        if _capitalized(args.collection) == _capitalized(ks.store.weaviate_collection):
            print(  # noqa: T201
                f"ingest: {args.collection} is the live collection (BOKJI_KNOWLEDGE__STORE__WEAVIATE_COLLECTION): "
                "name a new one, e.g. BokjiKnowledge2",
                file=sys.stderr,
            )
            return 2
        ks = ks.model_copy(update={"store": ks.store.model_copy(update={"weaviate_collection": args.collection})})
    # Everything is read and validated before the store is touched: a bad row rejects the run.
    loaded = load_knowledge(path, DocumentDefaults(tenant=args.tenant, category=args.category))
    if loaded.problems:
        problems = "\n".join(f"  - {p}" for p in loaded.problems)
        print(f"ingest: nothing was changed; fix these first:\n{problems}", file=sys.stderr)  # noqa: T201
        return 2
    embeddings = build_embeddings(ks.embedding)
    if ks.store.backend == "embedded":
        stored = SqliteStore.stored_model_id(ks.store.path)
        if args.rebuild or (stored is not None and stored != index_id(embeddings)):
            print(f"ingest: rebuilding {ks.store.path} for {index_id(embeddings)} (was {stored})")  # noqa: T201
            SqliteStore.reset(ks.store.path)
    try:
        store = build_store(ks, embeddings)
    except StoreMismatchError as exc:
        if not args.rebuild:
            print(f"ingest: {exc}", file=sys.stderr)  # noqa: T201
            return 2
        store = _rebuilt_weaviate(ks, embeddings)
    else:
        if args.rebuild and ks.store.backend == "weaviate":
            getattr(store, "close", lambda: None)()
            store = _rebuilt_weaviate(ks, embeddings)
    started = time.perf_counter()
    # FAQs go into the staff database (the source of truth, published at once); the index gets every published entry.
    imported, pruned, published, known_documents = import_faqs(loaded.faqs, path, prune=args.prune)
    report = ingest(store, embeddings, published, loaded.documents)
    if args.prune:  # documents no longer in PATH, unless uploaded in the admin; FAQs no longer published
        gone = set(store.doc_hashes()) - {e.id for e in published} - {d.id for d in loaded.documents} - known_documents
        if gone:
            store.delete(sorted(gone))
        report = dataclasses.replace(report, removed=len(gone))
    took = time.perf_counter() - started
    print(f"ingest: staff database: {imported}" + (f"; {len(pruned)} no longer in the files unpublished" if pruned else ""))  # noqa: T201
    print(  # noqa: T201
        f"ingest: {len(loaded.faqs)} FAQs and {len(loaded.documents)} documents from {loaded.files} files in {path}:"
        f" {report}; store holds {store.count()} documents ({took:.1f} s)"
    )
    if args.collection:
        return _count_check(live, embeddings, store.count(), len(published) + len(loaded.documents), args.collection)
    return 0


def _capitalized(collection: str) -> str:
    return collection[:1].upper() + collection[1:]  # Weaviate's own spelling of a collection name


def _count_check(live: KnowledgeSettings, embeddings: Embeddings, found: int, written: int, new: str) -> int:
    """Whether the new collection may replace the live one: it holds what was written and no less than the live one."""
    from knowledge.backends import weaviate_store

    live_store = weaviate_store(live, embeddings)
    live_count = live_store.count_existing()
    name = live_store.name
    if found != written:
        print(f"ingest: count check failed: {new} holds {found} documents, {written} were written", file=sys.stderr)  # noqa: T201
        return 3
    if live_count is not None and found < live_count:
        print(  # noqa: T201
            f"ingest: count check failed: {new} holds {found} documents, the live {name} {live_count}; keep {name} "
            "(documents uploaded in the admin are not in the files: ingest their folder too)",
            file=sys.stderr,
        )
        return 3
    print(  # noqa: T201
        f"ingest: count check passed: {new} holds {found} documents (live {name}: {live_count or 0}). To switch, set "
        f"BOKJI_KNOWLEDGE__STORE__WEAVIATE_COLLECTION={new} and restart the action servers and web apps one cell at "
        f"a time; then delete {name}"
    )
    return 0


def _rebuilt_weaviate(ks: KnowledgeSettings, embeddings: Embeddings) -> KnowledgeStore:
    """Drop the Weaviate collection and create it for this embedding model."""
    from knowledge.backends import weaviate_store
    from knowledge.ingestion.ingest import index_id

    store = weaviate_store(ks, embeddings)
    print(f"ingest: dropping Weaviate collection {store.name} to rebuild it for {index_id(embeddings)}")  # noqa: T201
    store.reset()
    store.ensure_schema()
    return store


def format_hit(rank: int, hit: Hit) -> str:
    """One ranked hit for operators: id and scores, what matched, and the source with its date."""
    p = hit.payload
    src = p.get("source", {})
    if p.get("kind") == "document":
        matched = f"   {p.get('heading')}" + (f" (p. {p['page']})" if p.get("page") else "") + f"\n   {str(p.get('text'))[:160]}"
    else:
        matched = f"   Q: {p.get('question')}"
    return (
        f"{rank}. {hit.doc_id}  score={hit.score:.3f} dense={hit.dense:.3f} keyword={hit.keyword:.2f}\n{matched}\n"
        f"   source: {src.get('title')} <{src.get('url') or '-'}> updated {p.get('updated_at')}"
    )


def _search(settings: ProcessSettings, args: argparse.Namespace) -> int:
    from knowledge.backends import build_service

    service = build_service(settings.knowledge)
    hits = service.search(args.query, k=args.k)
    if not hits:
        print("no match")  # noqa: T201
        return 1
    for rank, hit in enumerate(hits, 1):
        print(format_hit(rank, hit))  # noqa: T201
    if args.answer:
        verdict = service.answer(args.query)
        print(f"answer mode: {verdict.mode} (confidence {verdict.confidence:.3f})")  # noqa: T201
    return 0


def _run(settings: ProcessSettings, args: argparse.Namespace) -> int:
    from bokji.supervisor import run_stack

    return run_stack(host=args.host, ports=(args.rasa_port, args.actions_port, args.web_port))


def _catalogue(settings: ProcessSettings, args: argparse.Namespace) -> int:
    from knowledge.domain.program_files import stale_files, write_files
    from knowledge.domain.programs import ProgramCatalogue

    catalogue = ProgramCatalogue.load()
    if args.check:
        stale = stale_files(catalogue)
        for path in stale:
            print(f"catalogue: {path} is out of date; run `bokji catalogue`", file=sys.stderr)  # noqa: T201
        return 1 if stale else 0
    changed = write_files(catalogue)
    if not changed:
        print(f"catalogue: {len(catalogue.programs)} programs; generated files already up to date")  # noqa: T201
        return 0
    for path in changed:
        print(f"catalogue: wrote {path}")  # noqa: T201
    print("catalogue: retrain Rasa (make train); if the dictionary changed, re-index (bokji ingest --rebuild)")  # noqa: T201
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used by tests)."""
    parser = argparse.ArgumentParser(prog="bokji", description="bokji-bot operator commands")
    sub = parser.add_subparsers(dest="command", required=True)
    ingest = sub.add_parser(
        "ingest",
        help="ingest knowledge: FAQ files (YAML, CSV, XLSX, Markdown) and documents (PDF, DOCX, HWPX, HWP);"
        " a file or a folder, default the seed FAQs",
    )
    ingest.add_argument("path", nargs="?", type=Path)
    ingest.add_argument("--rebuild", action="store_true", help="drop the index and embed everything again")
    ingest.add_argument(
        "--collection",
        help="Weaviate: ingest into this new collection instead of the live one (with --rebuild: emptied first), then "
        "check its count against what was written and the live collection's; exit 3 when it falls short",
    )
    ingest.add_argument(
        "--prune",
        action="store_true",
        help="remove documents no longer in PATH (admin uploads stay) and unpublish FAQs that came only"
        " from files and are no longer there (entries touched in the admin stay)",
    )
    ingest.add_argument("--tenant", default="national", help="tenant of documents without a .meta.yaml (e.g. yesi)")
    ingest.add_argument("--category", default="", help="category of documents without a .meta.yaml")
    ingest.set_defaults(func=_ingest)
    search = sub.add_parser("search", help="print the ranked hits for a question, with scores and sources")
    search.add_argument("query")
    search.add_argument("-k", type=int, default=5)
    search.add_argument("--answer", action="store_true", help="also say which answer mode the bot would choose")
    search.set_defaults(func=_search)
    run = sub.add_parser("run", help="start Rasa, the action server and the web app; Ctrl-C stops all")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--rasa-port", type=int, default=5005)
    run.add_argument("--actions-port", type=int, default=5055)
    run.add_argument("--web-port", type=int, default=8000)
    run.set_defaults(func=_run)
    catalogue = sub.add_parser(
        "catalogue", help="regenerate the NLU program synonyms and the analyzer dictionary from knowledge/seed/programs.yaml"
    )
    catalogue.add_argument("--check", action="store_true", help="only report generated files that are out of date")
    catalogue.set_defaults(func=_catalogue)
    staff_commands.add_parsers(sub)  # db upgrade, user add|disable|enable|reset-password|list
    faq_database.add_parser(sub)  # export
    privacy_commands.add_parsers(sub)  # purge, citizen export|delete
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``bokji`` command."""
    args = build_parser().parse_args(argv)
    settings = ProcessSettings()
    return int(args.func(settings, args))
