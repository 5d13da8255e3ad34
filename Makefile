# The two commands of the README: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
JS := tests/e2e/js
NEST := bench/peers/nest

.PHONY: run test lint typecheck services-up services-down bench bench-installed bench-deps bench-fanout bench-support bench-history bench-storm bench-idle bench-ceiling clean

run: $(VENV)/.installed ## venv, dependencies, migrations, server on http://127.0.0.1:8000
	$(BIN)/goftogu migrate
	$(BIN)/goftogu serve

# The suite runs a short smoke run of every benchmark (tests/e2e/test_bench_smoke.py),
# so it needs the benchmarks' dependencies too.
test: $(VENV)/.installed $(JS)/node_modules/.installed bench-installed services-up lint typecheck ## everything, on real services
	@set -a; eval "$$(scripts/services env | sed 's/^GOFTOGU_/GOFTOGU_TEST_/')"; set +a; \
	$(BIN)/pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: that is a failure"; exit 1; fi; \
	exit $$status

lint: $(VENV)/.installed
	$(BIN)/ruff check src tests $(wildcard bench)
	$(BIN)/ruff format --check src tests $(wildcard bench)

typecheck: $(VENV)/.installed
	$(BIN)/mypy

# Benchmarks (the README's Performance section): each prints a table and writes JSON + PNG
# under bench/results/<scenario>/. Options: FANOUT_ARGS, SUPPORT_ARGS, HISTORY_ARGS, STORM_ARGS,
# IDLE_ARGS, CEILING_ARGS.
bench: bench-fanout bench-support bench-history bench-storm bench-idle ## every benchmark scenario

bench-installed: $(VENV)/.bench-installed bench/node_modules/.installed $(NEST)/dist/main.js

bench-deps: bench-installed services-up

bench-ceiling: bench-deps ## the database's ceiling for the send path (also in bench-fanout)
	$(BIN)/python -m bench.ceiling $(CEILING_ARGS)

bench-fanout: bench-deps ## 1: room fan-out vs Node.js Socket.IO, the NestJS peer, the database ceiling
	$(BIN)/python -m bench.fanout $(FANOUT_ARGS)

bench-support: bench-deps ## 2: support routing, MongoDB-protocol and PostgreSQL stores
	$(BIN)/python -m bench.support $(SUPPORT_ARGS)

bench-history: bench-deps ## 3: history pages (1,000,000 messages) and a 500-message support chat
	$(BIN)/python bench/history.py $(HISTORY_ARGS)
	$(BIN)/python -m bench.support_history

bench-storm: bench-deps ## 4: reconnect storm with cursors
	$(BIN)/python -m bench.storm $(STORM_ARGS)

bench-idle: bench-deps ## 5: memory per idle connection
	$(BIN)/python -m bench.idle $(IDLE_ARGS)

$(VENV)/.bench-installed: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $@

bench/node_modules/.installed: bench/package.json bench/package-lock.json
	npm ci --prefix bench --no-audit --no-fund --loglevel=error
	touch $@

$(NEST)/node_modules/.installed: $(NEST)/package.json $(NEST)/package-lock.json
	npm ci --prefix $(NEST) --no-audit --no-fund --loglevel=error
	touch $@

$(NEST)/dist/main.js: $(NEST)/node_modules/.installed $(NEST)/tsconfig.json $(shell find $(NEST)/src -name '*.ts')
	npm run --prefix $(NEST) --silent build
	touch $@

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
	rm -rf $(VENV) $(JS)/node_modules bench/node_modules $(NEST)/node_modules $(NEST)/dist var .pytest_cache .mypy_cache .ruff_cache
