"""A stand-in for an Ollama server speaking its documented protocol, for unit tests of both Ollama backends.

It listens on 127.0.0.1 on an ephemeral port and answers like Ollama:

- ``POST /api/chat``: one JSON object when ``"stream": false``, newline-delimited JSON chunks ending
  with ``"done": true`` otherwise, and ``{"error": ...}`` with a 404 for an unknown model;
- ``POST /api/embed``: one vector per input, from a hash of the text (dimension 8).

Every request is recorded so tests can check what the client sent.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

REPLY = "기초연금은 월 349,700원까지 받을 수 있어요 [1]."


class FakeOllama:
    """Records each request; chat replies with ``reply`` in chunks, after ``delay_s``."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.reply = REPLY
        self.delay_s = 0.0
        self.models = {"qwen2.5:7b-instruct"}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append({"path": self.path, **body})
                if self.path == "/api/embed":
                    inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
                    vectors = [np.random.default_rng(abs(hash(t)) % 2**32).normal(size=8).tolist() for t in inputs]
                    return self._json(200, {"model": body["model"], "embeddings": vectors})
                if self.path != "/api/chat":
                    return self._json(404, {"error": "not found"})
                if body["model"] not in fake.models:
                    return self._json(404, {"error": f"model '{body['model']}' not found"})
                time.sleep(fake.delay_s)
                created = "2026-05-01T00:00:00Z"
                if body.get("stream") is False:
                    return self._json(200, {
                        "model": body["model"], "created_at": created,
                        "message": {"role": "assistant", "content": fake.reply},
                        "done": True, "done_reason": "stop", "total_duration": 1000, "eval_count": 12,
                    })  # fmt: skip
                self.send_response(200)
                self.send_header("Content-Type", "application/x-ndjson")
                self.end_headers()
                for i in range(0, len(fake.reply), 4):
                    chunk = {"model": body["model"], "created_at": created,
                             "message": {"role": "assistant", "content": fake.reply[i : i + 4]}, "done": False}  # fmt: skip
                    self.wfile.write((json.dumps(chunk, ensure_ascii=False) + "\n").encode())
                    self.wfile.flush()
                done = {"model": body["model"], "created_at": created, "message": {"role": "assistant", "content": ""},
                        "done": True, "done_reason": "stop", "total_duration": 1000, "eval_count": 12}  # fmt: skip
                self.wfile.write((json.dumps(done) + "\n").encode())

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> None:
        """Serve in a daemon thread."""
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        """Stop serving and free the port."""
        self.server.shutdown()
        self.server.server_close()

    def chat_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == "/api/chat"]
