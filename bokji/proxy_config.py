"""The nginx configuration in front of several web-app replicas, rendered from deploy/nginx.conf.template.

The scale-out test renders it for processes on loopback; ``python -m bokji.proxy_config`` writes
deploy/nginx.conf, the copy the compose file mounts (a unit test keeps the two in step).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "deploy" / "nginx.conf.template"
COMPOSE_COPY = ROOT / "deploy" / "nginx.conf"
# The web replicas of deploy/compose.yaml (one per cell: web-N talks to rasa-N and actions-N).
COMPOSE_UPSTREAMS = ("web-1:8000", "web-2:8000")


@dataclass(frozen=True)
class ProxyLayout:
    """Where nginx listens, what it proxies to, and where it keeps its files."""

    upstreams: Sequence[str]
    listen: str = "80"
    workers: str = "auto"
    pid: str = "/run/nginx.pid"
    error_log: str = "/var/log/nginx/error.log"
    access_log: str = "/var/log/nginx/access.log"
    temp_dir: str = "/var/cache/nginx"
    upstream_header: bool = False  # X-Bokji-Upstream on every response (tests: which replica answered)


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
    }
    text = template.read_text()
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    if "@" in "".join(line.split("#")[0] for line in text.splitlines()):
        raise ValueError("deploy/nginx.conf.template has a placeholder render_nginx does not know")
    return text


def compose_config() -> str:
    """The configuration deploy/compose.yaml mounts into its nginx container."""
    return render_nginx(ProxyLayout(COMPOSE_UPSTREAMS))


def main(argv: Sequence[str] | None = None) -> int:
    """Write deploy/nginx.conf (or ``--out``) from the template."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=COMPOSE_COPY)
    args = parser.parse_args(argv)
    args.out.write_text(compose_config())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
