"""The same dbt project on Spark and on DuckDB: every published table agrees, row for row."""

from __future__ import annotations

import decimal
import json
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from parkwh import spark
from parkwh.demo.bases import REPORTING_YEARS

FAKE = "2023-ZZ999-000000000000"
"""A submission version whose part file lands without its submissions file (the commit mark)."""
CONTRACT_TABLES = {"park_ranking", "park_scores", "report_summary"}
"""The published tables the public contract names; the comparison covers every table dbt publishes."""


def _duckdb_table(relation: str) -> pa.Table:
    from parkwh import db

    with db.connect(read_only=True) as connection:
        return connection.sql(f"select * from {relation}").to_arrow_table()


def test_every_published_table_agrees_for_every_demo_year(on_spark_warehouse):
    comparisons = {c.table: c for c in on_spark_warehouse.comparisons}
    assert CONTRACT_TABLES <= set(comparisons), sorted(comparisons)
    for name, comparison in comparisons.items():
        assert comparison.agrees, f"{name}:\n" + "\n".join(comparison.differences)
        assert sorted(comparison.duckdb_rows) == list(REPORTING_YEARS), name
        assert all(rows > 0 for rows in comparison.spark_rows.values()), name


def test_the_demo_reproduces_the_2023_report_on_both_engines(on_spark_warehouse):
    """The figures of the 2024 report (reporting year 2023), from the demo's row-level rosters.

    Checked on DuckDB's published table; the parity test above holds Spark's to the same rows.
    """
    rows = _duckdb_table(
        "published.report_summary where reporting_year = 2023 order by scope"
    ).to_pylist()
    everything, top10 = (next(r for r in rows if r["scope"] == s) for s in ("all", "top10"))
    assert everything["bases"] == 66
    assert everything["enterprises_in_park"] == 4900
    assert 16_200 <= everything["returnees_in_park"] < 16_300  # 1.62万余
    assert 20_500 < everything["incubated_cum"] < 20_600  # 超过2.05万
    assert (everything["high_tech_cum"], everything["little_giants_cum"]) == (3990, 437)
    assert everything["listed_cum"] == 322
    assert 59_300 <= everything["returnees_cum"] < 59_400  # 5.93万余
    assert everything["talent_national"] + everything["talent_provincial"] == 2499
    assert top10["bases"] == 10
    assert (top10["incubated_cum"], top10["high_tech_cum"]) == (9940, 2303)
    assert (top10["little_giants_cum"], top10["listed_cum"]) == (94, 143)
    assert top10["returnees_cum"] == 41_583
    assert (top10["talent_national"], top10["talent_provincial"]) == (447, 618)
    assert top10["service_events"] == 1813
    yi = decimal.Decimal(100_000_000)  # 亿元, to two decimals as the report states them
    money = {
        k: round(top10[k] / yi, 2) for k in ("revenue_yuan", "tax_yuan", "vc_yuan", "fiscal_yuan")
    }
    assert money == {
        "revenue_yuan": decimal.Decimal("450.88"),
        "tax_yuan": decimal.Decimal("15.09"),
        "vc_yuan": decimal.Decimal("115.71"),
        "fiscal_yuan": decimal.Decimal("4.23"),
    }


def test_the_spark_build_ran_every_step_and_passed_every_dbt_test(on_spark_warehouse):
    build = on_spark_warehouse.build
    assert build.success
    names = [step.name for step in build.steps]
    assert names == [
        "raw views",
        "build",
        "monte carlo",
        "build after monte carlo",
        "monte carlo tests",
    ]
    outcomes: dict[str, int] = {}
    for step in build.steps:
        for status, count in step.counts.items():
            outcomes[status] = outcomes.get(status, 0) + count
    assert not {"error", "fail", "skipped", "warn"} & set(outcomes), outcomes
    # Every model and seed ("success") and every data and unit test ("pass") of the project ran.
    assert outcomes.get("success", 0) >= 45 and outcomes.get("pass", 0) >= 400, outcomes
    assert build.monte_carlo_rows == sum(
        1 for row in _duckdb_table("intermediate.int_method_rank_uncertainty").to_pylist()
    )


