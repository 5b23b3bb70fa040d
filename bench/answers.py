"""Answer quality, grounding and speed per language-model backend (``make bench-answers``).

Scenarios over ``bench/data/answers_dev.yaml`` (its tuning and held-out splits, bench/splits.py) and the
frozen held-out set ``bench/data/frozen_heldout.yaml`` (written blind to the rules; no rule, threshold or
test was written against it), each reported in its own column:

- ``none``: retrieval only (faq / none);
- ``llamacpp``: the in-process model composes answers when no FAQ is confident but passages are relevant;
- ``llamacpp-late``: the same model with a 1 s deadline (the model is late: extractive answers);
- ``model-stopped``: an Ollama backend whose server is down (connection refused);
- ``llamacpp-generate-all``: FAQ mode off, so the model composes every relevant answer (grounding stress test;
  every other answerable question of the dev set only).

Writes ``bench/results/answers.json`` (every answer) and ``bench/results/answers.md`` (the tables).
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from bench.machine import machine
from bench.splits import HELDOUT, TUNING, split_of
from knowledge.answering.grounding import check_grounding, unsupported_facts
from knowledge.answering.prompts import PROMPT_VERSION
from knowledge.answering.service import KnowledgeService
from knowledge.backends import build_service
from knowledge.domain.answer import Answer
from knowledge.domain.decision import DecisionRecord
from knowledge.settings import ProcessSettings

DATA = Path(__file__).parent / "data" / "answers_dev.yaml"
FROZEN = Path(__file__).parent / "data" / "frozen_heldout.yaml"
FROZEN_SET = "frozen"
SETS = (TUNING, HELDOUT, FROZEN_SET)
MODES = ("faq", "extractive", "generated", "none")
RESULTS = Path(__file__).parent / "results"
SCENARIOS = ("none", "llamacpp", "llamacpp-late", "model-stopped", "llamacpp-generate-all")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends: connections are refused


def configure(scenario: str, base: ProcessSettings) -> ProcessSettings:
    """Settings for one scenario (a copy; the base is not changed)."""
    settings = base.model_copy(deep=True)
    llm = settings.knowledge.llm
    match scenario:
        case "none":
            llm.backend = "none"
        case "llamacpp":
            llm.backend = "llamacpp"
        case "llamacpp-late":
            llm.backend, llm.timeout_s, llm.rewrite_timeout_s = "llamacpp", 1.0, 1.0
        case "model-stopped":
            llm.backend, llm.ollama_host = "ollama", f"http://127.0.0.1:{_closed_port()}"
        case "llamacpp-generate-all":
            # No FAQ is ever confident: every relevant question is composed by the model (stress test of grounding).
            llm.backend, settings.knowledge.retrieval.faq_min_dense = "llamacpp", 1.0
    return settings


def _norm(text: str) -> str:
    return "".join(text.split())


def source_texts(answer: Answer, trace: DecisionRecord, service: KnowledgeService, faq_text: Callable[[str], str]) -> list[str]:
    """The texts behind an answer's sources: the passages it cites, the FAQ it quotes, the helplines."""
    texts = [f"{h.name} {h.number} {h.hours}" for h in service.helplines.values()]
    titles = {s.title for s in answer.sources}
    texts += [p for p in trace.passages if p.split("\n", 1)[0] in titles]
    if answer.mode in ("faq", "extractive") and answer.doc_id:
        texts.append(faq_text(answer.doc_id))
    return texts


def run_one(
    service: KnowledgeService, item: dict[str, Any], kind: str, faq_text: Callable[[str], str], *, frozen: bool = False
) -> dict[str, Any]:
    """Ask one question (with its history, if any) and score the answer."""
    history = [tuple(t) for t in item.get("history", [])]
    start = time.perf_counter()
    answer, trace = service.chain.invoke(item["question"], history=history)  # type: ignore[arg-type]
    latency = (time.perf_counter() - start) * 1000
    row: dict[str, Any] = {
        "kind": kind,
        "set": FROZEN_SET if frozen else split_of(item),
        "refusal_kind": item.get("kind"),
        "question": item["question"],
        "expected": item.get("expected"),
        "standalone": trace.standalone,
        "rewritten_by": trace.rewritten_by,
        "mode": answer.mode,
        "reason": trace.reason,
        "fallback": answer.fallback,
        "doc_id": answer.doc_id,
        "sources": [s.title for s in answer.sources],
        "latency_ms": round(latency, 1),
        "first_token_ms": None if trace.first_token_ms is None else round(trace.first_token_ms, 1),
        "generate_ms": round(trace.generate_ms, 1),
        "tokens": trace.tokens,
        "threads": trace.threads,
        "text": answer.text,
    }
    row["attempted"] = trace.generate_ms > 0
    if trace.raw_generation:
        verdict = check_grounding(trace.raw_generation, trace.passages)
        row["raw_generation"] = trace.raw_generation
        row["passages"] = trace.passages
        # Before the check: numbers the model wrote that appear in none of the passages it was given.
        row["raw_unsupported"] = unsupported_facts(trace.raw_generation, trace.passages)
        row["raw_passes_check"] = verdict.ok
        row["raw_bad_citations"] = list(verdict.bad_citations)
        row["raw_cited"] = list(verdict.cited)
    row["delivered_unsupported"] = unsupported_facts(answer.text, source_texts(answer, trace, service, faq_text))
    if kind == "answerable":
        # Only an answer can carry the facts: a refusal names 129, which some facts are.
        row["facts_found"] = answer.mode != "none" and all(_norm(f) in _norm(answer.text) for f in item.get("facts", []))
        expected_title = faq_title(item["expected"])
        row["cites_expected"] = answer.mode != "none" and (answer.doc_id == item["expected"] or expected_title in row["sources"])
    return row


