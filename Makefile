# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONFIG ?= configs/quick.toml

.PHONY: run test install bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the package metadata changes. torch is pinned to the local CPU wheel.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet "torch==2.13.0"
	$(BIN)/pip install --quiet -e ".[test]" "torch==2.13.0"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/xner study run $(CONFIG)

# Every check: import layers, lint, types, then the whole test suite.
test: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src
	$(BIN)/python -m pytest -q -p no:cacheprovider

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
