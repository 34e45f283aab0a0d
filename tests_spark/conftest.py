"""Fixtures of the Spark tests (``make test-spark``): the demo built on DuckDB and on Spark.

Kept out of ``tests/`` so ``make test`` never needs pyspark. The whole module shares one
warehouse in a temporary folder (never the developer's): the demo submissions, ingested once,
built by dbt on DuckDB in its own process and on a local Spark session in this one.
"""

from __future__ import annotations

import datetime as dt
import types

import pytest

_REPORT: list[str] = []
"""The comparison table, printed at the end of the run (pytest captures the tests' output)."""


@pytest.fixture(scope="session")
def spark_warehouse(tmp_path_factory):
    """The demo on both engines: ``.root`` (the warehouse folder), ``.build`` (the Spark
    build's steps), ``.comparisons`` (every published table compared), ``.spark`` (the session)."""
    from parkwh import spark

    missing = spark.missing_requirements()
    if missing:
        pytest.fail(
            "the Spark target needs " + "; ".join(missing) + " (docs/spark.md)", pytrace=False
        )

    from parkwh.demo import generate_demo
    from parkwh.ingest.run import ingest_all
    from parkwh.transform import run_dbt

    root = tmp_path_factory.mktemp("spark") / "warehouse"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PARKWH_WAREHOUSE_DIR", str(root))
        patch.setenv("DBT_TARGET_PATH", str(root.parent / "dbt_target"))
        patch.setenv("DBT_LOG_PATH", str(root.parent / "dbt_logs"))
        generate_demo(root / "inbox")
        ingest_all()
        duck = run_dbt(["build"])
        assert duck.returncode == 0, duck.stdout[-4000:]
        build = spark.build()
        comparisons = spark.compare_published()
        _REPORT[:] = [spark.comparison_report(comparisons)]
        yield types.SimpleNamespace(
            root=root, build=build, comparisons=comparisons, spark=spark.session()
        )


@pytest.fixture()
def on_spark_warehouse(spark_warehouse, monkeypatch):
    """Point parkwh at the module's warehouse for one test."""
    monkeypatch.setenv("PARKWH_WAREHOUSE_DIR", str(spark_warehouse.root))
    return spark_warehouse


def pytest_terminal_summary(terminalreporter):
    if _REPORT:
        terminalreporter.section("DuckDB and Spark, published tables")
        terminalreporter.write_line(_REPORT[0])


@pytest.fixture(scope="session")
def published_both_ways(spark_warehouse):
    """The gate and publishing run on each engine's output: DuckDB's warehouse as the pipeline
    publishes it, Spark's through ``parkwh.spark.gate_and_publish`` (into ``spark/output/``).
    ``.duckdb_gate`` and ``.spark_gate`` are the gate's runs, ``.spark`` what was published."""
    from parkwh import spark
    from parkwh.publish import publications, readonly
    from parkwh.quality import runner
    from parkwh.quality.suites import load_suites

    # One moment of publication for both, so the exports' publication columns agree too.
    moment = dt.datetime(2024, 6, 19, 9, 0, tzinfo=dt.UTC)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PARKWH_WAREHOUSE_DIR", str(spark_warehouse.root))
        duckdb_gate = runner.run_suites(load_suites(), run_id="duckdb")
        publications.publish(run_id="duckdb", clock=lambda: moment)
        readonly.build()
        published = spark.gate_and_publish(spark_warehouse.spark, clock=lambda: moment)
        patch.setenv("PARKWH_WAREHOUSE_DIR", str(spark.output_dir()))
        spark_gate = runner.run_suites(load_suites(), run_id="spark")
    return types.SimpleNamespace(
        duckdb_gate=duckdb_gate,
        spark_gate=spark_gate,
        spark=published,
        duckdb_root=spark_warehouse.root,
        spark_root=spark_warehouse.root / "spark" / "output",
    )
