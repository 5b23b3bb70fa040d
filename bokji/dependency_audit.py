"""``make audit-deps``: pip-audit over both lock files, and a plain statement when it could not check anything.

pip-audit asks a vulnerability database (PyPI's JSON API, else OSV) about each pinned package. Where
neither is reachable it still prints "No known vulnerabilities found" and exits 0, having checked
nothing: every package is "not found on PyPI and could not be audited". This wrapper counts what was
really checked and says so. Exit status: 1 when a known vulnerability is found, 0 otherwise (including
"could not run", which it says in its first line; ``--strict`` makes that 2).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCKS = (ROOT / "requirements" / "app.lock", ROOT / "requirements" / "rasa.lock")
SERVICES = ("pypi", "osv")


@dataclass
class LockAudit:
    """What one database said about one lock file."""

    lock: str
    service: str
    checked: int = 0
    skipped: list[str] = field(default_factory=list)
    vulnerable: list[str] = field(default_factory=list)
    error: str = ""


def audit(pip_audit: str, lock: Path, service: str) -> LockAudit:
    """Run pip-audit on one lock (pinned, so no resolving and no installing)."""
    result = LockAudit(lock.name, service)
    run = subprocess.run(
        [pip_audit, "--no-deps", "--disable-pip", "-r", str(lock), "-s", service, "-f", "json", "--progress-spinner", "off"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    try:
        report = json.loads(run.stdout)
    except ValueError:
        lines = [line for line in run.stderr.splitlines() if line.strip()]
        result.error = lines[-1] if lines else f"pip-audit exited with {run.returncode}"
        return result
    for dependency in report.get("dependencies", []):
        name = f"{dependency.get('name')}=={dependency.get('version', '?')}"
        if dependency.get("skip_reason"):
            result.skipped.append(name)
            continue
        result.checked += 1
        for vuln in dependency.get("vulns", []):
            fixed = ", ".join(vuln.get("fix_versions", [])) or "no fixed version yet"
            result.vulnerable.append(f"{name}: {vuln.get('id')} (fixed in {fixed})")
    return result


def best_audit(pip_audit: str, lock: Path) -> LockAudit:
    """The first database that could check every package of the lock, or the one that checked most."""
    attempts = []
    for service in SERVICES:
        attempt = audit(pip_audit, lock, service)
        if not attempt.error and not attempt.skipped:
            return attempt
        attempts.append(attempt)
    return max(attempts, key=lambda a: a.checked)


def main() -> int:
    """Audit both locks and print what was and was not checked."""
    parser = argparse.ArgumentParser(description="Audit requirements/*.lock for known vulnerabilities (pip-audit).")
    parser.add_argument("--pip-audit", default=str(ROOT / "var" / "audit-venv" / "bin" / "pip-audit"))
    parser.add_argument("--strict", action="store_true", help="exit 2 when the audit could not check every package")
    args = parser.parse_args()
    if not Path(args.pip_audit).exists():
        print(f"DEPENDENCY AUDIT COULD NOT RUN: pip-audit is not installed at {args.pip_audit}")  # noqa: T201
        return 2 if args.strict else 0
    results = [best_audit(args.pip_audit, lock) for lock in LOCKS]
    unchecked = sum(len(r.skipped) for r in results) + sum(1 for r in results if r.error)
    vulnerable = [v for r in results for v in r.vulnerable]
    checked = sum(r.checked for r in results)
    if checked == 0:
        print(  # noqa: T201
            "DEPENDENCY AUDIT COULD NOT RUN: no vulnerability database (PyPI's JSON API, OSV) answered from this "
            "machine, so no package was checked. Run `make audit-deps` where one is reachable."
        )
    elif unchecked:
        print(f"DEPENDENCY AUDIT INCOMPLETE: {checked} packages checked, {unchecked} could not be checked.")  # noqa: T201
    else:
        print(f"dependency audit: {checked} packages checked.")  # noqa: T201
    for result in results:
        detail = result.error or f"{result.checked} checked, {len(result.skipped)} not checked"
        print(f"  {result.lock} ({result.service}): {detail}")  # noqa: T201
    if vulnerable:
        print(f"KNOWN VULNERABILITIES ({len(vulnerable)}):")  # noqa: T201
        for line in vulnerable:
            print(f"  {line}")  # noqa: T201
        return 1
    if checked:
        print("no known vulnerabilities in the packages checked.")  # noqa: T201
    return 2 if args.strict and unchecked else 0


if __name__ == "__main__":
    sys.exit(main())
