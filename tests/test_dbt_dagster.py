"""Dagster sees the dbt models as assets downstream of ingestion and builds them with metadata."""

from __future__ import annotations

import dagster as dg
import duckdb
from parkwh import config
from test_dbt_build import write_raw_fixture


def _graph():
    from parkwh.defs.transform import defs

    return defs.resolve_asset_graph()


def test_dbt_models_are_assets_downstream_of_the_raw_tables():
    graph = _graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    for expected in (
        "staging/stg_companies",
        "intermediate/int_base_figures_yearly",
        "marts/fct_base_year",
        "marts/dim_talent",
        "published/report_summary",
        "staging/submission_enums",
    ):
        assert expected in keys
    companies = graph.get(dg.AssetKey(["staging", "stg_companies"]))
    assert dg.AssetKey(["raw", "companies"]) in companies.parent_keys
    assert dg.AssetKey(["staging", "stg_submissions"]) in companies.parent_keys
    assert (
        dg.AssetKey(["raw", "submissions"])
        in graph.get(dg.AssetKey(["staging", "stg_submissions"])).parent_keys
    )


def test_groups_follow_the_dbt_folders_and_have_an_owner():
    graph = _graph()
    for key, group in [
        (["staging", "stg_talent"], "staging"),
        (["intermediate", "int_company_histories"], "intermediate"),
        (["marts", "fct_company_year"], "marts"),
        (["published", "report_summary"], "published"),
        (["staging", "provinces"], "staging"),
    ]:
        node = graph.get(dg.AssetKey(key))
        assert node.group_name == group, key
        assert node.owners == ["team:parkwh"]


def test_the_code_location_collects_the_dbt_assets():
    from parkwh.definitions import defs

    keys = defs.resolve_asset_graph().get_all_asset_keys()
    assert dg.AssetKey(["published", "report_summary"]) in keys


def test_materialize_builds_the_warehouse_with_row_counts_and_columns(
    warehouse_dir, tmp_path, monkeypatch
):
    from parkwh.defs.transform import defs, parkwh_dbt_models, parkwh_dbt_published

    # dagster-dbt puts each run's artefacts under DBT_TARGET_PATH; keep them out of the project.
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "dbt_target"))
    write_raw_fixture(config.warehouse().database)

    result = dg.materialize(
        [parkwh_dbt_models, parkwh_dbt_published], resources={"dbt": defs.resources["dbt"]}
    )

    assert result.success
    materialisations = {
        event.asset_key.to_user_string(): event.materialization.metadata
        for event in result.get_asset_materialization_events()
    }
    summary = materialisations["published/report_summary"]
    assert summary["dagster/row_count"].value == 4  # 2022 and 2023, scopes all and top10
    columns = [c.name for c in summary["dagster/column_schema"].schema.columns]
    assert columns[:3] == ["reporting_year", "scope", "bases"] and "avg_score" in columns
    assert materialisations["marts/fct_base_year"]["dagster/row_count"].value == 6
    # dbt's tests come back as asset checks, and they passed.
    checks = result.get_asset_check_evaluations()
    assert checks and all(check.passed for check in checks)

    # The run wrote the warehouse in force, not the developer's.
    con = duckdb.connect(str(warehouse_dir / "parkwh.duckdb"), read_only=True)
    try:
        assert con.execute("select count(*) from published.report_summary").fetchone()[0] == 4
    finally:
        con.close()


def test_the_manifest_is_prepared_once_not_at_every_import():
    from parkwh import transform

    path = transform.prepare_manifest()
    assert path.exists() and transform.manifest_is_current()
    stamp = path.stat().st_mtime_ns
    # A current manifest is not parsed again (parsing takes seconds: Dagster loads it at start-up).
    assert transform.prepare_manifest() == path
    assert path.stat().st_mtime_ns == stamp


def test_the_install_step_prepares_the_manifest_from_the_command_line():
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "parkwh.transform", "prepare"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "manifest.json" in result.stdout
