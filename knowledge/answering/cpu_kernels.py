"""Which build of llama.cpp's CPU kernels the in-process model runs on: the best one this CPU can execute.

`make setup` builds llama-cpp-python portably (AVX2, FMA, F16C: any x86-64 CPU since 2013) and then builds one
library again, ``libggml-cpu`` (the matrix kernels), in two AVX-512 variants: with VNNI (Cascade Lake, Ice Lake,
Sapphire Rapids, Zen 4 and later) and without (Skylake-SP and later). Each goes into ``var/llama/<variant>`` beside
copies of the package's other libraries, which do not depend on the instruction set. At load time the process reads
``/proc/cpuinfo`` and points llama-cpp-python (its ``LLAMA_CPP_LIB_PATH``) at the first variant whose every
instruction the CPU has; otherwise it keeps the portable build. llama.cpp's own answer, ``GGML_CPU_ALL_VARIANTS``,
compiles the kernels 14 times for every x86 generation; this compiles them twice more (~26 s each on 2 cores), for
the family that mattered on the servers measured.

Measured on the 2-core AMD EPYC (Zen 4) build box, Qwen2.5-Coder-1.5B Q4_K_M, a 300-token prompt, 2026-12-02, prompt
tokens/s on one / two threads: portable 46 / 86, AVX-512 76 / 147, AVX-512 VNNI 86 / 161-178 (with VBMI as well:
no faster, so it is not required). Writing: 22.5 -> 23-24 tokens/s on one thread (memory-bound).

Run ``python -m knowledge.answering.cpu_kernels build`` to build them (``make setup`` does).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from knowledge.settings import PROJECT_ROOT

logger = logging.getLogger(__name__)

LIB_PATH_ENV = "LLAMA_CPP_LIB_PATH"
"""llama-cpp-python loads its libraries from this folder when it is set (read once, at import)."""

KERNELS_ROOT = PROJECT_ROOT / "var" / "llama"
SDIST_DIR = PROJECT_ROOT / "var" / "wheels"
LLAMA_CPP_VERSION = "0.3.36"
"""The release `make setup` pins (Makefile LLAMA_CPP); what loads the libraries passes :func:`installed_version`."""

_PORTABLE_FLAGS = frozenset({"sse4_2", "avx", "avx2", "fma", "f16c", "bmi2"})
_AVX512_FLAGS = _PORTABLE_FLAGS | {"avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw"}
_BASE_CMAKE_ARGS = (
    "-DCMAKE_BUILD_TYPE=Release",
    "-DGGML_NATIVE=OFF",
    "-DLLAVA_BUILD=OFF",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_BUILD_TOOLS=OFF",
    "-DLLAMA_BUILD_SERVER=OFF",
    # Spelled out: ggml turns these on by default only when SOURCE_DATE_EPOCH is unset.
    "-DGGML_SSE42=ON",
    "-DGGML_AVX=ON",
    "-DGGML_AVX2=ON",
    "-DGGML_FMA=ON",
    "-DGGML_F16C=ON",
    "-DGGML_BMI2=ON",
)
# An operator's CFLAGS (say -march=native) would put instructions into a variant that its CPU check does not know.
_SCRUBBED_ENV = ("CFLAGS", "CXXFLAGS", "CPPFLAGS", "CMAKE_ARGS", "SOURCE_DATE_EPOCH")


@dataclass(frozen=True)
class Variant:
    """One build of the kernels: the CPU flags (as /proc/cpuinfo names them) its compiler flags require."""

    name: str
    flags: frozenset[str]
    cmake_args: tuple[str, ...]


# Best first. GGML_AVX512 compiles with -mavx512f -mavx512cd -mavx512vl -mavx512dq -mavx512bw on top of the portable
# -mavx -mavx2 -mfma -mf16c -mbmi2; GGML_AVX512_VNNI adds -mavx512vnni.
VARIANTS = (
    Variant("avx512-vnni", _AVX512_FLAGS | {"avx512_vnni"}, ("-DGGML_AVX512=ON", "-DGGML_AVX512_VNNI=ON")),
    Variant("avx512", _AVX512_FLAGS, ("-DGGML_AVX512=ON",)),
)
_KERNELS_LIB = "libggml-cpu.so"
# What llama-cpp-python opens and what those libraries need (their sonames), all in one folder ($ORIGIN).
_LIBS = ("libllama.so", "libllama.so.0", "libggml.so.0", "libggml-base.so.0", "libggml-cpu.so.0")
_STAMP = "llama-cpp-python.version"


def installed_version() -> str:
    """The llama-cpp-python release installed in this environment ("" when there is none)."""
    try:
        return importlib.metadata.version("llama_cpp_python")
    except importlib.metadata.PackageNotFoundError:
        return ""


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The instruction-set flags of the first CPU (empty where ``/proc/cpuinfo`` cannot be read)."""
    try:
        with cpuinfo.open(encoding="ascii", errors="replace") as handle:
            for line in handle:
                if line.startswith("flags"):
                    return frozenset(line.partition(":")[2].split())
    except OSError:
        pass
    return frozenset()


def kernels_built(folder: Path, version: str = LLAMA_CPP_VERSION) -> bool:
    """Whether ``folder`` holds a complete library set built for llama-cpp-python ``version``."""
    stamp = folder / _STAMP
    return (
        all((folder / name).is_file() for name in _LIBS)
        and stamp.is_file()
        and stamp.read_text(encoding="ascii").strip() == version
    )


