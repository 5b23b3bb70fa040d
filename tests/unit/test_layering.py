"""The dependency direction stays as designed: channels -> knowledge <- actions; bot is light."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OURS = {"knowledge", "actions", "channels", "bot", "bokji"}


def imports_of(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


def test_knowledge_imports_no_other_package_of_ours() -> None:
    for path, names in imports_of("knowledge").items():
        assert not {n.split(".")[0] for n in names} & (OURS - {"knowledge"}), path


def test_nothing_imports_channels_or_actions_from_outside() -> None:
    for package in ("knowledge", "bot", "actions"):
        for path, names in imports_of(package).items():
            assert "channels" not in {n.split(".")[0] for n in names}, path
    for package in ("knowledge", "bot", "channels"):
        for path, names in imports_of(package).items():
            assert "actions" not in {n.split(".")[0] for n in names}, path


def test_rasa_component_only_uses_the_light_knowledge_modules() -> None:
    light = {"knowledge.analyzer", "knowledge.text"}
    for path, names in imports_of("bot").items():
        ours = {n for n in names if n.split(".")[0] == "knowledge"}
        assert ours <= light, path
        assert not any(n.startswith(("langchain", "flask", "pydantic")) for n in names), path
    for module in light:
        names = imports_of("knowledge")[module.replace(".", "/") + ".py"]
        assert {n.split(".")[0] for n in names} <= {
            "__future__",
            "re",
            "unicodedata",
            "dataclasses",
            "pathlib",
            "typing",
            "knowledge",
            "kiwipiepy",
            "konlpy",
        }, module
