# The two commands of the README: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
JS := tests/e2e/js

.PHONY: run test lint typecheck services-up services-down bench clean

run: $(VENV)/.installed ## venv, dependencies, migrations, server on http://127.0.0.1:8000
	$(BIN)/goftogu migrate
	$(BIN)/goftogu serve

test: $(VENV)/.installed $(JS)/node_modules/.installed services-up lint typecheck ## everything, on real services
	@set -a; eval "$$(scripts/services env | sed 's/^GOFTOGU_/GOFTOGU_TEST_/')"; set +a; \
	$(BIN)/pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: that is a failure"; exit 1; fi; \
	exit $$status

lint: $(VENV)/.installed
	$(BIN)/ruff check src tests $(wildcard bench)
	$(BIN)/ruff format --check src tests $(wildcard bench)

typecheck: $(VENV)/.installed
	$(BIN)/mypy

bench: $(VENV)/.installed services-up ## history latency on 1,000,000 messages (PostgreSQL)
	$(BIN)/python bench/history.py --http

services-up:
	scripts/services up

services-down:
	scripts/services down

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(JS)/node_modules/.installed: $(JS)/package.json $(JS)/package-lock.json
	npm ci --prefix $(JS) --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf $(VENV) $(JS)/node_modules var .pytest_cache .mypy_cache .ruff_cache
