"""The pipeline in process (``parkwh run``): the code location's jobs, progress per stage, a summary,
one writer at a time; and on the demo, the whole path from a dropped file to a new publication."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import types
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from fixtures import tiny_inbox
from parkwh import config
from parkwh.defs import operations
from parkwh.pipeline import PipelineError, plan_runs, run_pipeline

PARKWH = str(Path(sys.executable).with_name("parkwh"))
PUBLISHING = {"exports", "published_database", "annual_report"}


@pytest.fixture(autouse=True)
def _pii_key(monkeypatch):
    monkeypatch.setenv("PARKWH_PII_KEY", "pipeline test key")


def _parkwh(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PARKWH, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


# ---------------------------------------------------------------------------- planning


def test_an_empty_inbox_starts_nothing_and_says_what_to_do(warehouse_dir):
    with pytest.raises(PipelineError, match=r"holds no reporting-year folder.*parkwh demo"):
        plan_runs(None)


def test_a_year_that_is_not_over_is_refused(warehouse_dir):
    with pytest.raises(PipelineError, match=r"2099 is no reporting year"):
        plan_runs([2099])


def test_the_plan_ingests_every_year_then_runs_everything_once(warehouse_dir):
    for year in (2023, 2021, 2099):  # 2099 is not over: never run
        (warehouse_dir / "inbox" / str(year)).mkdir(parents=True)
    assert plan_runs(None) == [("ingest", 2021), ("pipeline", 2023)]
    assert plan_runs([2022]) == [("pipeline", 2022)]
    assert plan_runs(None, "ingest") == [("ingest", 2021), ("ingest", 2023)]
    assert plan_runs(None, "check") == [("check", None)]
    with pytest.raises(PipelineError, match="covers every reporting year"):
        plan_runs([2023], "publish")
    with pytest.raises(PipelineError, match="no job named"):
        plan_runs(None, "everything")


# ---------------------------------------------------------------------------- the command line


def test_run_and_status_have_help_with_an_example():
    for command in ("run", "status"):
        result = _parkwh(command, "--help", timeout=120)
        assert result.returncode == 0, result.stderr
        assert "Example" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--year", "1990"], "1990 is no reporting year"),
        (["--job", "everything"], "--job 'everything'"),
        ([], "holds no reporting-year folder"),
    ],
)
def test_run_errors_are_one_line_and_a_non_zero_exit(warehouse_dir, args, message):
    result = _parkwh("run", *args, timeout=300)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_two_runs_started_together_both_succeed_one_after_the_other(warehouse_dir):
    tiny_inbox.write_inbox(config.warehouse().inbox)
    env = {**os.environ}
    first = subprocess.Popen(
        [PARKWH, "run", "--job", "ingest"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    second = subprocess.Popen(
        [PARKWH, "run", "--job", "ingest"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    outputs = [p.communicate(timeout=600) for p in (first, second)]
    for process, (out, err) in zip((first, second), outputs, strict=True):
        assert process.returncode == 0, out + err
    # One of them found the warehouse busy and waited; neither failed on a lock.
    assert sum("waiting:" in out for out, _ in outputs) == 1
    assert not any("lock" in err.lower() for _, err in outputs)

    # Both recorded their runs in the warehouse's Dagster instance, one process after the other.
    with dg.DagsterInstance.from_config(str(config.warehouse().dagster_home)) as instance:
        records = instance.get_run_records()
    assert len(records) == 4  # two years each
    assert {r.dagster_run.status for r in records} == {dg.DagsterRunStatus.SUCCESS}
    by_process: dict[str, list] = {}
    for record in records:
        by_process.setdefault(record.dagster_run.tags["parkwh/pid"], []).append(record)
    assert sorted(by_process) == sorted(str(p.pid) for p in (first, second))
    spans = sorted(
        (min(r.start_time for r in rs), max(r.end_time for r in rs)) for rs in by_process.values()
    )
    assert spans[0][1] <= spans[1][0], "the two processes' runs overlapped"


def test_a_warehouse_held_open_by_another_program_is_said_so_not_a_lock_error(warehouse_dir):
    from parkwh import db

    tiny_inbox.write_submission(config.warehouse().inbox, "SH001", 2023)
    with db.connect():
        pass  # the warehouse file exists
    script = (
        "import duckdb, time\n"
        f"con = duckdb.connect({str(config.warehouse().database)!r}, read_only=True)\n"
        "print('open', flush=True)\n"
        "time.sleep(120)"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        with dg.DagsterInstance.ephemeral() as instance:
            summary = run_pipeline(job="ingest", instance=instance)
    finally:
        holder.kill()
        holder.wait()
    assert not summary.success
    assert "held open by another program" in summary.failure()
    assert "Could not set lock" not in summary.failure()


# ---------------------------------------------------------------------------- the whole pipeline


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """The tiny inbox through ``run_pipeline`` once for this module: what it returned and saw."""
    root = tmp_path_factory.mktemp("tiny") / "warehouse"
    events: list = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PARKWH_WAREHOUSE_DIR", str(root))
        patch.setenv("PARKWH_PII_KEY", "pipeline test key")
        patch.setenv("DBT_TARGET_PATH", str(root.parent / "dbt_target"))
        tiny_inbox.write_inbox(config.warehouse().inbox)
        instance = dg.DagsterInstance.ephemeral()
        summary = run_pipeline(progress=events.append, instance=instance)
    try:
        yield types.SimpleNamespace(root=root, summary=summary, events=events, instance=instance)
    finally:
        instance.dispose()


@pytest.fixture()
def in_tiny_warehouse(tiny_run, monkeypatch):
    monkeypatch.setenv("PARKWH_WAREHOUSE_DIR", str(tiny_run.root))
    monkeypatch.setenv("DBT_TARGET_PATH", str(tiny_run.root.parent / "dbt_target"))
    return tiny_run


def _checks_recorded(instance: dg.DagsterInstance, run_ids: list[str]) -> int:
    return sum(
        len(instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION))
        for run_id in run_ids
    )


def test_the_pipeline_in_process_reports_every_stage(tiny_run):
    summary, events, instance = tiny_run.summary, tiny_run.events, tiny_run.instance
    run_ids = [r.run_id for r in summary.runs]
    runs = [instance.get_run_by_id(run_id) for run_id in run_ids]

    # The same jobs Dagster runs: every year ingested, then everything once for the latest.
    assert [(r.job, r.partition) for r in summary.runs] == [
        ("ingest", "2022"),
        ("pipeline", "2023"),
    ]
    assert [r.tags[operations.YEAR_TAG] for r in runs] == ["2022", "2023"]
    assert {r.tags[operations.TRIGGER_TAG] for r in runs} == {"parkwh_run"}

    # Files and rows, computed from what the tiny inbox wrote.
    files = len(tiny_inbox.BASES) + 1  # each base and the expert scores
    for year in tiny_inbox.YEARS:
        assert summary.files[year].accepted == files
        assert summary.files[year].rejected == 0
        assert summary.files[year].bases_in_force == len(tiny_inbox.BASES)
    talent = sum(len(tiny_inbox.records(code, 2023)["talent"]) for code in tiny_inbox.BASES)
    assert summary.rows["raw/submissions"] == len(tiny_inbox.BASES)
    assert summary.rows["raw/talent"] == talent

    # Each stage did what it planned; every check Dagster recorded is in the summary.
    for stage in ("ingest", "transform", "score"):
        assert summary.done[stage] == summary.planned[stage] > 0, stage
    assert summary.done["check"] == len(summary.checks) == _checks_recorded(instance, run_ids) > 100
    assert summary.gate in {"open", "closed"}
    if summary.gate == "open":
        assert summary.success and PUBLISHING <= set(summary.published)
    else:
        assert not summary.success and not PUBLISHING & set(summary.published)
        assert summary.failure().startswith("the quality gate is closed")

    # The progress callback saw the same work, stage by stage, the gate before publishing.
    kinds = [e.kind for e in events]
    assert kinds.count("run") == kinds.count("finished") == 2
    for stage in operations.STAGES:
        planned = sum(1 for e in events if e.kind == "planned" and e.stage == stage)
        assert planned == summary.planned[stage], stage
    done = [e for e in events if e.kind == "done"]
    assert done[0].stage == "ingest"
    gate_seen = [i for i, e in enumerate(done) if e.label and e.label.endswith("publication_gate")]
    published = [i for i, e in enumerate(done) if e.label in PUBLISHING]
    assert gate_seen and all(i > max(gate_seen) for i in published)


def test_status_shows_the_inbox_what_is_in_force_and_publications(in_tiny_warehouse):
    result = _parkwh("status", timeout=300)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "not yet ingested" in out and "in force" in out
    for year in tiny_inbox.YEARS:
        # inbox: 3 submissions, 1 expert score file, nothing left to ingest; 3 bases in force.
        assert re.search(rf"{year}\s*│\s*3\s*│\s*1\s*│\s*0\s*│\s*0\s*│", out), out
        assert re.search(rf"{year}\s*│\s*3\s*│\s*0\s*│\s*0\s*│\s*yes", out), out
    published = in_tiny_warehouse.summary.gate == "open"
    assert ("last publication of each year" in out) == published


def test_the_check_job_reruns_every_check_on_the_built_warehouse(in_tiny_warehouse):
    with dg.DagsterInstance.ephemeral() as instance:
        summary = run_pipeline(job="check", instance=instance)
    assert [(r.job, r.partition) for r in summary.runs] == [("check", None)]
    assert summary.planned["check"] == summary.done["check"] == len(summary.checks) > 100
    dbt_failures = [e for e in summary.errors if "parkwh_dbt_models" in e]
    assert dbt_failures == []
    assert summary.planned["transform"] == summary.planned["publish"] == 0  # nothing rebuilt


# ---------------------------------------------------------------------------- the demo (slow)

TOP10_2023 = [
    "上海漕河泾留学人员创业园",
    "苏州留学人员创业园",
    "上海张江留学人员创业园",
    "厦门留学人员创业园",
    "西安留学人员创业园",
    "中国北京（望京）留学人员创业园",
    "中关村国际孵化器",
    "江苏昆山留学人员创业园",
    "武汉留学生创业园",
    "无锡留学人员创业园",
]
"""The 2023 report's top 10 of 2023, in order."""


