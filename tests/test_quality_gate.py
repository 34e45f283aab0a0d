"""The quality gate in Dagster: a failing suite stops publication, and what was published stays.

Real in-process Dagster runs with the gate ``parkwh.quality.checks`` builds: an asset that stands
for the dbt build (the warehouse tables are written by the fixture of test_quality_suites),
publishing assets that copy the candidates into ``published`` and export Parquet, and the
quality check op between them.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from parkwh import config
from parkwh.quality import checks, tables
from parkwh.quality.suites import load_suites
from test_quality_suites import CORRUPTIONS, build_warehouse

PUBLISHED = ("park_ranking", "park_scores", "report_summary")


def _table_keys() -> list[dg.AssetKey]:
    keys = []
    for name in dict.fromkeys(t for s in load_suites() for t in s.reads()):
        relation = tables.table(name).preferred
        if relation.startswith("raw."):
            continue
        keys.append(dg.AssetKey(list(tables.split(relation))))
    return keys


@dg.multi_asset(specs=[dg.AssetSpec(key) for key in _table_keys()], name="warehouse_build")
def warehouse_build():
    """Stands for the dbt build: the tables are already in the warehouse."""
    for key in _table_keys():
        yield dg.MaterializeResult(asset_key=key)


def _publish(name: str) -> dg.AssetsDefinition:
    @dg.asset(key=["published", name], deps=[dg.AssetKey(["marts", f"candidate_{name}"])])
    def publish() -> dg.MaterializeResult:
        con = duckdb.connect(str(config.warehouse().database))
        try:
            con.execute("create schema if not exists published")
            con.execute(f"create or replace table published.{name} as select * from marts.candidate_{name}")
            rows = con.execute(f"select count(*) from published.{name}").fetchone()[0]
        finally:
            con.close()
        return dg.MaterializeResult(metadata={"rows": rows})

    return publish


@dg.asset(key=["exports", "park_ranking"], deps=[dg.AssetKey(["published", "park_ranking"])])
def export_park_ranking() -> None:
    folder = config.warehouse().exports / "park_ranking" / "reporting_year=2023"
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(config.warehouse().database), read_only=True)
    try:
        con.execute(
            "copy (select * from published.park_ranking where reporting_year = 2023 order by base_code) "
            f"to '{folder / 'data.parquet'}' (format parquet)"
        )
    finally:
        con.close()


ASSETS = [warehouse_build, *(_publish(n) for n in PUBLISHED), export_park_ranking]


def _gate():
    suites = load_suites()
    plan = checks.plan_gate(suites, ASSETS)
    return plan, checks.build_quality_gate(suites, plan)


def _materialize(instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    _, gate = _gate()
    return dg.materialize([*ASSETS, gate], instance=instance, raise_on_error=False)


def _published_state() -> dict[str, object]:
    """Every published table's rows (ordered) and the export's bytes."""
    con = duckdb.connect(str(config.warehouse().database), read_only=True)
    try:
        state: dict[str, object] = {
            name: con.execute(f"select * from published.{name} order by all").fetchall() for name in PUBLISHED
        }
    finally:
        con.close()
    export = config.warehouse().exports / "park_ranking" / "reporting_year=2023" / "data.parquet"
    state["export_sha256"] = hashlib.sha256(export.read_bytes()).hexdigest()
    state["export_mtime"] = export.stat().st_mtime_ns
    return state


def _materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.all_events if e.event_type_value == "ASSET_MATERIALIZATION"}


def _evaluations(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], object]:
    return {
        (e.event_specific_data.asset_key.to_user_string(), e.event_specific_data.check_name): e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }


def test_the_gate_guards_the_inputs_of_every_publishing_asset():
    plan, gate = _gate()
    assert plan.ungated == ()
    assert {k.to_user_string() for k in plan.publication_inputs} == {
        f"marts/candidate_{n}" for n in PUBLISHED
    }
    assert plan.table_keys["park_ranking"] == dg.AssetKey(["marts", "candidate_park_ranking"])
    specs = {(s.asset_key.to_user_string(), s.name): s for s in gate.check_specs}
    assert specs[("marts/candidate_park_ranking", "publication_gate")].blocking
    assert specs[("marts/fct_company_year", "quality_facts")].blocking
    assert specs[("staging/stg_companies", "quality_submissions")].blocking


def test_an_asset_of_the_publish_group_is_guarded_through_its_inputs():
    @dg.asset(key=["marts", "dim_base"])
    def dim_base() -> None: ...

    @dg.asset(key=["published_database"], deps=[dim_base], group_name="publish")
    def published_database() -> None: ...

    plan = checks.plan_gate(load_suites(), [dim_base, published_database])
    assert plan.publication_inputs == (dg.AssetKey(["marts", "dim_base"]),)
    assert plan.ungated == ()


def test_a_publishing_asset_built_with_its_inputs_is_reported_ungated():
    @dg.multi_asset(specs=[dg.AssetSpec(["marts", "fct_base_year"]),
                           dg.AssetSpec(["published", "report_summary"], deps=[["marts", "fct_base_year"]])])
    def everything():
        yield dg.MaterializeResult(asset_key=["marts", "fct_base_year"])
        yield dg.MaterializeResult(asset_key=["published", "report_summary"])

    plan = checks.plan_gate(load_suites(), [everything])
    assert plan.ungated and "published/report_summary" in plan.ungated[0]


def test_a_failed_suite_stops_publication_and_the_previous_publication_stays(warehouse_dir):
    build_warehouse(config.warehouse().database)
    instance = dg.DagsterInstance.ephemeral()

    first = _materialize(instance)
    assert first.success
    assert {"published/park_ranking", "exports/park_ranking"} <= _materialized(first)
    before = _published_state()

    con = duckdb.connect(str(config.warehouse().database))
    try:
        for name in ("duplicated company", "negative revenue", "rank gap"):
            con.execute(CORRUPTIONS[name][0])
    finally:
        con.close()

    second = _materialize(instance)
    assert not second.success
    published = {k for k in _materialized(second) if k.startswith(("published/", "exports/"))}
    assert published == set(), "nothing is published when the gate closes"
    assert _published_state() == before, "the previous publication stays byte for byte"

    evaluations = _evaluations(second)
    facts = evaluations[("marts/fct_company_year", "quality_facts")]
    assert not facts.passed and facts.severity == dg.AssetCheckSeverity.ERROR
    failed = facts.metadata["failed_expectations"].value
    assert "facts.company_once_per_base_year" in failed and "facts.company_revenue_not_negative" in failed
    assert "JS001" in failed and "BJ001" in failed
    samples = facts.metadata["sample_rows"].value
    assert "credit_code" in samples and "-5" in samples
    ranking = evaluations[("marts/candidate_park_ranking", "quality_published")]
    assert not ranking.passed and "published.ranks_follow_scores" in ranking.metadata["failed_expectations"].value
    gate = evaluations[("marts/candidate_park_ranking", "publication_gate")]
    assert not gate.passed and "Gate closed" in gate.description
    # Checks of untouched tables pass.
    assert evaluations[("staging/stg_companies", "quality_submissions")].passed

    # The run says what failed, for which base, and what to do.
    errors = "\n".join(
        e.message for e in instance.all_logs(second.run_id)
        if e.level >= 40 and e.message and "Gate closed" in e.message
    )
    assert "facts.company_once_per_base_year" in errors and "JS001" in errors and "Fix:" in errors

    # The run's report and audit rows exist for both runs.
    page = Path(gate.metadata["quality_report"].value)
    assert page.exists() and "company_revenue_not_negative" in page.read_text(encoding="utf-8")
    con = duckdb.connect(str(config.warehouse().database), read_only=True)
    try:
        runs = dict(con.execute(
            "select run_id, bool_and(gate_open) from audit.check_results group by run_id").fetchall())
    finally:
        con.close()
    assert runs == {first.run_id: True, second.run_id: False}


def test_a_warning_is_shown_but_does_not_stop_publication(warehouse_dir):
    build_warehouse(config.warehouse().database, jump_revenue=True)
    result = _materialize(dg.DagsterInstance.ephemeral())
    assert result.success
    assert {"published/park_ranking", "published/report_summary", "exports/park_ranking"} <= _materialized(result)
    check = _evaluations(result)[("marts/fct_base_year", "quality_facts")]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert "facts.no_fivefold_jump" in check.metadata["failed_expectations"].value
    assert "SH001" in check.metadata["bases"].value


def test_loading_the_definitions_does_not_import_great_expectations():
    code = (
        "import sys, json\n"
        "from parkwh.defs.quality import defs\n"
        "specs = [(s.asset_key.to_user_string(), s.name, s.blocking) for c in defs.asset_checks for s in c.check_specs]\n"
        "print(json.dumps({'gx': 'great_expectations' in sys.modules, 'specs': specs}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert loaded["gx"] is False
    specs = {(asset, name) for asset, name, _ in loaded["specs"]}
    assert ("marts/fct_company_year", "quality_facts") in specs
    assert ("staging/stg_companies", "quality_submissions") in specs
    assert all(blocking for *_, blocking in loaded["specs"])


def test_every_publishing_asset_of_the_code_location_can_be_stopped():
    from parkwh.defs.quality import _other_areas_assets

    plan = checks.plan_gate(load_suites(), _other_areas_assets())
    assert plan.publication_inputs
    assert plan.ungated == ()
