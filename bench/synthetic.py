"""Synthetic document chunks for the scale benchmark (clearly labelled: none of this is real knowledge).

Texts are permutations of sentences from the seed FAQ answers under made-up headings, so the keyword
index sees realistic Korean vocabulary and lengths. Vectors: ``real`` chunks are embedded with the
configured model; the rest are normalized mixtures of two real chunk vectors plus small noise, which
keeps the density of the vector space near the corpus without hours of embedding on two cores.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np
from langchain_core.embeddings import Embeddings

from knowledge.domain.faq import FaqEntry
from knowledge.ingestion.chunking import split_sentences
from knowledge.retrieval.embeddings import as_matrix
from knowledge.retrieval.records import KeywordFields, Record

_HEADINGS = ("지원 대상", "신청 방법", "구비 서류", "지원 내용", "유의 사항", "문의처", "선정 기준", "지급 방법")


def synthetic_texts(entries: Sequence[FaqEntry], count: int, seed: int = 7) -> list[tuple[str, str]]:
    """``count`` (heading, text) pairs made of 3-5 seed answer sentences in random order."""
    rng = random.Random(seed)
    sentences = [s for e in entries for s in split_sentences(e.answer)]
    programs = sorted({e.category or "복지" for e in entries})
    out = []
    for i in range(count):
        heading = f"[합성 {i:05d}] {rng.choice(programs)} 안내 > {rng.choice(_HEADINGS)}"
        out.append((heading, " ".join(rng.sample(sentences, rng.randint(3, 5)))))
    return out


def synthetic_records(
    entries: Sequence[FaqEntry], count: int, embeddings: Embeddings, *, real: int, seed: int = 7
) -> tuple[list[Record], float]:
    """``count`` synthetic chunk records (tenant national, kind document); returns them and the embed time (s).

    The first ``real`` are embedded for real; the others reuse mixtures of those vectors.
    """
    import time

    texts = synthetic_texts(entries, count, seed)
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    base = as_matrix(embeddings, [f"{h}\n{t}" for h, t in texts[:real]])
    took = time.perf_counter() - started
    mixed = []
    for _ in range(count - real):
        a, b = rng.integers(0, real, size=2)
        v = base[a] * rng.uniform(0.5, 1.0) + base[b] * rng.uniform(0.0, 0.5) + rng.normal(0, 0.02, base.shape[1])
        mixed.append(v / np.linalg.norm(v))
    vectors = np.vstack([base, *mixed]) if mixed else base
    records = [
        Record(
            id=f"synthetic-{i // 20:04d}#c{i % 20}",
            doc_id=f"synthetic-{i // 20:04d}",  # 20 chunks per synthetic document
            text=f"{heading}\n{text}",
            vector=vectors[i].astype(np.float32),
            payload={"kind": "document", "title": "합성 문서 (벤치마크용)", "heading": heading, "text": text},
            kind="document",
            category="synthetic",
            content_hash="synthetic",
            keywords=KeywordFields(title=heading, body=text),
        )
        for i, (heading, text) in enumerate(texts)
    ]
    return records, took
