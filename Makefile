# Two commands for a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
KOPERASI_HOME ?= $(CURDIR)/data
export KOPERASI_HOME
export GX_ANALYTICS_ENABLED := false
export UV_PYTHON_DOWNLOADS := never
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install run test dev bench sample docs clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==0.13.9"

$(BIN)/koperasi: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --all-extras --python $(PYTHON)
	@touch $@

install: $(BIN)/koperasi

sample: install
	@if [ -z "$$(ls -A $(KOPERASI_HOME)/inbox 2>/dev/null)" ]; then $(BIN)/koperasi sample; \
	else echo "inbox $(KOPERASI_HOME)/inbox is not empty: keeping it"; fi

run: sample
	$(BIN)/koperasi run

test: install
	$(BIN)/python -m pytest

dev: install
	mkdir -p $(KOPERASI_HOME)/dagster
	DAGSTER_HOME=$(KOPERASI_HOME)/dagster $(BIN)/dagster dev -m orchestration.definitions

bench: install
	$(BIN)/python benchmarks/run.py --scale province

clean:
	rm -rf $(KOPERASI_HOME) .pytest_cache
