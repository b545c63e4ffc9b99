# Set-up and everyday commands. Both entry points create .venv and install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check lint format bench bench-quick clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

run: $(STAMP)  ## install, then run the bot (needs TELEGRAM_BOT_TOKEN in .env)
	$(BIN)/python -m bot

check: $(STAMP)  ## validate configuration and protocol, print the schedule and rules
	$(BIN)/python -m bot check

test: $(STAMP)  ## install, then run the whole test suite
	$(BIN)/python -m pytest -x -q

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

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
