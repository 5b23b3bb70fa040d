"""How much of a broad set of citizen questions the bot answers rather than "확인할 수 없어요" (``make bench-coverage``).

bench/data/citizen_questions.yaml was written blind to the rules and never used for tuning. For each
backend: of the ``answerable: true`` questions, the share answered (any mode but ``none``, and not the
"cannot confirm" reply) and refused; of the ``answerable: false`` ones, the share refused; per split
(bench/splits.py) and per program. Writes bench/results/coverage.json and coverage.md.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from bench.machine import machine
from bench.splits import HELDOUT, SPLITS, TUNING, split_of
from knowledge.backends import build_service
from knowledge.domain.answer import Answer
from knowledge.settings import ProcessSettings

DATA = Path(__file__).parent / "data" / "citizen_questions.yaml"
RESULTS = Path(__file__).parent / "results"
BACKENDS = ("none", "llamacpp")
MODES = ("faq", "extractive", "generated", "none")
# The reply the service gives when it cannot confirm anything (see the answer composer).
CANNOT_CONFIRM = "확인할 수 없"


def answered(answer: Answer) -> bool:
    """Whether the citizen got an answer rather than an honest "cannot confirm"."""
    return answer.mode != "none" and CANNOT_CONFIRM not in answer.text


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 1)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Answered / refused shares and modes for one group of rows."""
    should = [r for r in rows if r["answerable"]]
    should_not = [r for r in rows if not r["answerable"]]
    latencies = [r["latency_ms"] for r in rows]
    return {
        "answerable": len(should),
        "answered": sum(r["answered"] for r in should),
        "answered_share": _share(sum(r["answered"] for r in should), len(should)),
        "refused_share": _share(sum(not r["answered"] for r in should), len(should)),
        "unanswerable": len(should_not),
        "unanswerable_refused": sum(not r["answered"] for r in should_not),
        "unanswerable_refused_share": _share(sum(not r["answered"] for r in should_not), len(should_not)),
        "modes": {m: sum(r["mode"] == m for r in rows) for m in MODES},
        "p50_ms": _pct(latencies, 0.5),
        "p95_ms": _pct(latencies, 0.95),
    }


def by_program(rows: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Answerable questions per program: how many, how many answered."""
    total, done = Counter[str](), Counter[str]()
    for r in rows:
        if r["answerable"]:
            total[r["program"]] += 1
            done[r["program"]] += r["answered"]
    return {p: {"questions": n, "answered": done[p]} for p, n in total.most_common()}


def run_backend(backend: str, items: list[dict[str, Any]], on_date: date) -> list[dict[str, Any]] | None:
    """Ask every question with one language-model backend; None when that backend is not installed."""
    settings = ProcessSettings()
    settings.knowledge.llm.backend = backend  # type: ignore[assignment]
    service = build_service(settings.knowledge)
    if backend != "none" and service.llm is None:
        print(f"skip {backend}: the model is not installed (make setup)")
        return None
    service.warm_up()
    rows = []
    for n, item in enumerate(items, start=1):
        started = time.perf_counter()
        answer = service.answer(item["question"], on_date=on_date)
        row = {
            "id": item["id"],
            "split": split_of(item),
            "program": item.get("program") or "-",
            "answerable": bool(item["answerable"]),
            "question": item["question"],
            "mode": answer.mode,
            "answered": answered(answer),
            "doc_id": answer.doc_id,
            "latency_ms": round((time.perf_counter() - started) * 1000, 1),
        }
        rows.append(row)
        if n % 20 == 0 or answer.mode == "generated":
            print(f"  [{backend} {n}/{len(items)}] {row['mode']:10} {row['latency_ms']:8.0f} ms  {row['question']}")
    return rows


def markdown(report: dict[str, Any]) -> str:
    """The README table: per backend and split, answered and refused shares."""
    m = report["machine"]
    c = report["counts"]
    lines = [
        f"# Coverage of citizen questions ({m['date']}, {m['cores']} cores, load average at start {m['load_avg_at_start']})",
        "",
        f"{c['answerable']} questions a welfare bot should answer and {c['unanswerable']} it should not"
        " (bench/data/citizen_questions.yaml, written blind to the rules, never used for tuning);"
        f" split by a hash of the id: {c[TUNING]} tuning, {c[HELDOUT]} held out. Answered = any mode but `none`,"
        f' and not the "{CANNOT_CONFIRM}어요" reply.',
        "",
        "| backend | split | should answer: answered | refused | should not answer: refused | modes faq/extractive/generated/none | p50 / p95 ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for backend, splits in report["scenarios"].items():
        for split in (*SPLITS, "all"):
            s = splits[split]
            modes = "/".join(str(s["modes"][mode]) for mode in MODES)
            lines.append(
                f"| {backend} | {split} | {s['answered_share']} ({s['answered']}/{s['answerable']}) | {s['refused_share']}"
                f" | {s['unanswerable_refused_share']} ({s['unanswerable_refused']}/{s['unanswerable']}) | {modes}"
                f" | {s['p50_ms']} / {s['p95_ms']} |"
            )
    for backend, programs in report["programs"].items():
        cells = ", ".join(f"{p} {v['answered']}/{v['questions']}" for p, v in programs.items())
        lines += ["", f"Answered per program ({backend}): {cells}."]
    return "\n".join(lines) + "\n"


def main() -> None:
    """Run the backends and write bench/results/coverage.{json,md}."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default=",".join(BACKENDS), help="language-model backends to run (none: fast)")
    parser.add_argument("--on-date", default="2026-06-01", help="the day whose valid knowledge is searched")
    args = parser.parse_args()
    items = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    report: dict[str, Any] = {
        "machine": machine(),
        "counts": {
            "answerable": sum(bool(i["answerable"]) for i in items),
            "unanswerable": sum(not i["answerable"] for i in items),
            **Counter(split_of(i) for i in items),
        },
        "scenarios": {},
        "programs": {},
        "answers": {},
    }
    for backend in args.backends.split(","):
        rows = run_backend(backend, items, date.fromisoformat(args.on_date))
        if rows is None:
            continue
        report["scenarios"][backend] = {
            split: summarize([r for r in rows if split in (r["split"], "all")]) for split in (*SPLITS, "all")
        }
        report["programs"][backend] = by_program(rows)
        report["answers"][backend] = rows
        print(backend, json.dumps(report["scenarios"][backend]["all"], ensure_ascii=False))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "coverage.json").write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    (RESULTS / "coverage.md").write_text(markdown(report), encoding="utf-8")
    print(markdown(report))


if __name__ == "__main__":
    main()
