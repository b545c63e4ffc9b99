# Set-up and everyday commands. Both entry points create .venv and install what they need,
# exactly as requirements-dev.lock pins it (hashes checked).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements-dev.lock
COMPILE := $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links

.PHONY: run test test-postgres check lint format bench bench-quick lock clean

$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

run: $(STAMP)  ## install, then run the bot (needs TELEGRAM_BOT_TOKEN in .env)
	$(BIN)/python -m bot

test: $(STAMP)  ## install, then run the whole test suite
	$(BIN)/python -m pytest -x -q

test-postgres: $(STAMP)  ## storage and end-to-end tests on a throwaway PostgreSQL cluster
	.ci/with-postgres $(BIN)/python -m pytest -x -q tests/storage tests/e2e

check: $(STAMP)  ## validate configuration and protocol, print the schedule and rules
	$(BIN)/python -m bot check

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)  ## full benchmarks, a few minutes (figures and targets: tests/benchmarks/README.md)
	$(BIN)/python -m tests.benchmarks

bench-quick: $(STAMP)  ## the same at CI sizes, about a minute
	$(BIN)/python -m tests.benchmarks --quick

lock: $(STAMP)  ## pin again after a change to pyproject.toml's dependencies (asks PyPI)
	$(BIN)/python -m pip install --quiet "pip-tools~=7.6"
	$(COMPILE) --extra=postgres --extra=test --output-file=requirements-dev.lock pyproject.toml
	$(COMPILE) --extra=postgres --constraint=requirements-dev.lock \
		--output-file=requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
