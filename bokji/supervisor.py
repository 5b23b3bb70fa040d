"""Start Rasa, the action server and the web app; wait for health; restart any that dies; stop all on Ctrl-C.

Used by ``make run`` and by the integration tests, so both run the stack the same way.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import FrameType
from urllib.parse import unquote, urlsplit

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


def default_services(
    host: str, ports: tuple[int, int, int] = (5005, 5055, 8000), rasa_token: str = "", endpoints: str = "endpoints.yml"
) -> list[Service]:
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
                # One argument with "=": a random token may begin with "-", which argparse would take for an option.
                *([f"--auth-token={rasa_token}"] if rasa_token else []),
                "--interface",
                host,
                "--port",
                str(rasa_port),
                "--model",
                "models",
                "--endpoints",
                endpoints,
                "--credentials",
                "credentials.yml",
                # Our JSON lines (or BOKJI_LOG_FORMAT=text), masked, with the turn's request id (bot/logging.yml).
                "--logging-config-file",
                "logging.yml",
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
    # One math thread per process: three processes share the cores, and OpenBLAS's or TensorFlow's helper threads only
    # spin waiting for a core another process holds (py-spy under 50 citizens showed the action server's 36-microsecond
    # vector product as 20 % of its busy time). The model and the embedder take their own thread counts.
    # An operator's value wins.
    for name in ("OPENBLAS_NUM_THREADS", "TF_INTRA_OP_PARALLELISM_THREADS", "TF_INTER_OP_PARALLELISM_THREADS"):
        env.setdefault(name, "1")
    if data_dir is not None:
        env["BOKJI_DATA_DIR"] = str(data_dir)
    env.update(shared_state_env(env))
    return with_secrets(env)


RESTARTS_FILE = "restarts.json"


def shared_state_env(env: dict[str, str]) -> dict[str, str]:
    """Where the stack keeps shared state: Rasa's tracker store and Redis lock store (bot/endpoints*.yml), the restarts file.

    The tracker store follows the web app's settings (``BOKJI_TRACKER_URL``, else the staff database on
    PostgreSQL, else ``<data_dir>/rasa_tracker.sqlite3``), so erasing a conversation reaches the same rows.
    An operator's own ``BOKJI_RASA_TRACKER_URL`` wins.
    """
    from channels.privacy.tracker import rasa_tracker_url, tracker_database_url

    data_dir = Path(env.get("BOKJI_DATA_DIR") or ROOT / "var")
    tracker = env.get("BOKJI_TRACKER_URL") or tracker_database_url(env.get("BOKJI_DATABASE_URL", ""), data_dir)
    out = {
        "BOKJI_RASA_TRACKER_URL": env.get("BOKJI_RASA_TRACKER_URL") or rasa_tracker_url(tracker),
        # Where the supervisor counts restarts and the web app's /metrics reads them.
        "BOKJI_PROCESS_RESTARTS_FILE": env.get("BOKJI_PROCESS_RESTARTS_FILE") or str((data_dir / RESTARTS_FILE).resolve()),
    }
    if redis := env.get("BOKJI_REDIS_URL"):
        url = urlsplit(redis)
        out.update(
            BOKJI_REDIS_HOST=url.hostname or "127.0.0.1",
            BOKJI_REDIS_PORT=str(url.port or 6379),
            BOKJI_REDIS_DB=url.path.strip("/") or "1",
            BOKJI_REDIS_PASSWORD=unquote(url.password or ""),
        )
    return out


def endpoints_file(env: dict[str, str]) -> str:
    """Rasa's endpoints file in bot/: with the Redis lock store when several Rasa servers share the tracker store."""
    return "endpoints.redis.yml" if env.get("BOKJI_REDIS_URL") else "endpoints.yml"


class StackError(RuntimeError):
    """A process could not start, or died."""