@pytest.mark.parametrize(
    "relation",
    [
        "intermediate.int_method_rank_uncertainty",  # the Monte Carlo, computed from Spark's tables
        "marts.fct_base_year",  # the figures every score starts from
        "staging.submission_fields",  # a seed with empty cells and quotes in its text
    ],
)
def test_spark_and_duckdb_agree_upstream_of_publishing(on_spark_warehouse, relation):
    comparison = spark.compare_tables(
        relation, _duckdb_table(relation), spark.read_table(on_spark_warehouse.spark, relation)
    )
    assert comparison.agrees, "\n".join(comparison.differences)


def test_the_comparison_sees_a_fen_and_a_score_apart(on_spark_warehouse):
    table = _duckdb_table("published.report_summary")
    assert spark.compare_tables("same", table, table).agrees

    revenue = table.column("revenue_yuan").to_pylist()
    revenue[0] = revenue[0] + decimal.Decimal("0.01")
    off_by_a_fen = table.set_column(
        table.schema.get_field_index("revenue_yuan"),
        table.schema.field("revenue_yuan"),
        pa.array(revenue, table.schema.field("revenue_yuan").type),
    )
    assert not spark.compare_tables("fen", table, off_by_a_fen).agrees

    ranking = _duckdb_table("published.park_ranking")
    medians = ranking.column("rank_median").to_pylist()
    first = next(i for i, value in enumerate(medians) if value is not None)

    def with_median(delta: float) -> pa.Table:
        changed = list(medians)
        changed[first] = changed[first] + delta
        return ranking.set_column(
            ranking.schema.get_field_index("rank_median"),
            ranking.schema.field("rank_median"),
            pa.array(changed, pa.float64()),
        )

    assert spark.compare_tables("tiny", ranking, with_median(1e-11)).agrees
    assert not spark.compare_tables("score", ranking, with_median(1e-7)).agrees
    assert not spark.compare_tables("row", ranking, ranking.slice(1)).agrees


def test_spark_raw_views_wait_for_the_commit_mark(on_spark_warehouse):
    """A part file whose version has no submissions file yet is invisible on Spark, as in DuckDB."""
    session = on_spark_warehouse.spark
    before = session.sql("select count(*) from raw.companies").collect()[0][0]
    folder = on_spark_warehouse.root / "landing" / "companies" / "reporting_year=2023"
    existing = min(folder.glob("*.parquet"))
    uncommitted = folder / f"{FAKE}.parquet"
    data = pq.read_table(existing)
    data = data.set_column(
        data.schema.get_field_index("submission_id"),
        "submission_id",
        pa.array([FAKE] * data.num_rows, data.schema.field("submission_id").type),
    )
    pq.write_table(data, uncommitted)
    try:
        step = spark.run_dbt_spark(
            [
                "run-operation",
                "create_raw_views",
                "--vars",
                json.dumps({"raw_layer": spark.raw_layer()}),
            ]
        )
        assert step.success, step.errors
        landed = session.sql(
            f"select count(*) from parquet.`{folder.parent.as_posix()}` where submission_id = '{FAKE}'"
        ).collect()[0][0]
        assert landed == data.num_rows  # Spark reads the file ...
        assert (
            session.sql("select count(*) from raw.companies").collect()[0][0] == before
        )  # ... raw does not
    finally:
        uncommitted.unlink()
        spark.run_dbt_spark(
            [
                "run-operation",
                "create_raw_views",
                "--vars",
                json.dumps({"raw_layer": spark.raw_layer()}),
            ]
        )


