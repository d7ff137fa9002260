# The only two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint check-migrations bench install clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## Serve the demo clinic on http://127.0.0.1:8000 (embedded PostgreSQL when DATABASE_URL is unset).
## migrate runs as the owner (INVENTORY_MIGRATE_URL, or the embedded superuser) and grants inventory_app;
## demo and serve run as that application role (DATABASE_URL, or inventory_app on the embedded server).
run: $(STAMP)
	$(BIN)/inventory migrate
	$(BIN)/inventory demo
	$(BIN)/inventory serve --host 127.0.0.1 --port 8000

## The whole test suite (TEST_DATABASE_URL, or a throw-away embedded PostgreSQL).
test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy inventory labels tests bench

bench: $(STAMP)
	$(BIN)/python -m bench.bench_scan
	$(BIN)/python -m bench.bench_alerts
	$(BIN)/python -m bench.bench_trace
	$(BIN)/python -m bench.bench_labels

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
