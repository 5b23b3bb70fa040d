"""`bokji run` restarts a dead process after a growing wait, and counts each restart where the metrics read it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bokji.supervisor import Backoff, Restarts, Stack, endpoints_file, shared_state_env, stack_env


def test_waits_double_from_one_second_up_to_thirty() -> None:
    backoff = Backoff()
    assert [backoff.next_delay(up_for_s=2) for _ in range(8)] == [1, 2, 4, 8, 16, 30, 30, 30]


def test_a_process_that_stayed_up_a_minute_is_restarted_at_once_again() -> None:
    backoff = Backoff()
    for _ in range(4):
        backoff.next_delay(up_for_s=1)
    assert backoff.next_delay(up_for_s=59) == 16  # still crashing soon after each start
    assert backoff.next_delay(up_for_s=61) == 1  # it had recovered: a new series
    assert backoff.next_delay(up_for_s=3) == 2


def test_restarts_are_counted_per_process_in_a_json_file(tmp_path: Path) -> None:
    restarts = Restarts(tmp_path / "restarts.json")
    restarts.reset(["actions", "rasa", "web"])
    assert json.loads((tmp_path / "restarts.json").read_text()) == {"actions": 0, "rasa": 0, "web": 0}
    assert restarts.record("actions") == 1
    assert restarts.record("actions") == 2
    # The shape channels/metrics.py reads for bokji_process_restarts_total.
    assert json.loads((tmp_path / "restarts.json").read_text()) == {"actions": 2, "rasa": 0, "web": 0}
    assert [p.name for p in tmp_path.iterdir()] == ["restarts.json"]  # no partial file left behind


def test_rasa_keeps_conversations_in_a_sqlite_file_beside_the_staff_database(tmp_path: Path) -> None:
    env = stack_env("127.0.0.1", (5005, 5055, 8000), tmp_path)
    assert env["BOKJI_RASA_TRACKER_URL"] == f"sqlite:///{tmp_path.resolve() / 'rasa_tracker.sqlite3'}"
    assert endpoints_file(env) == "endpoints.yml"
    assert env["BOKJI_PROCESS_RESTARTS_FILE"] == str(tmp_path.resolve() / "restarts.json")
    rasa = next(s for s in Stack(env=env, log_dir=tmp_path).services if s.name == "rasa")
    assert rasa.argv[rasa.argv.index("--endpoints") + 1] == "endpoints.yml"


def test_on_postgresql_rasa_shares_the_database_and_redis_locks_several_rasas(tmp_path: Path) -> None:
    env = {
        "BOKJI_DATA_DIR": str(tmp_path),
        "BOKJI_DATABASE_URL": "postgresql+psycopg://bokji:s%3Acret@db:5432/bokji",
        "BOKJI_REDIS_URL": "redis://:r%40pw@cache:6380/2",
    }
    derived = shared_state_env(env)
    assert derived["BOKJI_RASA_TRACKER_URL"] == "postgresql+psycopg2://bokji:s%3Acret@db:5432/bokji"
    assert (derived["BOKJI_REDIS_HOST"], derived["BOKJI_REDIS_PORT"], derived["BOKJI_REDIS_DB"]) == ("cache", "6380", "2")
    assert derived["BOKJI_REDIS_PASSWORD"] == "r@pw"
    assert endpoints_file(env) == "endpoints.redis.yml"
    assert (
        shared_state_env({**env, "BOKJI_RASA_TRACKER_URL": "sqlite:////srv/t.db"})["BOKJI_RASA_TRACKER_URL"]
        == "sqlite:////srv/t.db"
    )


def test_every_variable_the_endpoints_files_read_is_set() -> None:
    import re

    bot = Path(__file__).resolve().parents[2] / "bot"
    env = {"BOKJI_REDIS_URL": "redis://127.0.0.1:6379/1", **stack_env("127.0.0.1", (5005, 5055, 8000))}
    for name in ("endpoints.yml", "endpoints.redis.yml"):
        for variable in re.findall(r"\$\{(\w+)\}", (bot / name).read_text()):
            assert variable in {**env, **shared_state_env(env)}, f"{name} reads {variable}, which bokji run does not set"


def test_each_process_gets_one_math_thread_unless_the_operator_says_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.setenv("TF_INTRA_OP_PARALLELISM_THREADS", "4")
    env = stack_env("127.0.0.1", (5005, 5055, 8000), tmp_path)
    assert env["OPENBLAS_NUM_THREADS"] == "1"
    assert env["TF_INTER_OP_PARALLELISM_THREADS"] == "1"
    assert env["TF_INTRA_OP_PARALLELISM_THREADS"] == "4"


def test_a_rasa_token_that_begins_with_a_dash_reaches_rasa_as_a_value() -> None:
    # token_urlsafe begins with "-" about once in 64 starts; as a separate argument argparse read it as an option
    # and `rasa run` exited with "expected one argument".
    import argparse

    from bokji.supervisor import default_services

    rasa = next(s for s in default_services("127.0.0.1", rasa_token="-Xk9_token") if s.name == "rasa")
    parser = argparse.ArgumentParser()
    parser.add_argument("-t", "--auth-token")
    known, _ = parser.parse_known_args([a for a in rasa.argv if a.startswith("--auth-token")])
    assert known.auth_token == "-Xk9_token"
