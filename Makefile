# reconciler: `make demo` and `make test` work on a fresh clone (they create .venv when missing).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_PORT ?= 0

.PHONY: demo test suite lint types unit torture bench venv compiled clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# The package compiled to bytecode, as a (non-editable) install would leave it: with
# PYTHONDONTWRITEBYTECODE set (as on some machines), every `reconciler` process would otherwise compile
# the modules it imports again (0.1-0.25 s of CPU each; the suite starts ~750 of them). Stale files
# are recompiled here; Python checks each file's timestamp anyway.
compiled: $(STAMP)
	@$(BIN)/python -m compileall -q reconciler

lint: $(STAMP)
	$(BIN)/ruff check reconciler tests bench
	$(BIN)/ruff format --check reconciler tests bench
	$(BIN)/lint-imports

types: $(STAMP)
	$(BIN)/mypy

# pytest-xdist workers (JOBS=0 runs in this process). More workers than the 2 cores the suite is sized
# for: the end-to-end and torture tests mostly wait (latencies, timeouts, other processes), and
# tests/support/scheduling.py hands the longest tests out first, one per worker.
JOBS ?= 8

# The fast tests: all but those marked slow (end-to-end, examples, torture: tests/conftest.py). They
# keep the cores busy: one worker per core (more only adds collection time).
UNIT_JOBS ?= auto
unit: compiled
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -q -n $(UNIT_JOBS) -m "not slow"

# Lint, types and every test, side by side (each target's output printed whole when it ends). The
# tests are one parallel run, torture included: each test has its own emulator port, folders and
# PostgreSQL workspace and kills only its own processes and sessions. The torture suite runs at scale
# TEST_TORTURE_SCALE (fewer runs than `make torture`; every kill point is still hit).
TEST_TORTURE_SCALE ?= 0.5
test: $(STAMP)
	@$(MAKE) --no-print-directory -j3 --output-sync=target lint types suite

# PYTHONDONTWRITEBYTECODE is unset for the tests: each pytest worker would otherwise rewrite and
# compile every test module again (7.5 s of CPU per worker instead of 3 s).
suite: compiled
	PYTHONDONTWRITEBYTECODE= RECONCILER_TORTURE_SCALE=$(TEST_TORTURE_SCALE) $(BIN)/pytest -q -n $(JOBS)

# The torture suite at full size (tests/support/torture.py), in parallel too.
TORTURE_SCALE ?= 3
torture: compiled
	PYTHONDONTWRITEBYTECODE= RECONCILER_TORTURE_SCALE=$(TORTURE_SCALE) $(BIN)/pytest -q -n $(JOBS) tests/torture

demo: compiled
	@PATH="$(CURDIR)/$(BIN):$$PATH" DEMO_PORT=$(DEMO_PORT) bash scripts/demo.sh

# apply-500, plan-10k/20k, plan-2k-refresh (bench/run.py), then the apply-2000 sweep at P = 10, 50,
# 200 and apply-20000 against a minimal thread-pool client (bench/apply_scaling.py, 6-8 minutes).
bench: $(STAMP)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/apply_scaling.py

clean:
	rm -rf $(VENV) .demo .mypy_cache .ruff_cache .pytest_cache .hypothesis
