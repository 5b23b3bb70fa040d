"""Load benchmark: concurrent citizens asking a mix of FAQ questions through the real stack's /api/v1/chat.

Starts the stack ``make run`` starts (:class:`bokji.supervisor.Stack`: the action server, Rasa, the web app)
on spare ports with rate limits off and one API key, and once it reports healthy (which now means warm):
the first turn's latency, one citizen asking every question in turn (p50/p95/p99), then ``--citizens``
concurrent citizens asking ``--turns`` questions each (turns/s, p50/p95/p99), then the same citizens taking questions
that arrive at ``--rate`` per second (an open loop: latency from arrival). /api/v1/chat does not stream,
so every turn that waited on the model counts: the action server's decision log gives how many hit the model's
deadline (``timeout``, target 0) and how many were cut at the channel's answer budget (``over_budget``).
Resident memory of the three processes (with their children) after warm-up and after the run, from /proc.
``--profile`` adds py-spy profiles of the three processes under a second, unmeasured round of the same load and a
cProfile of the action server's answer path (in process, the same questions).
Results: bench/results/load.json and load.md.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import queue
import re
import secrets
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import yaml

from bench import profiles
from bench.machine import machine, write_results
from bokji.supervisor import Stack, StackError, stack_env

DATA = Path(__file__).parent / "data"
RESULTS = Path(__file__).parent / "results"
PORTS = (26105, 26155, 29100)
_DECISION = re.compile(r"answer decision (\{.*\})")
# What the KakaoTalk holding reply and the web app's degraded reply start with: never a real answer.
_NOT_AN_ANSWER = ("질문을 잘 받았어요", "죄송해요. 지금 답변 시스템에 잠시 문제가")


def questions() -> list[str]:
    """The mixed load: every answerable and unanswerable question of answers_dev.yaml, and issue 15's noisy three."""
    data = yaml.safe_load((DATA / "answers_dev.yaml").read_text(encoding="utf-8"))
    asked = [q["question"] for q in data["answerable"]] + [q["question"] for q in data["unanswerable"]]
    return asked + [
        "네식구 생계급여 최대 얼마 받을수있어요",
        "교육급여는중위소득몇프로까지받을수있나요",
        "기초연금😢 얼마나 받을 수 있나요??",
    ]


def percentiles(values: list[float]) -> dict[str, float]:
    """p50/p95/p99 (nearest rank) and max in ms."""
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)

    return {"n": len(values), "p50_ms": at(0.5), "p95_ms": at(0.95), "p99_ms": at(0.99), "max_ms": round(ordered[-1] * 1000, 1)}


def rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, MiB (Linux /proc), shared memory counted once.

    Private and file-backed resident pages are summed over the tree; System V / shared-memory pages (RssShmem) are
    the same pages in every process that maps them, so only the largest count is added: PostgreSQL's backends each
    show the shared buffers they have touched, and summing VmRSS made it "grow" 70 % as backends touched more of the
    same buffers. For a process without shared memory this equals VmRSS.
    """
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    own_kb, shared_kb, todo = 0, 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        kb = _status_kb(status)
        own_kb += kb.get("RssAnon", 0) + kb.get("RssFile", 0)
        shared_kb = max(shared_kb, kb.get("RssShmem", 0))
    return round((own_kb + shared_kb) / 1024, 1)


def _status_kb(status: str) -> dict[str, int]:
    """The ``kB`` fields of a /proc/<pid>/status text."""
    out: dict[str, int] = {}
    for line in status.splitlines():
        name, _, value = line.partition(":")
        if value.strip().endswith("kB"):
            out[name] = int(value.split()[0])
    return out


def stack_rss(stack: Stack) -> dict[str, float]:
    """RSS of each of the stack's processes (with children), MiB."""
    out = {s.name: rss_mb(s.process.pid) for s in stack.services if s.process is not None}
    out["total"] = round(sum(out.values()), 1)
    return out


class Client:
    """One citizen: their own session on /api/v1/chat."""

    def __init__(self, web: str, key: str, session: str) -> None:
        """A pooled HTTP client with the API key."""
        self._http = httpx.Client(base_url=web, headers={"Authorization": f"Bearer {key}"}, timeout=60.0)
        self._session = session
        self.statuses: Counter[int] = Counter()

    def ask(self, text: str) -> tuple[float, bool]:
        """Seconds the turn took and whether an answer (not an error or holding text) came back."""
        started = time.perf_counter()
        response = self._http.post("/api/v1/chat", json={"session_id": self._session, "text": text})
        took = time.perf_counter() - started
        self.statuses[response.status_code] += 1
        messages = response.json().get("messages", []) if response.status_code == 200 else []
        ok = bool(messages) and not any(str(m.get("text") or "").startswith(_NOT_AN_ANSWER) for m in messages)
        return took, ok

    def close(self) -> None:
        """Close the pooled connection."""
        self._http.close()


