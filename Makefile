# One toolbox: every target creates and uses the local virtual environment in .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check fmt bench scenario screenshots clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/relay run

check: $(STAMP)
	$(BIN)/ruff format --check service emulators tests
	$(BIN)/ruff check service emulators tests
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff format service emulators tests
	$(BIN)/ruff check --fix service emulators tests

# The fast tests run in parallel (they mostly wait on their own servers and processes);
# the scenario tests run alone after them, as their latency figures need the CPUs. A module
# marked xdist_group runs on one worker (the console's browser tests: one stack, one browser).
PYTEST_WORKERS ?= 3

test: check
	$(BIN)/pytest -m "not scenario" -n $(PYTEST_WORKERS) --dist loadgroup
	$(BIN)/pytest -m scenario

scenario: $(STAMP)
	$(BIN)/pytest -m scenario

bench: $(STAMP)
	$(BIN)/python -m tests.perf.bench

# Each console page at laptop and phone width, into docs/screenshots/ (needs chromium).
screenshots: $(STAMP)
	$(BIN)/python -m tests.screenshots

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
