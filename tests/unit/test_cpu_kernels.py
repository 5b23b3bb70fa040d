"""Choosing llama.cpp's CPU kernels: the best variant built whose every instruction the CPU has, else portable."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from knowledge.answering import cpu_kernels
from knowledge.answering.cpu_kernels import LLAMA_CPP_VERSION, VARIANTS, choose, cpu_flags

HASWELL = frozenset({"sse4_2", "avx", "avx2", "fma", "f16c", "bmi2"})
SKYLAKE_SP = HASWELL | {"avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw"}
CASCADE_LAKE = SKYLAKE_SP | {"avx512_vnni"}
ZEN4 = CASCADE_LAKE | {"avx512vbmi", "avx512_bf16"}


def _fake_build(folder: Path, version: str = LLAMA_CPP_VERSION) -> None:
    folder.mkdir(parents=True)
    for name in ("libllama.so", "libllama.so.0", "libggml.so.0", "libggml-base.so.0", "libggml-cpu.so.0"):
        (folder / name).write_bytes(b"")
    (folder / "llama-cpp-python.version").write_text(version + "\n", encoding="ascii")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    for variant in VARIANTS:
        _fake_build(tmp_path / variant.name)
    return tmp_path


@pytest.mark.parametrize(("cpu", "expected"), [(ZEN4, "avx512-vnni"), (CASCADE_LAKE, "avx512-vnni"), (SKYLAKE_SP, "avx512")])
def test_each_cpu_gets_the_best_variant_it_can_run(root: Path, cpu: frozenset[str], expected: str) -> None:
    assert choose("auto", root, cpu) == root / expected


@pytest.mark.parametrize("missing", ["avx512bw", "avx512vl", "avx2"])
def test_a_cpu_missing_one_instruction_of_every_variant_keeps_the_portable_kernels(root: Path, missing: str) -> None:
    assert choose("auto", root, ZEN4 - {missing}) is None
    assert choose("auto", root, HASWELL) is None


def test_the_operator_can_insist_on_portable_kernels(root: Path) -> None:
    assert choose("portable", root, ZEN4) is None


def test_kernels_that_were_not_built_or_are_for_another_release_are_not_loaded(tmp_path: Path) -> None:
    assert choose("auto", tmp_path, ZEN4) is None
    _fake_build(tmp_path / "avx512-vnni", version="0.3.1")
    _fake_build(tmp_path / "avx512")
    assert choose("auto", tmp_path, ZEN4) == tmp_path / "avx512"  # the next best that is current
    # Bindings of another release installed since the build: nothing built for them.
    assert choose("auto", tmp_path, ZEN4, version="0.3.40") is None


def test_an_incomplete_library_set_is_not_loaded(root: Path) -> None:
    (root / "avx512-vnni" / "libggml-base.so.0").unlink()
    assert choose("auto", root, ZEN4) == root / "avx512"


def test_cpu_flags_are_read_from_cpuinfo(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text(
        "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse4_2 avx2 avx512f\n\nflags\t: other\n", encoding="ascii"
    )
    assert cpu_flags(info) == {"fpu", "sse4_2", "avx2", "avx512f"}
    assert cpu_flags(tmp_path / "missing") == frozenset()


@pytest.fixture
def before_import(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """As in a fresh process: llama_cpp not imported yet, this CPU a Zen 4, the installed bindings current."""
    for name in [m for m in sys.modules if m == "llama_cpp" or m.startswith("llama_cpp.")]:
        monkeypatch.delitem(sys.modules, name)  # put back after the test: other tests hold the loaded module
    monkeypatch.setenv(cpu_kernels.LIB_PATH_ENV, "recorded")  # so the value select() sets is undone afterwards
    monkeypatch.delenv(cpu_kernels.LIB_PATH_ENV)
    monkeypatch.setattr(cpu_kernels, "cpu_flags", lambda: ZEN4)
    monkeypatch.setattr(cpu_kernels, "installed_version", lambda: LLAMA_CPP_VERSION)
    return monkeypatch


def test_select_points_llama_cpp_python_at_the_best_variant(before_import: pytest.MonkeyPatch, root: Path) -> None:
    assert cpu_kernels.select("auto", root) == root / "avx512-vnni"
    assert os.environ[cpu_kernels.LIB_PATH_ENV] == str(root / "avx512-vnni")


def test_an_operators_library_path_wins(before_import: pytest.MonkeyPatch, root: Path) -> None:
    before_import.setenv(cpu_kernels.LIB_PATH_ENV, "/opt/my-llama")
    assert cpu_kernels.select("auto", root) is None
    assert os.environ[cpu_kernels.LIB_PATH_ENV] == "/opt/my-llama"


def test_a_variant_that_failed_to_load_is_forgotten(before_import: pytest.MonkeyPatch, root: Path) -> None:
    chosen = cpu_kernels.select("auto", root)
    assert chosen is not None
    cpu_kernels.unselect(chosen)
    assert cpu_kernels.LIB_PATH_ENV not in os.environ  # the next import takes the portable build
