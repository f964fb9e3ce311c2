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

unit: $(STAMP)
	$(BIN)/pytest -q

test: lint types unit

# The torture suite at full size (tests/torture/torture_kit.py): `make test` runs it at scale 1.
TORTURE_SCALE ?= 3
torture: $(STAMP)
	RECONCILER_TORTURE_SCALE=$(TORTURE_SCALE) $(BIN)/pytest -q tests/torture

demo: $(STAMP)
	@PATH="$(CURDIR)/$(BIN):$$PATH" DEMO_PORT=$(DEMO_PORT) bash scripts/demo.sh

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .demo .mypy_cache .ruff_cache .pytest_cache .hypothesis
