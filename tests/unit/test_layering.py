"""The architecture stays as drawn: packages and knowledge's layers only import downwards, with no cycles."""

from __future__ import annotations

import ast
from pathlib import Path

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


def is_module(name: str) -> bool:
    """Whether ``name`` is one of our modules or packages (a .py file or a folder with __init__.py)."""
    path = ROOT / name.replace(".", "/")
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def imports_in(path: Path, module: str | None = None) -> set[str]:
    """Every module a file imports, at any depth (inside functions and TYPE_CHECKING blocks too).

    Relative imports are resolved against ``module`` (by default the file's own name), so
    "from ..answering import service" in knowledge/domain/faq.py counts as knowledge.answering.service.
    """
    module = module or module_name(path)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            source = ".".join([*base, *([node.module] if node.module else [])])
            if not source:
                continue
            names.add(source)
            # "from knowledge.domain import faq" (or "from knowledge import answering") imports that module
            names |= {f"{source}.{a.name}" for a in node.names if is_module(f"{source}.{a.name}")}
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


def call_ups(graph: dict[str, set[str]]) -> list[str]:
    """Every import in ``graph`` (module -> imported modules) that goes up a layer or into the composition root."""
    found = []
    for module, names in graph.items():
        mine = layer_of(module)
        for name in sorted(names):
            if name.split(".")[0] != "knowledge" or name == "knowledge":
                continue
            if any(name == r or name.startswith(r + ".") for r in ROOTS):
                found.append(f"{module} imports the composition root {name}")
            elif module in LEAVES:
                found.append(f"{module} must import nothing of ours, imports {name}")
            elif mine is not None and (theirs := layer_of(name)) is not None and theirs > mine:
                found.append(f"{module} ({LAYERS[mine]}) calls up into {name} ({LAYERS[theirs]})")
    return found


def cycles(graph: dict[str, set[str]]) -> list[str]:
    """Import cycles among the modules of ``graph``, each as "a -> b -> a"."""
    found: list[str] = []
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            if state.get(nxt) == 1:
                found.append(" -> ".join([*path[path.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    return found


def test_knowledge_layers_only_import_downwards() -> None:
    assert call_ups(imports_of("knowledge")) == []


def test_knowledge_has_no_import_cycle() -> None:
    graph = {m: {n for n in names if n.startswith("knowledge.")} for m, names in imports_of("knowledge").items()}
    assert cycles(graph) == []


def test_the_checks_catch_a_call_up_and_a_cycle() -> None:
    """The checkers themselves, on a made-up graph: a domain type importing the service, and a two-module cycle."""
    graph = {
        "knowledge.domain.faq": {"knowledge.answering.service"},
        "knowledge.answering.service": {"knowledge.answering.chain", "knowledge.domain.faq"},
        "knowledge.answering.chain": {"knowledge.answering.service"},
        "knowledge.settings": {"knowledge.korean.text"},
        "knowledge.retrieval.store": {"knowledge.backends"},
    }
    assert call_ups(graph) == [
        "knowledge.domain.faq (domain) calls up into knowledge.answering.service (answering)",
        "knowledge.settings must import nothing of ours, imports knowledge.korean.text",
        "knowledge.retrieval.store imports the composition root knowledge.backends",
    ]
    assert cycles(graph) == [
        "knowledge.answering.chain -> knowledge.answering.service -> knowledge.answering.chain",
        "knowledge.answering.service -> knowledge.domain.faq -> knowledge.answering.service",
    ]


def test_relative_and_package_imports_are_seen(tmp_path: Path) -> None:
    """The import reader itself: a call-up written relatively, or as a subpackage, is still a call-up."""
    source = tmp_path / "faq.py"
    source.write_text("from ..answering import service\nfrom . import hit\nfrom knowledge import retrieval\n", encoding="utf-8")
    names = imports_in(source, "knowledge.domain.faq")
    assert {"knowledge.answering.service", "knowledge.domain.hit", "knowledge.retrieval"} <= names
    assert call_ups({"knowledge.domain.faq": names}) == [
        "knowledge.domain.faq (domain) calls up into knowledge.answering (answering)",
        "knowledge.domain.faq (domain) calls up into knowledge.answering.service (answering)",
        "knowledge.domain.faq (domain) calls up into knowledge.retrieval (retrieval)",
    ]


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
    allowed = {"__future__", "re", "unicodedata", "dataclasses", "pathlib", "typing", "knowledge", "kiwipiepy", "konlpy", "jpype"}
    for module, names in imports_of("knowledge").items():
        if module.startswith("knowledge.korean"):
            assert {n.split(".")[0] for n in names} <= allowed, module
