# The two set-up commands of the README: `make serve` and `make test` (`make lint` runs the linters alone).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_BIN ?= /usr/lib/postgresql/15/bin

.PHONY: serve lint lint-ui test install install-ml install-dev postgres mosquitto chromium ui clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[ml,dev]'
	touch $(VENV)/.installed $(VENV)/.installed-ml $@

install: $(VENV)/.installed

$(VENV)/.installed-ml: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[ml]'
	touch $(VENV)/.installed $(VENV)/.installed-ml $@

install-ml: $(VENV)/.installed-ml

install-dev: $(VENV)/.installed-dev

# The web application (Node 20 and npm), built into the package when any of its sources changed.
UI_BUILT := src/modelyard/ui/static/index.html
UI_SOURCES := $(shell find ui/src -type f 2>/dev/null) ui/index.html ui/package.json ui/vite.config.ts ui/tsconfig.json

ui/node_modules/.package-lock.json: ui/package-lock.json
	cd ui && npm ci --no-audit --no-fund

$(UI_BUILT): ui/node_modules/.package-lock.json $(UI_SOURCES)
	cd ui && npm run build

ui: $(UI_BUILT)

# Debian's Chromium for the browser tests (Playwright cannot download its own browser here).
chromium:
	@command -v chromium >/dev/null || { \
		echo "installing chromium (apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Start modelyard on its embedded default: SQLite and ./data (MODELYARD_* variables or .env override).
serve: install-ml ui
	$(BIN)/modelyard db upgrade
	$(BIN)/modelyard serve

# PostgreSQL 15 server binaries: the test suite starts a throwaway cluster with them.
postgres:
	@test -x $(PG_BIN)/initdb || { \
		echo "installing PostgreSQL 15 server binaries (apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null; }

# Debian's MQTT broker: the stream tests start one on 127.0.0.1 to receive the MQTT sink's messages.
mosquitto:
	@test -x /usr/sbin/mosquitto || { \
		echo "installing mosquitto (apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto >/dev/null; }

# Linters, type checks, import contracts and dead code, configured in pyproject.toml; any finding fails the build.
# lint-imports analyses the package found on the path, hence src first (an editable install may point elsewhere).
lint: install-dev lint-ui
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src tests bench
	PYTHONPATH=src $(BIN)/lint-imports
	$(BIN)/vulture

# The web application's linter: ESLint, with the import boundaries shared -> features -> app (`ui`'s build
# type-checks with tsc in strict mode first).
lint-ui: ui/node_modules/.package-lock.json
	cd ui && npm run lint

# The whole test suite after the linters, every database test on SQLite and on PostgreSQL.
# One pytest process per CPU this process may use, at most 4, each test file whole on one of them, so that its
# module fixtures (trained models, started servers) are made once.
TEST_WORKERS ?= $(shell $(PYTHON) -c 'import os; print(min(4, len(os.sched_getaffinity(0))))')

test: lint postgres mosquitto chromium ui
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=30

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
