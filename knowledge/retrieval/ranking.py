"""Document-level hybrid ranking shared by every store, so the embedded store and Weaviate rank alike.

Relative-score fusion (Weaviate's method) at the level of documents, not records: a document's
dense score is the mean of its two closest records (an FAQ that several phrasings match beats one
that a single phrasing happens to match), its keyword score is its best BM25F record; each list is
min-max normalized over its top candidates, then ``alpha * dense + (1 - alpha) * keyword``.
Measured on bench/data/retrieval_dev.yaml: see bench/results/retrieval.md.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass

# BM25F weights of the keyword fields: question or heading, alternative phrasings, answer or chunk text.
KEYWORD_WEIGHTS = (2.0, 1.0, 0.5)
# Documents kept from each signal before fusion.
CANDIDATES = 50


@dataclass(frozen=True)
class Scored:
    """One record's score from one signal (cosine similarity, or BM25).

    ``raw`` keeps the unscaled score when ``score`` was rescaled (Weaviate: BM25 per tenant).
    ``phrasing`` marks records that restate one question (FAQ phrasings): their document's dense score
    is the mean of its two best; a long document's chunks say different things, so its best chunk counts.
    """

    doc_id: str
    record: Hashable
    score: float
    raw: float | None = None
    phrasing: bool = True


@dataclass(frozen=True)
class Ranked:
    """A fused document: fused score, best cosine, best BM25, and the record that matched best."""

    doc_id: str
    score: float
    dense: float
    keyword: float
    record: Hashable


def fuse(dense: dict[int, float], keyword: dict[int, float], alpha: float) -> dict[int, tuple[float, float, float]]:
    """Relative-score fusion: min-max normalize each list, then weight by alpha.

    Returns ``{key: (fused, dense_raw, keyword_raw)}``; a key missing from a list scores 0 there.
    """
    d, kw = _scaled(dense), _scaled(keyword)
    return {
        key: (
            alpha * d.get(key, 0.0) + (1 - alpha) * kw.get(key, 0.0),
            dense.get(key, 0.0),
            keyword.get(key, 0.0),
        )
        for key in dense.keys() | keyword.keys()
    }


def _scaled(scores: dict[int, float]) -> dict[int, float]:
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    span = high - low
    return {k: 1.0 if span == 0 else (v - low) / span for k, v in scores.items()}


def _top(scores: dict[str, float], n: int) -> dict[str, float]:
    return dict(sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:n])


def check_alpha(alpha: float) -> None:
    """Reject a hybrid weight outside [0, 1] before any search runs (1 = vectors only, 0 = keywords only)."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be within [0, 1], got {alpha}")


def rank_documents(dense: Iterable[Scored], keyword: Iterable[Scored], *, alpha: float, k: int) -> list[Ranked]:
    """Fuse record scores into the ``k`` best documents."""
    by_doc_dense: dict[str, list[Scored]] = {}
    for s in dense:
        by_doc_dense.setdefault(s.doc_id, []).append(s)
    by_doc_keyword: dict[str, list[Scored]] = {}
    for s in keyword:
        by_doc_keyword.setdefault(s.doc_id, []).append(s)
    for records in (*by_doc_dense.values(), *by_doc_keyword.values()):
        records.sort(key=lambda s: -s.score)
    doc_dense = _top({doc: _dense_score(recs) for doc, recs in by_doc_dense.items()}, CANDIDATES)
    doc_keyword = _top({doc: recs[0].score for doc, recs in by_doc_keyword.items()}, CANDIDATES)
    docs = sorted(doc_dense.keys() | doc_keyword.keys())
    index = {doc: i for i, doc in enumerate(docs)}
    fused = fuse({index[d]: v for d, v in doc_dense.items()}, {index[d]: v for d, v in doc_keyword.items()}, alpha)
    ranked = sorted(fused.items(), key=lambda item: (-item[1][0], docs[item[0]]))[:k]
    out = []
    for i, (score, _, _) in ranked:
        doc = docs[i]
        dense_recs, keyword_recs = by_doc_dense.get(doc, []), by_doc_keyword.get(doc, [])
        out.append(
            Ranked(
                doc_id=doc,
                score=score,
                dense=dense_recs[0].score if dense_recs else 0.0,
                keyword=_raw(keyword_recs[0]) if keyword_recs else 0.0,
                record=_best_record(dense_recs, keyword_recs, alpha),
            )
        )
    return out


def _dense_score(records: list[Scored]) -> float:
    """Mean of the two best phrasings of an FAQ; the best chunk of a long document (``records`` sorted)."""
    if not records[0].phrasing:
        return records[0].score
    best = records[:2]
    return sum(s.score for s in best) / len(best)


def _raw(scored: Scored) -> float:
    return scored.score if scored.raw is None else scored.raw


def _best_record(dense: list[Scored], keyword: list[Scored], alpha: float) -> Hashable:
    """The record whose own scores, scaled within the document, fuse highest (the chunk to show)."""
    d = _scaled({i: s.score for i, s in enumerate(dense)})
    kw = _scaled({i: s.score for i, s in enumerate(keyword)})
    combined: dict[Hashable, float] = {}
    for i, s in enumerate(dense):
        combined[s.record] = combined.get(s.record, 0.0) + alpha * d[i]
    for i, s in enumerate(keyword):
        combined[s.record] = combined.get(s.record, 0.0) + (1 - alpha) * kw[i]
    return max(combined.items(), key=lambda item: item[1])[0]
