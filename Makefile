# Developer commands. `make run` and `make test` are the README's quick start;
# both rest on `make setup`, which only installs and is safe to repeat.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
# pytest-xdist processes for `make test` (tests use their own databases, ports and folders).
TEST_WORKERS ?= 2
MO := webapp/translations/en/LC_MESSAGES/messages.mo

.PHONY: setup run test lint bench

setup: $(VENV)/.installed webapp/static/dist/.built $(MO)
	@bash scripts/system_packages.sh

$(VENV)/.installed: setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

webapp/static/dist/.built: node_modules/.installed scripts/build_frontend.mjs $(wildcard webapp/static/src/*)
	npm run --silent build
	touch $@

$(MO): webapp/translations/en/LC_MESSAGES/messages.po $(VENV)/.installed
	$(BIN)/pybabel compile -d webapp/translations >/dev/null

run: setup
	$(BIN)/python -m scripts.run --host $(HOST) --port $(PORT)

lint: setup
	$(BIN)/ruff check engine webapp scripts tests bench
	$(BIN)/mypy engine

test: lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

bench: setup
	$(BIN)/python -m bench.engine_steps
	$(BIN)/python -m bench.dti
	$(BIN)/python -m bench.hotline
