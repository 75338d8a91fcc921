# Two commands matter: `make run` (the demo ledger on SQLite) and `make test` (everything).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8106
export LEDGER_ENV ?= development

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

run: $(VENV)/.installed
	$(BIN)/s106 init-db
	$(BIN)/s106 demo --scale small --if-empty
	@echo ""
	@echo "s106-ledger demo: http://127.0.0.1:$(PORT)/  (API: http://127.0.0.1:$(PORT)/api/v1/openapi.json)"
	@echo "Sign in as officer@demo.s106.test, member@demo.s106.test or admin@demo.s106.test,"
	@echo "password demo-password. An API token for the demo officer:"
	@$(BIN)/s106 tokens create --email officer@demo.s106.test | tail -n 1
	@echo ""
	LEDGER_COUNCIL_NAME="$${LEDGER_COUNCIL_NAME:-Demo County Council}" $(BIN)/s106 serve --port $(PORT)

# axe-core for the accessibility checks in the browser tests; skipped (tests say so) without npm.
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: the accessibility checks will be skipped (CI installs it)"; fi

test: $(VENV)/.installed node_modules/.installed
	$(BIN)/python -m pytest

# Benchmarks against floors measured in the same run (docs/PERFORMANCE.md).
# BENCH_SIZES=small,county,national BENCH_DATABASES=sqlite,postgresql by default.
bench: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	@command -v wrk >/dev/null || echo "wrk not installed (apt-get install wrk): the page, API and write load will be skipped"
	$(BIN)/python -m bench.run

lint: $(VENV)/.installed
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis
