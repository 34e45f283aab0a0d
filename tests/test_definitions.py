"""The code location as Dagster loads it: the asset graph, checks, jobs, schedules and sensors, pinned.

A change to the graph (an asset added, renamed or moved to another group) must be made on purpose:
update the pins here in the same commit.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from parkwh.defs import operations
from parkwh.defs.operations import OperationSettings

ASSETS_BY_GROUP = {
    "ingest": [
        "raw/base",
        "raw/companies",
        "raw/expert_scores",
        "raw/funding",
        "raw/submissions",
        "raw/talent",
    ],
    "staging": [
        "staging/method_indicators",
        "staging/method_parameters",
        "staging/provinces",
        "staging/stg_base",
        "staging/stg_companies",
        "staging/stg_enum_labels",
        "staging/stg_expert_scores",
        "staging/stg_funding",
        "staging/stg_province_labels",
        "staging/stg_submissions",
        "staging/stg_talent",
        "staging/submission_enums",
        "staging/submission_fields",
    ],
    "intermediate": [
        "intermediate/int_base_figures_yearly",
        "intermediate/int_base_years_designated",
        "intermediate/int_company_histories",
        "intermediate/int_company_years_flagged",
        "intermediate/int_funding_events_classified",
        "intermediate/int_submissions_in_force",
        "intermediate/int_talent_histories",
        "intermediate/int_talent_years_flagged",
    ],
    "marts": [
        "marts/base_year_reconciliation",
        "marts/candidate_report_summary",
        "marts/dim_base",
        "marts/dim_company",
        "marts/dim_date",
        "marts/dim_province",
        "marts/dim_talent",
        "marts/dim_talent_programme",
        "marts/fct_base_year",
        "marts/fct_company_year",
        "marts/fct_funding_event",
        "marts/fct_talent_year",
    ],
    "method": [
        "intermediate/int_method_catalogue",
        "intermediate/int_method_coverage",
        "intermediate/int_method_dimension_scores",
        "intermediate/int_method_expert_panel",
        "intermediate/int_method_expert_scores",
        "intermediate/int_method_imputed",
        "intermediate/int_method_indicator_scores",
        "intermediate/int_method_indicator_values",
        "intermediate/int_method_normalised",
        "intermediate/int_method_outlier_checks",
        "intermediate/int_method_parameters",
        "intermediate/int_method_rank_uncertainty",
        "intermediate/int_method_scores",
        "intermediate/int_method_treated",
        "marts/candidate_park_ranking",
        "marts/candidate_park_scores",
        "published/park_ranking",
        "published/park_scores",
    ],
    "published": ["published/report_summary"],
    "publish": ["annual_report", "exports", "published_database"],
}

QUALITY_CHECKS = [
    ("marts/base_year_reconciliation", "publication_gate"),
    ("marts/base_year_reconciliation", "quality_published"),
    ("marts/candidate_park_ranking", "publication_gate"),
    ("marts/candidate_park_ranking", "quality_published"),
    ("marts/candidate_park_scores", "publication_gate"),
    ("marts/candidate_park_scores", "quality_published"),
    ("marts/candidate_report_summary", "publication_gate"),
    ("marts/candidate_report_summary", "quality_published"),
    ("marts/dim_base", "publication_gate"),
    ("marts/dim_base", "quality_facts"),
    ("marts/dim_company", "publication_gate"),
    ("marts/dim_company", "quality_facts"),
    ("marts/dim_date", "publication_gate"),
    ("marts/dim_province", "publication_gate"),
    ("marts/dim_province", "quality_facts"),
    ("marts/dim_talent", "quality_facts"),
    ("marts/dim_talent_programme", "publication_gate"),
    ("marts/fct_base_year", "publication_gate"),
    ("marts/fct_base_year", "quality_facts"),
    ("marts/fct_company_year", "publication_gate"),
    ("marts/fct_company_year", "quality_facts"),
    ("marts/fct_funding_event", "publication_gate"),
    ("marts/fct_funding_event", "quality_facts"),
    ("marts/fct_talent_year", "quality_facts"),
    ("staging/stg_base", "quality_submissions"),
    ("staging/stg_companies", "quality_submissions"),
    ("staging/stg_funding", "quality_submissions"),
    ("staging/stg_submissions", "quality_submissions"),
    ("staging/stg_talent", "quality_submissions"),
]

STAGE_OF_GROUP = {
    "ingest": "ingest",
    "staging": "transform",
    "intermediate": "transform",
    "marts": "transform",
    "method": "score",
    "published": "publish",
    "publish": "publish",
}

JOBS = ["check", "ingest", "pipeline", "publish", "score", "transform"]
PARTITIONED_JOBS = {"ingest", "pipeline"}


@pytest.fixture(scope="module")
def defs() -> dg.Definitions:
    from parkwh.definitions import defs

    return defs


@pytest.fixture(scope="module")
def graph(defs):
    return defs.resolve_asset_graph()


def _name(key: dg.AssetKey) -> str:
    return key.to_user_string()


def _stage(key: dg.AssetKey) -> str:
    """The stage an asset belongs to, from the pins: its group, except published tables."""
    group = next(g for g, keys in ASSETS_BY_GROUP.items() if _name(key) in keys)
    return "publish" if _name(key).startswith("published/") else STAGE_OF_GROUP[group]


# ---------------------------------------------------------------------------- the asset graph


def test_the_asset_graph_is_pinned_by_group(graph):
    found: dict[str, list[str]] = {}
    for key in graph.get_all_asset_keys():
        found.setdefault(graph.get(key).group_name, []).append(_name(key))
    assert {group: sorted(keys) for group, keys in found.items()} == ASSETS_BY_GROUP


def test_every_asset_has_a_description_owners_and_kinds(graph):
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.description, _name(key)
        assert node.owners == ["team:parkwh"], _name(key)
        assert node.kinds, _name(key)
        assert node.kinds & {"duckdb", "dbt", "python", "parquet", "html"}, _name(key)


def test_the_graph_flows_from_the_inbox_to_the_report(graph):
    def parents(name: str) -> set[str]:
        return {_name(k) for k in graph.get(dg.AssetKey(name.split("/"))).parent_keys}

    assert "raw/submissions" in parents("staging/stg_submissions")
    assert "raw/talent" in parents("staging/stg_talent")
    assert "marts/candidate_park_ranking" in parents("published/park_ranking")
    assert {
        "published/park_ranking",
        "published/park_scores",
        "published/report_summary",
    } <= parents("exports")
    assert "exports" in parents("published_database")
    assert "published_database" in parents("annual_report")
    assert graph.get(dg.AssetKey(["raw", "submissions"])).partitions_def is not None


def test_the_stages_follow_the_groups(graph):
    stages = operations.stage_of_assets(graph)
    assert set(stages) == set(graph.get_all_asset_keys())
    for key, stage in stages.items():
        assert stage == _stage(key), _name(key)


def test_checks_are_pinned(graph):
    dbt_tests = operations.DBT_TESTS.resolve_checks(graph)
    quality = sorted(
        (_name(c.asset_key), c.name) for c in graph.asset_check_keys if c not in dbt_tests
    )
    assert quality == QUALITY_CHECKS
    # dbt's tests come as checks on the dbt models they test; every published table has some,
    # on itself or on the candidate it is copied from.
    assert len(dbt_tests) > 100
    tested = {_name(c.asset_key) for c in dbt_tests}
    for table in ("park_ranking", "park_scores", "report_summary"):
        assert {f"published/{table}", f"marts/candidate_{table}"} & tested, table
    assert not any(name.startswith("raw/") for name in tested)


# ---------------------------------------------------------------------------- jobs


def _job_selection(graph, name: str):
    job = next(j for j in operations.JOBS if j.name == name)
    return job.selection.resolve(graph), job.selection.resolve_checks(graph)


def test_the_jobs_read_like_the_work(defs, graph):
    assert sorted(j.name for j in operations.JOBS) == JOBS
    everything = set(graph.get_all_asset_keys())
    all_checks = set(graph.asset_check_keys)
    dbt_tests = operations.DBT_TESTS.resolve_checks(graph)

    def stages_of(keys):
        return {_stage(k) for k in keys}

    assets, checks = _job_selection(graph, "ingest")
    assert stages_of(assets) == {"ingest"} and len(assets) == len(ASSETS_BY_GROUP["ingest"])
    assert not checks
    assets, checks = _job_selection(graph, "transform")
    assert stages_of(assets) == {"transform"} and checks and checks <= dbt_tests
    assets, checks = _job_selection(graph, "score")
    assert stages_of(assets) == {"score"} and checks <= dbt_tests
    assets, checks = _job_selection(graph, "check")
    assert not assets and checks == all_checks
    # publish: the gate (all its checks: it runs as one step) and the publishing assets it guards.
    assets, checks = _job_selection(graph, "publish")
    assert stages_of(assets) == {"publish"}
    assert set(ASSETS_BY_GROUP["publish"]) <= {_name(k) for k in assets}
    assert {"published/park_ranking", "published/report_summary"} <= {_name(k) for k in assets}
    assert checks - dbt_tests == all_checks - dbt_tests
    assert {c.asset_key for c in checks & dbt_tests} <= assets
    assets, checks = _job_selection(graph, "pipeline")
    assert assets == everything and checks == all_checks

    for name in JOBS:
        job = defs.resolve_job_def(name)
        assert job.description
        # One writer at a time: steps run one after another in the run's own process.
        assert job.executor_def.name == "in_process", name
        assert (job.partitions_def is not None) == (name in PARTITIONED_JOBS), name


def _upstream_nodes(dependency) -> set[str]:
    found = set()
    node = getattr(dependency, "node", None)
    if node:
        found.add(node)
    for nested in [
        getattr(dependency, "other_dependency", None),
        *getattr(dependency, "asset_check_dependencies", []),
    ]:
        if nested is not None:
            found |= _upstream_nodes(nested)
    return found


def test_the_pipeline_publishes_only_after_the_quality_gate(defs):
    job = defs.resolve_job_def(operations.PIPELINE_JOB)
    upstream = {
        invocation.name: set().union(*(_upstream_nodes(d) for d in inputs.values()))
        for invocation, inputs in job.dependencies.items()
    }
    assert upstream["parkwh_dbt_models"] == {"ingest_submissions"}
    assert "parkwh_dbt_models" in upstream["quality_gate"]
    # Every step that publishes waits for the gate: a failing blocking check stops them all.
    for publishing in ("parkwh_dbt_published", "exports", "published_database"):
        assert "quality_gate" in upstream[publishing], publishing
    assert upstream["annual_report"] == {"published_database"}


# ---------------------------------------------------------------------------- sensors and schedules


def test_one_sensor_watches_the_inbox(defs):
    sensor = defs.resolve_sensor_def("inbox_sensor")
    assert [s.name for s in defs.sensors] == ["inbox_sensor"]
    assert sensor.job_name == operations.PIPELINE_JOB
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.minimum_interval_seconds == operations.SETTINGS.sensor_seconds


def test_the_schedules(defs):
    assert sorted(s.name for s in defs.schedules) == ["nightly_check", "yearly_publication"]
    for name in ("nightly_check", "yearly_publication"):
        schedule = defs.resolve_schedule_def(name)
        assert schedule.job_name == operations.PIPELINE_JOB
        assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
        assert schedule.execution_timezone == "Asia/Shanghai"
        assert schedule.description
    assert defs.resolve_schedule_def("yearly_publication").cron_schedule == "0 6 1 5 *"
    assert defs.resolve_schedule_def("nightly_check").cron_schedule == "0 2 * * *"


def test_the_yearly_publication_is_for_the_year_just_submitted(defs, warehouse_dir):
    shanghai = ZoneInfo("Asia/Shanghai")
    context = dg.build_schedule_context(
        scheduled_execution_time=dt.datetime(2024, 5, 1, 6, tzinfo=shanghai)
    )
    request = operations.yearly_publication(context)
    assert isinstance(request, dg.RunRequest)
    assert request.partition_key == "2023"
    assert request.tags[operations.TRIGGER_TAG] == "yearly_publication"
    # Before the first reporting year there is nothing to publish.
    early = dg.build_schedule_context(
        scheduled_execution_time=dt.datetime(2019, 5, 1, 6, tzinfo=shanghai)
    )
    assert isinstance(operations.yearly_publication(early), dg.SkipReason)


def test_the_nightly_run_is_for_the_latest_year_in_the_inbox(warehouse_dir):
    when = dt.datetime(2026, 11, 29, 2, tzinfo=ZoneInfo("Asia/Shanghai"))
    context = dg.build_schedule_context(scheduled_execution_time=when)
    # No inbox yet: the last year that is over.
    assert operations.nightly_check(context).partition_key == "2025"
    for year in (2021, 2022):
        (warehouse_dir / "inbox" / str(year)).mkdir(parents=True)
    (warehouse_dir / "inbox" / "2031").mkdir()  # not over yet: never run
    request = operations.nightly_check(context)
    assert request.partition_key == "2022"
    assert request.tags == {operations.TRIGGER_TAG: "nightly_check", operations.YEAR_TAG: "2022"}


@pytest.mark.parametrize(
    ("deadline", "cron"),
    [
        ("04-30", "0 6 1 5 *"),
        ("3-31", "0 6 1 4 *"),
        ("02-28", "0 6 1 3 *"),
        ("02-29", "0 6 1 3 *"),
        ("12-31", "0 6 1 1 *"),
    ],
)
def test_the_publication_runs_the_morning_after_the_deadline(deadline, cron):
    settings = OperationSettings.from_env({"PARKWH_SUBMISSION_DEADLINE": deadline})
    assert settings.yearly_cron == cron


@pytest.mark.parametrize("deadline", ["April 30", "04/30", "13-01", "02-30", "0430"])
def test_a_wrong_deadline_is_one_clear_error(deadline):
    with pytest.raises(ValueError, match=r"PARKWH_SUBMISSION_DEADLINE must be .*MM-DD"):
        OperationSettings.from_env({"PARKWH_SUBMISSION_DEADLINE": deadline})


def test_settings_from_the_environment():
    settings = OperationSettings.from_env(
        {
            "PARKWH_TIMEZONE": "UTC",
            "PARKWH_NIGHTLY_CRON": "30 3 * * *",
            "PARKWH_INBOX_SENSOR_SECONDS": "10",
            "PARKWH_INBOX_SETTLE_SECONDS": "0.5",
        }
    )
    assert (settings.timezone, settings.nightly_cron) == ("UTC", "30 3 * * *")
    assert (settings.sensor_seconds, settings.settle_seconds) == (10, 0.5)
    with pytest.raises(ValueError, match="PARKWH_INBOX_SENSOR_SECONDS"):
        OperationSettings.from_env({"PARKWH_INBOX_SENSOR_SECONDS": "soon"})
