"""Read the YAML knowledge files: FAQ entries (one list per file) and the helplines."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from knowledge.domain.document import DocumentError
from knowledge.domain.faq import FaqEntry
from knowledge.domain.helpline import Helpline

SEED_DIR = Path(__file__).resolve().parents[1] / "seed"


def _read_yaml_list(path: Path) -> list[Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DocumentError(f"{path}: cannot read YAML: {exc}") from exc
    if data is None:
        return []
    if not isinstance(data, list):
        raise DocumentError(f"{path}: expected a list of entries, got {type(data).__name__}")
    return data


def describe_validation_error(exc: ValidationError) -> str:
    """One line per invalid field: ``field: reason; other: reason``."""
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'entry'}: {e['msg']}" for e in exc.errors())


def validate_faq_rows(path: Path, rows: Iterable[tuple[str, Any]]) -> list[FaqEntry]:
    """Validate ``(where, row)`` pairs read from ``path``; any bad row fails the file with every reason listed."""
    entries: list[FaqEntry] = []
    problems: list[str] = []
    for where, row in rows:
        try:
            entries.append(FaqEntry.model_validate(row))
        except ValidationError as exc:
            problems.append(f"{path}: {where}: {describe_validation_error(exc)}")
    if problems:
        raise DocumentError("\n".join(problems))
    return entries


def load_faq_file(path: Path) -> list[FaqEntry]:
    """Parse one YAML FAQ file; any bad row fails the whole file with every reason listed."""
    return validate_faq_rows(path, ((f"entry {i + 1}", row) for i, row in enumerate(_read_yaml_list(path))))


def load_faq_dir(directory: Path) -> list[FaqEntry]:
    """Parse every ``*.yaml`` file under a folder; duplicate ids are an error."""
    entries: list[FaqEntry] = []
    problems: list[str] = []
    for path in sorted(directory.rglob("*.yaml")):
        try:
            entries.extend(load_faq_file(path))
        except DocumentError as exc:
            problems.append(str(exc))
    seen: set[str] = set()
    for entry in entries:
        if entry.id in seen:
            problems.append(f"duplicate FAQ id {entry.id!r}")
        seen.add(entry.id)
    if problems:
        raise DocumentError("\n".join(problems))
    return entries


def load_helplines(path: Path = SEED_DIR / "helplines.yaml") -> dict[str, Helpline]:
    """Read the helplines file, keyed by ``key``."""
    try:
        lines = [Helpline.model_validate(row) for row in _read_yaml_list(path)]
    except ValidationError as exc:
        raise DocumentError(f"{path}: {describe_validation_error(exc)}") from exc
    return {line.key: line for line in lines}
