# HAN research codebase. `make help` lists the targets.
# Every target that needs the environment creates it first (`make setup`: the virtual
# environment, the pinned packages and NLTK's sentence model): on a fresh clone
# `make train DATASET=news` and `make test` are all the set-up there is.

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# Empty DATASET/MODEL leave the choice to the config (news, han) or to an experiment preset.
DATASET ?=
MODEL ?=
ARGS ?=
SWEEP ?=
PUBLISH ?=
RUN ?=
INPUT ?= -
# Downloads, caches and runs of `make` stay in the checkout (data/, logs/); the installed commands
# default to a per-user cache and ./logs (conf/paths/default.yaml).
export HAN_ROOT ?= $(CURDIR)
OUTPUT ?=

.DEFAULT_GOAL := help

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "; printf "Targets (variables: DATASET=news|news5|imdb|reuters|csv MODEL=han|han_avg|han_max|han_uniform|flat|flat_avg|tfidf_lr|ngram_tfidf_lr|cnn_word|cnn_char|lstm|conv_grnn|lstm_grnn ARGS=\"<Hydra overrides>\"):\n"} \
		/^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# requirements.lock: every package of the dev install (the extras the tests use included), pinned
# with hashes by uv (`make lock`); uv installs it, then han itself (editable, no dependencies).
UV_VERSION := 0.13.9
$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet uv==$(UV_VERSION)
	$(VENV)/bin/uv pip install --quiet --python $(PY) --require-hashes -r requirements.lock
	$(VENV)/bin/uv pip install --quiet --python $(PY) --no-deps -e .
	touch $@

# NLTK's punkt_tab sentence model, unless NLTK already finds it (NLTK_DATA, ~/nltk_data, ...):
# into .venv/nltk_data, from $$HAN_DATA_MIRROR/punkt_tab.zip when a mirror is set, else downloaded.
setup: $(VENV)/.installed ## Create .venv, install the pinned dependencies and NLTK's punkt_tab
	@$(PY) -m han.nltk_setup

lock: ## Re-pin requirements.lock with hashes from pyproject.toml (the dev install: tests need its extras)
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 \
		--python-platform x86_64-manylinux_2_28 --no-emit-package han-attention -o requirements.lock

data: setup ## Prepare and cache a dataset, print its summary (DATASET=news|imdb|reuters|csv)
	$(PY) -m han.data dataset=$(or $(DATASET),news) $(ARGS)

train: setup ## Train and evaluate one model (DATASET=, MODEL=han|han_avg|han_max|han_uniform|flat|flat_avg|tfidf_lr|ngram_tfidf_lr|majority|svm_unigram|svm_bigram|svm_avgsg|paragraph_vector|cnn_word|cnn_char|lstm|conv_grnn|lstm_grnn; docs/TABLE2.md)
	$(PY) -m han.train $(if $(DATASET),dataset=$(DATASET)) $(if $(MODEL),model=$(MODEL)) $(ARGS)

sweep: setup ## Hydra multirun, e.g. ARGS="model=flat,han seed=0,1,2"
	$(PY) -m han.train -m $(if $(DATASET),dataset=$(DATASET)) $(if $(MODEL),model=$(MODEL)) $(ARGS)

compare: setup ## Run EXPERIMENT's sweep (default news_compare; DATASET= to pick its data) and aggregate it; SWEEP="<dir> [<dir> ...]" only aggregates (sweeps or docs/results/<name> records); PUBLISH=docs/results/<name> writes the records and tables there and updates the docs
	@sweep="$(SWEEP)"; exp="$(or $(EXPERIMENT),news_compare)"; status=0; \
	if [ -z "$$sweep" ]; then \
		sweep="$${HAN_ROOT:-.}/logs/train/multiruns/$${exp}$(if $(DATASET),_$(DATASET))_$$(date +%Y-%m-%d_%H-%M-%S)"; \
		$(PY) -m han.train -m experiment=$$exp $(if $(DATASET),dataset=$(DATASET)) hydra.sweep.dir="$$sweep" $(ARGS) || status=$$?; \
	fi; \
	$(PY) -m experiments.compare $$sweep $(if $(PUBLISH),--publish $(PUBLISH) --command "make compare EXPERIMENT=$$exp$(if $(DATASET), DATASET=$(DATASET))$(if $(ARGS), ARGS='$(ARGS)')") || status=$$?; \
	$(if $(PUBLISH),$(PY) -m experiments.docs || status=$$?;) \
	exit $$status