@dataclass
class Backoff:
    """How long to wait before restarting a process that died: 1 s, 2 s, 4 s ... up to ``cap_s``.

    A process that served (passed its health check) ``stable_s`` or longer before it died starts the series again, so a crash a day
    is restarted at once while a process that dies on start is not restarted in a tight loop.
    """

    base_s: float = 1.0
    cap_s: float = 30.0
    stable_s: float = 60.0
    failures: int = 0

    def next_delay(self, up_for_s: float) -> float:
        """The wait before the next start of a process that died after ``up_for_s`` seconds up."""
        if up_for_s >= self.stable_s:
            self.failures = 0
        self.failures += 1
        return float(min(self.cap_s, self.base_s * 2 ** (self.failures - 1)))


class Restarts:
    """Restarts per process since `bokji run` started, in ``<data_dir>/restarts.json`` for the web app's metrics.

    The file is one JSON object ``{"actions": 0, "rasa": 2, "web": 0}`` (the contract with channels/metrics.py,
    which reads ``BOKJI_PROCESS_RESTARTS_FILE``), written whole to a temporary file and renamed, so a reader
    never sees half of it.
    """

    def __init__(self, path: Path) -> None:
        """Where the counts go (nothing is written until :meth:`reset`)."""
        self.path = path
        self.counts: dict[str, int] = {}

    def reset(self, names: list[str]) -> None:
        """Every process at zero (a new `bokji run`)."""
        self.counts = dict.fromkeys(names, 0)
        self._write()

    def record(self, name: str) -> int:
        """Count one restart of ``name``; its count so far."""
        self.counts[name] = self.counts.get(name, 0) + 1
        self._write()
        return self.counts[name]

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        partial.write_text(json.dumps(self.counts) + "\n", encoding="utf-8")
        os.replace(partial, self.path)


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
        env = env or stack_env(host, ports)
        self.env = with_secrets({**env, **shared_state_env(env)})
        self.services = default_services(host, ports, self.env["BOKJI_RASA_TOKEN"], endpoints_file(self.env))
        self.log_dir = log_dir
        self._say = say
        self.restarts = Restarts(Path(self.env["BOKJI_PROCESS_RESTARTS_FILE"]))
        self._backoff = {s.name: Backoff() for s in self.services}
        self._due: dict[str, float] = {}  # a dead process's name -> when it starts again
        self._coming_back: dict[str, float] = {}  # a restarted process's name -> when it died (until it is healthy)
        self._envs: dict[str, dict[str, str]] = {}  # the environment each process last started with
        self._healthy_since: dict[str, float] = {}  # when each process last passed its health check after a start

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
        self.restarts.reset([s.name for s in self.services])
        for service in self.services:
            self._launch(service, self.env)
        deadline = time.monotonic() + timeout_s
        for service in self.services:
            self._wait(service, deadline)
            self._healthy_since[service.name] = time.monotonic()
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
        if env:
            env = {**env, **{name: self.env[name] for name in SECRETS if not env.get(name)}}
            env = {**env, **shared_state_env(env)}
        else:
            env = self.env
        self._launch(service, env)  # the stack's secrets, or Rasa and the actions could no longer talk
        self._wait(service, deadline)
        self._healthy_since[service.name] = time.monotonic()
        self._say(f"{service.name} is up again: {self.url(service.name)}")

    def watch(self) -> None:
        """One look at the processes (`bokji run` calls it every half second): restart the dead, report the recovered.

        A process that died is started again after its :class:`Backoff` delay, with the environment it last
        ran with; the others keep running meanwhile. Each restart is one line of output and one count in
        :attr:`restarts`; when the restarted process answers its health check, one more line says how long
        it was gone.
        """
        now = time.monotonic()
        for service in self.services:
            name, proc = service.name, service.process
            if name in self._due:
                if now >= self._due[name]:
                    del self._due[name]
                    self._launch(service, self._envs.get(name, self.env))
            elif proc is not None and proc.poll() is not None:
                healthy_since = self._healthy_since.pop(name, None)
                up_for = now - healthy_since if healthy_since is not None else 0.0  # died before it served: no credit
                delay = self._backoff[name].next_delay(up_for)
                _kill_group(proc)  # what the dead process left behind must not hold its port
                count = self.restarts.record(name)
                self._say(
                    f"{name} exited with code {proc.returncode} after {up_for:.0f} s up; restarting it in {delay:g} s "
                    f"(restart {count}; see {service.log_path(self.log_dir)})"
                )
                self._due[name], self._coming_back[name] = now + delay, now
        for service in self.services:
            died_at = self._coming_back.get(service.name)
            if died_at is not None and service.name not in self._due and self._healthy(service, timeout_s=1.0):
                del self._coming_back[service.name]
                self._healthy_since[service.name] = time.monotonic()
                self._say(f"{service.name} is up again after {time.monotonic() - died_at:.1f} s: {self.url(service.name)}")

    def _launch(self, service: Service, env: dict[str, str]) -> None:
        self._envs[service.name] = env
        self._healthy_since.pop(service.name, None)
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
        while time.monotonic() < deadline:
            self.check()
            if self._healthy(service):
                return
            time.sleep(0.5)
        url = f"{self.url(service.name)}{service.health_path}"
        raise StackError(f"{service.name} did not become healthy at {url}; see {service.log_path(self.log_dir)}")

    def _healthy(self, service: Service, timeout_s: float = 2.0) -> bool:
        """Whether the process answers its health check (the web app's 503 "degraded" counts: it is serving)."""
        try:
            # Rasa's /status is behind its auth token; the other health routes are open.
            params = {"token": self.env["BOKJI_RASA_TOKEN"]} if service.name == "rasa" else None
            response = httpx.get(f"{self.url(service.name)}{service.health_path}", params=params, timeout=timeout_s)
            if service.name == "rasa":
                return _ready_rasa(response)
            if service.name == "web" and response.status_code == 503:
                # "degraded" still serves, but not before its first real turn went through (ready means warm)
                return response.json().get("dependencies", {}).get("warm") != "down"
            return response.status_code < 500
        except (httpx.HTTPError, ValueError):
            return False

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


