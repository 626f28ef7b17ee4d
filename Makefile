# The README's commands: `make demo` and `make test`. Only python3 and make are needed.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test check lint format types bench bench-quick clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)  ## start the console on the embedded demo mailbox
	$(BIN)/triage --demo

test: $(STAMP)  ## run the whole test suite
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check triage tests benchmarks
	$(BIN)/ruff format --check triage tests benchmarks
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format triage tests benchmarks
	$(BIN)/ruff check --fix triage tests benchmarks

types: $(STAMP)
	$(BIN)/mypy

check: lint types test  ## lint, types, tests

bench: $(STAMP)  ## the performance table (benchmarks/RESULTS.md)
	$(BIN)/python -m benchmarks.run

bench-quick: $(STAMP)
	$(BIN)/python -m benchmarks.run --quick

clean:
	rm -rf $(VENV) build *.egg-info
