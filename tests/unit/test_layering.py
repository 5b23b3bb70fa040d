"""The architecture stays as drawn: packages and knowledge's layers only import downwards, with no cycles."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = {"knowledge", "actions", "channels", "bot", "bokji"}

# knowledge's parts, lowest first: a part may import its own modules and the parts before it.
LAYERS = ("korean", "domain", "rules", "retrieval", "ingestion", "answering")
# Importable by every part (imports nothing of ours) / the composition root (imported by no part).
LEAVES = {"knowledge.settings"}
ROOTS = {"knowledge.backends"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_in(path: Path) -> set[str]:
    """Every module a file imports, at any depth (inside functions and TYPE_CHECKING blocks too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            # "from knowledge.domain import faq" imports the module knowledge.domain.faq
            names |= {f"{node.module}.{a.name}" for a in node.names if (ROOT / node.module.replace(".", "/") / f"{a.name}.py").exists()}
    return names


def imports_of(package: str) -> dict[str, set[str]]:
    return {module_name(p): imports_in(p) for p in sorted((ROOT / package).rglob("*.py"))}


def layer_of(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) >= 2 and parts[0] == "knowledge" and parts[1] in LAYERS:
        return LAYERS.index(parts[1])
    return None


def test_every_knowledge_module_sits_in_a_layer() -> None:
    for module in imports_of("knowledge"):
        assert module == "knowledge" or module in LEAVES | ROOTS or layer_of(module) is not None, (
            f"{module}: put it in one of {LAYERS} (or make it the settings leaf / composition root)"
        )


def test_knowledge_layers_only_import_downwards() -> None:
    for module, names in imports_of("knowledge").items():
        mine = layer_of(module)
        for name in names:
            if name.split(".")[0] != "knowledge" or name == "knowledge":
                continue
            assert not any(name == r or name.startswith(r + ".") for r in ROOTS), f"{module} imports the composition root {name}"
            if module in LEAVES:
                pytest.fail(f"{module} must import nothing of ours, imports {name}")
            theirs = layer_of(name)
            if mine is not None and theirs is not None:
                assert theirs <= mine, f"{module} ({LAYERS[mine]}) calls up into {name} ({LAYERS[theirs]})"


def test_knowledge_has_no_import_cycle() -> None:
    graph = {m: {n for n in names if n.startswith("knowledge.")} for m, names in imports_of("knowledge").items()}
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            if state.get(nxt) == 1:
                pytest.fail("import cycle: " + " -> ".join([*path[path.index(nxt) :], nxt]))
            if nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


def test_the_layer_check_catches_a_call_up() -> None:
    """The checker itself: a domain type importing the answer service is reported."""
    assert layer_of("knowledge.domain.faq") == 1
    assert layer_of("knowledge.answering.service") == 5
    assert layer_of("knowledge.answering.service") > layer_of("knowledge.domain.faq")  # type: ignore[operator]


def test_knowledge_imports_no_other_package_of_ours() -> None:
    for module, names in imports_of("knowledge").items():
        assert not {n.split(".")[0] for n in names} & (OURS - {"knowledge"}), module


def test_nothing_imports_channels_or_actions_from_outside() -> None:
    for package in ("knowledge", "bot", "actions"):
        for module, names in imports_of(package).items():
            assert "channels" not in {n.split(".")[0] for n in names}, module
    for package in ("knowledge", "bot", "channels"):
        for module, names in imports_of(package).items():
            assert "actions" not in {n.split(".")[0] for n in names}, module


def test_rasa_component_only_uses_the_korean_text_part() -> None:
    for module, names in imports_of("bot").items():
        ours = {n for n in names if n.split(".")[0] == "knowledge"}
        assert all(n.startswith("knowledge.korean") for n in ours), module
        assert not any(n.startswith(("langchain", "flask", "pydantic")) for n in names), module
    allowed = {"__future__", "re", "unicodedata", "dataclasses", "pathlib", "typing", "knowledge", "kiwipiepy", "konlpy"}
    for module, names in imports_of("knowledge").items():
        if module.startswith("knowledge.korean"):
            assert {n.split(".")[0] for n in names} <= allowed, module
