# Everything runs inside .venv, created from the hashed lock file when missing.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: test test-fast lint typecheck audit report lock bench clean-venv

$(STAMP): requirements/lock.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements/lock.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

venv: $(STAMP)

## test: the whole suite (lint, types, dependency audit, every test)
test: $(STAMP) lint typecheck audit
	$(BIN)/python -m pytest -n 2 -q

## test-fast: the fast tier, under a minute
test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check ardlib tests scripts
	$(BIN)/ruff format --check ardlib tests scripts

typecheck: $(STAMP)
	$(BIN)/mypy

## audit: known vulnerabilities in the locked dependencies (ignore list: requirements/audit-ignore.txt)
audit: $(STAMP)
	$(BIN)/python scripts/audit.py

## report: re-derive every report with the DVC pipeline (data -> emulators -> studies -> notebooks)
report: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dvc repro

## bench: planner speed and evaluations-to-target (prints a table; not a test)
bench: $(STAMP)
	$(BIN)/python scripts/bench_planners.py

## lock: re-resolve the lock file (needs pip-tools in the venv)
lock:
	$(BIN)/python -m piptools compile --generate-hashes --allow-unsafe --extra dask --extra reports --extra dev --strip-extras -o requirements/lock.txt pyproject.toml

clean-venv:
	rm -rf $(VENV)
