"""Files generated from the program catalogue: the NLU synonyms and lookup table, and the analyzer's dictionary.

``bokji catalogue`` writes them; ``bokji catalogue --check`` (and a unit test) says which are out of date.
Both are committed, so the Rasa environment (which cannot import pydantic 2) reads plain files.
"""

from __future__ import annotations

from pathlib import Path

from knowledge.domain.programs import AmbiguousName, Program, ProgramCatalogue, spellings

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NLU_FILE = Path("bot/data/programs.yml")
USER_DICT_FILE = Path("knowledge/seed/user_dict.tsv")
_GENERATED = "GENERATED from knowledge/seed/programs.yaml by `bokji catalogue`: edit that file, then run it."


def _variants(names: tuple[str, ...]) -> list[str]:
    return list(dict.fromkeys(v for name in names for v in spellings(name)))


def render_nlu(catalogue: ProgramCatalogue) -> str:
    """Rasa NLU data: one synonym block per program (and ambiguous name), then the `program` lookup table."""
    lines = [
        'version: "3.1"',
        "",
        f"# {_GENERATED}",
        "# Synonyms map what NLU extracts to the canonical name (the `program` slot's value); an ambiguous",
        "# name (e.g. 월세 지원) keeps its own value so the form asks which program is meant.",
        "",
        "nlu:",
    ]
    lookup: list[str] = []
    entries: tuple[Program | AmbiguousName, ...] = (*catalogue.programs, *catalogue.ambiguous)
    for entry in entries:
        variants = _variants(entry.names)
        lookup += variants
        others = [v for v in variants if v != entry.name]
        if others:
            lines += [f"- synonym: {entry.name}", "  examples: |", *(f"    - {v}" for v in others), ""]
    lines += ["- lookup: program", "  examples: |", *(f"    - {v}" for v in dict.fromkeys(lookup))]
    return "\n".join(lines) + "\n"


def render_user_dict(catalogue: ProgramCatalogue) -> str:
    """Kiwi's user dictionary (``word<TAB>tag``): program terms, then other welfare words."""
    header = [
        f"# {_GENERATED}",
        "# Welfare terms Kiwi must keep whole (word<TAB>tag). Shared by the NLU tokenizer and retrieval;",
        "# after a change, re-index (`bokji ingest --rebuild`) and retrain Rasa (`make train`).",
    ]
    return "\n".join([*header, *(f"{word}\tNNP" for word in catalogue.user_words())]) + "\n"


def generated_files(catalogue: ProgramCatalogue) -> dict[Path, str]:
    """Each generated file (relative to the project root) with the text it must have."""
    return {NLU_FILE: render_nlu(catalogue), USER_DICT_FILE: render_user_dict(catalogue)}


def stale_files(catalogue: ProgramCatalogue, root: Path = PROJECT_ROOT) -> list[Path]:
    """The generated files whose text differs from what the catalogue gives."""
    stale = []
    for path, text in generated_files(catalogue).items():
        target = root / path
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            stale.append(path)
    return stale


def write_files(catalogue: ProgramCatalogue, root: Path = PROJECT_ROOT) -> list[Path]:
    """Write the generated files that changed; return them."""
    changed = stale_files(catalogue, root)
    texts = generated_files(catalogue)
    for path in changed:
        (root / path).write_text(texts[path], encoding="utf-8")
    return changed
