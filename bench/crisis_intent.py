"""How often Rasa's ``crisis`` intent fires on the crisis evaluation set (``make bench-crisis-intent``).

The edge detector (knowledge/rules/crisis.py) decides what a crisis is and is measured by
tests/unit/test_crisis.py. The classifier matters for the rest: a look-alike that Rasa reads as
``crisis`` ("폭행 신고 방법 알려줘") gets a gentle check-in instead of its answer. This parses every item of
tests/data/crisis_eval.yaml with the trained model (bot/models/bokji.tar.gz) and reports, per split
(chosen by a hash of the id; the NLU examples were never written from the held-out split, nor copied
from this set at all), the share of crises the intent catches and of look-alikes it flags.

Runs in the Rasa environment: ``.venv-rasa/bin/python -m bench.crisis_intent``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import Any

import yaml

from bench.machine import machine
from bench.splits import SPLITS, split_of

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT / "tests" / "data" / "crisis_eval.yaml"
MODEL = ROOT / "bot" / "models" / "bokji.tar.gz"
RESULTS = ROOT / "bench" / "results" / "crisis_intent.json"


async def intents(texts: list[str]) -> list[str]:
    """The top intent of each text under the trained model."""
    from rasa.core.agent import Agent  # only in the Rasa environment
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # not one debug line per parsed message
    logging.getLogger().setLevel(logging.WARNING)
    agent = Agent.load(str(MODEL))
    return [(await agent.parse_message(text))["intent"]["name"] for text in texts]


def rate(hits: int, total: int) -> dict[str, Any]:
    """A count with its share."""
    return {"hits": hits, "total": total, "share": round(hits / total, 3) if total else None}


def summarize(items: list[dict[str, Any]], predicted: list[str]) -> dict[str, Any]:
    """Crisis recall and look-alike false alarms of the intent, per split, and the look-alikes it flagged."""
    report: dict[str, Any] = {}
    for split in SPLITS:
        rows = [(item, intent) for item, intent in zip(items, predicted, strict=True) if split_of(item) == split]
        crises = [intent for item, intent in rows if item["crisis"]]
        lookalikes = [(item, intent) for item, intent in rows if not item["crisis"]]
        report[split] = {
            "crises_caught_by_intent": rate(sum(i == "crisis" for i in crises), len(crises)),
            "lookalikes_flagged_as_crisis": rate(sum(i == "crisis" for _, i in lookalikes), len(lookalikes)),
            "flagged": sorted(item["text"] for item, intent in lookalikes if intent == "crisis"),
        }
    return report


def main() -> None:
    """Parse the set, write bench/results/crisis_intent.json, print the summary."""
    data = yaml.safe_load(EVAL.read_text(encoding="utf-8"))
    items = [{**c, "crisis": True} for c in data["crises"]] + [{**c, "crisis": False} for c in data["lookalikes"]]
    predicted = asyncio.run(intents([item["text"] for item in items]))
    result: dict[str, Any] = {"machine": machine(), "model": str(MODEL.relative_to(ROOT)), "splits": summarize(items, predicted)}
    RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    for split, row in result["splits"].items():
        caught, flagged = row["crises_caught_by_intent"], row["lookalikes_flagged_as_crisis"]
        print(
            f"{split:8} crises caught {caught['hits']}/{caught['total']}  look-alikes flagged {flagged['hits']}/{flagged['total']}"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
