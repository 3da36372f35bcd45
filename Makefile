# The two commands: `make book` and `make test`. Both create .venv on first use and install
# only what is missing afterwards (the stamp file follows requirements.txt and pyproject.toml).
SHELL := /bin/bash
PYTHON ?= python3.11
PROFILE ?= cpu
ONLY ?=
SET ?=
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# `make run PY=python3 STAMP=` uses a Python that is already set up (a GPU machine's, with the
# wheels of `make wheelhouse`) instead of creating .venv: README, "Runs of record".
# pip warns about every local index folder that lacks a package; keep the real messages only
QUIET_PIP := { grep -v "is ignored: it is neither a file nor a directory" || true; }
.SHELLFLAGS := -o pipefail -c

.PHONY: book run html bench lab test lint sync lock wheelhouse clean help

help:
	@echo "make book [PROFILE=cpu|gpu|smoke] [ONLY=01,03] [SET=\"STEPS=20 DEVICE=cpu\"]"
	@echo "                                              run chapters with papermill, build the HTML book"
	@echo "                                              (PROFILE=gpu also keeps runs of record in runs/gpu/)"
	@echo "make bench [PROFILE=cpu|gpu|smoke]             run chapters 02-09 that have no registry records yet, then"
	@echo "                                              the benchmark chapter (10), then build the HTML book"
	@echo "make lab                                       JupyterLab on notebooks/: a chapter's .py opens as a notebook"
	@echo "make test                                      lint, unit tests, every chapter in the smoke profile, book build"
	@echo "make sync                                      pair notebooks/*.py with their .ipynb, refresh setup cells"
	@echo "make lock                                      re-resolve requirements.in into requirements.txt"
	@echo "make wheelhouse ONLY=NN [PYTHON_VERSION=3.12]  chapter NN's wheels for an offline GPU machine that has torch"

$(STAMP): requirements.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 or run make PYTHON=/path/to/python3.11"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "installing the course environment into $(VENV) (first time: several minutes) ..."
	$(PY) -m pip install --quiet --upgrade pip 2>&1 | $(QUIET_PIP)
	$(PY) -m pip install --quiet -r requirements.txt 2>&1 | $(QUIET_PIP)
	$(PY) -m pip install --quiet --no-deps -e . > $(VENV)/helpers-install.log 2>&1 || { cat $(VENV)/helpers-install.log; exit 1; }
	@touch $(STAMP)

RUN_ARGS = --profile $(PROFILE) $(if $(ONLY),--only $(ONLY)) $(foreach pair,$(SET),--set $(pair))

book: $(STAMP)
	$(PY) -m tools.book run $(RUN_ARGS)
	$(PY) -m tools.book build --profile $(PROFILE)

# Only the execution, or only the HTML, when iterating on one of them.
run: $(STAMP)
	$(PY) -m tools.book run $(RUN_ARGS)
html: $(STAMP)
	$(PY) -m tools.book build --profile $(PROFILE)

# The benchmark: fill the results registry where a scoring chapter (02-09) has no records in
# build/results/PROFILE/, run chapter 10 on it, build the book. With PROFILE=gpu the records of the
# committed runs of record (runs/gpu/) count as present.
bench: $(STAMP)
	$(PY) -m tools.book bench --profile $(PROFILE)

# JupyterLab on the paired notebooks: jupytext's contents manager opens a chapter's .py as a
# notebook and saving writes both files of the pair (lab/jupyter_server_config.py).
LAB_PORT ?= 8888
lab: $(STAMP)
	$(VENV)/bin/jupyter lab --config=lab/jupyter_server_config.py --port=$(LAB_PORT)

lint: $(STAMP)
	$(PY) -m ruff check helpers tools tests notebooks/*.py
	$(PY) -m ruff format --check helpers tools tests notebooks/*.py

test: $(STAMP) lint
	$(PY) -m pytest -q --durations=10

sync: $(STAMP)
	$(PY) -m tools.book sync

lock:
	rm -rf build/lock-venv && $(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/pip install --quiet -r requirements.in
	{ echo "# Resolved from requirements.in by \`make lock\` on Linux x86_64, Python 3.11. Do not edit by hand."; \
	  build/lock-venv/bin/pip freeze --exclude-editable; } > requirements.txt
	rm -rf build/lock-venv

# A chapter's wheels for a GPU machine with a CUDA torch and no network: build/wheelhouse/NN/,
# with install.sh (pip --no-index) and manifest.json. PYTHON_VERSION: the GPU machine's Python.
PYTHON_VERSION ?= 3.12
wheelhouse: $(STAMP)
	$(PY) -m tools.wheelhouse $(if $(ONLY),--only $(ONLY)) --python-version $(PYTHON_VERSION)

clean:
	rm -rf build
