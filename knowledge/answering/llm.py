"""Language-model backends chosen by one setting: in-process llama.cpp, an Ollama server, or none.

Both backends are LangChain chat models, so the answer chain streams from either the same way.
Nothing is loaded or contacted at construction: the GGUF weights load on first use (or
:meth:`LlamaCppChat.load`), and Ollama is first called by the first question.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, Field, PrivateAttr

from knowledge.answering import cpu_kernels
from knowledge.settings import LlmSettings

LLAMACPP_HINT = (
    "the llamacpp backend needs llama-cpp-python: `make setup` builds it "
    "(or CMAKE_ARGS=-DGGML_NATIVE=OFF pip install llama-cpp-python==0.3.36)"
)
MODEL_HINT = "assemble the model with `python -m knowledge.answering.model_files` (part of `make setup`)"

logger = logging.getLogger(__name__)

_ROLES = {"system": "system", "human": "user", "ai": "assistant"}


@dataclass(frozen=True)
class _CpuSample:
    at: float
    idle: int  # clock ticks all cores spent idle since boot
    total: int  # clock ticks of all cores since boot
    own: int  # clock ticks this process spent on a CPU


def _cpu_sample() -> _CpuSample:
    with open("/proc/stat", encoding="ascii") as handle:
        fields = [int(v) for v in handle.readline().split()[1:9]]
    with open("/proc/self/stat", encoding="ascii") as handle:
        own = handle.read().rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return _CpuSample(time.monotonic(), fields[3] + fields[4], sum(fields), int(own[11]) + int(own[12]))


class CpuWatch:
    """How busy the other processes kept the cores over the last second or two (``/proc``, Linux).

    A daemon thread keeps a reading every ``interval_s``; a question compares the present with the oldest.
    This process's own CPU time is left out, so the model's last answer and this turn's retrieval do not
    count as load, while Rasa or the web app working for other citizens does.
    """

    def __init__(self, interval_s: float = 0.5, keep: int = 4) -> None:
        """Readings every ``interval_s``; the oldest of the last ``keep`` is compared with the present."""
        self._samples: deque[_CpuSample] = deque(maxlen=keep)
        self._interval_s = interval_s
        self._started = False
        self._lock = threading.Lock()

    def _run(self) -> None:
        while True:
            try:
                self._samples.append(_cpu_sample())
            except (OSError, ValueError, IndexError):
                return  # not Linux: no readings, so the model keeps its base threads
            time.sleep(self._interval_s)

    def start(self) -> None:
        """Start the reading thread (once; later calls do nothing)."""
        with self._lock:
            if not self._started:
                self._started = True
                threading.Thread(target=self._run, name="cpu-watch", daemon=True).start()

    def others_busy(self) -> float | None:
        """Cores' worth of CPU that other processes used lately (None before two readings exist)."""
        self.start()
        if not self._samples:
            return None
        try:
            now, old = _cpu_sample(), self._samples[0]
            cores = len(os.sched_getaffinity(0))
        except (OSError, ValueError, IndexError, AttributeError):
            return None
        ticks = now.total - old.total
        if now.at - old.at < 0.2 or ticks <= 0:
            return None
        busy = ticks - (now.idle - old.idle) - (now.own - old.own)
        return max(0.0, cores * busy / ticks)


_WATCH = CpuWatch()


def spare_cores(tolerance: float = 0.35) -> int:
    """Cores besides the caller's that other processes left idle lately (0 where it cannot be told).

    A core counts as spare while the others together used at most ``tolerance`` of it: a turn of Rasa's
    for the same citizen (~0.1 s) does not make the box busy; citizens being served do.
    """
    others = _WATCH.others_busy()
    if others is None:
        return 0
    cores = len(os.sched_getaffinity(0))
    return max(0, min(cores - 1, int(cores - 1 - others + tolerance)))


def threads_for_now(base: int, when_idle: int, spare: int) -> int:
    """How many threads a generation starting now may use: ``base``, up to ``when_idle`` on idle cores."""
    return max(base, min(when_idle, base + spare))


class LlmUnavailableError(RuntimeError):
    """The configured model cannot be used here; the message says what to install or run."""


