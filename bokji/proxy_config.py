"""The nginx configuration in front of the web-app replicas and between the cells, from deploy/nginx.conf.template.

Every web replica serves every path (the widget, KakaoTalk, the console): their state is in the shared database.
A cell is one web app, one Rasa and one action server that prefer each other: the web app reaches Rasa and
the action server (health, streamed answers) through nginx, and so does Rasa's action endpoint. Each cell's
listener sends to its own process while it is up, else to another cell's (``backup``), so killing a Rasa or an
action server costs no turn. A streamed answer is read from the action server that writes it: both the action
call and the stream read take the same path, so they meet on the same process.

The scale-out test renders it for processes on loopback; ``python -m bokji.proxy_config`` writes deploy/nginx.conf,
the copy deploy/compose.yaml mounts (a unit test keeps the two in step).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "deploy" / "nginx.conf.template"
COMPOSE_COPY = ROOT / "deploy" / "nginx.conf"


@dataclass(frozen=True)
class Cell:
    """One cell's Rasa and action server (host:port each) and where nginx listens for them."""

    rasa: str
    actions: str
    rasa_listen: str
    actions_listen: str


@dataclass(frozen=True)
class ProxyLayout:
    """Where nginx listens, what it proxies to, and where it keeps its files."""

    upstreams: Sequence[str]
    cells: Sequence[Cell] = field(default_factory=tuple)
    listen: str = "80"
    workers: str = "auto"
    pid: str = "/run/nginx.pid"
    error_log: str = "/var/log/nginx/error.log"
    access_log: str = "/var/log/nginx/access.log"
    temp_dir: str = "/var/cache/nginx"
    upstream_header: bool = False  # X-Bokji-Upstream on every citizen response (tests: which replica answered)


# The compose file's cells: web-N, rasa-N, actions-N; nginx listens on 510N (Rasa) and 520N (actions) privately.
COMPOSE_LAYOUT = ProxyLayout(
    upstreams=("web-1:8000", "web-2:8000"),
    cells=tuple(Cell(f"rasa-{n}:5005", f"actions-{n}:5055", f"510{n}", f"520{n}") for n in (1, 2)),
)


def _cell_blocks(cells: Sequence[Cell]) -> str:
    blocks = []
    for index, cell in enumerate(cells, start=1):
        for kind, own, listen in (("rasa", cell.rasa, cell.rasa_listen), ("actions", cell.actions, cell.actions_listen)):
            others = [getattr(c, kind) for c in cells if c is not cell]
            servers = "\n".join(
                [f"        server {own} max_fails=1 fail_timeout=5s;"]
                + [f"        server {address} backup max_fails=1 fail_timeout=5s;" for address in others]
            )
            blocks.append(
                f"    upstream {kind}_{index} {{\n{servers}\n        keepalive 8;\n    }}\n"
                f"    server {{\n        listen {listen};\n"
                '        proxy_http_version 1.1;\n        proxy_set_header Connection "";\n'
                "        proxy_next_upstream error timeout;\n        proxy_connect_timeout 2s;\n"
                "        proxy_buffering off;\n        proxy_read_timeout 120s;\n"
                f"        location / {{\n            proxy_pass http://{kind}_{index};\n        }}\n    }}"
            )
    return "\n".join(blocks)


def render_nginx(layout: ProxyLayout, template: Path = TEMPLATE) -> str:
    """The configuration text for ``layout``."""
    if not layout.upstreams:
        raise ValueError("nginx needs at least one web-app upstream (host:port)")
    servers = "\n".join(f"        server {address} max_fails=1 fail_timeout=5s;" for address in layout.upstreams)
    extra = "        add_header X-Bokji-Upstream $upstream_addr always;" if layout.upstream_header else ""
    values = {
        "WORKERS": layout.workers,
        "PID": layout.pid,
        "ERROR_LOG": layout.error_log,
        "ACCESS_LOG": layout.access_log,
        "TEMP_DIR": layout.temp_dir,
        "UPSTREAM_SERVERS": servers,
        "LISTEN": layout.listen,
        "EXTRA": extra,
        "CELLS": _cell_blocks(layout.cells),
    }
    text = template.read_text()
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    if "@" in "".join(line.split("#")[0] for line in text.splitlines()):
        raise ValueError("deploy/nginx.conf.template has a placeholder render_nginx does not know")
    return text


def compose_config() -> str:
    """The configuration deploy/compose.yaml mounts into its nginx container."""
    return render_nginx(COMPOSE_LAYOUT)


def main(argv: Sequence[str] | None = None) -> int:
    """Write deploy/nginx.conf (or ``--out``) from the template."""
    parser = argparse.ArgumentParser(description="Write the nginx configuration of deploy/compose.yaml")
    parser.add_argument("--out", type=Path, default=COMPOSE_COPY)
    args = parser.parse_args(argv)
    args.out.write_text(compose_config())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