@pytest.mark.slow
def test_the_demo_runs_end_to_end_and_publishes(use_demo_warehouse):
    summary = use_demo_warehouse.summary
    assert summary.success, summary.failure()
    assert summary.gate == "open"
    assert sorted(summary.files) == [2019, 2020, 2021, 2022, 2023]
    assert PUBLISHING <= set(summary.published)
    paths = config.warehouse()
    assert paths.published_database.exists()
    assert (paths.reports / "2023" / "index.html").exists()
    assert any(paths.exports.rglob("*.parquet"))
    con = duckdb.connect(str(paths.published_database), read_only=True)
    try:
        names = [
            row[0]
            for row in con.execute(
                "select base_name_zh from published.park_ranking"
                " where reporting_year = 2023 and ranked order by rank limit 10"
            ).fetchall()
        ]
    finally:
        con.close()
    assert names == TOP10_2023


@pytest.mark.slow
def test_a_corrected_submission_in_the_inbox_republishes_the_year(
    demo_warehouse, tmp_path, monkeypatch
):
    """make demo, make dev, then a base sends a corrected file: the sensor's run republishes 2023."""
    root = tmp_path / "warehouse"
    shutil.copytree(demo_warehouse.root, root, symlinks=True)
    monkeypatch.setenv("PARKWH_WAREHOUSE_DIR", str(root))
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "dbt_target"))
    from parkwh import db
    from parkwh.definitions import defs

    def versions() -> dict[int, int]:
        with db.connect(read_only=True) as con:
            return dict(
                con.execute(
                    "select reporting_year, max(version) from audit.publications group by 1"
                ).fetchall()
            )

    before = versions()
    assert before.get(2023), "the demo published 2023"

    # The sensor's first look: everything in the inbox was ingested by the demo's run.
    with dg.DagsterInstance.from_config(str(config.warehouse().dagster_home)) as instance:
        first = operations.inbox_sensor(dg.build_sensor_context(instance=instance, cursor=None))
        assert first.run_requests == []

        corrected = root / "inbox" / "2023" / "BJ001.json"
        data = json.loads(corrected.read_text(encoding="utf-8"))
        data["base"]["service_events"] += 50
        corrected.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        later = time.time() - 60  # settled, and later than the first version
        os.utime(corrected, (later, later))

        second = operations.inbox_sensor(
            dg.build_sensor_context(instance=instance, cursor=first.cursor)
        )
        assert [r.partition_key for r in second.run_requests] == ["2023"]
        request = second.run_requests[0]
        # Launched as the daemon launches it: the pipeline job, for the request's year and tags.
        result = defs.resolve_job_def(operations.PIPELINE_JOB).execute_in_process(
            instance=instance,
            partition_key=request.partition_key,
            tags=request.tags,
            raise_on_error=False,
        )
        assert result.success
        # The same bytes again: no second run.
        third = operations.inbox_sensor(
            dg.build_sensor_context(instance=instance, cursor=second.cursor)
        )
        assert third.run_requests == []

    after = versions()
    assert after[2023] == before[2023] + 1
    with db.connect(read_only=True) as con:
        events = con.execute(
            "select service_events from marts.fct_base_year where reporting_year = 2023 and base_code = 'BJ001'"
        ).fetchone()[0]
    assert events == data["base"]["service_events"]


