"""The retrieval benchmark's noise slice: each labelled query with chat noise added must score as it did clean.

Deterministic rules turn every query of bench/data/retrieval_dev.yaml into noisy variants (an emoji, "ㅋㅋ"/"ㅠㅠ",
"???", a leading "저기요/근데/음", a closing "감사합니다", the spaces left out, and all of these at once); the
variant of each rule is chosen by a hash of the query, so the slice never changes between runs. A variant
stays in its clean query's split (bench/splits.py): tuning and held-out are reported apart, and nothing
here tunes anything. Measured per split: hit@1 clean and noisy, how often the noisy query keeps the clean
query's top hit, and how often a query the policy answers with its curated text (clean) still is (noisy).

``python -m bench.noise`` runs the slice alone (bench/results/retrieval-noise.{json,md}); ``make bench-retrieval``
includes it in retrieval.json.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from bench.machine import machine, write_results
from bench.splits import HELDOUT, TUNING, split_of
from knowledge.answering.service import KnowledgeService

DATA = Path(__file__).parent / "data"
RESULTS = Path(__file__).parent / "results"

_EMOJI = ("😢", "🙏", "😊", "👍", "😭")
_JAMO = ("ㅋㅋㅋ", " ㅠㅠ", "ㅜㅜ", " ㅎㅎ", "ㅠㅠㅠㅠ")
_MARKS = ("???", "!!", "?!?", "...", "~~")
_OPENERS = ("저기요 ", "근데 ", "음... ", "저기 혹시 ", "근데요, ")
_CLOSERS = (" 감사합니다", " 부탁드려요", "? 감사합니다!", " 고맙습니다")


def _pick(query: str, rule: str, options: tuple[str, ...]) -> str:
    digest = hashlib.sha256(f"{rule}|{query}".encode()).digest()
    return options[digest[0] % len(options)]


def _with_emoji(q: str) -> str:
    first, _, rest = q.partition(" ")
    emoji = _pick(q, "emoji", _EMOJI)
    return f"{first}{emoji} {rest}".strip() if rest and len(q) % 2 else f"{q} {emoji}"


def _without_spaces(q: str) -> str:
    return q.replace(" ", "")


RULES: dict[str, Callable[[str], str]] = {
    "emoji": _with_emoji,
    "laughter/crying": lambda q: q + _pick(q, "jamo", _JAMO),
    "repeated punctuation": lambda q: q.rstrip("?!. ") + _pick(q, "marks", _MARKS),
    "leading filler": lambda q: _pick(q, "opener", _OPENERS) + q,
    "polite closing": lambda q: q.rstrip("?!. ") + _pick(q, "closer", _CLOSERS),
    "no spaces": _without_spaces,
    "all at once": lambda q: (
        _pick(q, "opener", _OPENERS) + _with_emoji(q).rstrip("?!. ") + _pick(q, "jamo", _JAMO) + _pick(q, "marks", _MARKS)
    ),
}


def variants(query: str) -> dict[str, str]:
    """The noisy forms of one query, by rule (a rule that changes nothing is left out)."""
    return {name: noisy for name, rule in RULES.items() if (noisy := rule(query)) != query}


def _outcome(service: KnowledgeService, query: str, on_date: date) -> tuple[str | None, bool]:
    """The top hit's id and whether the policy would answer with that FAQ's curated text."""
    hits = service.search(query, on_date=on_date)
    return (hits[0].doc_id if hits else None), service.policy.is_confident(service.retriever.query_form(query), hits)


def noise_slice(service: KnowledgeService, questions: list[dict[str, str]], *, on_date: date) -> dict[str, Any]:
    """Clean against noisy, per split and per rule."""
    counts: dict[str, dict[str, int]] = {}

    def add(key: str, field: str, value: bool = True) -> None:
        row = counts.setdefault(key, {})
        row[field] = row.get(field, 0) + int(value)

    for q in questions:
        split = split_of(q)
        clean_top, clean_curated = _outcome(service, q["query"], on_date)
        for rule, noisy in variants(q["query"]).items():
            top, curated = _outcome(service, noisy, on_date)
            for key in (split, f"{split}:{rule}"):
                add(key, "n")
                add(key, "clean_hit@1", clean_top == q["expected"])
                add(key, "noisy_hit@1", top == q["expected"])
                add(key, "same_top", top == clean_top)
                add(key, "clean_curated", clean_curated)
                add(key, "curated_kept", clean_curated and curated and top == clean_top)
    out: dict[str, Any] = {}
    for key, row in counts.items():
        n = row["n"]
        out[key] = {
            "n": n,
            "clean_hit@1": round(row.get("clean_hit@1", 0) / n, 3),
            "noisy_hit@1": round(row.get("noisy_hit@1", 0) / n, 3),
            "same_top": round(row.get("same_top", 0) / n, 3),
            "curated_clean": row.get("clean_curated", 0),
            "curated_kept": row.get("curated_kept", 0),
        }
    return out


def markdown(result: dict[str, Any]) -> str:
    """The noise slice as a README table."""
    lines = [
        "| split | rule | variants | hit@1 clean | hit@1 noisy | same top hit | curated clean -> kept noisy |",
        "|---|---|---|---|---|---|---|",
    ]
    for split in (TUNING, HELDOUT):
        for rule in ("", *RULES):
            row = result.get(f"{split}:{rule}" if rule else split)
            if row:
                lines.append(
                    f"| {split} | {rule or '**all rules**'} | {row['n']} | {row['clean_hit@1']} | {row['noisy_hit@1']}"
                    f" | {row['same_top']} | {row['curated_clean']} -> {row['curated_kept']} |"
                )
    return "\n".join(lines) + "\n"


def main() -> None:
    """Run the slice alone with the production query path: on a fresh index of the seed FAQs, or a copy of ``--index``."""
    import argparse
    import shutil
    import tempfile

    from bench.retrieval import make_service
    from knowledge.backends import build_embeddings
    from knowledge.ingestion.ingest import index_id, ingest
    from knowledge.ingestion.seed_files import load_faq_dir
    from knowledge.korean.analyzer import make_analyzer
    from knowledge.retrieval.sqlite_store import SqliteStore
    from knowledge.settings import ProcessSettings, RetrievalSettings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, help="an embedded index to copy instead of ingesting the seed FAQs (faster)")
    args = parser.parse_args()
    settings = ProcessSettings().knowledge
    questions = yaml.safe_load((DATA / "retrieval_dev.yaml").read_text(encoding="utf-8"))
    analyzer = make_analyzer(settings.analyzer)
    embeddings = build_embeddings(settings.embedding)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "noise.sqlite3"
        if args.index:
            shutil.copy(args.index, path)
        store = SqliteStore(path, analyzer, index_id(embeddings), len(embeddings.embed_query("차원")))
        if not args.index:
            ingest(store, embeddings, load_faq_dir(settings.seed_dir))
        service = make_service(store, embeddings, RetrievalSettings().alpha, analyzer)
        result = noise_slice(service, questions, on_date=date(2026, 6, 1))
        store.close()
    report = {"machine": machine(), "questions": len(questions), "index": "copy" if args.index else "seed FAQs", "noise": result}
    write_results(RESULTS, "retrieval-noise", report, "# Retrieval: the noise slice\n\n" + markdown(result))


if __name__ == "__main__":
    main()