class LlamaCppChat(BaseChatModel):
    """A GGUF chat model run in this process by llama.cpp (llama-cpp-python), CPU only.

    One generation at a time: llama.cpp contexts are not thread-safe, so calls queue on a lock.
    A call bound with ``cancel_event`` (a :class:`threading.Event`) stops as soon as it is set, even
    in the middle of prompt processing (llama.cpp's abort callback), so a late answer frees the CPU.
    """

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    model_path: str = Field(description="GGUF file")
    n_threads: int = Field(2, ge=1, description="CPU threads for prompt processing and generation")
    threads_when_idle: int = Field(
        0, ge=0, description="Up to this many threads for a generation that starts while other cores are idle (0: off)"
    )
    cpu_kernels: str = Field(
        "auto", description="auto: AVX-512 kernels where built and supported; portable: AVX2 (cpu_kernels.py)"
    )
    use_mmap: bool = Field(False, description="Map the GGUF file instead of reading it (see LlmSettings.use_mmap)")
    n_ctx: int = Field(2048, ge=256, description="Context window in tokens")
    temperature: float = Field(0.0, ge=0.0, description="Sampling temperature")
    max_tokens: int = Field(160, ge=1, description="Longest answer in tokens")
    seed: int = Field(0, description="Sampling seed (answers repeat at any temperature)")

    _llama: Any = PrivateAttr(default=None)
    _load_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _run_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _active_cancel: threading.Event | None = PrivateAttr(default=None)
    _abort_callback: Any = PrivateAttr(default=None)
    _last_threads: int = PrivateAttr(default=0)
    _kernels: str = PrivateAttr(default="")

    @property
    def _llm_type(self) -> str:
        return "llamacpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "n_ctx": self.n_ctx, "temperature": self.temperature}

    def load(self) -> Any:
        """Load the weights (~2 s, read in unless ``use_mmap``) once; later calls return the loaded model."""
        with self._load_lock:
            if self._llama is None:
                chosen = cpu_kernels.select(self.cpu_kernels)
                try:
                    from llama_cpp import Llama
                except ImportError as exc:
                    raise LlmUnavailableError(LLAMACPP_HINT) from exc
                except (OSError, RuntimeError):
                    if chosen is None:
                        raise
                    cpu_kernels.unselect(chosen)  # a damaged variant must not take the model away: portable
                    from llama_cpp import Llama
                import llama_cpp

                llama = Llama(
                    model_path=self.model_path,
                    n_ctx=self.n_ctx,
                    n_threads=self.n_threads,
                    n_threads_batch=self.n_threads,
                    seed=self.seed,
                    use_mmap=self.use_mmap,
                    verbose=False,
                )
                # Checked by ggml between graph nodes: a cancelled call stops within milliseconds.
                self._abort_callback = llama_cpp.ggml_abort_callback(self._should_abort)
                llama_cpp.llama_set_abort_callback(llama._ctx.ctx, self._abort_callback, None)
                self._llama = llama
                self._kernels = cpu_kernels.loaded()
                logger.info("in-process model loaded with %s kernels from %s", self._kernels, llama_cpp.llama_cpp._base_path)
            return self._llama

    @property
    def kernels(self) -> str:
        """The instruction set of the loaded kernels (``avx512``, ``avx2``, ``basic``; empty before loading)."""
        return self._kernels

    def _should_abort(self, _data: Any) -> bool:
        event = self._active_cancel
        return bool(event is not None and event.is_set())

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        llama = self.load()
        cancel: threading.Event | None = kwargs.get("cancel_event")
        chat = [{"role": _ROLES.get(m.type, "user"), "content": str(m.content)} for m in messages]
        with self._run_lock:
            if cancel is not None and cancel.is_set():
                return  # gave up while waiting for the model
            self._active_cancel = cancel
            self._set_threads(llama)
            try:
                for part in llama.create_chat_completion(
                    messages=chat,
                    temperature=self.temperature,
                    max_tokens=kwargs.get("max_tokens", self.max_tokens),
                    stop=stop,
                    seed=self.seed,
                    stream=True,
                ):
                    if cancel is not None and cancel.is_set():
                        return
                    delta = part["choices"][0]["delta"].get("content")
                    if not delta:
                        continue
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
                    if run_manager:
                        run_manager.on_llm_new_token(delta, chunk=chunk)
                    yield chunk
            except RuntimeError:
                if cancel is None or not cancel.is_set():
                    raise  # a real llama.cpp failure; an abort we asked for is not an error
            finally:
                self._active_cancel = None

    def _set_threads(self, llama: Any) -> None:
        """Use the idle cores for this generation (prompt and writing), else only ``n_threads``."""
        threads = self.n_threads
        if self.threads_when_idle > self.n_threads:
            import llama_cpp

            threads = threads_for_now(self.n_threads, self.threads_when_idle, spare_cores())
            llama_cpp.llama_set_n_threads(llama._ctx.ctx, threads, threads)
        self._last_threads = threads

    @property
    def last_threads(self) -> int:
        """Threads the last generation used (0 before the first)."""
        return self._last_threads

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text = "".join(str(c.message.content) for c in self._stream(messages, stop, run_manager, **kwargs))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])


def build_chat_model(settings: LlmSettings) -> BaseChatModel | None:
    """The chat model named by ``settings.backend`` (None for ``none``), checked but not loaded.

    Raises:
        LlmUnavailableError: the backend's package or model file is missing.
    """
    match settings.backend:
        case "none":
            return None
        case "llamacpp":
            if importlib.util.find_spec("llama_cpp") is None:
                raise LlmUnavailableError(LLAMACPP_HINT)
            if not settings.model_path.is_file():
                raise LlmUnavailableError(f"no model at {settings.model_path}: {MODEL_HINT}")
            return LlamaCppChat(
                model_path=str(settings.model_path),
                n_threads=settings.threads,
                threads_when_idle=settings.threads_when_idle,
                cpu_kernels=settings.cpu_kernels,
                use_mmap=settings.use_mmap,
                n_ctx=settings.context_tokens,
                temperature=settings.temperature,
                max_tokens=settings.max_tokens,
            )
        case "ollama":
            try:
                import httpx
                from langchain_ollama import ChatOllama
            except ImportError as exc:
                raise LlmUnavailableError("the ollama backend needs 'langchain-ollama'") from exc
            return ChatOllama(
                model=settings.ollama_model,
                base_url=settings.ollama_host,
                temperature=settings.temperature,
                num_predict=settings.max_tokens,
                num_ctx=settings.ollama_num_ctx,
                keep_alive=settings.ollama_keep_alive,
                seed=0,
                # The chain's deadline answers the citizen; this read timeout (a little later) only ends
                # the worker thread of a server that hangs.
                client_kwargs={"timeout": httpx.Timeout(settings.timeout_s + 5.0, connect=settings.ollama_connect_timeout_s)},
            )
