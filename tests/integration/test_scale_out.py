"""Scale-out on real engines, on loopback: PostgreSQL, Redis, 2 Rasa, 2 action servers, 2 web apps behind nginx.

Two cells (web-N, rasa-N, actions-N, started by bokji/supervisor.py's Stack) share one PostgreSQL database (the
web apps' conversations and Rasa's SQL tracker store) and one Redis (Rasa's lock store, the web apps' rate-limit
counts). nginx round-robins citizens over the web apps and routes each cell's Rasa and action calls to its own
process, or to the other cell's when it is down (deploy/nginx.conf.template). One citizen's conversation goes
through both replicas turn by turn, completes an eligibility form and a follow-up, and loses nothing when a web
app, a Rasa and an action server are killed in the middle of it.

The action servers run with the model off (BOKJI_KNOWLEDGE__LLM__BACKEND=none): six processes with a model each
do not fit beside the other suites on a 2-core box, and the conversation here is FAQs and a form.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy

from bokji.proxy_config import Cell
from bokji.supervisor import ROOT, Stack, shared_state_env, stack_env, start_together
from channels.privacy.sender_ids import SenderIds
from channels.store.database import Database
from tests.integration.conftest import copy_seed_index
from tests.kakao_support import Receiver, assert_skill_response, skill_request, texts
from tests.nginx import NginxProxy
from tests.postgres import PostgresServer, free_port
from tests.redis_server import RedisServer

pytestmark = pytest.mark.integration

API_KEY = "scale-" + secrets.token_urlsafe(16)
KAKAO_TOKEN = "kakao-" + secrets.token_urlsafe(16)
RESULTS = ROOT / "bench" / "results" / "scale-out.json"
OFFLINE_MARKERS = ("잠시 후 다시", "연결할 수 없", "답변이 중단")
# Each Rasa takes ~1.6 GB and each action server ~1.5 GB without the model; web apps ~0.4 GB.
NEEDED_GB = 8.0


@dataclass
class ScaleOut:
    proxy: str
    cells: list[Stack]
    web_ports: list[int]
    database_url: str
    redis_url: str
    nginx: NginxProxy
    id_key: str = ""  # BOKJI_PRIVACY__ID_KEY of every web app: a Kakao user's sender id
    served: list[str] = field(default_factory=list)  # the web port that answered each turn, in order

    def nginx_upstreams(self) -> list[str]:
        return [f"127.0.0.1:{port}" for port in self.web_ports]

    def web_of(self, upstream: str) -> int:
        return self.web_ports.index(int(upstream.rsplit(":", 1)[1]))


def _mem_available_gb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024 / 1024
    return 0.0


@pytest.fixture(scope="module")
def scale_out(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScaleOut]:
    if not (ROOT / "bot" / "models" / "bokji.tar.gz").exists():
        pytest.fail("no trained Rasa model: run `make setup` first")
    if _mem_available_gb() < NEEDED_GB:
        pytest.fail(f"the 2+2+2 replica set needs about {NEEDED_GB:g} GB free; {_mem_available_gb():.1f} GB available")
    base = tmp_path_factory.mktemp("scale-out")
    store = copy_seed_index(base / "knowledge.sqlite3")
    with PostgresServer() as database_url, RedisServer() as redis_url:
        ports = [(free_port(), free_port(), free_port()) for _ in range(2)]
        cells = [Cell(f"127.0.0.1:{r}", f"127.0.0.1:{a}", f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}")
                 for r, a, _ in ports]  # fmt: skip
        web_ports = [w for _, _, w in ports]
        shared = {
            "BOKJI_RASA_TOKEN": secrets.token_urlsafe(32),
            "BOKJI_ACTIONS_TOKEN": secrets.token_urlsafe(32),
            "BOKJI_CONSOLE__SECRET_KEY": secrets.token_urlsafe(32),
            "BOKJI_PRIVACY__ID_KEY": secrets.token_urlsafe(32),
            "BOKJI_API_KEYS": f"scale:{API_KEY}",
            "BOKJI_DATABASE_URL": database_url,
            "BOKJI_REDIS_URL": redis_url,
            "BOKJI_RATE_LIMIT__STORAGE_URI": redis_url,
            "BOKJI_RATE_LIMIT__PROXY_HOPS": "1",
            "BOKJI_RATE_LIMIT__PER_CLIENT": "100000/minute",  # every simulated citizen comes from 127.0.0.1
            "BOKJI_KNOWLEDGE__STORE__PATH": str(store),
            "BOKJI_KNOWLEDGE__LLM__BACKEND": "none",
            "BOKJI_RASA_TIMEOUT_S": "70",  # a loaded 2-core box: the first turns of a fresh Rasa are slow
            "BOKJI_KAKAO__TOKEN": KAKAO_TOKEN,
            # Every Kakao answer misses this budget, so it is delivered late: on the next message or a callbackUrl.
            "BOKJI_KAKAO__ANSWER_BUDGET_S": "0.1",
            "BOKJI_KAKAO__CALLBACK_HOSTS": '["127.0.0.1"]',  # the local stand-in for Kakao's callback server
        }
        stacks = []
        for index, ((rasa_port, actions_port, web_port), cell) in enumerate(zip(ports, cells, strict=True), start=1):
            data_dir = base / f"cell-{index}"
            data_dir.mkdir()
            env = {
                **stack_env("127.0.0.1", (rasa_port, actions_port, web_port), data_dir),
                **shared,
                # The cell's Rasa and action server are reached through nginx (its own first, the other's when down).
                "BOKJI_RASA_URL": f"http://{cell.rasa_listen}",
                "BOKJI_ACTIONS_URL": f"http://{cell.actions_listen}",
                "BOKJI_ACTION_URL": f"http://{cell.actions_listen}/webhook",
            }
            # What `bokji run` derives from BOKJI_DATABASE_URL and BOKJI_REDIS_URL: Rasa's SQL tracker store on the
            # PostgreSQL server and the Redis lock store (bot/endpoints.redis.yml).
            del env["BOKJI_RASA_TRACKER_URL"]
            env.update(shared_state_env(env))
            stack = Stack(ports=(rasa_port, actions_port, web_port), log_dir=base / f"log-{index}", env=env, say=lambda _: None)
            rasa = next(s for s in stack.services if s.name == "rasa")
            assert rasa.argv[rasa.argv.index("--endpoints") + 1] == "endpoints.redis.yml"
            assert env["BOKJI_RASA_TRACKER_URL"].startswith("postgresql+psycopg2://")
            stacks.append(stack)
        nginx = NginxProxy([f"127.0.0.1:{w}" for w in web_ports], cells)
        proxy = nginx.start()
        errors = start_together(stacks, timeout_s=900)  # Rasa took over 7 minutes to load on this busy 2-core box
        try:
            if errors:
                pytest.fail(f"the replica set did not start: {errors[0]}")
            for web_port in web_ports:  # each cell's first turn loads what loads lazily; not part of any test
                httpx.post(f"http://127.0.0.1:{web_port}/api/v1/chat", json={"session_id": "warm-up", "text": "안녕하세요"},
                           headers={"Authorization": f"Bearer {API_KEY}"}, timeout=180)  # fmt: skip
            yield ScaleOut(proxy, stacks, web_ports, database_url, redis_url, nginx, shared["BOKJI_PRIVACY__ID_KEY"])
        finally:
            for stack in stacks:
                stack.stop()
            for log in ("access.log", "error.log"):  # kept beside the processes' logs for a failed run
                if nginx.root_dir is not None and (nginx.root_dir / log).exists():
                    (base / f"nginx-{log}").write_bytes((nginx.root_dir / log).read_bytes())
            nginx.stop()


def chat(scale: ScaleOut, session: str, text: str, timeout_s: float = 60) -> tuple[list[dict[str, Any]], str]:
    """One citizen message through nginx: the bot's messages and the web app that answered."""
    response = httpx.post(
        f"{scale.proxy}/api/v1/chat",
        json={"session_id": session, "text": text},
        headers={"Authorization": f"Bearer {API_KEY}"},
        timeout=timeout_s,
    )
    assert response.status_code == 200, response.text
    upstream = response.headers["X-Bokji-Upstream"].split(",")[-1].strip()  # the replica that finally answered
    scale.served.append(upstream)
    return list(response.json()["messages"]), upstream


