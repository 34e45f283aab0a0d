# parkwh: the two commands a user needs are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1
# dagster-dbt finds `dbt` on PATH only: the venv's bin goes first.
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: install demo test dev bench clean help

help:
	@echo "make demo   - install, write the synthetic demo submissions 2019-2023, run the whole pipeline"
	@echo "make test   - run the test suite (make test-all adds the slow whole-demo tests)"
	@echo "make dev    - start dagster dev on http://127.0.0.1:3000"
	@echo "make bench  - time the pipeline at several scales"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m parkwh.transform prepare
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/parkwh demo
	$(BIN)/parkwh run

test: install
	$(BIN)/python -m pytest -m "not slow"

test-all: install
	$(BIN)/python -m pytest

dev: install
	$(BIN)/parkwh dev

bench: install
	$(BIN)/python -m parkwh.bench --scales $(or $(SCALES),1,10,50)

clean:
	rm -rf $(VENV) dbt_project/target dbt_project/logs

# The same dbt project on a local Spark session (pyspark, dbt-spark), compared with DuckDB table by
# table (docs/spark.md). Spark is optional: its packages are installed here only, on first use.
SPARK_REQUIREMENTS := 'pyspark>=3.5,<4.1' 'dbt-spark[session]>=1.9,<1.11' 'dbt-core>=1.11,<1.12'

.PHONY: test-spark
test-spark: install
	$(BIN)/python -m parkwh.spark check >/dev/null 2>&1 || $(BIN)/python -m pip install --quiet $(SPARK_REQUIREMENTS)
	SPARK_LOCAL_IP=127.0.0.1 $(BIN)/python -m pytest tests_spark
