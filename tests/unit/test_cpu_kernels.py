"""Choosing llama.cpp's CPU kernels: AVX-512 only where built and where the CPU has every instruction."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.answering import cpu_kernels
from knowledge.answering.cpu_kernels import AVX512_FLAGS, LLAMA_CPP_VERSION, choose, cpu_flags

ZEN4 = AVX512_FLAGS | {"sse4_2", "avx512_bf16"}
HASWELL = frozenset({"sse4_2", "avx", "avx2", "fma", "f16c", "bmi2"})


@pytest.fixture
def built(tmp_path: Path) -> Path:
    for name in ("libllama.so", "libggml-cpu.so"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "llama-cpp-python.version").write_text(LLAMA_CPP_VERSION + "\n", encoding="ascii")
    return tmp_path


def test_a_cpu_with_avx512_vnni_gets_the_avx512_kernels(built: Path) -> None:
    assert choose("auto", built, ZEN4) == built


@pytest.mark.parametrize("missing", ["avx512_vnni", "avx512vbmi", "avx512bw"])
def test_a_cpu_missing_one_instruction_keeps_the_portable_kernels(built: Path, missing: str) -> None:
    assert choose("auto", built, ZEN4 - {missing}) is None
    assert choose("auto", built, HASWELL) is None


def test_the_operator_can_insist_on_portable_kernels(built: Path) -> None:
    assert choose("portable", built, ZEN4) is None


def test_kernels_that_were_not_built_or_are_for_another_release_are_not_loaded(
    built: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    assert choose("auto", tmp_path_factory.mktemp("empty"), ZEN4) is None
    (built / "llama-cpp-python.version").write_text("0.3.1\n", encoding="ascii")
    assert choose("auto", built, ZEN4) is None


def test_cpu_flags_are_read_from_cpuinfo(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text(
        "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse4_2 avx2 avx512f\n\nflags\t: other\n", encoding="ascii"
    )
    assert cpu_flags(info) == {"fpu", "sse4_2", "avx2", "avx512f"}
    assert cpu_flags(tmp_path / "missing") == frozenset()


def test_an_operators_library_path_wins(monkeypatch: pytest.MonkeyPatch, built: Path) -> None:
    monkeypatch.setenv(cpu_kernels.LIB_PATH_ENV, "/opt/my-llama")
    monkeypatch.setattr(cpu_kernels, "cpu_flags", lambda: ZEN4)
    cpu_kernels.select("auto", built)
    assert cpu_kernels.os.environ[cpu_kernels.LIB_PATH_ENV] == "/opt/my-llama"