docs: setup ## Rewrite the results tables in README.md and docs/RESULTS.md from docs/results/ (never typed by hand)
	$(PY) -m experiments.docs

predict: setup ## Classify raw text with a saved run (RUN=<run dir> INPUT=<file|folder|->)
	$(PY) -m han.predict run_dir=$(RUN) input=$(INPUT) $(ARGS)

explain: setup ## HTML attention report of a run's test documents (RUN=<run dir>)
	$(PY) -m han.predict run_dir=$(RUN) report=true $(ARGS)

WORDS ?= good,bad
DIR ?=
attention-stats: setup ## The paper's Figures 3-4: attention weight of WORDS (default good,bad) per class and rating (RUN=<run dir>[ <run dir> ...]; docs/ATTENTION.md)
	$(PY) -m han.analysis.word_weights $(RUN) --words $(WORDS) $(ARGS)

faithfulness: setup ## Attention vs gradient and leave-one-out, erasure, permutation, per document (RUN=<run dir>; ARGS="--sample 300"; docs/ATTENTION.md)
	$(PY) -m han.analysis.faithfulness $(RUN) $(ARGS)

attention-tables: setup ## Rebuild the attention tables and figures of DIR=docs/results/attention_<dataset> from its records
	$(PY) -m han.analysis.summary $(DIR) $(ARGS)

export: setup ## TF SavedModel + vocabulary + tokenizer settings of a run, for serving (RUN=<run dir>; docs/SERVING.md)
	$(PY) -m han.export $(RUN) $(ARGS)

evaluate: setup ## Score a saved run on labelled data: RUN=<run dir> DATASET=<name> (its test split; ARGS="split=all") or ARGS="input=<file>"; OUTPUT=<dir>
	$(PY) -m han.evaluate run_dir=$(RUN) $(if $(DATASET),dataset=$(DATASET)) $(if $(OUTPUT),output=$(OUTPUT)) $(ARGS)

# Test files run TEST_WORKERS at a time (pytest-xdist, a file per worker so a file's trained
# fixtures are built once); most of a test's time is a subprocess importing TensorFlow.
TEST_WORKERS ?= 2

test: setup ## Run the default test suite (no slow tests), and ruff
	$(VENV)/bin/ruff check han experiments tests benchmarks
	$(VENV)/bin/pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=10

test-slow: setup ## Run the slow real-data tests (BBC and IMDB runs)
	$(VENV)/bin/pytest -q -n $(TEST_WORKERS) --dist loadfile -m slow

bench: setup ## Packed HAN vs padded reference on IMDB (ARGS="model=han bench.num_docs=2048")
	$(PY) -m benchmarks.bench $(ARGS)

profile: setup ## Profile of one training and one evaluation step of make bench, by model part (docs/PERFORMANCE.md)
	$(PY) -m benchmarks.profile $(ARGS)

bench-data: setup ## Cold and warm time to prepare a dataset (DATASET=imdb)
	$(PY) -m benchmarks.bench_data dataset=$(or $(DATASET),imdb) $(ARGS)

bench-scale: setup ## Cost against corpus size on every aclImdb review: prepare, word2vec, training, evaluation, memory (ARGS="bench.sizes=[1000,4000]"; resumable)
	$(PY) -m benchmarks.bench_scale $(ARGS)

lint: setup ## ruff
	$(VENV)/bin/ruff check han experiments tests benchmarks

clean: ## Remove caches (not downloads, not runs)
	rm -rf data/cache .pytest_cache .ruff_cache

.PHONY: help setup lock data train sweep compare docs predict explain attention-stats faithfulness attention-tables export evaluate test test-slow bench profile bench-data bench-scale lint clean