def say(scale: ScaleOut, session: str, text: str) -> tuple[str, str]:
    messages, upstream = chat(scale, session, text)
    reply = "\n".join(m.get("text", "") for m in messages)
    assert not any(marker in reply for marker in OFFLINE_MARKERS), f"{text!r} got a degraded reply: {reply}"
    return reply, upstream


def kill(stack: Stack, name: str) -> None:
    """SIGKILL one process of a cell (no clean shutdown) and wait until it is gone."""
    service = next(s for s in stack.services if s.name == name)
    assert service.process is not None and service.process.poll() is None, f"{name} was not running"
    os.killpg(service.process.pid, signal.SIGKILL)
    service.process.wait(timeout=30)


def cell_of(scale: ScaleOut, upstream: str) -> Stack:
    return scale.cells[scale.web_of(upstream)]


def other(scale: ScaleOut, stack: Stack) -> Stack:
    return next(s for s in scale.cells if s is not stack)


def rows(scale: ScaleOut, query: str, session: str) -> list[Any]:
    engine = sqlalchemy.create_engine(scale.database_url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(sqlalchemy.text(query), {"sender": f"%{session}"}).all())
    finally:
        engine.dispose()


def transcript(scale: ScaleOut, session: str) -> list[tuple[str, str]]:
    return [
        (row[0], row[1]) for row in rows(scale, "SELECT role, text FROM turns WHERE sender_id LIKE :sender ORDER BY id", session)
    ]


