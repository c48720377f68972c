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

.PHONY: install run test dev serve bench sample docs docs-serve clean postgres bi bi-install

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==0.13.9"

# Bytecode is compiled at install time: with PYTHONDONTWRITEBYTECODE (common in containers) every start would
# otherwise compile Dagster, dbt and GX from source again (~5 s per command on 2 cores).
$(BIN)/koperasi: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --all-extras --compile-bytecode --python $(PYTHON)
	@touch $@

# dbt in its own locked environment (dbt_env/uv.lock), run as a child process: loading the Dagster code location
# then imports no dbt (warehouse.dbt_manifest.DBT_EXECUTABLE names it).
DBT_VENV := $(TOOLS)/dbt-venv
$(DBT_VENV)/bin/dbt: $(UV) dbt_env/pyproject.toml dbt_env/uv.lock
	UV_PROJECT_ENVIRONMENT=$(CURDIR)/$(DBT_VENV) $(UV) sync --frozen --compile-bytecode --project dbt_env --python $(PYTHON)
	@touch $@

# The CSS, JavaScript and fonts of the Data Docs, pinned in datadocs/package-lock.json (npm registry).
DATADOCS := $(TOOLS)/datadocs
$(DATADOCS)/node_modules/.package-lock.json: datadocs/package.json datadocs/package-lock.json
	@command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; }
	mkdir -p $(DATADOCS) && cp datadocs/package.json datadocs/package-lock.json $(DATADOCS)/
	cd $(DATADOCS) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

# The dbt manifest the Dagster code location is defined from (parsed only when missing or stale).
install: $(BIN)/koperasi $(DBT_VENV)/bin/dbt $(DATADOCS)/node_modules/.package-lock.json
	@$(BIN)/koperasi prepare

sample: install
	@if [ -z "$$(ls -A $(KOPERASI_HOME)/inbox 2>/dev/null)" ]; then $(BIN)/koperasi sample; \
	else echo "inbox $(KOPERASI_HOME)/inbox is not empty: keeping it"; fi

DEV_PORT ?= 3000

run: sample
	$(BIN)/koperasi run
	@$(MAKE) --no-print-directory docs
	@echo ""
	@echo "Next:"
	@echo "  $(BIN)/koperasi quality         the stewards' quality report (Bahasa Indonesia); --html for a web page"
	@echo "  make dev                           Dagster UI at http://127.0.0.1:$(DEV_PORT) (inbox sensor and schedule off)"
	@echo "  make serve                         the service: PostgreSQL for BI tools, Dagster UI, inbox sensor and schedule on"
	@echo "  make bi                            the dashboards in Apache Superset at http://127.0.0.1:8088"
	@echo "  BI tools read                      $(KOPERASI_HOME)/warehouse/serving.duckdb (read-only) or $(KOPERASI_HOME)/exports/current/*.parquet"

# dbt docs (models, columns, lineage, exposures) as a static site; view with `make docs-serve`.
docs: install
	@umask 077 && cd dbt_project && ../$(DBT_VENV)/bin/dbt docs generate --quiet --profiles-dir . --target-path $(KOPERASI_HOME)/dbt/docs \
		&& echo "dbt docs:         $(KOPERASI_HOME)/dbt/docs/index.html (make docs-serve, then http://localhost:8080)"

docs-serve:
	$(BIN)/python -m http.server --directory $(KOPERASI_HOME)/dbt/docs 8080

# Apache Superset in its own locked environment (bi/uv.lock): it pins SQLAlchemy < 2 and pandas < 2.2.
BI_VENV := $(TOOLS)/bi-venv
$(BI_VENV)/bin/superset: $(UV) bi/pyproject.toml bi/uv.lock
	UV_PROJECT_ENVIRONMENT=$(CURDIR)/$(BI_VENV) $(UV) sync --frozen --compile-bytecode --project bi --python $(PYTHON)
	@touch $@

bi-install: $(BI_VENV)/bin/superset

# Superset on 127.0.0.1:$KOPERASI_BI_PORT (8088) with the five dashboards; run `make run` first. Ctrl-C stops it.
bi: install bi-install
	$(BI_VENV)/bin/python bi/launch.py

test: install bi-install
	$(BIN)/python -m pytest

dev: install
	umask 077 && $(BIN)/python -c "from warehouse.paths import get_paths; from orchestration.instance import prepare_dagster_home; prepare_dagster_home(get_paths())"
	umask 077 && DAGSTER_HOME=$(KOPERASI_HOME)/dagster $(BIN)/dagster dev -m orchestration.definitions -h 127.0.0.1 -p $(DEV_PORT)

# A local PostgreSQL for BI tools (KOPERASI_POSTGRES_PORT, default 5433); prints the URLs to use.
postgres: install
	$(BIN)/koperasi postgres start

# The warehouse as a service: PostgreSQL, Dagster daemon and UI (sensor and schedule on); Ctrl-C stops it all.
serve: sample
	$(BIN)/koperasi serve

bench: install
	$(BIN)/python benchmarks/run.py --scale province

clean:
	rm -rf $(KOPERASI_HOME) .pytest_cache
