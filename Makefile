# The two set-up commands of the README: `make serve` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_BIN ?= /usr/lib/postgresql/15/bin

.PHONY: serve test install install-ml install-dev postgres clean

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

# Start modelyard on its embedded default: SQLite and ./data (MODELYARD_* variables or .env override).
serve: install-ml
	$(BIN)/modelyard db upgrade
	$(BIN)/modelyard serve

# PostgreSQL 15 server binaries: the test suite starts a throwaway cluster with them.
postgres:
	@test -x $(PG_BIN)/initdb || { \
		echo "installing PostgreSQL 15 server binaries (apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null; }

# The whole test suite, every database test on SQLite and on PostgreSQL.
test: install-dev postgres
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) .pytest_cache
