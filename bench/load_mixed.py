"""Mixed load benchmark (issue 14): simulated citizens on scripted conversations, default stack then the 2+2+2 set.

``--citizens`` threads, each looping over conversations from bench/load_scenarios.py (FAQ questions, three-turn
eligibility forms, follow-ups, a few model questions) through /api/v1/chat with one API key, a random think time
(``--think-min``..``--think-max`` s, fixed ``--seed``) before each turn, for ``--minutes``; no turn starts after
that. First on the stack of ``make run`` (model as configured), then (unless ``--only default``) on two cells of
Rasa + actions + web behind nginx with PostgreSQL and Redis (bench/replica_set.py, model off). Per kind of turn:
count, turns/s, p50/p95/p99, errors (non-200, degraded replies, wrong form verdicts); resident memory of every
process (with its children) after warm-up and at the end, and its growth. Results: bench/results/load-mixed.json
and .md, or ``--out DIR``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import secrets
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench.load import decision_summary, decisions, rss_mb
from bench.load_scenarios import KINDS, Record, Turn, aggregate, conversation, faq_questions, growth, judge
from bench.machine import machine, write_results
from bench.replica_set import MODEL_NOTE, replica_set
from bokji.supervisor import Stack, StackError, stack_env
from tests.postgres import free_port

RESULTS = Path(__file__).parent / "results"
CLIENT_TIMEOUT_S = 120.0
WARM_BURST = 64  # simultaneous warm-up turns: more than the web apps' threads, so every pool opens what the load opens


def load_env(key: str) -> dict[str, str]:
    """One API key; limits per client and per conversation high enough for every simulated citizen on 127.0.0.1."""
    return {
        "BOKJI_API_KEYS": f"load:{key}",
        "BOKJI_RATE_LIMIT__PER_CLIENT": "1000000/minute",
        "BOKJI_RATE_LIMIT__PER_SESSION": "1000/minute",
    }


def send(http: httpx.Client, session: str, turn: Turn) -> Record:
    """Post one turn and judge its reply."""
    started = time.perf_counter()
    try:
        response = http.post("/api/v1/chat", json={"session_id": session, "text": turn.text})
    except httpx.HTTPError as exc:
        return Record(turn.kind, time.perf_counter() - started, f"no response ({type(exc).__name__})")
    took = time.perf_counter() - started
    try:
        messages = response.json().get("messages", []) if response.status_code == 200 else []
    except ValueError:
        return Record(turn.kind, took, "not JSON")
    reply = "\n".join(str(m.get("text") or "") for m in messages)
    return Record(turn.kind, took, judge(turn, response.status_code, reply))


def simulate(url: str, key: str, args: argparse.Namespace) -> dict[str, Any]:
    """Every citizen's loop until the deadline; the per-kind figures."""
    faqs = faq_questions()
    records: list[Record] = []
    lock = threading.Lock()
    done = threading.Event()
    run = secrets.token_hex(3)

    def citizen(number: int) -> None:
        rng = random.Random(args.seed * 100_003 + number)
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=CLIENT_TIMEOUT_S) as http:
            if done.wait(rng.uniform(0, args.think_max)):  # citizens arrive spread over the first think time
                return
            for n in itertools.count():
                session = f"mixed-{run}-{number}-{n}"
                for turn in conversation(rng, faqs):
                    record = send(http, session, turn)
                    with lock:
                        records.append(record)
                    if done.wait(rng.uniform(args.think_min, args.think_max)):
                        return

    threads = [threading.Thread(target=citizen, args=(n,), daemon=True) for n in range(args.citizens)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(args.minutes * 60)
    done.set()
    for thread in threads:
        thread.join(timeout=CLIENT_TIMEOUT_S + 10)  # a turn in flight finishes (or times out) and is counted
    with lock:
        return aggregate(list(records), time.perf_counter() - started)


def warm(url: str, key: str, turns: int, burst: int = WARM_BURST) -> None:
    """What loads lazily loads before the clock starts, then a burst of simultaneous turns.

    One turn per web app behind the proxy loads what loads on first use; the burst (``burst`` citizens at once, each
    one FAQ turn) opens the connection pools the load will use (each new PostgreSQL connection is a server process of
    its own), so memory "at start" is a warm server's and growth over the run means what the issue asks: a leak.
    """
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=300) as http:
        for n in range(turns):
            http.post("/api/v1/chat", json={"session_id": f"warm-up-{n}", "text": "기초연금 얼마에요"})

    def one(n: int) -> None:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=300) as http:
            http.post("/api/v1/chat", json={"session_id": f"warm-burst-{n}", "text": "아동수당은 한 달에 얼마예요?"})

    threads = [threading.Thread(target=one, args=(n,)) for n in range(burst)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def measured(url: str, key: str, pids: Callable[[], dict[str, int]], args: argparse.Namespace, warm_turns: int) -> dict[str, Any]:
    """Warm up, RSS at start, the load, RSS at the end."""
    warm(url, key, warm_turns)
    start = {name: rss_mb(pid) for name, pid in pids().items()}
    figures = simulate(url, key, args)
    end = {name: rss_mb(pid) for name, pid in pids().items()}
    return {**figures, "rss": growth(start, end)}


def default_stack(args: argparse.Namespace) -> dict[str, Any]:
    """The stack of ``make run`` on free ports."""
    key = secrets.token_urlsafe(24)
    ports = (free_port(), free_port(), free_port())
    with tempfile.TemporaryDirectory() as tmp:
        env = {**stack_env("127.0.0.1", ports, Path(tmp)), **load_env(key)}
        stack = Stack(ports=ports, log_dir=Path(tmp) / "log", env=env, say=lambda line: None)
        try:
            stack.start(timeout_s=900)
        except StackError:
            stack.stop()
            raise
        try:
            log = Path(tmp) / "log" / "actions.log"
            mark = log.stat().st_size if log.exists() else 0

            def pids() -> dict[str, int]:
                return {s.name: s.process.pid for s in stack.services if s.process is not None}

            report = measured(stack.url("web"), key, pids, args, warm_turns=1)
            report["answer_decisions"] = decision_summary(decisions(log, mark)) if log.exists() else {}
        finally:
            stack.stop()
    report["setup"] = "stack of `make run` (actions, Rasa, web; model as configured), SQLite, no proxy"
    return report


def replicas(args: argparse.Namespace) -> dict[str, Any]:
    """Two cells behind nginx with PostgreSQL and Redis."""
    key = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory() as tmp, replica_set(Path(tmp), load_env(key)) as rs:
        report = measured(rs.proxy, key, rs.pids, args, warm_turns=4)
    report["setup"] = f"2 Rasa + 2 actions + 2 web behind nginx, PostgreSQL, Redis; {MODEL_NOTE}"
    return report


CONFIGURATIONS = {"default": ("default stack", default_stack), "replicas": ("2+2+2 replica set", replicas)}


def markdown(r: dict[str, Any]) -> str:
    """The results as the README's tables."""
    m, a = r["machine"], r["args"]
    lines = [
        "# Mixed load benchmark (`make bench-load-mixed`)",
        "",
        f"{m['cpu']}, {m['cores']} cores, {m['date']}; load average at start {m['load_avg_at_start']}. {a['citizens']} simulated"
        f" citizens for {a['minutes']} min on loopback, think time {a['think_min']}-{a['think_max']} s (seed {a['seed']}),"
        " /api/v1/chat. Conversations: FAQ 45%, eligibility form (3 turns, verdict checked) 25%, FAQ + follow-up 25%,"
        " model question 5%. Errors: non-200, no response, degraded or holding replies, wrong form verdicts.",
    ]
    for name, run in r["runs"].items():
        lines += ["", f"## {name}: {run['setup']}", "", f"Wall {run['wall_s']} s.", ""]
        lines += ["| turn | count | turns/s | p50 ms | p95 ms | p99 ms | max ms | errors |", "|---|---|---|---|---|---|---|---|"]
        for kind in (*KINDS, "all"):
            f = run["all"] if kind == "all" else run["by_kind"][kind]
            reasons = ", ".join(f"{k} {v}" for k, v in f["error_reasons"].items())
            lines.append(
                f"| {kind} | {f['n']} | {f['turns_per_s']} | {f.get('p50_ms', '')} | {f.get('p95_ms', '')} | {f.get('p99_ms', '')}"
                f" | {f.get('max_ms', '')} | {f['errors']}{f' ({reasons})' if reasons else ''} |"
            )
        if run.get("answer_decisions"):
            d = run["answer_decisions"]
            lines += ["", f"Answer modes: {d['modes']}; fallbacks: {d['fallbacks'] or 'none'}."]
        lines += ["", "| process | RSS MiB at start | at end | growth % |", "|---|---|---|---|"]
        for proc, row in run["rss"]["processes"].items():
            lines.append(f"| {proc} | {row['start_mb']} | {row['end_mb']} | {row['growth_pct']} |")
        over = run["rss"]["over_10_pct"]
        lines += ["", f"Processes that grew more than 10%: {', '.join(over) if over else 'none'}."]
        if "postgres" in run["rss"]["processes"]:
            lines.append(
                "PostgreSQL's figure is the postmaster with its backends, their shared buffers counted once (every"
                " backend maps the same pages; a sum of VmRSS counted them once per backend and showed +69 %), after a"
                " warm-up burst that opened the pools' connections."
            )
    for name, why in r.get("skipped", {}).items():
        lines += ["", f"## {name}: not run ({why})"]
    return "\n".join(lines) + "\n"


def main() -> None:
    """Run the configurations and write load-mixed.json and .md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizens", type=int, default=200, help="simulated citizens")
    parser.add_argument("--minutes", type=float, default=5.0, help="how long the load runs on each configuration")
    # A citizen reads the answer and types the next message on a phone: 10-30 s between messages (200 citizens then
    # offer about 10 turns/s). Lower it to find where a configuration saturates.
    parser.add_argument("--think-min", type=float, default=10.0, help="shortest think time before a turn, s")
    parser.add_argument("--think-max", type=float, default=30.0, help="longest think time before a turn, s")
    parser.add_argument("--seed", type=int, default=14, help="seed of the conversations and think times")
    parser.add_argument("--only", choices=tuple(CONFIGURATIONS), help="run one configuration only")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where load-mixed.json and .md go")
    args = parser.parse_args()
    if args.citizens < 1 or args.minutes <= 0 or not 0 <= args.think_min <= args.think_max:
        parser.error("--citizens must be at least 1, --minutes above 0, and 0 <= --think-min <= --think-max")
    report: dict[str, Any] = {
        "machine": machine(),
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
    }
    report["runs"], report["skipped"] = {}, {}
    for option, (name, runner) in CONFIGURATIONS.items():
        if args.only and args.only != option:
            report["skipped"][name] = f"--only {args.only}"
            continue
        print(f"{name}: starting, then {args.citizens} citizens for {args.minutes:g} min", flush=True)  # noqa: T201
        report["runs"][name] = runner(args)
        print(f"{name}: {json.dumps(report['runs'][name]['all'], ensure_ascii=False)}", flush=True)  # noqa: T201
    write_results(args.out, "load-mixed", report, markdown(report))


if __name__ == "__main__":
    main()