def kakao(scale: ScaleOut, user: str, utterance: str, callback_url: str | None = None) -> tuple[dict[str, Any], str]:
    """One KakaoTalk skill request through nginx, as Kakao sends it: the SkillResponse and the web app that answered."""
    extra = {"bokji": "fetch"} if utterance == "답변 보기" else None
    response = httpx.post(
        f"{scale.proxy}/kakao/skill",
        json=skill_request(utterance, user_id=user, callback_url=callback_url, client_extra=extra),
        headers={"X-Bokji-Kakao-Token": KAKAO_TOKEN},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return assert_skill_response(response.json()), response.headers["X-Bokji-Upstream"].split(",")[-1].strip()


def test_kakao_answers_computed_on_one_replica_are_delivered_once_by_the_other(scale_out: ScaleOut) -> None:
    """Every Kakao answer is late here (0.1 s budget): it is shown by whichever web app gets the next message, or
    POSTed to a callbackUrl another web app holds, exactly once (no pinning: nginx round-robins /kakao/)."""
    scale, user = scale_out, "kakao" + secrets.token_hex(6)
    shown: list[tuple[str, str]] = []  # (what the user read, through which web app), requests and callbacks alike

    def read(body: dict[str, Any], upstream: str) -> None:
        if not body.get("useCallback"):
            shown.append((texts(body), upstream))

    body, asked_on = kakao(scale, user, "기초연금 얼마에요")
    read(body, asked_on)
    for _ in range(30):  # 답변 보기 until it comes (every 2 s: 20 messages a minute per user): alternating web apps
        if any("349,700원" in text for text, _ in shown):
            break
        time.sleep(2.0)
        read(*kakao(scale, user, "답변 보기"))
    answered = [upstream for text, upstream in shown if "349,700원" in text]
    assert len(answered) == 1, f"the answer is shown exactly once: {shown}"

    receiver = Receiver()
    try:
        body, asked_on = kakao(scale, user, "주거급여 신청은 어디서 해요?")  # no callbackUrl: computed on this web app
        read(body, asked_on)
        body, held_on = kakao(scale, user, "답변 보기", callback_url=receiver.url)  # the other web app holds it
        read(body, held_on)
        assert held_on != asked_on, "nginx sent the next request to the other web app"
        if body.get("useCallback"):
            _, posted = receiver.next(timeout=60)
            shown.append((texts(assert_skill_response(posted)), "callback"))
        time.sleep(1.0)
        assert receiver.bodies.empty(), "a callbackUrl is used once"
    finally:
        receiver.close()
    for _ in range(30):
        body, upstream = kakao(scale, user, "답변 보기")
        read(body, upstream)
        if "기다리고 있는 답변은 없어요" in texts(body):
            break
        time.sleep(2.0)
    # Every answer the transcript holds for this user reached them exactly once, whichever web app computed it.
    sender = SenderIds(scale.id_key.encode()).kakao(user)
    engine = sqlalchemy.create_engine(scale.database_url)
    try:
        with engine.connect() as connection:
            query = sqlalchemy.text("SELECT text FROM turns WHERE sender_id = :sender AND role = 'bot' ORDER BY id")
            answers = [row[0] for row in connection.execute(query, {"sender": sender})]
    finally:
        engine.dispose()
    assert len(answers) >= 2, answers
    everything = "\n".join(text for text, _ in shown)
    for answer in answers:
        assert everything.count(answer[:20]) == 1, f"shown exactly once: {answer[:40]!r} in {shown}"
    assert "기다리고 있는 답변은 없어요" in shown[-1][0], f"nothing left waiting: {shown}"
    assert {upstream for _, upstream in shown} >= set(scale.nginx_upstreams()), f"both web apps served the user: {shown}"


def test_one_conversation_alternates_replicas_and_survives_killed_ones(scale_out: ScaleOut) -> None:
    scale, session = scale_out, "citizen-" + secrets.token_hex(4)
    reply, first = say(scale, session, "기초연금 얼마에요")
    assert "349,700원" in reply
    reply, second = say(scale, session, "그거 나도 받을 수 있어?")
    assert "몇 세" in reply, "the follow-up carries the program over to the other replica"
    reply, third = say(scale, session, "만 67세요")
    assert "혼자" in reply, "the form goes on where the other replica left it"
    assert first != second and second != third, f"turns did not alternate between the web apps: {scale.served}"

    # The next turn goes to the other web app (cell Y): its Rasa dies first, so cell X's Rasa takes the turn.
    cell_y, cell_x = cell_of(scale, second), cell_of(scale, third)
    kill(cell_y, "rasa")
    reply, fourth = say(scale, session, "혼자 살아요")
    assert fourth == second and "소득" in reply, "the form continues on the other Rasa (slots from the tracker store)"
    failures: list[BaseException] = []
    rasa_back = threading.Thread(target=_restart, args=(cell_y, "rasa", failures))  # a Rasa takes minutes to load
    rasa_back.start()

    # The turn after goes to cell X, whose action server is dead: cell Y's answers the form's validation.
    kill(cell_x, "actions")
    reply, fifth = say(scale, session, "100만원 정도")
    assert fifth == third and "349,700원" in reply, f"the form's verdict after an action server died: {reply}"
    cell_x.restart("actions")

    # Cell X's web app dies: nginx sends the citizen to cell Y's, which knows the conversation (and, while its own
    # Rasa is still loading, reaches cell X's).
    kill(cell_x, "web")
    reply, sixth = say(scale, session, "그거 어디서 신청해요?")
    assert sixth == second, "the dead web app's turn went to the other one"
    assert "신청" in reply or "주민센터" in reply

    turns = transcript(scale, session)
    citizen = [text for role, text in turns if role == "citizen"]
    assert citizen == [
        "기초연금 얼마에요",
        "그거 나도 받을 수 있어?",
        "만 67세요",
        "혼자 살아요",
        "100만원 정도",
        "그거 어디서 신청해요?",
    ]
    assert sum(1 for role, _ in turns if role == "bot") >= 6, turns
    assert turns[0][0] == "citizen" and turns[-1][0] == "bot", "every message has its answer after it"
    # Both Rasa servers wrote this conversation's events to the one tracker store on PostgreSQL.
    [(tracked,)] = rows(scale, "SELECT count(*) FROM events WHERE sender_id LIKE :sender AND type_name = 'user'", session)
    assert tracked == 6

    # The killed processes are started again (Stack.restart, as `bokji run` does) and take their share again.
    cell_x.restart("web")
    rasa_back.join()
    assert not failures, failures
    time.sleep(5)  # nginx's fail_timeout: the restarted web app is tried again
    upstreams = {say(scale, session, "기초연금 얼마에요")[1] for _ in range(4)}
    assert len(upstreams) == 2, f"after the restarts both web apps answer again: {scale.served[-4:]}"


def _restart(stack: Stack, name: str, failures: list[BaseException]) -> None:
    try:
        stack.restart(name, timeout_s=600)
    except BaseException as exc:  # noqa: BLE001 - the test thread reports it
        failures.append(exc)


def test_web_replicas_starting_together_upgrade_one_new_schema() -> None:
    """Three web apps opening a fresh PostgreSQL database at once: one migrates, the others wait and find it current."""
    with PostgresServer() as url:
        versions: list[str] = []
        threads = [threading.Thread(target=lambda: versions.append(Database(url).upgrade())) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(versions) == 3 and len(set(versions)) == 1, versions


def test_rate_limits_count_across_replicas_in_redis(scale_out: ScaleOut) -> None:
    """20 messages a minute per conversation (the default) hold across both web apps: the 21st is refused."""
    session = "flood-" + secrets.token_hex(4)
    statuses, served = [], set()
    for _ in range(21):
        response = httpx.post(
            f"{scale_out.proxy}/api/v1/chat",
            json={"session_id": session, "text": "안녕하세요"},
            headers={"Authorization": f"Bearer {API_KEY}"},
            timeout=60,
        )
        statuses.append(response.status_code)
        served.add(response.headers.get("X-Bokji-Upstream"))
    assert len(served) == 2, "the messages went to both web apps"
    assert statuses[:20] == [200] * 20 and statuses[20] == 429, statuses
    assert "너무 빠르게" in response.json()["error"]["message"]


QUESTIONS = ["기초연금 얼마에요", "주거급여 신청은 어디서 해요?", "그거 나도 받을 수 있어?", "만 67세요", "혼자 살아요"]


def _load(url: str, citizens: int, seconds: float) -> dict[str, Any]:
    """``citizens`` simulated citizens, each sending FAQ and form turns back to back to ``url`` for ``seconds``."""
    stop_at, run = time.monotonic() + seconds, secrets.token_hex(3)
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def citizen(number: int) -> None:
        turn = 0
        with httpx.Client(timeout=60, headers={"Authorization": f"Bearer {API_KEY}"}) as client:
            while time.monotonic() < stop_at:
                session = f"load-{run}-{number}-{turn // len(QUESTIONS)}"  # a new citizen every 5 turns
                body = {"session_id": session, "text": QUESTIONS[turn % len(QUESTIONS)]}
                started = time.perf_counter()
                try:
                    response = client.post(f"{url}/api/v1/chat", json=body)
                    failure = None if response.status_code == 200 else f"{response.status_code} {response.text[:100]}"
                except httpx.HTTPError as exc:
                    failure = repr(exc)
                with lock:
                    if failure is None:
                        latencies.append(time.perf_counter() - started)
                    else:
                        errors.append(failure)
                turn += 1

    began = time.monotonic()
    with ThreadPoolExecutor(citizens) as pool:
        list(pool.map(citizen, range(citizens)))
    elapsed = time.monotonic() - began
    latencies.sort()
    return {
        "citizens": citizens,
        "seconds": round(elapsed, 1),
        "turns": len(latencies),
        "turns_per_s": round(len(latencies) / elapsed, 2),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000) if latencies else None,
        "p95_ms": round(latencies[int(len(latencies) * 0.95)] * 1000) if latencies else None,
        "errors": errors[:5],
        "error_count": len(errors),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def _rss_mb(stack: Stack) -> dict[str, int]:
    sizes = {}
    for service in stack.services:
        if service.process is not None and service.process.poll() is None:
            status = Path(f"/proc/{service.process.pid}/status").read_text()
            sizes[service.name] = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))) // 1024
    return sizes


def test_throughput_of_one_cell_and_of_the_replica_set_is_measured(scale_out: ScaleOut) -> None:
    """FAQ and form turns from 8 simulated citizens, 30 s on one cell's web app, then 30 s through nginx: no errors."""
    one_cell = _load(f"http://127.0.0.1:{scale_out.web_ports[0]}", citizens=8, seconds=30)
    both = _load(scale_out.proxy, citizens=8, seconds=30)
    figures = {
        "setup": "cells of web+rasa+actions (model off: FAQ and form turns), PostgreSQL, Redis, nginx; 8 citizens",
        "machine": {
            "cpus": os.cpu_count(),
            "mem_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
            "shared": "other helpers' test suites ran on the same box at the same time",
        },
        "one_cell_direct": one_cell,
        "two_cells_via_nginx": both,
        "rss_mb": {f"cell-{n}": _rss_mb(stack) for n, stack in enumerate(scale_out.cells, start=1)},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n")
    assert one_cell["error_count"] == 0 and both["error_count"] == 0, (one_cell["errors"], both["errors"])
    assert one_cell["turns"] > 0 and both["turns"] > 0
