"""Retrieval quality and speed on the labelled citizen-question set (``make bench-retrieval``)."""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import yaml

from knowledge.backends import build_service
from knowledge.settings import ProcessSettings

DATA = Path(__file__).parent / "data" / "retrieval_dev.yaml"


def evaluate(alpha: float, questions: list[dict[str, str]], settings: ProcessSettings) -> dict[str, float]:
    """hit@1, recall@5, MRR and latency for one alpha."""
    settings.knowledge.retrieval.alpha = alpha
    service = build_service(settings.knowledge)
    service.search("워밍업")
    hits1 = recall5 = rr = 0.0
    latencies = []
    misses = []
    for q in questions:
        start = time.perf_counter()
        ranked = [h.doc_id for h in service.search(q["query"], k=5)]
        latencies.append((time.perf_counter() - start) * 1000)
        if ranked[:1] == [q["expected"]]:
            hits1 += 1
        else:
            misses.append((q["query"], q["expected"], ranked[:2]))
        if q["expected"] in ranked:
            recall5 += 1
            rr += 1 / (ranked.index(q["expected"]) + 1)
    n = len(questions)
    latencies.sort()
    return {
        "alpha": alpha,
        "hit@1": round(hits1 / n, 3),
        "recall@5": round(recall5 / n, 3),
        "mrr": round(rr / n, 3),
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(latencies[int(0.95 * (n - 1))], 1),
        "misses": misses,  # type: ignore[dict-item]
    }


def main() -> None:
    """Print a table for keyword-only, dense-only and hybrid."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--alphas", default="0,1,0.3,0.5,0.7")
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    questions = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    settings = ProcessSettings()
    for alpha in (float(a) for a in args.alphas.split(",")):
        row = evaluate(alpha, questions, settings)
        misses = row.pop("misses")
        print(json.dumps(row, ensure_ascii=False))  # noqa: T201
        if args.show_misses:
            for m in misses:
                print("   miss", m)  # noqa: T201


if __name__ == "__main__":
    main()
