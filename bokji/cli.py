"""``bokji``: the operator's command line (ingest, search, run)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from knowledge.settings import ProcessSettings


def _ingest(settings: ProcessSettings, args: argparse.Namespace) -> int:
    from knowledge.backends import build_embeddings, build_store
    from knowledge.documents import DocumentError, load_faq_dir, load_faq_file
    from knowledge.ingest import index_id, ingest_faqs
    from knowledge.store import SqliteStore

    ks = settings.knowledge
    path: Path = args.path or ks.seed_dir
    try:
        entries = load_faq_dir(path) if path.is_dir() else load_faq_file(path)
    except DocumentError as exc:
        print(f"ingest: nothing was changed; fix these first:\n{exc}", file=sys.stderr)  # noqa: T201
        return 2
    embeddings = build_embeddings(ks.embedding)
    if ks.store.backend == "embedded":
        stored = SqliteStore.stored_model_id(ks.store.path)
        if args.rebuild or (stored is not None and stored != index_id(embeddings)):
            print(f"ingest: rebuilding {ks.store.path} for {index_id(embeddings)} (was {stored})")  # noqa: T201
            SqliteStore.reset(ks.store.path)
    store = build_store(ks, embeddings)
    report = ingest_faqs(store, embeddings, entries, prune=args.prune)
    print(f"ingest: {len(entries)} entries from {path}: {report}; store holds {store.count()} documents")  # noqa: T201
    return 0


def _search(settings: ProcessSettings, args: argparse.Namespace) -> int:
    from knowledge.backends import build_service

    service = build_service(settings.knowledge)
    hits = service.search(args.query, k=args.k)
    if not hits:
        print("no match")  # noqa: T201
        return 1
    for rank, hit in enumerate(hits, 1):
        src = hit.payload.get("source", {})
        print(  # noqa: T201
            f"{rank}. {hit.doc_id}  score={hit.score:.3f} dense={hit.dense:.3f} keyword={hit.keyword:.2f}\n"
            f"   Q: {hit.payload.get('question')}\n"
            f"   source: {src.get('title')} <{src.get('url')}> updated {hit.payload.get('updated_at')}"
        )
    verdict = service.answer(args.query)
    print(f"answer mode: {verdict.mode} (confidence {verdict.confidence:.3f})")  # noqa: T201
    return 0


def _run(settings: ProcessSettings, args: argparse.Namespace) -> int:
    from bokji.supervisor import run_stack

    return run_stack(host=args.host, ports=(args.rasa_port, args.actions_port, args.web_port))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used by tests)."""
    parser = argparse.ArgumentParser(prog="bokji", description="bokji-bot operator commands")
    sub = parser.add_subparsers(dest="command", required=True)
    ingest = sub.add_parser("ingest", help="ingest FAQ YAML (a file or a folder; default: the seed FAQs)")
    ingest.add_argument("path", nargs="?", type=Path)
    ingest.add_argument("--rebuild", action="store_true", help="drop the index and embed everything again")
    ingest.add_argument("--prune", action="store_true", help="remove FAQs that are no longer in PATH")
    ingest.set_defaults(func=_ingest)
    search = sub.add_parser("search", help="print the ranked hits for a question, with scores and sources")
    search.add_argument("query")
    search.add_argument("-k", type=int, default=5)
    search.set_defaults(func=_search)
    run = sub.add_parser("run", help="start Rasa, the action server and the web app; Ctrl-C stops all")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--rasa-port", type=int, default=5005)
    run.add_argument("--actions-port", type=int, default=5055)
    run.add_argument("--web-port", type=int, default=8000)
    run.set_defaults(func=_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``bokji`` command."""
    args = build_parser().parse_args(argv)
    settings = ProcessSettings()
    return int(args.func(settings, args))