def test_a_landing_table_without_files_is_an_empty_raw_view_of_the_right_shape(on_spark_warehouse):
    layout = spark.raw_layer()
    assert all(spec["present"] for spec in layout.values())  # the demo lands every table
    funding = on_spark_warehouse.root / "landing" / "funding"
    moved = funding.with_name("funding.moved")
    shutil.move(funding, moved)
    try:
        empty = spark.raw_layer()
        assert empty["funding"]["present"] is None
        step = spark.run_dbt_spark(
            ["run-operation", "create_raw_views", "--vars", json.dumps({"raw_layer": empty})]
        )
        assert step.success, step.errors
        view = on_spark_warehouse.spark.table("raw.funding")
        assert view.count() == 0
        assert view.columns == [name for name, _ in layout["funding"]["columns"]]
    finally:
        shutil.move(moved, funding)
        spark.run_dbt_spark(
            [
                "run-operation",
                "create_raw_views",
                "--vars",
                json.dumps({"raw_layer": spark.raw_layer()}),
            ]
        )


def test_no_personal_column_leaves_raw_on_spark(on_spark_warehouse):
    from parkwh.submission import spec

    personal = {field.key for field in spec.fields() if field.personal}
    assert {"person_name", "id_number", "phone"} <= personal
    session = on_spark_warehouse.spark
    found = []
    for (database,) in session.sql("show databases").collect():
        if database in {"raw", "default"}:
            continue
        for row in session.sql(f"show tables in {database}").collect():
            columns = session.table(f"{database}.{row.tableName}").columns
            found.extend(f"{database}.{row.tableName}.{c}" for c in columns if c in personal)
    assert not found


def test_the_gate_judges_spark_output_as_it_judges_duckdbs(published_both_ways):
    duckdb_gate, spark_gate = published_both_ways.duckdb_gate, published_both_ways.spark_gate
    assert duckdb_gate.gate_open and spark_gate.gate_open and published_both_ways.spark.gate_open
    assert len(spark_gate.results) == len(duckdb_gate.results) > 50
    outcomes = {r.key: (r.outcome, r.unexpected_count) for r in duckdb_gate.results}
    assert {r.key: (r.outcome, r.unexpected_count) for r in spark_gate.results} == outcomes


def test_exports_from_spark_output_equal_duckdbs(published_both_ways):
    def exports(root):
        return {
            path.relative_to(root / "exports").as_posix(): path
            for path in sorted((root / "exports").rglob("*.parquet"))
        }

    from_duckdb, from_spark = (
        exports(published_both_ways.duckdb_root),
        exports(published_both_ways.spark_root),
    )
    assert set(from_spark) == set(from_duckdb)
    tables = {name.split("/", 1)[0] for name in from_spark}
    assert CONTRACT_TABLES <= tables
    for name in from_duckdb:
        comparison = spark.compare_tables(
            name, pq.read_table(from_duckdb[name]), pq.read_table(from_spark[name])
        )
        assert comparison.agrees, f"{name}:\n" + "\n".join(comparison.differences)


def test_an_annual_report_per_year_from_spark_output(published_both_ways):
    reports = published_both_ways.spark.reports
    assert sorted(reports) == list(REPORTING_YEARS)
    ranking = _duckdb_table("published.park_ranking").to_pylist()
    for year, path in reports.items():
        assert path == published_both_ways.spark_root / "reports" / str(year) / "index.html"
        first = next(r for r in ranking if r["reporting_year"] == year and r["rank"] == 1)
        assert first["base_name_zh"] in path.read_text(encoding="utf-8")


def test_a_thrift_target_without_a_spark_session_stops_before_it_starts(monkeypatch):
    monkeypatch.setenv("PARKWH_TARGET", "spark_thrift")
    monkeypatch.delenv("SPARK_REMOTE", raising=False)
    assert spark.target() == "spark_thrift" and spark.target_method() == "thrift"
    with pytest.raises(spark.SparkBuildError, match="SPARK_REMOTE"):
        spark.build()
    monkeypatch.setenv("PARKWH_TARGET", "duckdb")
    assert spark.target() == "spark" and spark.target_method() == "session"