def faq_title(doc_id: str) -> str:
    """Source title of a seed FAQ entry (filled in by :func:`main`)."""
    return _TITLES.get(doc_id, "")


_TITLES: dict[str, str] = {}


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))], 1)


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The benchmark's metrics for one scenario."""
    answerable = [r for r in rows if r["kind"] == "answerable"]
    unanswerable = [r for r in rows if r["kind"] == "unanswerable"]
    followups = [r for r in rows if r["kind"] == "followup"]
    attempts = [r for r in rows if r["attempted"]]
    written = [r for r in rows if "raw_generation" in r]
    generated = [r for r in rows if r["mode"] == "generated"]
    answered = [r for r in answerable if r["mode"] != "none"]
    tokens_per_s = [
        (r["tokens"] - 1) / ((r["generate_ms"] - r["first_token_ms"]) / 1000)
        for r in written
        if r["first_token_ms"] is not None and r["tokens"] > 1 and r["generate_ms"] > r["first_token_ms"]
    ]
    by_mode = {}
    for mode in MODES:
        lat = [r["latency_ms"] for r in rows if r["mode"] == mode and r["kind"] != "followup"]
        by_mode[mode] = {"n": len(lat), "p50_ms": _pct(lat, 0.5), "p95_ms": _pct(lat, 0.95)}
    follow_lat = [r["latency_ms"] for r in followups]
    by_mode["followup"] = {"n": len(follow_lat), "p50_ms": _pct(follow_lat, 0.5), "p95_ms": _pct(follow_lat, 0.95)}
    return {
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "followup": len(followups),
        "answer_rate": round(len(answered) / max(1, len(answerable)), 3),
        "fact_accuracy": round(sum(r["facts_found"] for r in answerable) / max(1, len(answerable)), 3),
        "citation_correct": round(sum(r["cites_expected"] for r in answered) / max(1, len(answered)), 3),
        "refusal_rate_unanswerable": (
            round(sum(r["mode"] == "none" for r in unanswerable) / len(unanswerable), 3) if unanswerable else None
        ),
        "followups_rewritten_to_expected": f"{sum(r['doc_id'] == r['expected'] for r in followups)}/{len(followups)}",
        "modes": {m: sum(r["mode"] == m for r in rows) for m in MODES},
        "generation_attempts": len(attempts),
        "fallbacks": {f: sum(r["fallback"] == f for r in rows) for f in sorted({r["fallback"] for r in rows} - {""})},
        "generated_citations_valid": round(
            sum(not r["raw_bad_citations"] and bool(r["raw_cited"]) for r in written) / max(1, len(written)), 3
        ),
        "model_wrote_something": len(written),
        "raw_passes_check_as_written": round(sum(r["raw_passes_check"] for r in written) / max(1, len(written)), 3),
        "unsupported_number_before_check": round(sum(bool(r["raw_unsupported"]) for r in written) / max(1, len(written)), 3),
        "unsupported_number_after_check": round(sum(bool(r["delivered_unsupported"]) for r in rows) / max(1, len(rows)), 3),
        "unsupported_number_after_check_generated": round(
            sum(bool(r["delivered_unsupported"]) for r in generated) / max(1, len(generated)), 3
        ),
        "latency_by_mode": by_mode,
        "threads_used": dict(sorted(Counter(r["threads"] for r in written).items())),
        "first_token_ms_p50": _pct([r["first_token_ms"] for r in written if r["first_token_ms"] is not None], 0.5),
        "tokens_per_s_p50": round(statistics.median(tokens_per_s), 1) if tokens_per_s else None,
    }