def start_together(stacks: list[Stack], timeout_s: float) -> list[BaseException]:
    """Start several stacks (replica cells) in parallel threads; what each start raised, for the caller to report."""
    errors: list[BaseException] = []

    def start(stack: Stack) -> None:
        try:
            stack.start(timeout_s=timeout_s)
        except BaseException as exc:  # noqa: BLE001 - returned, so the caller stops every cell before reporting
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(s,)) for s in stacks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def _say_with_time(line: str) -> None:
    print(f"{datetime.now().astimezone():%H:%M:%S} {line}", flush=True)  # noqa: T201


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill what is left of a dead process's group (a child still holding its port)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_stack(host: str = "127.0.0.1", ports: tuple[int, int, int] = (5005, 5055, 8000)) -> int:
    """`make run`: start, print the URLs, restart what dies (with backoff); Ctrl-C (or SIGTERM) stops everything cleanly."""
    stack = Stack(host=host, ports=ports, say=_say_with_time)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    # Set both explicitly: a shell's background job inherits SIGINT as ignored.
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        print("starting bokji-bot (Rasa loads its model in about a minute)...")  # noqa: T201
        stack.start(timeout_s=900.0)  # Rasa loads its model in about a minute, far longer on a busy server
        print(  # noqa: T201
            "\nbokji-bot is running:\n"
            f"  demo page      {stack.url('web')}/\n"
            f"  widget script  {stack.url('web')}/widget.js\n"
            f"  chat API       {stack.url('web')}/api/v1/chat (integrations: set BOKJI_API_KEYS=name:key)\n"
            f"  kakao skill    {stack.url('web')}/kakao/skill (set BOKJI_KAKAO__TOKEN)\n"
            f"  health         {stack.url('web')}/healthz\n"
            f"  staff console  {stack.url('web')}/console (first admin: bokji user add <id> --name <이름> --role admin)\n"
            f"  rasa           {stack.url('rasa')}\n"
            f"  action server  {stack.url('actions')}\n"
            f"  logs           {stack.log_dir}/\n"
            "Press Ctrl-C to stop."
        )
        while True:  # a process that dies is restarted (Stack.watch); only Ctrl-C or SIGTERM ends this
            stack.watch()
            time.sleep(0.5)
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
