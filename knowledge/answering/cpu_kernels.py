"""Which build of llama.cpp's CPU kernels the in-process model runs on: portable, or AVX-512 where the CPU has it.

`make setup` builds llama-cpp-python portably (AVX2, FMA, F16C: any x86-64 CPU since 2013) and then builds one
library again, ``libggml-cpu`` (the matrix kernels), with AVX-512 VNNI and VBMI. It goes into ``var/llama/avx512``
beside copies of the package's other libraries, which do not depend on the instruction set. At load time the
process checks ``/proc/cpuinfo`` and points llama-cpp-python there (its ``LLAMA_CPP_LIB_PATH``) only when the CPU
has every instruction the kernels were compiled with. llama.cpp's own answer, ``GGML_CPU_ALL_VARIANTS``, compiles
the kernels 14 times; this compiles them once more (26 s on 2 cores) for the one family that mattered here.

Measured on the 2-core AMD EPYC build box (Qwen2.5-Coder-1.5B Q4_K_M, 300-token prompt, 2026-12-02): prompt
46 -> 86 tokens/s on one thread and 86 -> 161 on two; writing 22.5 -> 23.4 and 31 -> 35 tokens/s.

Run ``python -m knowledge.answering.cpu_kernels build`` to build them (``make setup`` does).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from knowledge.settings import PROJECT_ROOT

LIB_PATH_ENV = "LLAMA_CPP_LIB_PATH"
"""llama-cpp-python loads its libraries from this folder when it is set (read once, at import)."""

KERNELS_DIR = PROJECT_ROOT / "var" / "llama" / "avx512"
LLAMA_CPP_VERSION = "0.3.36"

# The compiler flags of the build below (-mavx512f -mavx512cd -mavx512vl -mavx512dq -mavx512bw -mavx512vbmi
# -mavx512vnni on top of the portable -mavx -mavx2 -mfma -mf16c -mbmi2), as /proc/cpuinfo names them.
AVX512_FLAGS = frozenset(
    {"avx", "avx2", "fma", "f16c", "bmi2", "avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw", "avx512vbmi"}
    | {"avx512_vnni"}
)
CMAKE_ARGS = (
    "-DCMAKE_BUILD_TYPE=Release",
    "-DGGML_NATIVE=OFF",
    "-DLLAVA_BUILD=OFF",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_BUILD_TOOLS=OFF",
    "-DLLAMA_BUILD_SERVER=OFF",
    "-DGGML_AVX512=ON",
    "-DGGML_AVX512_VBMI=ON",
    "-DGGML_AVX512_VNNI=ON",
)
_KERNELS_LIB = "libggml-cpu.so"
_STAMP = "llama-cpp-python.version"


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


def kernels_built(kernels_dir: Path = KERNELS_DIR) -> bool:
    """Whether ``kernels_dir`` holds a complete AVX-512 library set for the installed llama-cpp-python."""
    stamp = kernels_dir / _STAMP
    return (
        (kernels_dir / "libllama.so").is_file()
        and (kernels_dir / _KERNELS_LIB).is_file()
        and stamp.is_file()
        and stamp.read_text(encoding="ascii").strip() == LLAMA_CPP_VERSION
    )


def choose(choice: str, kernels_dir: Path, flags: frozenset[str]) -> Path | None:
    """The library folder to load llama.cpp from, or None for the portable build inside the package.

    Args:
        choice: ``auto`` (AVX-512 when built and the CPU has every flag) or ``portable``.
        kernels_dir: where ``build`` put the AVX-512 libraries.
        flags: the CPU's flags (:func:`cpu_flags`).
    """
    if choice != "auto" or not AVX512_FLAGS <= flags or not kernels_built(kernels_dir):
        return None
    return kernels_dir


def select(choice: str = "auto", kernels_dir: Path = KERNELS_DIR) -> None:
    """Point llama-cpp-python at the chosen libraries; call before its first import in the process.

    An operator's own ``LLAMA_CPP_LIB_PATH`` wins. Once llama_cpp is imported its libraries stay for the process.
    """
    if "llama_cpp" in sys.modules or os.environ.get(LIB_PATH_ENV):
        return
    chosen = choose(choice, kernels_dir, cpu_flags())
    if chosen is not None:
        os.environ[LIB_PATH_ENV] = str(chosen)


def loaded() -> str:
    """The instruction set of the kernels llama.cpp loaded in this process: ``avx512``, ``avx2`` or ``basic``."""
    import llama_cpp

    info = llama_cpp.llama_print_system_info().decode(errors="replace")
    if "AVX512 = 1" in info:
        return "avx512"
    return "avx2" if "AVX2 = 1" in info else "basic"


def build(kernels_dir: Path = KERNELS_DIR, *, jobs: int = 2) -> None:
    """Compile ``libggml-cpu`` with AVX-512 from llama-cpp-python's source and assemble ``kernels_dir``.

    The other libraries are copied from the installed package, so both sets come from the same source release.
    """
    import llama_cpp

    package_lib = Path(llama_cpp.__file__).parent / "lib"
    if llama_cpp.__version__ != LLAMA_CPP_VERSION:
        raise SystemExit(f"llama-cpp-python {llama_cpp.__version__} is installed; these kernels are for {LLAMA_CPP_VERSION}")
    cmake = shutil.which("cmake")
    if cmake is None:
        raise SystemExit("cmake is missing: install it (Debian: apt-get install cmake)")
    with tempfile.TemporaryDirectory(prefix="llama-avx512-") as tmp:
        work = Path(tmp)
        pip = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", "llama-cpp-python"]
        subprocess.run([*pip, "-d", str(work), f"llama-cpp-python=={LLAMA_CPP_VERSION}"], check=True)
        with tarfile.open(next(work.glob("llama_cpp_python-*.tar.gz"))) as archive:
            archive.extractall(work, filter="data")
        source = next(p for p in work.iterdir() if p.is_dir())
        build_dir = work / "build"
        subprocess.run([cmake, "-S", str(source), "-B", str(build_dir), *CMAKE_ARGS], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([cmake, "--build", str(build_dir), "--target", "ggml-cpu", "-j", str(jobs)], check=True)
        staging = kernels_dir.with_name(kernels_dir.name + ".new")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(package_lib, staging, symlinks=True)
        for old in staging.glob(f"{_KERNELS_LIB}*"):
            old.unlink()
        for lib in (build_dir / "bin").glob(f"{_KERNELS_LIB}*"):
            shutil.copy2(lib, staging / lib.name, follow_symlinks=False)
        (staging / _STAMP).write_text(LLAMA_CPP_VERSION + "\n", encoding="ascii")
        shutil.rmtree(kernels_dir, ignore_errors=True)
        staging.rename(kernels_dir)


def main(argv: list[str] | None = None) -> int:
    """``build``: compile the AVX-512 kernels; ``show``: which kernels this machine would load."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["build", "show"])
    parser.add_argument("--dir", type=Path, default=KERNELS_DIR, help="where the AVX-512 libraries go")
    args = parser.parse_args(argv)
    if args.command == "build":
        if kernels_built(args.dir):
            print(f"AVX-512 kernels already built in {args.dir}")  # noqa: T201 - a command's report
        else:
            build(args.dir)
            print(f"AVX-512 kernels built in {args.dir}")  # noqa: T201
    chosen = choose("auto", args.dir, cpu_flags())
    missing = sorted(AVX512_FLAGS - cpu_flags())
    print(  # noqa: T201
        f"this CPU loads the AVX-512 kernels from {chosen}"
        if chosen
        else "this CPU loads the portable kernels" + (f" (it lacks {', '.join(missing)})" if missing else "")
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
