# Two commands do everything on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PIP_FLAGS := --quiet --disable-pip-version-check

.PHONY: run test lint install clean bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# This machine's pip config lists local mirrors that may be absent; their warnings are noise.
	$(BIN)/pip install $(PIP_FLAGS) --upgrade pip 2>&1 | { grep -v "is ignored" || true; }
	$(BIN)/pip install $(PIP_FLAGS) -e '.[dev]' 2>&1 | { grep -v "is ignored" || true; }
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/questrya up

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