def decisions(log: Path, after: int) -> list[dict[str, Any]]:
    """The action server's decision records logged after byte ``after`` of its log (plain or JSON lines)."""
    out = []
    with log.open("rb") as f:
        f.seek(after)
        for raw in f.read().decode("utf-8", "replace").splitlines():
            line = raw
            if raw.startswith("{"):
                try:
                    record = json.loads(raw)
                    line = str(record.get("message") or record.get("msg") or raw)
                except ValueError:
                    pass
            if match := _DECISION.search(line):
                try:
                    out.append(json.loads(match.group(1)))
                except ValueError:
                    continue
    return out


def decision_summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Modes, fallbacks and the turns that waited on the model's deadline (every /api/v1/chat turn is non-streaming)."""
    fallbacks = Counter(r.get("fallback") or "" for r in records)
    return {
        "answers": len(records),
        "modes": dict(Counter(r.get("mode") for r in records)),
        "waited_on_model_deadline": fallbacks.get("timeout", 0),
        # The model ran and was cancelled at the budget (its CPU thrown away) ...
        "cut_at_answer_budget": sum(
            1 for r in records if r.get("fallback") == "over_budget" and r.get("model_skipped") != "slower_than_budget"
        ),
        # ... or was not started, because its recent answers took longer than the budget (no CPU spent).
        "model_not_started_for_budget": sum(1 for r in records if r.get("model_skipped") == "slower_than_budget"),
        "fallbacks": {k: v for k, v in fallbacks.items() if k},
    }


def concurrent(web: str, key: str, asked: list[str], citizens: int, turns: int) -> dict[str, Any]:
    """``citizens`` threads, each asking ``turns`` questions in its own order; turns/s and latency."""
    latencies: list[float] = []
    failures = 0
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    start_line = threading.Barrier(citizens + 1)

    def citizen(n: int) -> None:
        nonlocal failures
        client = Client(web, key, f"load-{n}-{secrets.token_hex(4)}")
        mine = [asked[(n * 7 + i) % len(asked)] for i in range(turns)]
        start_line.wait()
        for text in mine:
            took, ok = client.ask(text)
            with lock:
                latencies.append(took)
                failures += not ok
        with lock:
            statuses.update(client.statuses)
        client.close()

    threads = [threading.Thread(target=citizen, args=(n,)) for n in range(citizens)]
    for t in threads:
        t.start()
    start_line.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return {
        "citizens": citizens,
        "turns": len(latencies),
        "wall_s": round(wall, 1),
        "turns_per_s": round(len(latencies) / wall, 1),
        "not_answered": failures,
        "http_statuses": {str(k): v for k, v in sorted(statuses.items())},  # 503: Rasa did not answer within its timeout
        **percentiles(latencies),
    }


def paced(web: str, key: str, asked: list[str], citizens: int, rate: float, turns: int) -> dict[str, Any]:
    """An open loop: ``turns`` questions arrive evenly at ``rate`` per second, each asked by a free one of ``citizens``.

    Latency counts from the arrival, so a stack slower than the rate shows its queue in it.

    The closed loop above cannot show "30 turns/s with p95 < 1 s at 50 citizens": with no pause between turns its
    mean latency is citizens / throughput (1.7 s at 30/s) whatever the stack does. This run asks the question directly.
    """
    arrivals: queue.Queue[tuple[float, str] | None] = queue.Queue()
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()

    def citizen(n: int) -> None:
        nonlocal failures
        client = Client(web, key, f"paced-{n}-{secrets.token_hex(4)}")
        while (item := arrivals.get()) is not None:
            arrived, text = item
            _, ok = client.ask(text)
            with lock:
                latencies.append(time.perf_counter() - arrived)
                failures += not ok
        client.close()

    threads = [threading.Thread(target=citizen, args=(n,)) for n in range(citizens)]
    for t in threads:
        t.start()
    started = time.perf_counter()
    for i in range(turns):
        due = started + i / rate
        time.sleep(max(0.0, due - time.perf_counter()))
        arrivals.put((due, asked[(i * 7) % len(asked)]))
    for _ in threads:
        arrivals.put(None)
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return {
        "citizens": citizens,
        "offered_per_s": rate,
        "turns": len(latencies),
        "turns_per_s": round(len(latencies) / wall, 1),
        "not_answered": failures,
        **percentiles(latencies),
    }


