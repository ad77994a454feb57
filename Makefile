# Developer commands. `make run` and `make test` are the README's quick start;
# both rest on `make setup`, which only installs and is safe to repeat.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := webapp

.PHONY: setup run test lint bench clean-venv

setup: $(VENV)/.installed webapp/static/dist/.built
	@bash scripts/system_packages.sh

$(VENV)/.installed: setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

webapp/static/dist/.built: node_modules/.installed $(wildcard webapp/static/src/*)
	npm run --silent build
	touch $@

run: setup
	$(BIN)/python -m scripts.run --host $(HOST) --port $(PORT)

test: setup
	$(BIN)/ruff check engine webapp scripts tests
	$(BIN)/mypy engine
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python -m bench.run_all
