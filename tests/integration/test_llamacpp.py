"""The in-process model for real: the assembled GGUF loaded by llama-cpp-python, CPU only.

Skipped (with the reason) only where the model is not installed; ``make setup`` installs both
llama-cpp-python and the model, so on a set-up machine these tests always run.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.output_parsers import StrOutputParser

from knowledge.answering.chain import GenerationTimeoutError, stream_with_deadline
from knowledge.answering.grounding import unsupported_facts
from knowledge.answering.llm import LlamaCppChat, build_chat_model
from knowledge.answering.model_files import QWEN_CODER_1_5B, is_installed
from knowledge.answering.prompts import answer_prompt, format_passages
from knowledge.answering.service import KnowledgeService
from knowledge.ingestion.ingest import index_id, ingest_faqs
from knowledge.ingestion.seed_files import load_faq_dir, load_helplines
from knowledge.korean.analyzer import KiwiAnalyzer, load_user_dict
from knowledge.retrieval.embeddings import E5Embeddings
from knowledge.retrieval.sqlite_store import SqliteStore
from knowledge.settings import KnowledgeSettings, LlmSettings, RetrievalSettings

# A generous deadline: these tests check grounding and cancelling, not the CPU's speed (bench-answers does).
SETTINGS = LlmSettings(timeout_s=45.0)

if importlib.util.find_spec("llama_cpp") is None:
    pytest.skip("llama-cpp-python is not installed here: `make setup` builds it", allow_module_level=True)
if not is_installed(SETTINGS.model_path, QWEN_CODER_1_5B):
    pytest.skip(
        f"the model is not assembled at {SETTINGS.model_path}: run `python -m knowledge.answering.model_files` (part of make setup)",
        allow_module_level=True,
    )

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def model() -> LlamaCppChat:
    chat = build_chat_model(SETTINGS)
    assert isinstance(chat, LlamaCppChat)
    chat.load()
    return chat


@pytest.fixture(scope="module")
def service(model: LlamaCppChat, tmp_path_factory: pytest.TempPathFactory) -> KnowledgeService:
    entries = [e for e in load_faq_dir(KnowledgeSettings().seed_dir) if e.id.startswith(("basic-pension", "child-allowance"))]
    embeddings, analyzer = E5Embeddings(), KiwiAnalyzer(load_user_dict())
    store = SqliteStore(Path(tmp_path_factory.mktemp("llm")) / "store.sqlite3", analyzer, model_id=index_id(embeddings), dim=384)
    ingest_faqs(store, embeddings, entries)
    # No FAQ is confident: every relevant question goes to the model.
    return KnowledgeService(
        store, embeddings, RetrievalSettings(faq_min_dense=1.0), load_helplines(),
        llm=model, llm_settings=SETTINGS, analyzer=analyzer,
    )  # fmt: skip


def test_the_assembled_file_is_the_recorded_model(model: LlamaCppChat) -> None:
    assert is_installed(SETTINGS.model_path, QWEN_CODER_1_5B, verify=True)
    assert "Qwen2.5" in model.load().metadata.get("general.name", "")


def test_korean_answers_both_streamed_and_whole(model: LlamaCppChat) -> None:
    messages = [SystemMessage("한국어로 한 문장만 답하세요."), HumanMessage("복지로는 무엇을 하는 곳인가요?")]
    chunks = [str(c.content) for c in model.bind(max_tokens=24).stream(messages)]
    whole = str(model.bind(max_tokens=24).invoke(messages).content)
    for text in ("".join(chunks), whole):
        assert sum("\uac00" <= ch <= "\ud7a3" for ch in text) >= 5, text
    assert len(chunks) > 3


def test_a_generated_answer_never_carries_a_number_its_sources_lack(service: KnowledgeService) -> None:
    start = time.perf_counter()
    answer, trace = service.chain.invoke("기초연금 최대 얼마까지 받을 수 있어요?")
    assert time.perf_counter() - start < SETTINGS.timeout_s + 5
    assert answer.mode == "generated" and answer.sources
    titles = {s.title for s in answer.sources}
    texts = [p for p in trace.passages if p.split("\n", 1)[0] in titles] + ["보건복지상담센터 129"]
    assert unsupported_facts(answer.text, texts) == []


def test_a_cancelled_generation_frees_the_model_at_once(model: LlamaCppChat) -> None:
    cancel = threading.Event()
    chain = answer_prompt() | model.bind(cancel_event=cancel) | StrOutputParser()
    long = format_passages([("자료", "기초연금 안내 문장입니다. " * 80)])
    with pytest.raises(GenerationTimeoutError):
        "".join(stream_with_deadline(chain, {"passages": long, "question": "요약해 주세요"}, time.monotonic() + 0.3, cancel))
    start = time.perf_counter()
    reply = model.bind(max_tokens=4).invoke([HumanMessage("안녕")])
    assert time.perf_counter() - start < 10 and str(reply.content)


def test_a_generation_takes_the_idle_core_and_leaves_a_busy_one(model: LlamaCppChat, monkeypatch: pytest.MonkeyPatch) -> None:
    import llama_cpp

    from knowledge.answering import llm

    assert (model.n_threads, model.threads_when_idle) == (1, 2)  # the defaults: one thread, two when idle
    messages = [HumanMessage("기초연금은 어디서 신청해요? 한 문장으로 답해 주세요.")]
    for spare, expected in ((1, 2), (0, 1)):
        monkeypatch.setattr(llm, "spare_cores", lambda spare=spare: spare)
        reply = str(model.bind(max_tokens=12).invoke(messages).content)
        ctx = model.load()._ctx.ctx
        assert model.last_threads == expected
        assert (llama_cpp.llama_n_threads(ctx), llama_cpp.llama_n_threads_batch(ctx)) == (expected, expected)
        assert sum("\uac00" <= ch <= "\ud7a3" for ch in reply) >= 3, reply


def test_the_model_runs_on_the_best_kernels_the_cpu_has(model: LlamaCppChat) -> None:
    from knowledge.answering import cpu_kernels

    flags = cpu_kernels.cpu_flags()
    best = next((v for v in cpu_kernels.VARIANTS if v.flags <= flags), None)
    if best is None:
        assert model.kernels == "avx2"  # the portable build, on any x86-64
        pytest.skip("this CPU has no AVX-512: the portable kernels run")
    assert cpu_kernels.kernels_built(cpu_kernels.KERNELS_ROOT / best.name), "make setup builds the AVX-512 kernels on x86-64"
    assert model.kernels == best.name
    reply = str(model.bind(max_tokens=12).invoke([HumanMessage("기초연금은 어디서 신청해요? 한 문장으로 답해 주세요.")]).content)
    assert sum("\uac00" <= ch <= "\ud7a3" for ch in reply) >= 3, reply


def test_portable_kernels_can_be_chosen() -> None:
    code = (
        "from knowledge.answering.llm import build_chat_model; from knowledge.settings import LlmSettings; "
        "m = build_chat_model(LlmSettings(cpu_kernels='portable')); m.load(); print(m.kernels)"
    )
    env = {k: v for k, v in os.environ.items() if k != "LLAMA_CPP_LIB_PATH"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env, check=True)
    assert out.stdout.strip().splitlines()[-1] == "avx2"


def test_the_weights_are_read_in_not_mapped_beside_their_repacked_copy(model: LlamaCppChat) -> None:
    # llama.cpp repacks most weights into anonymous memory; a mapped file would stay resident beside them (+0.6 GB).
    assert model.use_mmap is False
    with open("/proc/self/maps", encoding="utf-8") as maps:
        assert not [line for line in maps if line.rstrip().endswith(".gguf")]