def profile_answers(asked: list[str], top: int = 15) -> list[str]:
    """Profile (cProfile) the action server's answer path (KnowledgeService.answer, the configured store, no model)."""
    from knowledge.backends import build_service
    from knowledge.settings import KnowledgeSettings

    settings = KnowledgeSettings.model_validate({"llm": {"backend": "none"}})
    service = build_service(settings)
    service.warm_up()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(3):
        for text in asked:
            service.answer(text)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return [line.rstrip() for line in out.getvalue().splitlines() if line.strip()][-top - 1 :]


def nlu_noise(rasa: str, token: str, asked: list[str]) -> dict[str, Any]:
    """Whether Rasa's intent for a question survives the noise slice's rules (the web app sends Rasa the raw, masked text)."""
    from bench.noise import RULES, variants

    same: Counter[str] = Counter()
    total: Counter[str] = Counter()
    with httpx.Client(base_url=rasa, params={"token": token}, timeout=30) as http:

        def intent(text: str) -> str:
            return str(http.post("/model/parse", json={"text": text}).json()["intent"]["name"])

        for question in asked[:30]:
            clean = intent(question)
            for rule, noisy in variants(question).items():
                total[rule] += 1
                same[rule] += intent(noisy) == clean
    return {rule: f"{same[rule]}/{total[rule]}" for rule in RULES if total[rule]}


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Start the stack, measure, stop it."""
    asked = questions()
    key = secrets.token_urlsafe(24)
    report: dict[str, Any] = {"machine": machine(), "questions": len(asked)}
    with tempfile.TemporaryDirectory() as tmp:
        env = stack_env("127.0.0.1", PORTS, Path(tmp))
        env.update(BOKJI_API_KEYS=f"load:{key}", BOKJI_RATE_LIMIT__ENABLED="false")
        stack = Stack(ports=PORTS, log_dir=Path(tmp) / "log", env=env, say=lambda line: None)
        started = time.perf_counter()
        try:
            stack.start(timeout_s=600)
        except StackError:
            stack.stop()
            raise
        web = stack.url("web")
        try:
            report["healthy_after_s"] = round(time.perf_counter() - started, 1)
            log = Path(tmp) / "log" / "actions.log"
            first = Client(web, key, "load-first")
            took, ok = first.ask("기초연금 얼마 받을 수 있어요?")
            report["first_turn"] = {"ms": round(took * 1000, 1), "answered": ok}
            report["rss_after_warm_up_mb"] = stack_rss(stack)
            mark = log.stat().st_size
            one = [first.ask(text) for text in asked]
            first.close()
            report["one_citizen"] = {**percentiles([t for t, _ in one]), "not_answered": sum(not ok for _, ok in one)}
            report["one_citizen_decisions"] = decision_summary(decisions(log, mark))
            print("one citizen", json.dumps(report["one_citizen"]))
            mark = log.stat().st_size
            report["concurrent"] = concurrent(web, key, asked, args.citizens, args.turns)
            report["concurrent_decisions"] = decision_summary(decisions(log, mark))
            print("concurrent", json.dumps(report["concurrent"]), json.dumps(report["concurrent_decisions"]))
            if args.rate > 0:
                mark = log.stat().st_size
                report["paced"] = paced(web, key, asked, args.citizens, args.rate, args.paced_turns)
                report["paced_decisions"] = decision_summary(decisions(log, mark))
                print("paced", json.dumps(report["paced"]), json.dumps(report["paced_decisions"]))
            report["rss_after_run_mb"] = stack_rss(stack)
            if args.profile:  # a second, unmeasured round under py-spy (sampling costs CPU: never in the figures above)
                spy_dir = Path(tmp) / "py-spy"
                pids = {s.name: s.process.pid for s in stack.services if s.process is not None}
                recorders = profiles.record(pids, seconds=20, out_dir=spy_dir)
                concurrent(web, key, asked, args.citizens, args.turns)
                report["py_spy"] = profiles.collect(recorders, spy_dir)
            report["nlu_intent_kept_under_noise"] = nlu_noise(stack.url("rasa"), stack.env["BOKJI_RASA_TOKEN"], asked)
        finally:
            stack.stop()
    if args.profile:
        report["profile_top"] = profile_answers(asked)
    return report


def _run_row(label: str, turns: int, per_s: float | None, stats: dict[str, Any], decided: dict[str, Any]) -> str:
    """One run of the README table: latency percentiles and what the model did on its turns."""
    return (
        f"| {label} | {turns} |{'' if per_s is None else f' {per_s}'} | {stats['p50_ms']} | {stats['p95_ms']} | {stats['p99_ms']} | {stats['max_ms']}"
        f" | {decided['waited_on_model_deadline']} | {decided['cut_at_answer_budget']}"
        f" | {decided.get('model_not_started_for_budget', 0)} |"  # reports from before the column lack it
    )


def markdown(r: dict[str, Any]) -> str:
    """The results as the README's table."""
    m, one, many = r["machine"], r["one_citizen"], r["concurrent"]
    d1, dn = r["one_citizen_decisions"], r["concurrent_decisions"]
    lines = [
        "# Load benchmark (`make bench-load`)",
        "",
        f"{m['cpu']}, {m['cores']} cores, {m['date']}; load average at start {m['load_avg_at_start']}"
        " (a shared machine: other work ran beside the stack). The stack of `make run` on loopback,"
        f" /api/v1/chat (no streaming), {r['questions']} questions (answers_dev.yaml, answerable and not, and issue 15's three).",
        "",
        "| run | turns | turns/s | p50 ms | p95 ms | p99 ms | max ms | waited on the model deadline | cut at the answer budget"
        " | model not started (slower than the budget) |",
        "|---|---|---|---|---|---|---|---|---|---|",
        f"| first turn after healthy | 1 | | {r['first_turn']['ms']} | | | | | | |",
        _run_row("one citizen", one["n"], None, one, d1),
        _run_row(f"{many['citizens']} citizens at once", many["turns"], many["turns_per_s"], many, dn),
    ]
    if paced_run := r.get("paced"):
        label = f"{paced_run['citizens']} citizens, {paced_run['offered_per_s']:g} turns/s arriving"
        lines.append(_run_row(label, paced_run["turns"], paced_run["turns_per_s"], paced_run, r["paced_decisions"]))
    lines += [
        "",
        f"Answer modes (one citizen): {d1['modes']}; ({many['citizens']} citizens): {dn['modes']}."
        f" Turns without an answer: {one['not_answered']} and {many['not_answered']}"
        f" (HTTP statuses at once: {many.get('http_statuses')}; 503 = Rasa did not answer within the web app's timeout).",
        "",
        "| RSS MiB | actions | rasa | web | total |",
        "|---|---|---|---|---|",
    ]
    for label, key in (("after warm-up", "rss_after_warm_up_mb"), ("after the run", "rss_after_run_mb")):
        s = r[key]
        lines.append(f"| {label} | {s.get('actions')} | {s.get('rasa')} | {s.get('web')} | {s['total']} |")
    if r.get("nlu_intent_kept_under_noise"):
        kept = ", ".join(f"{k} {v}" for k, v in r["nlu_intent_kept_under_noise"].items())
        lines += ["", f"Rasa's intent kept under the noise slice's rules (30 questions, NLU not retrained): {kept}."]
    if r.get("py_spy"):
        lines += [
            "",
            f"py-spy of each process under the same load ({many['citizens']} citizens; a second, unmeasured round),"
            " own time as a share of busy samples (threads waiting on a queue, lock or socket left out):",
            "",
        ]
        for name, summary in r["py_spy"].items():
            lines += [f"- **{name}** ({summary['busy_samples']} busy samples): " + "; ".join(summary["top"][:6])]
    if r.get("profile_top"):
        lines += ["", "cProfile of the action server's answer path (in process, tottime):", "", "```", *r["profile_top"], "```"]
    return "\n".join(lines) + "\n"


def main() -> None:
    """Run and write bench/results/load.json and load.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizens", type=int, default=50, help="concurrent simulated citizens")
    parser.add_argument("--turns", type=int, default=10, help="questions each concurrent citizen asks")
    parser.add_argument("--profile", action="store_true", help="add a cProfile of the answer path (in process)")
    parser.add_argument("--rate", type=float, default=30.0, help="turns/s arriving in the open-loop run (0: skip it)")
    parser.add_argument("--paced-turns", type=int, default=600, help="questions in the open-loop run")
    args = parser.parse_args()
    report = run(args)
    write_results(RESULTS, "load", report, markdown(report))


if __name__ == "__main__":
    main()
