# The only two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint check-migrations bench install lock lock-check clean

UV_VERSION := 0.13.9
LOCK := requirements/dev.lock

# Installs exactly the locked versions (uv: seconds instead of pip's minute), then the project itself, editable.
$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --require-hashes -r $(LOCK)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
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
	$(BIN)/python -m bench.bench_stocktake

## Re-resolve the lock files after changing the dependencies in pyproject.toml (dev: tests and the embedded
## PostgreSQL; runtime: what the Docker image installs).
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra test --extra embedded --universal --python-version 3.11 \
		--generate-hashes --quiet -o requirements/dev.lock
	$(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes --quiet \
		-o requirements/runtime.lock

## Fails when pyproject.toml's dependencies changed without `make lock` (CI runs it). Resolving onto a copy of
## each lock keeps its versions where they still fit, so a new release upstream does not fail the check.
lock-check: $(STAMP)
	cp requirements/dev.lock /tmp/inventory-dev.lock
	cp requirements/runtime.lock /tmp/inventory-runtime.lock
	$(BIN)/uv pip compile pyproject.toml --extra test --extra embedded --universal --python-version 3.11 \
		--generate-hashes --quiet -o /tmp/inventory-dev.lock
	$(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes --quiet \
		-o /tmp/inventory-runtime.lock
	diff <(grep -v '^#' requirements/dev.lock) <(grep -v '^#' /tmp/inventory-dev.lock)
	diff <(grep -v '^#' requirements/runtime.lock) <(grep -v '^#' /tmp/inventory-runtime.lock)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
