"""The 2+2+2 replica set on loopback for a benchmark: PostgreSQL, Redis, two cells (Rasa, actions, web) behind nginx.

The same layout as tests/integration/test_scale_out.py: each cell's web app reaches Rasa and its action server
through nginx's private listeners (its own cell first), Rasa keeps trackers in PostgreSQL with a Redis lock store,
the web apps share the database and their rate-limit counts in Redis. The action servers run with the model off
(``BOKJI_KNOWLEDGE__LLM__BACKEND=none``): six processes with a model each do not fit a small box.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bokji.proxy_config import Cell
from bokji.supervisor import Stack, shared_state_env, stack_env, start_together
from tests.nginx import NginxProxy
from tests.postgres import PostgresServer, free_port
from tests.redis_server import RedisServer

MODEL_NOTE = "action servers with the model off (BOKJI_KNOWLEDGE__LLM__BACKEND=none): model questions get FAQ/extract/decline"


@dataclass
class ReplicaSet:
    """What a benchmark needs: the proxy's URL and every process's pid by name."""

    proxy: str
    cells: list[Stack]
    postgres: PostgresServer
    redis: RedisServer
    nginx: NginxProxy

    def pids(self) -> dict[str, int]:
        """``rasa-1``, ``actions-1``, ``web-1``, ..., ``postgres``, ``redis``, ``nginx``: each top process."""
        out = {
            f"{s.name}-{n}": s.process.pid
            for n, cell in enumerate(self.cells, start=1)
            for s in cell.services
            if s.process is not None
        }
        postmaster = self.postgres.data_dir / "postmaster.pid"
        if postmaster.exists():
            out["postgres"] = int(postmaster.read_text().split()[0])
        for name, server in (("redis", self.redis), ("nginx", self.nginx)):
            if server.process is not None:
                out[name] = server.process.pid
        return out


@contextmanager
def replica_set(base: Path, env: dict[str, str], timeout_s: float = 900) -> Iterator[ReplicaSet]:
    """Start everything (the cells in parallel), yield, stop everything; ``env`` is added to every cell's environment."""
    postgres, redis = PostgresServer(), RedisServer()
    with postgres as database_url, redis as redis_url:
        ports = [(free_port(), free_port(), free_port()) for _ in range(2)]
        cells = [Cell(f"127.0.0.1:{r}", f"127.0.0.1:{a}", f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}")
                 for r, a, _ in ports]  # fmt: skip
        shared = {
            "BOKJI_RASA_TOKEN": secrets.token_urlsafe(32),
            "BOKJI_ACTIONS_TOKEN": secrets.token_urlsafe(32),
            "BOKJI_CONSOLE__SECRET_KEY": secrets.token_urlsafe(32),
            "BOKJI_PRIVACY__ID_KEY": secrets.token_urlsafe(32),
            "BOKJI_DATABASE_URL": database_url,
            "BOKJI_REDIS_URL": redis_url,
            "BOKJI_RATE_LIMIT__STORAGE_URI": redis_url,
            "BOKJI_RATE_LIMIT__PROXY_HOPS": "1",
            "BOKJI_KNOWLEDGE__LLM__BACKEND": "none",
            **env,
        }
        stacks = []
        for index, (triple, cell) in enumerate(zip(ports, cells, strict=True), start=1):
            (base / f"cell-{index}").mkdir(parents=True, exist_ok=True)
            cell_env = {
                **stack_env("127.0.0.1", triple, base / f"cell-{index}"),
                **shared,
                "BOKJI_RASA_URL": f"http://{cell.rasa_listen}",
                "BOKJI_ACTIONS_URL": f"http://{cell.actions_listen}",
                "BOKJI_ACTION_URL": f"http://{cell.actions_listen}/webhook",
            }
            del cell_env["BOKJI_RASA_TRACKER_URL"]  # derived from BOKJI_DATABASE_URL, as `bokji run` does
            cell_env.update(shared_state_env(cell_env))
            stacks.append(Stack(ports=triple, log_dir=base / f"log-{index}", env=cell_env, say=lambda _: None))
        nginx = NginxProxy([f"127.0.0.1:{w}" for _, _, w in ports], cells)
        proxy = nginx.start()
        errors = start_together(stacks, timeout_s)
        try:
            if errors:
                raise errors[0]
            yield ReplicaSet(proxy, stacks, postgres, redis, nginx)
        finally:
            for stack in stacks:
                stack.stop()
            nginx.stop()
