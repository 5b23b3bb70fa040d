"""Start Rasa, the action server and the web app; wait for health; stop all on Ctrl-C or on a death.

Used by ``make run`` and by the integration tests, so both run the stack the same way.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import httpx

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Service:
    """One process of the stack and how to tell it is ready."""

    name: str
    argv: list[str]
    port: int
    health_path: str
    cwd: Path = ROOT
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def log_path(self, log_dir: Path) -> Path:
        """Where this process writes its output."""
        return log_dir / f"{self.name}.log"


def _ready_rasa(response: httpx.Response) -> bool:
    return response.is_success and bool(response.json().get("model_file"))


# The secrets that keep Rasa's HTTP API and the action server closed to anyone but the stack itself.
SECRETS = ("BOKJI_RASA_TOKEN", "BOKJI_ACTIONS_TOKEN")


def with_secrets(env: dict[str, str]) -> dict[str, str]:
    """``env`` with a random value for each secret it lacks (a new one per `bokji run` unless set by the operator)."""
    return {**env, **{name: env.get(name) or secrets.token_urlsafe(32) for name in SECRETS}}


def default_services(host: str, ports: tuple[int, int, int] = (5005, 5055, 8000), rasa_token: str = "") -> list[Service]:
    """The three processes with their commands, as `make run` starts them (Rasa's API needs ``rasa_token``)."""
    rasa_port, actions_port, web_port = ports
    rasa_bin = os.environ.get("BOKJI_RASA_BIN", str(ROOT / ".venv-rasa" / "bin" / "rasa"))
    python = os.environ.get("BOKJI_PYTHON", str(ROOT / ".venv" / "bin" / "python"))
    return [
        Service(
            "actions",
            [python, "-m", "actions"],
            actions_port,
            "/health",
        ),
        Service(
            "rasa",
            [
                rasa_bin,
                "run",
                "--enable-api",
                *(["--auth-token", rasa_token] if rasa_token else []),
                "--interface",
                host,
                "--port",
                str(rasa_port),
                "--model",
                "models",
                "--endpoints",
                "endpoints.yml",
                "--credentials",
                "credentials.yml",
            ],
            rasa_port,
            "/status",
            cwd=ROOT / "bot",
        ),
        Service("web", [python, "-m", "channels"], web_port, "/healthz"),
    ]


def stack_env(host: str, ports: tuple[int, int, int], data_dir: Path | None = None) -> dict[str, str]:
    """Environment shared by the three processes (quiet TensorFlow, no telemetry, our ports)."""
    rasa_port, actions_port, web_port = ports
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(ROOT),
        RASA_TELEMETRY_ENABLED="false",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        TF_CPP_MIN_LOG_LEVEL="2",
        PYTHONUNBUFFERED="1",
        BOKJI_ACTION_URL=f"http://{host}:{actions_port}/webhook",
        BOKJI_ACTIONS_HOST=host,
        BOKJI_ACTIONS_PORT=str(actions_port),
        SANIC_HOST=host,
        BOKJI_WEB_HOST=host,
        BOKJI_WEB_PORT=str(web_port),
        BOKJI_RASA_URL=f"http://{host}:{rasa_port}",
        BOKJI_ACTIONS_URL=f"http://{host}:{actions_port}",
    )
    if data_dir is not None:
        env["BOKJI_DATA_DIR"] = str(data_dir)
    return with_secrets(env)


class StackError(RuntimeError):
    """A process could not start, or died."""


