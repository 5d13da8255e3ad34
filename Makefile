# The two commands of the README: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
JS := tests/e2e/js
NEST := bench/peers/nest
WEB := web
# The web app is built into the package (so the wheel carries it), again only when
# its sources, or the Python files that shape the API its types come from, changed.
WEB_STAMP := src/goftogu/webapp/dist/.built
WEB_SOURCES := $(shell find $(WEB)/src $(WEB)/widget $(WEB)/public $(WEB)/scripts -type f -not -name schema.d.ts 2>/dev/null) \
	$(WEB)/index.html $(WEB)/package.json $(WEB)/package-lock.json $(WEB)/tsconfig.json \
	$(WEB)/vite.config.ts $(WEB)/vite.loader.config.ts
API_SOURCES := $(wildcard src/goftogu/api/*.py src/goftogu/*/schemas.py src/goftogu/support/documents.py)

.PHONY: run demo test lint typecheck web web-test browser screenshots services-up services-down bench bench-installed bench-deps bench-fanout bench-support bench-history bench-storm bench-idle bench-ceiling clean

run: $(VENV)/.installed web ## venv, dependencies, the web app, migrations, server on http://127.0.0.1:8000
	$(BIN)/goftogu migrate
	@echo ""
	@echo "  console: http://$${GOFTOGU_HOST:-127.0.0.1}:$${GOFTOGU_PORT:-8000}/   API explorer: /docs"
	@echo "  first admin: $(BIN)/goftogu create-admin --username admin --email you@example.com"
	@echo "  (or stop this and run 'make demo': demo staff accounts and a shop page with the widget)"
	@echo ""
	$(BIN)/goftogu serve

demo: $(VENV)/.installed web ## the Quick start: demo staff, a shop page with the widget on :8001, the gateway
	$(BIN)/goftogu migrate
	$(BIN)/goftogu demo

# The suite runs a short smoke run of every benchmark (tests/e2e/test_bench_smoke.py),
# so it needs the benchmarks' dependencies too.
test: $(VENV)/.installed $(JS)/node_modules/.installed bench-installed services-up lint typecheck web browser ## everything, on real services
	@set -a; eval "$$(scripts/services env | sed 's/^GOFTOGU_/GOFTOGU_TEST_/')"; set +a; \
	$(BIN)/pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: that is a failure"; exit 1; fi; \
	if [ $$status -ne 0 ]; then exit $$status; fi
	$(MAKE) --no-print-directory web-test

web: $(VENV)/.installed $(WEB)/node_modules/.installed
	@if $(MAKE) --no-print-directory -q $(WEB_STAMP); then echo "web app up to date"; \
	else echo "building the web app (sources changed)"; $(MAKE) --no-print-directory $(WEB_STAMP); fi

$(WEB_STAMP): $(WEB_SOURCES) $(API_SOURCES)
	cd $(WEB) && GOFTOGU_PYTHON=$(CURDIR)/$(BIN)/python npm run build --silent
	touch $@

web-test: web browser ## the web app's unit tests (vitest), then its browser tests (Playwright, Chromium)
	cd $(WEB) && npx vitest run
	cd $(WEB) && GOFTOGU_PYTHON=$(CURDIR)/$(BIN)/python npx playwright test

browser: ## Debian's Chromium for the browser tests (apt-get when missing)
	scripts/browser install

screenshots: web browser ## run the browser tests and keep their screenshots in docs/screenshots
	cd $(WEB) && GOFTOGU_PYTHON=$(CURDIR)/$(BIN)/python npx playwright test
	mkdir -p docs/screenshots && cp $(WEB)/test-results/screenshots/*.png docs/screenshots/

$(WEB)/node_modules/.installed: $(WEB)/package.json $(WEB)/package-lock.json
	npm ci --prefix $(WEB) --no-audit --no-fund --loglevel=error
	touch $@

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
	rm -rf $(VENV) $(JS)/node_modules bench/node_modules $(NEST)/node_modules $(NEST)/dist $(WEB)/node_modules $(WEB)/build $(WEB)/test-results src/goftogu/webapp/dist var .pytest_cache .mypy_cache .ruff_cache
