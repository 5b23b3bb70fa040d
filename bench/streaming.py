"""What a citizen waits for in the widget, streamed or not (``make bench-streaming``).

Starts the real stack (:class:`bokji.supervisor.Stack`, what ``make run`` starts: Rasa, the action
server with the in-process model, the web app) on spare ports, with FAQ mode off so the model writes
every answer it may, and asks the answerable questions of ``bench/data/answers_dev.yaml`` through ``POST /api/v1/widget/chat``:

- streamed (``"stream": true``): when the turn is answered (the bubble appears), when the first
  checked sentence shows, and when the final message (with sources) arrives;
- whole (no stream, as before): when the complete answer arrives.

Questions the dialogue sends elsewhere (an eligibility form, a curated answer) are counted and skipped.
All streamed questions run before all whole ones, so no question follows itself (llama.cpp reuses a
prompt prefix it has just seen). Writes ``bench/results/streaming.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from bench.machine import machine
from bokji.supervisor import Stack, StackError, stack_env

DATA = Path(__file__).parent / "data" / "answers_dev.yaml"
RESULTS = Path(__file__).parent / "results"
PORTS = (25105, 25155, 28100)


def start_stack(data_dir: Path) -> Stack:
    """The stack ``make run`` starts, on spare ports with FAQ mode off, running once all three are healthy."""
    env = stack_env("127.0.0.1", PORTS, data_dir)
    env["BOKJI_KNOWLEDGE__RETRIEVAL__FAQ_MIN_DENSE"] = "1.0"
    env["BOKJI_RATE_LIMIT__SESSIONS"] = "10000/hour"  # a new widget session per question, all from this address
    stack = Stack(ports=PORTS, log_dir=data_dir / "log", env=env, say=lambda line: None)
    try:
        stack.start(timeout_s=420)
    except StackError:
        stack.stop()
        raise
    return stack


def new_session(web: str) -> dict[str, str]:
    """The header of a new widget session (``POST /api/v1/widget/session``), as the widget opens one."""
    response = httpx.post(f"{web}/api/v1/widget/session", timeout=30)
    response.raise_for_status()
    return {"X-Bokji-Session": response.json()["token"]}


def ask_streamed(web: str, question: str) -> dict[str, Any] | None:
    """Seconds to the reply, the first shown text and the final message; None when nothing was streamed."""
    holder = new_session(web)
    start = time.monotonic()
    reply_s = first_s = final_s = None
    reset, text = False, ""
    body = {"text": question, "stream": True}
    with httpx.stream("POST", f"{web}/api/v1/widget/chat", json=body, headers=holder, timeout=90) as response:
        for line in response.iter_lines():
            if not line.strip():
                continue
            event, now = json.loads(line), time.monotonic() - start
            if event["type"] == "reply":
                if not any(m["streaming"] for m in event["messages"]):
                    return None
                reply_s = now
            elif event["type"] == "delta" and first_s is None:
                first_s = now
            elif event["type"] == "reset":
                reset = True
            elif event["type"] == "final":
                final_s, text = now, event["message"]["text"]
    if reply_s is None or final_s is None:
        return None
    return {"reply_s": reply_s, "first_text_s": first_s if first_s is not None else final_s, "final_s": final_s,
            "streamed_text": first_s is not None, "reset": reset, "text": text}  # fmt: skip


def ask_whole(web: str, question: str) -> float:
    """Seconds until the complete answer arrives without streaming."""
    holder = new_session(web)
    start = time.monotonic()
    response = httpx.post(f"{web}/api/v1/widget/chat", json={"text": question}, headers=holder, timeout=90)
    response.raise_for_status()
    return time.monotonic() - start


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 2)


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """p50 / p95 seconds of each wait, and how often text showed before the final message."""

    def stat(key: str) -> dict[str, float | None]:
        values = [r[key] for r in rows]
        return {"p50": round(statistics.median(values), 2) if values else None, "p95": _pct(values, 0.95)}

    early = [r for r in rows if r["streamed_text"] and r["final_s"] - r["first_text_s"] >= 0.3]
    return {
        "answers": len(rows),
        "reply_s": stat("reply_s"),
        "first_text_s": stat("first_text_s"),
        "final_s": stat("final_s"),
        "whole_s": stat("whole_s"),
        "text_before_final": len(early),
        "reset": sum(r["reset"] for r in rows),
    }


def markdown(report: dict[str, Any]) -> str:
    """The README table."""
    s, m = report["summary"], report["machine"]

    def cell(key: str) -> str:
        return f"{s[key]['p50']} / {s[key]['p95']}"

    return "\n".join(
        [
            f"Machine: {m['cpu']}, {m['cores']} cores, {m['date']}. {s['answers']} generated answers through the real stack "
            f"({report['skipped']} questions went to a form or a curated answer and were skipped).",
            "",
            "| wait (seconds, p50 / p95) | streamed | whole (no stream) |",
            "|---|---|---|",
            f"| the bubble appears (turn answered) | {cell('reply_s')} | {cell('whole_s')} |",
            f"| first text shows | {cell('first_text_s')} | {cell('whole_s')} |",
            f"| final message with sources | {cell('final_s')} | {cell('whole_s')} |",
            "",
            f"Text showed at least 0.3 s before the final message in {s['text_before_final']} of {s['answers']} answers. "
            f"In {s['reset']} of {s['answers']} a later sentence failed the grounding check and the shown text was taken back.",
            "",
        ]
    )


def main() -> None:
    """Run the benchmark and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=12, help="generated answers to measure")
    args = parser.parse_args()
    questions = [item["question"] for item in yaml.safe_load(DATA.read_text(encoding="utf-8"))["answerable"]]
    with tempfile.TemporaryDirectory(prefix="bokji-bench-") as tmp:
        stack = start_stack(Path(tmp))
        web = stack.url("web")
        try:
            rows: list[dict[str, Any]] = []
            skipped = 0
            for question in questions:
                if len(rows) >= args.answers:
                    break
                result = ask_streamed(web, question)
                if result is None:
                    skipped += 1
                    continue
                rows.append({"question": question, **result})
                print(f"streamed {len(rows)}/{args.answers}: {result['first_text_s']:.1f} s / {result['final_s']:.1f} s")  # noqa: T201
            for row in rows:
                row["whole_s"] = ask_whole(web, row["question"])
        finally:
            stack.stop()
    report = {"machine": machine(), "skipped": skipped, "summary": summarize(rows), "answers": rows}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "streaming.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (RESULTS / "streaming.md").write_text(markdown(report), encoding="utf-8")
    print(markdown(report))  # noqa: T201


if __name__ == "__main__":
    main()