class Stack:
    """The running processes, started in dependency order."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        ports: tuple[int, int, int] = (5005, 5055, 8000),
        log_dir: Path = ROOT / "var" / "log",
        env: dict[str, str] | None = None,
        say: Callable[[str], None] = print,
    ) -> None:
        """Describe the stack; nothing starts until :meth:`start`."""
        self.host = host
        self.env = with_secrets(env or stack_env(host, ports))
        self.services = default_services(host, ports, self.env["BOKJI_RASA_TOKEN"])
        self.log_dir = log_dir
        self._say = say

    def url(self, name: str) -> str:
        """Base URL of a service."""
        service = next(s for s in self.services if s.name == name)
        return f"http://{self.host}:{service.port}"

    def start(self, timeout_s: float = 300.0) -> None:
        """Start every process and wait until each reports healthy."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for service in self.services:
            with socket.socket() as sock:
                if sock.connect_ex((self.host, service.port)) == 0:
                    raise StackError(f"port {service.port} ({service.name}) is already in use: stop what runs there")
        for service in self.services:
            self._launch(service, self.env)
        deadline = time.monotonic() + timeout_s
        for service in self.services:
            self._wait(service, deadline)
            self._say(f"{service.name} is up: {self.url(service.name)}")

    def restart(self, name: str, env: dict[str, str] | None = None, timeout_s: float = 300.0) -> None:
        """Stop one process and start it again, with ``env`` instead of the stack's if given; wait until it is healthy.

        The others keep running: the action server can change its model backend without Rasa reloading its model.
        """
        service = next(s for s in self.services if s.name == name)
        if service.process is not None and service.process.poll() is None:
            self._terminate([service.process], grace_s=15.0)
        deadline = time.monotonic() + timeout_s
        while True:
            with socket.socket() as sock:
                if sock.connect_ex((self.host, service.port)) != 0:
                    break
            if time.monotonic() > deadline:
                raise StackError(f"port {service.port} ({service.name}) is still in use after stopping it")
            time.sleep(0.2)
        env = {**env, **{name: self.env[name] for name in SECRETS if not env.get(name)}} if env else self.env
        self._launch(service, env)  # the stack's secrets, or Rasa and the actions could no longer talk
        self._wait(service, deadline)
        self._say(f"{service.name} is up again: {self.url(service.name)}")

    def _launch(self, service: Service, env: dict[str, str]) -> None:
        log = service.log_path(self.log_dir).open("ab")
        service.process = subprocess.Popen(
            service.argv,
            cwd=service.cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._say(f"starting {service.name} (pid {service.process.pid}, log {service.log_path(self.log_dir)})")

    def _wait(self, service: Service, deadline: float) -> None:
        url = f"{self.url(service.name)}{service.health_path}"
        while time.monotonic() < deadline:
            self.check()
            try:
                # Rasa's /status is behind its auth token; the other health routes are open.
                params = {"token": self.env["BOKJI_RASA_TOKEN"]} if service.name == "rasa" else None
                response = httpx.get(url, params=params, timeout=2)
                ready = (
                    _ready_rasa(response)
                    if service.name == "rasa"
                    else response.status_code < 500 or (service.name == "web" and response.status_code == 503)
                )
                if ready:
                    return
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.5)
        raise StackError(f"{service.name} did not become healthy at {url}; see {service.log_path(self.log_dir)}")

    def check(self) -> None:
        """Raise if any process has died, naming it and showing the end of its log."""
        for service in self.services:
            if service.process is not None and service.process.poll() is not None:
                tail = service.log_path(self.log_dir).read_text(errors="replace").splitlines()[-15:]
                raise StackError(
                    f"{service.name} exited with code {service.process.returncode}; last log lines:\n" + "\n".join(tail)
                )

    def stop(self, grace_s: float = 15.0) -> None:
        """Terminate every process (its whole group), then kill what is left after ``grace_s``."""
        self._terminate([s.process for s in reversed(self.services) if s.process and s.process.poll() is None], grace_s)

    @staticmethod
    def _terminate(running: list[subprocess.Popen[bytes]], grace_s: float) -> None:
        for proc in running:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace_s
        for proc in running:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def run_stack(host: str = "127.0.0.1", ports: tuple[int, int, int] = (5005, 5055, 8000)) -> int:
    """`make run`: start, print the URLs, watch; Ctrl-C (or SIGTERM) stops everything cleanly."""
    stack = Stack(host=host, ports=ports)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    # Set both explicitly: a shell's background job inherits SIGINT as ignored.
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        print("starting bokji-bot (Rasa loads its model in about a minute)...")  # noqa: T201
        stack.start()
        print(  # noqa: T201
            "\nbokji-bot is running:\n"
            f"  demo page      {stack.url('web')}/\n"
            f"  widget script  {stack.url('web')}/widget.js\n"
            f"  chat API       {stack.url('web')}/api/v1/chat\n"
            f"  kakao skill    {stack.url('web')}/kakao/skill (set BOKJI_KAKAO__TOKEN)\n"
            f"  health         {stack.url('web')}/healthz\n"
            f"  staff console  {stack.url('web')}/console (first admin: bokji user add <id> --name <이름> --role admin)\n"
            f"  rasa           {stack.url('rasa')}\n"
            f"  action server  {stack.url('actions')}\n"
            f"  logs           {stack.log_dir}/\n"
            "Press Ctrl-C to stop."
        )
        while True:
            stack.check()
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nstopping...")  # noqa: T201
        stack.stop()
        print("stopped.")  # noqa: T201
        return 0
    except StackError as exc:
        print(f"\nerror: {exc}", file=sys.stderr)  # noqa: T201
        print("stopping the other processes...", file=sys.stderr)  # noqa: T201
        stack.stop()
        return 1