def test_a_rerun_skips_the_ingest_runs_of_years_whose_files_are_all_recorded(
    tiny_run, tmp_path, monkeypatch
):
    from parkwh.pipeline import _years_already_ingested

    root = tmp_path / "warehouse"
    shutil.copytree(tiny_run.root, root)
    monkeypatch.setenv("PARKWH_WAREHOUSE_DIR", str(root))
    inbox = config.warehouse().inbox
    earlier = tiny_inbox.YEARS[0]

    found = _years_already_ingested([earlier])
    assert list(found) == [earlier]
    assert found[earlier].unchanged == len(tiny_inbox.BASES) + 1
    assert found[earlier].bases_in_force == len(tiny_inbox.BASES)
    assert found[earlier].accepted == found[earlier].rejected == 0

    # A base sends a corrected file for that year: its bytes are new, so the year is ingested.
    base = next(iter(tiny_inbox.BASES))
    data = tiny_inbox.records(base, earlier)
    data["base"][0]["service_events"] += 1
    tiny_inbox.write_submission(inbox, base, earlier, data)
    assert _years_already_ingested([earlier]) == {}

    # So is a year with a file the audit does not know, such as a stray beside the years.
    tiny_inbox.write_submission(inbox, base, earlier)  # back as it was
    assert list(_years_already_ingested([earlier])) == [earlier]
    (inbox / "notes.xlsx").write_bytes(b"not a submission")
    assert _years_already_ingested([earlier]) == {}