def summarize_sets(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Answered, facts present, cites expected and refusal per set (dev tuning, dev held-out, frozen)."""
    keys = (
        "answerable",
        "unanswerable",
        "answer_rate",
        "fact_accuracy",
        "citation_correct",
        "refusal_rate_unanswerable",
        "modes",
    )
    out: dict[str, Any] = {}
    for name in SETS:
        part = [r for r in rows if r["set"] == name and r["kind"] != "followup"]
        if part:
            summary = summarize(part)
            out[name] = {key: summary[key] for key in keys}
    refusals = [r for r in rows if r["set"] == FROZEN_SET and r["kind"] == "unanswerable"]
    if refusals:
        kinds = sorted({r["refusal_kind"] for r in refusals})
        out[FROZEN_SET]["refusal_by_kind"] = {
            # by_rule: refused because a scope rule fired (decision reason), not only for lack of a close match.
            kind: {
                "n": len(rs),
                "refused": sum(r["mode"] == "none" for r in rs),
                "by_rule": sum(str(r.get("reason") or "").startswith("out_of_scope") for r in rs),
            }
            for kind in kinds
            if (rs := [r for r in refusals if r["refusal_kind"] == kind])
        }
    return out


def split_markdown(report: dict[str, Any]) -> list[str]:
    """Tuning vs held-out vs frozen, and the frozen set's refusals per kind."""
    sets = [name for name in SETS if any(name in s.get("sets", {}) for s in report["scenarios"].values())]
    lines = [
        "",
        f"Per set ({' / '.join(sets)}): answers_dev.yaml split by a hash of each question (tuning / held-out) and the frozen"
        " held-out set written blind to the rules. Sizes, answerable + unanswerable: "
        + ", ".join(
            f"{name} {report['set_counts'][name]['answerable']} + {report['set_counts'][name]['unanswerable']}" for name in sets
        )
        + ".",
        "",
        "| scenario | answered | facts present | cites expected | refusal (unanswerable) |",
        "|---|---|---|---|---|",
    ]
    for name, s in report["scenarios"].items():
        per = s.get("sets", {})

        def cells(key: str, per: dict[str, Any] = per) -> str:
            return " / ".join("-" if (v := per.get(n, {}).get(key)) is None else str(v) for n in sets)

        lines.append(
            f"| {name} | {cells('answer_rate')} | {cells('fact_accuracy')} | {cells('citation_correct')} | {cells('refusal_rate_unanswerable')} |"
        )
    kinds = sorted(
        {k for s in report["scenarios"].values() for k in s.get("sets", {}).get(FROZEN_SET, {}).get("refusal_by_kind", {})}
    )
    if kinds:
        lines += [
            "",
            "Frozen set, unanswerable questions refused per kind (in brackets: refused because a scope rule fired):",
            "",
            f"| scenario | {' | '.join(kinds)} |",
            "|---" * (len(kinds) + 1) + "|",
        ]
        for name, s in report["scenarios"].items():
            by_kind = s.get("sets", {}).get(FROZEN_SET, {}).get("refusal_by_kind", {})
            row = [
                f"{by_kind[k]['refused']}/{by_kind[k]['n']} ({by_kind[k].get('by_rule', '?')})" if k in by_kind else "-"
                for k in kinds
            ]
            lines.append(f"| {name} | {' | '.join(row)} |")
    return lines


def markdown(report: dict[str, Any]) -> str:
    """The tables for the README."""
    lines = [
        f"# Answer benchmark ({report['machine']['date']}, {report['machine']['cores']} cores, prompt {report['prompt_version']})",
        "",
        f"{report['counts']['answerable']} answerable questions (with required facts), {report['counts']['unanswerable']} "
        f"unanswerable, {report['counts']['followup']} follow-ups with history. Load average at start: "
        f"{report['machine']['load_avg_at_start']} (other jobs shared the 2 cores). llama.cpp kernels: "
        + (", ".join(sorted({s.get("kernels", "-") for s in report["scenarios"].values()} - {"-"})) or "-")
        + f" on {report['machine']['cpu']}.",
        "",
        "All of answers_dev.yaml (tuning and held-out splits together):",
        "",
        "| scenario | answer rate | fact accuracy | citation correct | refusal (unanswerable) | modes faq/extractive/gen/none | "
        "unsupported number before check | after check | fallbacks |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, s in report["scenarios"].items():
        m = s["modes"]
        lines.append(
            f"| {name} | {s['answer_rate']} | {s['fact_accuracy']} | {s['citation_correct']} | {s['refusal_rate_unanswerable'] or '-'} | "
            f"{'/'.join(str(m[mode]) for mode in MODES)} | {s['unsupported_number_before_check']} "
            f"({s['model_wrote_something']} of {s['generation_attempts']} generations wrote text) | {s['unsupported_number_after_check']} | "
            f"{', '.join(f'{k} {v}' for k, v in s['fallbacks'].items()) or '-'} |"
        )
    lines += split_markdown(report)
    lines += ["", "| scenario | faq p50 / p95 ms | extractive p50 / p95 ms | generated p50 / p95 ms | none p50 / p95 ms "
              "| follow-up (rewrite) p50 / p95 ms | first token p50 ms | tokens/s |", "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for name, s in report["scenarios"].items():
        lat = s["latency_by_mode"]
        modes = ("faq", "extractive", "generated", "none", "followup")
        cells = [f"{lat[m]['p50_ms']:.0f} / {lat[m]['p95_ms']:.0f}" if lat[m]["n"] else "-" for m in modes]
        lines.append(f"| {name} | {' | '.join(cells)} | {s['first_token_ms_p50'] or '-'} | {s['tokens_per_s_p50'] or '-'} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Run the scenarios and write bench/results/answers.{json,md}."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--limit", type=int, default=0, help="only the first N questions of each kind (quick look)")
    parser.add_argument("--frozen", action=argparse.BooleanOptionalAction, default=True, help="also ask the frozen held-out set")
    parser.add_argument("--out", default="answers", help="results file name in bench/results (without .json/.md)")
    args = parser.parse_args()
    data = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    frozen = yaml.safe_load(FROZEN.read_text(encoding="utf-8")) if args.frozen else {}
    items = [
        (kind, item) for kind in ("answerable", "unanswerable", "followup") for item in data.get(kind, [])[: args.limit or None]
    ]
    frozen_items = [
        (kind, item) for kind in ("answerable", "unanswerable") for item in frozen.get(kind, [])[: args.limit or None]
    ]
    base = ProcessSettings()
    report: dict[str, Any] = {
        "machine": machine(),
        "prompt_version": PROMPT_VERSION,
        "model": base.knowledge.llm.model_path.name,
        "counts": {kind: len(data.get(kind, [])) for kind in ("answerable", "unanswerable", "followup")},
        "set_counts": {
            name: {
                kind: sum(1 for k, i in group if k == kind and (name == FROZEN_SET or split_of(i) == name))
                for kind in ("answerable", "unanswerable")
            }
            for name, group in ((TUNING, items), (HELDOUT, items), (FROZEN_SET, frozen_items))
        },
        "scenarios": {},
        "answers": {},
    }
    for scenario in args.scenarios.split(","):
        service = build_service(configure(scenario, base).knowledge)
        if scenario.startswith("llamacpp") and service.llm is None:
            print(f"skip {scenario}: the in-process model is not installed (make setup)")
            continue
        service.warm_up()
        _TITLES.update({doc: str(p["source"]["title"]) for doc in {i.get("expected") for _, i in items + frozen_items if i.get("expected")}
                        if (p := service.store.get(doc))})  # fmt: skip

        def faq_text(doc_id: str, service: KnowledgeService = service) -> str:
            payload = service.store.get(doc_id) or {}
            return f"{payload.get('question', '')}\n{payload.get('answer', '')}"

        rows = []
        chosen = [(k, i, False) for k, i in items] + [(k, i, True) for k, i in frozen_items]
        if scenario == "llamacpp-generate-all":  # ~10-20 s per answer: every other answerable question of the dev set
            chosen = [(k, i, False) for k, i in items if k == "answerable"][::2]
        for n, (kind, item, is_frozen) in enumerate(chosen, start=1):
            rows.append(run_one(service, item, kind, faq_text, frozen=is_frozen))
            if rows[-1]["mode"] == "generated" or n % 25 == 0:
                r = rows[-1]
                print(
                    f"  [{scenario} {n}/{len(chosen)}] {r['mode']:9} {r['fallback'] or '':10} {r['latency_ms']:8.0f} ms  {r['question']}"
                )
        report["scenarios"][scenario] = summarize([r for r in rows if r["set"] != FROZEN_SET])
        report["scenarios"][scenario]["questions"] = len(rows)
        report["scenarios"][scenario]["kernels"] = getattr(service.llm, "kernels", "") or "-"
        report["scenarios"][scenario]["sets"] = summarize_sets(rows)
        report["answers"][scenario] = rows
        print(scenario, json.dumps(report["scenarios"][scenario], ensure_ascii=False))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.out}.json").write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    (RESULTS / f"{args.out}.md").write_text(markdown(report), encoding="utf-8")
    print(markdown(report))
    print(f"wrote {RESULTS / args.out}.json and .md")


if __name__ == "__main__":
    main()
