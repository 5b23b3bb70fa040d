"""Where a benchmark ran: recorded next to every result."""

from __future__ import annotations

import os
import platform
import time


def machine() -> dict[str, str]:
    """CPU, cores, Python, date and load average (1, 5, 15 min) at the start of this run."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), cpu)
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d"),
        "load_avg_at_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
