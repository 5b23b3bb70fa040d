"""A throw-away nginx for tests: deploy/nginx.conf.template rendered for loopback upstreams, on a free port.

nginx comes from Debian's package (`make nginx`); it runs in the foreground with its pid, logs and temp files
in a temp dir. As root its workers run as ``nobody``, so the directory is world-readable.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bokji.proxy_config import Cell, ProxyLayout, render_nginx
from tests.local_server import LocalServer
from tests.postgres import free_port


class NginxUnavailable(RuntimeError):
    """nginx is not installed."""


def find_nginx() -> str:
    """The nginx binary (Debian puts it in /usr/sbin, often off PATH)."""
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).is_file()), None)
    if found is None:
        raise NginxUnavailable("no nginx: run `make nginx` (it installs Debian's nginx package)")
    return found


class NginxProxy(LocalServer):
    """Start with ``with NginxProxy(["127.0.0.1:8001", ...]) as url:``; stopped and deleted on exit.

    ``cells`` adds the private listeners for each cell's Rasa and action server (bokji/proxy_config.py).
    """

    name = "nginx"

    def __init__(self, upstreams: Sequence[str], cells: Sequence[Cell] = ()) -> None:
        super().__init__()
        self.binary = find_nginx()
        self.upstreams = list(upstreams)
        self.cells = list(cells)
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def access_log(self) -> Path:
        assert self.root_dir is not None, "not started"
        return self.root_dir / "access.log"

    def start(self, timeout_s: float = 15.0) -> str:
        """Render the configuration, check it (``nginx -t``), start it and wait for the port; returns the URL."""
        self.root_dir = Path(tempfile.mkdtemp(prefix="bokji-nginx-"))
        self.root_dir.chmod(0o755)
        (self.root_dir / "temp").mkdir()
        self.port = free_port()
        layout = ProxyLayout(
            self.upstreams,
            self.cells,
            listen=f"127.0.0.1:{self.port}",
            workers="1",  # one worker: one round-robin cursor, so consecutive requests alternate
            pid=str(self.root_dir / "nginx.pid"),
            error_log=str(self.root_dir / "error.log"),
            access_log=str(self.access_log),
            temp_dir=str(self.root_dir / "temp"),
            upstream_header=True,
        )
        conf = self.root_dir / "nginx.conf"
        conf.write_text(render_nginx(layout))
        argv = [self.binary, "-p", str(self.root_dir), "-c", str(conf), "-e", str(self.root_dir / "error.log")]
        checked = subprocess.run([*argv, "-t", "-q"], capture_output=True, text=True, timeout=30)
        if checked.returncode != 0:
            self.stop()
            raise RuntimeError(f"nginx -t refused the rendered configuration:\n{checked.stderr}")
        self.launch([*argv, "-g", "daemon off;"])
        self.wait_until(self._listening, timeout_s, self.root_dir / "error.log")
        return self.url

    def _listening(self) -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) == 0
