"""How many CPU threads the in-process model takes: one, plus the cores nobody else wants at that moment."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from knowledge.answering.llm import CpuWatch, LlamaCppChat, build_chat_model, spare_cores, threads_for_now
from knowledge.settings import LlmSettings


def test_an_idle_core_joins_and_a_busy_box_keeps_the_base_threads() -> None:
    assert threads_for_now(base=1, when_idle=2, spare=1) == 2
    assert threads_for_now(base=1, when_idle=2, spare=0) == 1  # the web app or Rasa is working: leave them the core
    assert threads_for_now(base=1, when_idle=4, spare=1) == 2  # never more than the idle cores
    assert threads_for_now(base=2, when_idle=0, spare=3) == 2  # off: the configured threads, always


def test_a_busy_neighbour_counts_and_this_process_own_work_does_not() -> None:
    watch = CpuWatch(interval_s=0.1, keep=6)
    assert watch.others_busy() is None  # no reading yet: the model keeps its base threads
    time.sleep(0.8)
    baseline = watch.others_busy() or 0.0  # whatever else runs on this machine (another test worker, a build)
    if baseline > 0.3:
        pytest.skip(f"other processes keep {baseline:.1f} cores busy: a neighbour would not stand out")
    neighbour = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.8)
        assert (busy := watch.others_busy()) is not None and busy >= baseline + 0.5, (busy, baseline)
    finally:
        neighbour.kill()
        neighbour.wait()
    time.sleep(0.8)  # the neighbour's time leaves the window
    deadline = time.monotonic() + 0.6
    while time.monotonic() < deadline:  # this process works: the model's own last answer, this turn's retrieval
        pass
    assert (busy := watch.others_busy()) is not None and busy < baseline + 0.6, (busy, baseline)


def test_spare_cores_never_counts_the_callers_core() -> None:
    assert 0 <= spare_cores() < len(os.sched_getaffinity(0))


def test_the_setting_reaches_the_model(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp", reason="make setup builds llama-cpp-python")
    model_file = tmp_path / "m.gguf"
    model_file.write_bytes(b"GGUF")  # checked for existence only: nothing loads before the first question
    model = build_chat_model(LlmSettings(backend="llamacpp", model_path=model_file, threads=1, threads_when_idle=3))
    assert isinstance(model, LlamaCppChat) and (model.n_threads, model.threads_when_idle) == (1, 3)
