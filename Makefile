# The README's commands: `make demo` and `make test`. Only python3 and make are needed.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test check lint format types bench bench-quick mutate screenshots i18n clean

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
	$(BIN)/ruff check triage tests benchmarks tools
	$(BIN)/ruff format --check triage tests benchmarks tools
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format triage tests benchmarks tools
	$(BIN)/ruff check --fix triage tests benchmarks tools

types: $(STAMP)
	$(BIN)/mypy

check: lint types test  ## lint, types, tests

bench: $(STAMP)  ## the performance table (benchmarks/RESULTS.md)
	$(BIN)/python -m benchmarks.run

bench-quick: $(STAMP)
	$(BIN)/python -m benchmarks.run --quick

mutate: $(STAMP)  ## mutation testing of the rule modules, each against its own unit tests
	$(BIN)/python -m tools.mutate

screenshots: $(STAMP)  ## redraw the README's pictures (docs/screenshots/) from the demo
	$(BIN)/python -m tools.screenshots

# The French catalogue: extract every _()/N_()/ngettext string into triage.pot, merge it
# into fr/triage.po (new strings arrive empty, changed ones fuzzy), compile the .mo the
# package ships, then list what is still missing (strings not wrapped, or not translated).
LOCALE := triage/locale
i18n: $(STAMP)  ## refresh the translation catalogues and list what is missing
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output --project triage \
		--copyright-holder "the triage authors" -o $(LOCALE)/triage.pot .
	$(BIN)/pybabel update -i $(LOCALE)/triage.pot -d $(LOCALE) -D triage -l fr \
		--init-missing --ignore-obsolete --no-fuzzy-matching
	$(BIN)/pybabel compile -d $(LOCALE) -D triage -l fr
	$(BIN)/python -m tools.i18n

clean:
	rm -rf $(VENV) build *.egg-info
