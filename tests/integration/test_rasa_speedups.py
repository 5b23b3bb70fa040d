"""bot.rasa_speedups in the Rasa environment: action replies validated as Rasa does, the SQLite tracker store in WAL."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration

# Runs inside .venv-rasa: each case through Rasa's original check (jsonschema.validate) and through the installed
# one, which must agree (accepted, or rejected with Rasa's message).
SCRIPT = r"""
import json, sys
import jsonschema
from rasa.core.actions.action import RemoteAction

original = RemoteAction._validate_action_result
import bot.components  # what Rasa imports when it loads the model
patched = RemoteAction._validate_action_result
assert patched is not original, "not installed"
import bot.rasa_speedups
bot.rasa_speedups.install()
assert RemoteAction._validate_action_result is patched, "installed twice"

def outcome(check, case):
    try:
        return ["ok", check(RemoteAction("action_x", None), case)]
    except jsonschema.ValidationError as e:
        return ["rejected", e.message]

out = []
for case in json.loads(sys.stdin.read()):
    out.append([outcome(original, case), outcome(patched, case)])

# Rasa's own SQL tracker store on SQLite: WAL with synchronous=NORMAL (no fsync per turn on the event loop).
import tempfile
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=tempfile.mkdtemp() + "/tracker.db")
with store.engine.connect() as c:
    pragmas = [c.exec_driver_sql("PRAGMA journal_mode").scalar(), c.exec_driver_sql("PRAGMA synchronous").scalar()]
print(json.dumps({"cases": out, "tracker_pragmas": pragmas}, ensure_ascii=False))
"""

CASES = [
    {"events": [{"event": "slot", "name": "age", "value": 66}], "responses": [{"text": "기초연금은 만 65세부터예요."}]},
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "timestamp": None}], "responses": [{"text": "안내"}]},
    {"events": "not a list", "responses": []},
    {"events": [{"no_event_key": 1}], "responses": []},
    {"events": [], "responses": "nope"},
]


def test_action_replies_are_checked_as_rasa_checks_them() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT), RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2",
               SQLALCHEMY_SILENCE_UBER_WARNING="1")  # fmt: skip
    run = subprocess.run(
        [str(ROOT / ".venv-rasa" / "bin" / "python"), "-c", SCRIPT],
        input=json.dumps(CASES), env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    reported = json.loads(run.stdout.strip().splitlines()[-1])
    assert reported["tracker_pragmas"] == ["wal", 1], "Rasa's SQLite tracker store is not in WAL/NORMAL"
    results = reported["cases"]
    verdicts = [patched[0] for _, patched in results]
    assert verdicts[:2] == ["ok", "ok"]
    assert "rejected" in verdicts[3:], "a malformed reply must still be rejected"
    for original, patched in results:
        assert patched == original
