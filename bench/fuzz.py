"""Hostile and valid-ish input to every public endpoint of a running web app (``make bench-fuzz``).

Sends at least 10,000 generated requests (a seeded generator: reproducible) and counts the answers of
500 or more (target 0), the status histogram and the latency distribution. By default the web app runs
in this process behind waitress on a free loopback port, with a stand-in for Rasa (no model, no action
server); with ``BOKJI_FUZZ_URL=http://127.0.0.1:8000`` it targets a running ``bokji run`` instead
(``BOKJI_FUZZ_KAKAO_TOKEN`` for the skill, ``BOKJI_FUZZ_API_KEY`` for ``/api/v1/chat``). Widget requests carry
real session tokens (opened through ``POST /api/v1/widget/session`` before the run) most of the time, and
forged, truncated or expired ones (in-process only: signed with the app's key and a past time) or none
otherwise. The in-process app runs with rate limits raised far above
the defaults, so the fuzzer reaches the views instead of collecting 429s; against ``bokji run`` expect
429s unless its limits are raised the same way (``BOKJI_RATE_LIMIT__ENABLED=false``). Writes
bench/results/fuzz.{json,md}, or fuzz-stack.{json,md} for a run against ``BOKJI_FUZZ_URL``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import re
import socket
import statistics
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from bench.machine import machine

RESULTS = Path(__file__).parent / "results"
KAKAO_TOKEN = "fuzz-kakao-token"
API_KEY = "fuzz-integration-key-0123456789"
SESSION_HEADER = "X-Bokji-Session"
WIDGET_PATHS = ("/api/v1/widget/", "/api/v1/history", "/api/v1/feedback")
OPEN_SESSIONS = 40
HIGH = "1000000/minute"
# Code points the generator mixes into text: Hangul, emoji, controls, separators, lone surrogates, noncharacters.
ODD = ["\ud800", "\udfff", "\x00", "\u2028", "\u202e", "\ufeff", "\uffff", "😭", "\U0010ffff", "\r\n", "\\", '"', "'", "<script>"]
POST_PATHS = [
    "/api/v1/chat",
    "/api/v1/widget/chat",
    "/api/v1/feedback",
    "/api/v1/widget/typing",
    "/kakao/skill",
    "/console/login",
    "/console/logout",
    "/console/api/chats/1/claim",
    "/console/api/chats/1/reply",
    "/console/api/chats/1/notes",
    "/admin/faqs/new",
    "/admin/import",
    "/admin/test",
]
GET_PATHS = [
    "/",
    "/widget.js",
    "/api/v1/history",
    "/api/v1/widget/events",
    "/console/",
    "/console/login",
    "/console/api/queue",
    "/console/api/chats/1",
    "/admin/",
    "/admin/faqs",
    "/kakao/health",
    "/static/widget.css",
    "/nothing/here",
]


class StandInRasa:
    """Answers every message at once like Rasa's REST webhook (a button, a source), so the fuzzer tests the web app."""

    def send(self, sender_id: str, text: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """A fixed answer."""
        return [
            {
                "text": "2026년 기초연금은 월 최대 349,700원이에요.",
                "buttons": [{"title": "신청 방법", "payload": "기초연금 신청"}],
            },
            {"custom": {"sources": [{"title": "보건복지부", "url": "https://www.mohw.go.kr", "updated_at": "2026-01-09"}]}},
        ]


@dataclass
class Probe:
    """One generated request."""

    kind: str
    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # sent on a bare socket (malformed HTTP that no client library would write)


def sendable(value: str) -> str:
    """A header value the client will send: no line break or NUL (see :func:`send`), no whitespace at either end."""
    return re.sub("[\r\n\x00]", "", value).strip()


@dataclass
class Credentials:
    """What the fuzzer may present: real sessions (id, token), tokens that must be refused, the API key."""

    sessions: list[tuple[str, str]]
    refused_tokens: list[str]
    api_key: str


class Generator:
    """Seeded, so a run can be repeated exactly (the tokens differ between runs; which one is used does not)."""

    def __init__(self, seed: int, kakao_token: str, get_paths: list[str], credentials: Credentials) -> None:
        """Start the random sequence."""
        self.rng = random.Random(seed)
        self.kakao_token = kakao_token
        self.get_paths = get_paths
        self.credentials = credentials

    def authorize(self, path: str, headers: dict[str, str]) -> str | None:
        """Add a session token (widget paths) or an API key (``/api/v1/chat``); the real session's id, if one was used."""
        rng, held = self.rng, self.credentials
        if path == "/api/v1/chat":
            roll = rng.random()
            if roll < 0.8:
                headers["Authorization"] = f"Bearer {held.api_key}"
            elif roll < 0.9:
                headers["Authorization"] = rng.choice([sendable(f"Bearer {self.text(20)}"), "Bearer", f"Basic {held.api_key}"])
            return None
        if not path.startswith(WIDGET_PATHS):
            return None
        roll = rng.random()
        if roll < 0.6 and held.sessions:
            session_id, token = rng.choice(held.sessions)
            headers[SESSION_HEADER] = token
            return session_id
        if roll < 0.8:
            headers[SESSION_HEADER] = rng.choice(held.refused_tokens)
        elif roll < 0.9:
            headers[SESSION_HEADER] = sendable(self.text(40))
        return None

    def text(self, longest: int = 40) -> str:
        """Korean, ASCII and odd code points mixed."""
        rng = self.rng
        parts = []
        for _ in range(rng.randint(0, longest)):
            pick = rng.random()
            if pick < 0.45:
                parts.append(chr(rng.randint(0xAC00, 0xD7A3)))
            elif pick < 0.7:
                parts.append(chr(rng.randint(0x20, 0x7E)))
            elif pick < 0.85:
                parts.append(rng.choice(ODD))
            else:
                parts.append(chr(rng.randint(0, 0x10FFFF)))
        return "".join(parts)

    def session(self) -> Any:
        """A valid session id most of the time, else something hostile."""
        rng = self.rng
        return rng.choice(
            [
                f"fuzz-{rng.randint(0, 500)}",
                f"fuzz-{rng.randint(0, 500)}",
                f"fuzz-{rng.randint(0, 500)}\n",
                self.text(10),
                rng.randint(-(2**70), 2**70),
                None,
                "." * rng.randint(1, 200),
                ["fuzz-1"],
            ]
        )

    def scalar(self) -> Any:
        """Any JSON scalar, big numbers included."""
        rng = self.rng
        return rng.choice(
            [None, True, False, rng.randint(-10, 10), rng.randint(2**62, 2**80), -(2**70), 1e308, 0.5, self.text(20)]
        )

    def value(self, depth: int = 0) -> Any:
        """A small random JSON value."""
        rng = self.rng
        if depth > 3 or rng.random() < 0.4:
            return self.scalar()
        if rng.random() < 0.5:
            return [self.value(depth + 1) for _ in range(rng.randint(0, 4))]
        return {self.text(8): self.value(depth + 1) for _ in range(rng.randint(0, 4))}

    def chat_body(self) -> dict[str, Any]:
        """A chat, feedback or typing body: right keys, values valid or not."""
        rng = self.rng
        body: dict[str, Any] = {
            "session_id": self.session(),
            "text": rng.choice([self.text(60), self.scalar(), "기초연금 얼마예요?"]),
        }
        if rng.random() < 0.3:
            body["label"] = rng.choice([self.text(30), self.scalar(), "상담원 연결"])
        if rng.random() < 0.3:
            body["message_id"] = rng.choice([rng.randint(1, 50), 2**63, 2**64 + 1, -1, self.scalar()])
            body["rating"] = rng.choice(["up", "down", self.text(5), None])
        if rng.random() < 0.1:
            body["text"] = "😭" * rng.randint(900, 1100)
        return body

    def kakao_body(self) -> dict[str, Any]:
        """A SkillPayload with random holes and odd values (never a callbackUrl: no request may leave the machine)."""
        rng = self.rng
        user_request: dict[str, Any] = {
            "utterance": rng.choice([self.text(60), "기초연금 얼마예요?", "답변 보기", self.scalar()]),
            "user": rng.choice(
                [{"id": rng.choice([f"u{rng.randint(0, 99)}", self.text(12)]), "type": "botUserKey"}, self.scalar()]
            ),
        }
        body: dict[str, Any] = {"userRequest": user_request if rng.random() < 0.9 else self.scalar()}
        if rng.random() < 0.4:
            body["action"] = {"clientExtra": rng.choice([{"payload": self.text(20)}, {"bokji": "fetch"}, self.value()])}
        return body

    def encoded(self, value: Any) -> bytes:
        """JSON with lone surrogates kept as escapes (valid JSON, invalid UTF-8 once decoded)."""
        return json.dumps(value).encode()

    def probe(self) -> Probe:
        """The next request."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.01:
            return Probe("raw_http", "RAW", "/", raw=self.raw_http())
        if roll < 0.22:
            return self.get_probe()
        path = rng.choice(POST_PATHS)
        headers = {"Content-Type": rng.choice(["application/json"] * 6 + ["text/plain", "application/x-www-form-urlencoded", ""])}
        if path == "/kakao/skill" and rng.random() < 0.9:
            headers["X-Bokji-Kakao-Token"] = self.kakao_token
        held = self.authorize(path, headers)
        shape = rng.random()
        if shape < 0.35:
            chat = self.chat_body()
            if held is not None:  # mostly the token's own session (or none named), so the views are reached
                pick = rng.random()
                if pick < 0.5:
                    chat["session_id"] = held
                elif pick < 0.75:
                    chat.pop("session_id")
            kind, body = "chat", self.encoded(chat)
        elif shape < 0.55:
            kind, body = "kakao", self.encoded(self.kakao_body())
        elif shape < 0.7:
            kind, body = "json", self.encoded(self.value())
        elif shape < 0.78:
            depth = rng.randint(500, 8000)
            kind, body = "deep", (rng.choice(["[", '{"a":']) * depth).encode()
        elif shape < 0.85:
            kind, body = "oversized", self.encoded({"session_id": "fuzz-1", "text": "가" * rng.randint(6000, 40000)})
        elif shape < 0.92:
            kind, body = "bytes", rng.randbytes(rng.randint(0, 300))
        else:
            kind = "form"
            body = f"username={self.text(10)}&password={self.text(10)}&csrf_token={self.text(5)}".encode("utf-8", "surrogatepass")
        method = "POST" if rng.random() < 0.93 else rng.choice(["PUT", "PATCH", "DELETE"])
        return Probe(kind, method, path, body, headers)

    def get_probe(self) -> Probe:
        """A GET with random query parameters, sometimes a Range header."""
        rng = self.rng
        path = rng.choice(self.get_paths)
        params = {"session_id": str(self.session()), "after_turn": str(self.scalar())}
        headers: dict[str, str] = {}
        held = self.authorize(path, headers)
        if path == "/api/v1/widget/events":
            params["session_id"] = "." + self.text(5)  # never a valid id: a valid one holds the stream open for a minute
            if headers.get(SESSION_HEADER) and rng.random() < 0.5:
                params["token"] = headers.pop(SESSION_HEADER)  # as the browser's EventSource sends it
        elif held is not None and rng.random() < 0.5:
            params["session_id"] = held
        if rng.random() < 0.2:
            headers["Range"] = rng.choice(["bytes=99999999-", "bytes=0-10", "bytes=abc", "bytes=5-1"])
        if rng.random() < 0.1:
            headers["Last-Event-ID"] = str(self.scalar())
        method = "GET" if rng.random() < 0.9 else rng.choice(["HEAD", "OPTIONS", "TRACE"])
        return Probe("get", method, path, None, headers, params)

    def raw_http(self) -> bytes:
        """Malformed HTTP: waitress answers these itself."""
        return self.rng.choice(
            [
                b"GARBAGE\r\n\r\n",
                b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 300_000 + b"\r\n\r\n",
                b"POST /api/v1/chat HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
                b"POST /api/v1/chat HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
            ]
        )


def in_process_app(data_dir: Path) -> tuple[Any, str, list[str]]:
    """The web app behind waitress on a free loopback port, with a stand-in Rasa and very high rate limits.

    Also returns tokens it must refuse that only its own key can make: expired ones.
    """
    from channels.app import create_app
    from channels.server_errors import create_korean_server
    from channels.settings import AppSettings, KakaoSettings, RateLimitSettings, WidgetSettings

    settings = AppSettings(
        data_dir=data_dir,
        kakao=KakaoSettings(token=KAKAO_TOKEN, callback_hosts=["callback.invalid"]),
        widget=WidgetSettings(streaming=False),
        rate_limit=RateLimitSettings(
            per_client=HIGH, per_session=HIGH, session_chars="100000000/minute", login=HIGH, handoffs=HIGH, sessions=HIGH
        ),
        api_keys=f"fuzz:{API_KEY}",
    )
    app = create_app(settings, engine=StandInRasa())  # type: ignore[arg-type]
    expired = [expired_token(app.extensions["bokji.citizen_sessions"]) for _ in range(3)]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = create_korean_server(app, host="127.0.0.1", port=port, threads=16)
    threading.Thread(target=server.run, name="fuzz-web", daemon=True).start()
    return server, f"http://127.0.0.1:{port}", expired


def expired_token(sessions: Any) -> str:
    """A token of the app's own signing, issued longer ago than sessions live."""
    from itsdangerous import TimestampSigner

    issued_at = int(time.time()) - sessions.ttl_s - 60
    original = TimestampSigner.get_timestamp
    TimestampSigner.get_timestamp = lambda self: issued_at  # type: ignore[method-assign]
    try:
        return str(sessions.issue().token)
    finally:
        TimestampSigner.get_timestamp = original  # type: ignore[method-assign]


def open_sessions(base: str, count: int, refused: list[str]) -> Credentials:
    """Real sessions from ``POST /api/v1/widget/session``, and tokens that must be refused (forged, truncated, expired)."""
    sessions = []
    with httpx.Client(timeout=30) as http:
        for _ in range(count):
            response = http.post(f"{base}/api/v1/widget/session")
            if response.status_code != 201:
                raise SystemExit(f"POST /api/v1/widget/session answered {response.status_code}: {response.text[:200]}")
            body = response.json()
            sessions.append((str(body["session_id"]), str(body["token"])))
    token = sessions[0][1]
    forged = [token[:-3] + "abc", token.rsplit(".", 1)[0], "InctMSI" + token[token.index(".") :], "x.y.z", *refused]
    return Credentials(sessions, forged, os.environ.get("BOKJI_FUZZ_API_KEY", API_KEY))


def send(http: httpx.Client, base: str, probe: Probe) -> tuple[int, float]:
    """Send one probe; its status (0: no answer) and latency in milliseconds."""
    started = time.perf_counter()
    if probe.raw is not None:
        host, port = base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            try:
                sock.sendall(probe.raw)
                head = sock.recv(64)
            except OSError:
                head = b""
        parts = head.split(b" ")
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        return status, (time.perf_counter() - started) * 1000
    # Query and header values as raw UTF-8 bytes (lone surrogates too): a client library would refuse to encode them.
    query = "&".join(f"{k}={quote(v.encode('utf-8', 'surrogatepass'), safe='')}" for k, v in probe.params.items())
    # (Line breaks and NUL would make a second header or an invalid request that the client refuses to send.)
    headers = {k.encode(): re.sub("[\r\n\x00]", "", v).encode("utf-8", "surrogatepass") for k, v in probe.headers.items()}
    url = f"{base}{probe.path}?{query}" if query else base + probe.path
    try:
        response = http.request(probe.method, url, content=probe.body, headers=headers)
        status = response.status_code
    except httpx.HTTPError:
        status = 0
    return status, (time.perf_counter() - started) * 1000


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank), in ms with one decimal."""
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 1)


def markdown(report: dict[str, Any]) -> str:
    """The report as the README quotes it."""
    latency = report["latency_ms"]
    statuses = ", ".join(f"{code}: {count}" for code, count in report["status"].items())
    lines = [
        f"# Fuzzing the public endpoints ({report['date']})",
        "",
        f"- target: {report['target']}; {report['limits']}",
        f"- requests: {report['requests']:,} (seed {report['seed']}, {report['workers']} at a time, {report['wall_s']} s)",
        f"- **responses >= 500: {report['server_errors']}** (target 0); no answer at all: {report['no_answer']}",
        f"- latency ms: p50 {latency['p50']}, p95 {latency['p95']}, p99 {latency['p99']}, max {latency['max']}",
        f"- /healthz before and after: {report['healthz']['before']}, {report['healthz']['after']}",
        f"- widget requests carried one of {report['sessions']['real']} real session tokens, one of "
        f"{report['sessions']['refused_tokens']} forged/expired ones, random text or none",
        f"- statuses: {statuses}",
        "",
        "| kind | requests | >= 500 |",
        "| --- | ---: | ---: |",
    ]
    lines += [f"| {kind} | {row['requests']} | {row['server_errors']} |" for kind, row in report["by_kind"].items()]
    if report["failures"]:
        lines += ["", "First responses >= 500 or without an answer (status 0):", ""] + [
            f"- {f['status']} {f['method']} {f['path']} ({f['kind']})" for f in report["failures"]
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    """Generate, send, count, write the results; exit 1 when any response was 500 or more."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    target = os.environ.get("BOKJI_FUZZ_URL", "").rstrip("/")
    kakao_token = os.environ.get("BOKJI_FUZZ_KAKAO_TOKEN", KAKAO_TOKEN)
    server, scratch = None, None
    expired: list[str] = []
    if target:
        base, limits = target, "limits as the running stack has them"
    else:
        logging.getLogger("channels").setLevel(logging.ERROR)  # each refusal is logged once; 10,000 of them are noise here
        scratch = tempfile.TemporaryDirectory(prefix="bokji-fuzz-")
        server, base, expired = in_process_app(Path(scratch.name))
        limits = "in-process app, stand-in Rasa, rate limits raised to 1,000,000/minute so the views are reached"
    # /healthz takes no input and is 503 by design while a dependency is away or too busy to answer its probe
    # (the in-process run has neither Rasa nor the action server): it is read before and after the run instead.
    credentials = open_sessions(base, OPEN_SESSIONS, expired)
    generator = Generator(args.seed, kakao_token, GET_PATHS, credentials)
    health_before = httpx.get(f"{base}/healthz", timeout=30).status_code
    probes = [generator.probe() for _ in range(args.requests)]
    print(f"sending {len(probes):,} requests to {base} ...")  # noqa: T201
    started = time.monotonic()
    with httpx.Client(timeout=httpx.Timeout(30.0), follow_redirects=False) as http, ThreadPoolExecutor(args.workers) as pool:
        results = list(pool.map(lambda p: send(http, base, p), probes))
    wall_s = round(time.monotonic() - started, 1)
    time.sleep(2)  # let the last answers finish before asking the stack how it is
    health_after = httpx.get(f"{base}/healthz", timeout=30).status_code
    statuses = Counter(status for status, _ in results)
    by_kind: dict[str, dict[str, int]] = {}
    failures: list[dict[str, Any]] = []
    for probe, (status, _) in zip(probes, results, strict=True):
        row = by_kind.setdefault(probe.kind, {"requests": 0, "server_errors": 0})
        row["requests"] += 1
        row["server_errors"] += status >= 500
        if (status >= 500 or status == 0) and len(failures) < 20:
            raw = probe.raw[:40].decode("latin-1") if probe.raw else None
            failures.append({"status": status, "method": probe.method, "path": probe.path, "kind": probe.kind, "raw": raw})
    latencies = [ms for _, ms in results]
    report = {
        "date": date.today().isoformat(),
        "target": base if target else "in-process web app (waitress, loopback)",
        "limits": limits,
        "seed": args.seed,
        "workers": args.workers,
        "requests": len(results),
        "sessions": {"real": len(credentials.sessions), "refused_tokens": len(credentials.refused_tokens)},
        "server_errors": sum(count for status, count in statuses.items() if status >= 500),
        "no_answer": statuses.get(0, 0),
        "status": {str(code): statuses[code] for code in sorted(statuses)},
        "latency_ms": {
            "p50": percentile(latencies, 0.5),
            "p95": percentile(latencies, 0.95),
            "p99": percentile(latencies, 0.99),
            "max": round(max(latencies), 1),
            "mean": round(statistics.fmean(latencies), 1),
        },
        "wall_s": wall_s,
        "healthz": {"before": health_before, "after": health_after},
        "by_kind": dict(sorted(by_kind.items())),
        "failures": failures,
        "machine": machine(),
    }
    RESULTS.mkdir(exist_ok=True)
    name = "fuzz-stack" if target else "fuzz"  # a run against `bokji run` keeps the in-process figures
    (RESULTS / f"{name}.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (RESULTS / f"{name}.md").write_text(markdown(report), encoding="utf-8")
    print(markdown(report))  # noqa: T201
    if server is not None:
        server.close()
    if scratch is not None:
        scratch.cleanup()
    raise SystemExit(1 if report["server_errors"] else 0)


if __name__ == "__main__":
    main()