def choose(choice: str, root: Path, flags: frozenset[str], version: str = LLAMA_CPP_VERSION) -> Path | None:
    """The library folder to load llama.cpp from, or None for the portable build inside the package.

    Args:
        choice: ``auto`` (the best variant built whose instructions the CPU has) or ``portable``.
        root: where ``build`` put the variants (one folder each).
        flags: the CPU's flags (:func:`cpu_flags`).
        version: the llama-cpp-python release whose bindings will load the libraries (a variant built for
            another release is never loaded: its structures may differ).
    """
    if choice != "auto":
        return None
    return next((root / v.name for v in VARIANTS if v.flags <= flags and kernels_built(root / v.name, version)), None)


def select(choice: str = "auto", root: Path = KERNELS_ROOT) -> Path | None:
    """Point llama-cpp-python at the chosen libraries; call before its first import in the process.

    Returns the folder chosen (None: the portable build, an operator's own ``LLAMA_CPP_LIB_PATH``, which wins, or
    llama_cpp already imported, whose libraries then stay for the process).
    """
    if "llama_cpp" in sys.modules or os.environ.get(LIB_PATH_ENV):
        return None
    chosen = choose(choice, root, cpu_flags(), installed_version())
    if chosen is not None:
        os.environ[LIB_PATH_ENV] = str(chosen)
    return chosen


def unselect(chosen: Path) -> None:
    """Forget a variant that failed to load, so the next import of llama_cpp takes the portable build."""
    logger.warning("llama.cpp kernels in %s failed to load: using the portable build", chosen)
    if os.environ.get(LIB_PATH_ENV) == str(chosen):
        del os.environ[LIB_PATH_ENV]
    for name in [m for m in sys.modules if m == "llama_cpp" or m.startswith("llama_cpp.")]:
        del sys.modules[name]


def loaded() -> str:
    """The instruction set of the kernels llama.cpp loaded in this process: ``avx512-vnni``, ``avx512``, ``avx2``, ``basic``."""
    import llama_cpp

    info = llama_cpp.llama_print_system_info().decode(errors="replace")
    if "AVX512 = 1" in info:
        return "avx512-vnni" if "AVX512_VNNI = 1" in info else "avx512"
    return "avx2" if "AVX2 = 1" in info else "basic"


def build(root: Path = KERNELS_ROOT, variants: tuple[Variant, ...] = VARIANTS, *, jobs: int = 2) -> list[str]:
    """Compile ``libggml-cpu`` for each variant not built yet and assemble ``root/<variant>``; the names built.

    The source is the installed llama-cpp-python release's, and the other libraries are copied from the installed
    package, so every set matches the bindings that will load it.
    """
    spec = importlib.util.find_spec("llama_cpp")  # found, not imported: importing would load its libraries
    version = installed_version()
    if spec is None or spec.origin is None or not version:
        raise SystemExit("llama-cpp-python is not installed: `make setup` builds it first")
    todo = [v for v in variants if not kernels_built(root / v.name, version)]
    if not todo:
        return []
    package_lib = Path(spec.origin).parent / "lib"
    cmake = shutil.which("cmake")
    if cmake is None:
        raise SystemExit("cmake is missing: install it (Debian: apt-get install cmake)")
    sdist = SDIST_DIR / f"llama_cpp_python-{version}.tar.gz"
    if not sdist.is_file():  # kept beside the portable wheel, so a rebuild needs no index
        pip = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", "llama-cpp-python"]
        subprocess.run([*pip, "-d", str(SDIST_DIR), f"llama-cpp-python=={version}"], check=True)
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED_ENV}
    with tempfile.TemporaryDirectory(prefix="llama-kernels-") as tmp:
        work = Path(tmp)
        with tarfile.open(sdist) as archive:
            if hasattr(tarfile, "data_filter"):
                archive.extractall(work, filter="data")
            else:  # Python before 3.11.4; the archive is the one pip verified from our index
                archive.extractall(work)  # noqa: S202
        source = next(p for p in work.iterdir() if p.is_dir())
        for variant in todo:
            folder = root / variant.name
            build_dir = work / f"build-{variant.name}"
            args = [cmake, "-S", str(source), "-B", str(build_dir), *_BASE_CMAKE_ARGS, *variant.cmake_args]
            subprocess.run(args, check=True, stdout=subprocess.DEVNULL, env=env)
            subprocess.run([cmake, "--build", str(build_dir), "--target", "ggml-cpu", "-j", str(jobs)], check=True, env=env)
            staging = folder.with_name(folder.name + ".new")
            shutil.rmtree(staging, ignore_errors=True)
            shutil.copytree(package_lib, staging, symlinks=True)
            for old in staging.glob(f"{_KERNELS_LIB}*"):
                old.unlink()
            for lib in (build_dir / "bin").glob(f"{_KERNELS_LIB}*"):
                shutil.copy2(lib, staging / lib.name, follow_symlinks=False)
            (staging / _STAMP).write_text(version + "\n", encoding="ascii")
            if not kernels_built(staging, version):
                raise SystemExit(f"the {variant.name} build left an incomplete library set in {staging}")
            shutil.rmtree(folder, ignore_errors=True)
            staging.rename(folder)
            print(f"built the {variant.name} kernels in {folder}")  # noqa: T201 - a command's report
    return [v.name for v in todo]


def main(argv: list[str] | None = None) -> int:
    """``build``: compile the AVX-512 kernels; ``show``: which kernels this machine would load."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["build", "show"])
    parser.add_argument("--root", type=Path, default=KERNELS_ROOT, help="where the variants go (one folder each)")
    args = parser.parse_args(argv)
    if args.command == "build" and not build(args.root):
        print(f"the AVX-512 kernels are already built in {args.root}")  # noqa: T201
    chosen = choose("auto", args.root, cpu_flags(), installed_version())
    print(  # noqa: T201
        f"this CPU loads the {chosen.name} kernels from {chosen}" if chosen else "this CPU loads the portable (AVX2) kernels"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
