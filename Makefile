# Everything runs inside .venv, created from the hashed lock file when missing.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: test test-fast lint typecheck audit report report-paper lock bench clean-venv

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

## report-paper: the full-size studies (100 Branin replicates, 50 per lab problem, budget 100)
PAPER_SET := -S studies.branin.replicates=100 \
	$(foreach s,hartmann6 emulator_crossed_barrel emulator_fullerenes emulator_hplc emulator_photo_pce10 emulator_suzuki,-S studies.$(s).replicates=50 -S studies.$(s).budget=100)
report-paper: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dvc exp run $(PAPER_SET)

## bench: planner speed and evaluations-to-target (prints a table; not a test)
bench: $(STAMP)
	$(BIN)/ardlib bench planners

## lock: re-resolve the lock file (needs pip-tools in the venv)
lock:
	$(BIN)/python -m piptools compile --generate-hashes --allow-unsafe --extra dask --extra reports --extra client --extra service --extra browser --extra bench --extra dev --strip-extras -o requirements/lock.txt pyproject.toml

clean-venv:
	rm -rf $(VENV)
