"""NLU quality on the held-out Korean set, Kiwi vs Rasa's WhitespaceTokenizer (``make bench-nlu``).

Trains NLU-only models with the Rasa environment, evaluates them on bench/data/nlu_heldout.yml (never
used for training), and measures parse latency through a running Rasa server.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import time
from pathlib import Path

import httpx
import yaml

from bench.machine import machine
from knowledge.settings import PROJECT_ROOT

RASA = PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa"
HELDOUT = PROJECT_ROOT / "bench" / "data" / "nlu_heldout.yml"
WORK = PROJECT_ROOT / "var" / "bench" / "nlu"
RESULTS = PROJECT_ROOT / "bench" / "results" / "nlu.json"
PORT = 15905
ENV = dict(
    os.environ,
    PYTHONPATH=str(PROJECT_ROOT),
    RASA_TELEMETRY_ENABLED="false",
    SQLALCHEMY_SILENCE_UBER_WARNING="1",
    TF_CPP_MIN_LOG_LEVEL="2",
)


def config_for(tokenizer: str) -> Path:
    """bot/config.yml with the tokenizer swapped (the rest of the pipeline unchanged)."""
    config = yaml.safe_load((PROJECT_ROOT / "bot" / "config.yml").read_text(encoding="utf-8"))
    if tokenizer == "whitespace":
        config["pipeline"][0] = {"name": "WhitespaceTokenizer"}
    path = WORK / f"config-{tokenizer}.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def rasa(*args: str) -> None:
    """Run a rasa command, failing loudly."""
    subprocess.run([str(RASA), *args], check=True, env=ENV, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL)


def evaluate(tokenizer: str) -> dict[str, float]:
    """Train on bot/data (nlu.yml and the generated programs.yml), test on the held-out set; macro-F1 for intents and entities."""
    model_dir = WORK / f"model-{tokenizer}"
    out = WORK / f"results-{tokenizer}"
    start = time.perf_counter()
    rasa("train", "nlu", "--config", str(config_for(tokenizer)), "--nlu", "bot/data",
         "--out", str(model_dir), "--fixed-model-name", tokenizer)  # fmt: skip
    train_s = time.perf_counter() - start
    rasa("test", "nlu", "--model", str(model_dir / f"{tokenizer}.tar.gz"), "--nlu", str(HELDOUT), "--out", str(out))
    intents = json.loads((out / "intent_report.json").read_text())
    entities = json.loads((out / "DIETClassifier_report.json").read_text())
    return {
        "intent_macro_f1": round(intents["macro avg"]["f1-score"], 3),
        "intent_accuracy": round(intents["accuracy"], 3),
        "entity_macro_f1": round(entities["macro avg"]["f1-score"], 3),
        "entity_micro_f1": round(entities.get("micro avg", entities["macro avg"])["f1-score"], 3),
        "train_s": round(train_s, 1),
    }


def heldout_texts() -> list[str]:
    """Plain texts of the held-out examples (annotations removed)."""
    import re

    data = yaml.safe_load(HELDOUT.read_text(encoding="utf-8"))
    texts = []
    for block in data["nlu"]:
        for line in block.get("examples", "").splitlines():
            line = line.strip().removeprefix("- ")
            if line:
                texts.append(re.sub(r"\[([^\]]+)\](\([^)]*\)|\{[^}]*\})", r"\1", line))
    return texts


def parse_latency(tokenizer: str) -> dict[str, float]:
    """p50/p95 of POST /model/parse against a running Rasa server."""
    model = WORK / f"model-{tokenizer}" / f"{tokenizer}.tar.gz"
    server = subprocess.Popen(
        [str(RASA), "run", "--enable-api", "--port", str(PORT), "--model", str(model), "--interface", "127.0.0.1"],
        env=ENV, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{PORT}/status", timeout=2).json().get("model_file"):
                    break
            except (httpx.HTTPError, ValueError):
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("rasa server did not start for the latency benchmark")
            time.sleep(1)
        texts = heldout_texts()
        timings = []
        with httpx.Client(timeout=10) as client:
            client.post(f"http://127.0.0.1:{PORT}/model/parse", json={"text": "안녕하세요"})
            for text in texts:
                start = time.perf_counter()
                client.post(f"http://127.0.0.1:{PORT}/model/parse", json={"text": text}).raise_for_status()
                timings.append((time.perf_counter() - start) * 1000)
        timings.sort()
        return {
            "parse_p50_ms": round(statistics.median(timings), 1),
            "parse_p95_ms": round(timings[int(0.95 * (len(timings) - 1))], 1),
            "requests": len(timings),
        }
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    """Run both tokenizers and write bench/results/nlu.json."""
    WORK.mkdir(parents=True, exist_ok=True)
    report = {"machine": machine(), "heldout_examples": len(heldout_texts()), "results": {}}
    for tokenizer in ("kiwi", "whitespace"):
        row = evaluate(tokenizer)
        if tokenizer == "kiwi":
            row.update(parse_latency(tokenizer))
        report["results"][tokenizer] = row  # type: ignore[index]
        print(tokenizer, json.dumps(row))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
