"""Requests waitress refuses before the app runs get Korean JSON too (and an unsupported encoding is a 400, not a 501)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from channels.server_errors import create_korean_server


@pytest.fixture
def address() -> Iterator[tuple[str, int]]:
    app = Flask("probe")
    app.add_url_rule("/", "index", lambda: "ok")
    server: Any = create_korean_server(app, host="127.0.0.1", port=0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield "127.0.0.1", server.socket.getsockname()[1]
    server.close()


def exchange(address: tuple[str, int], raw: bytes) -> tuple[int, dict[str, str], Any]:
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(raw)
        data = b""
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except ConnectionResetError:  # waitress closes on an oversized request once it has answered
            pass
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split(" ")[1]), headers, json.loads(body.decode("utf-8"))


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nConnection: close\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 300_000 + b"\r\n\r\n", 431),
    ],
)
def test_waitress_errors_are_korean_json(address: tuple[str, int], raw: bytes, status: int) -> None:
    got, headers, body = exchange(address, raw)
    assert got == status
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert any("\uac00" <= c <= "\ud7a3" for c in body["error"]["message"])
    assert "waitress" not in json.dumps(body)
