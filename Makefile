# reconciler: `make demo` and `make test` work on a fresh clone (they create .venv when missing).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_PORT ?= 0

.PHONY: demo test lint types unit torture bench venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check reconciler tests bench
	$(BIN)/ruff format --check reconciler tests bench
	$(BIN)/lint-imports

types: $(STAMP)
	$(BIN)/mypy

# pytest-xdist workers (one per core by default; JOBS=0 runs in this process).
JOBS ?= auto

# The fast tests: all but those marked slow (end-to-end, examples, torture: tests/conftest.py).
unit: $(STAMP)
	$(BIN)/pytest -q -n $(JOBS) -m "not slow"

# Lint, types, and every test: the suite in parallel, then the torture suite on its own, one test at a
# time (each kills and freezes many processes, and its figures are printed by the main process).
test: lint types
	$(BIN)/pytest -q -n $(JOBS) --ignore=tests/torture
	$(BIN)/pytest -q -n 0 tests/torture

# The torture suite at full size (tests/support/torture.py): `make test` runs it at scale 1.
TORTURE_SCALE ?= 3
torture: $(STAMP)
	RECONCILER_TORTURE_SCALE=$(TORTURE_SCALE) $(BIN)/pytest -q tests/torture

demo: $(STAMP)
	@PATH="$(CURDIR)/$(BIN):$$PATH" DEMO_PORT=$(DEMO_PORT) bash scripts/demo.sh

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .demo .mypy_cache .ruff_cache .pytest_cache .hypothesis
