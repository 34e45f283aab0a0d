"""A run killed (SIGKILL) during ingestion, the dbt build or publication leaves the warehouse and the
published outputs as they were, and the next run completes the work.

Each test builds a previous state from a tiny inbox (three bases, two years), changes the inbox
(a base resubmits), starts the step in a process of its own, kills it at a chosen point, and
compares what is left with the previous state: every table dbt builds, row for row; the raw
layer's rows; the published files, byte for byte. Then it runs again and checks that the
change arrived.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest
from fixtures import tiny_inbox
from parkwh import config, transform
from parkwh.ingest.run import ingest_all

PII_KEY = "crash-test-key"
YEAR = tiny_inbox.YEARS[-1]
RESUBMITTING = "SH002"
BUILT_SCHEMAS = ("staging", "intermediate", "marts", "method", "published")
PUBLISHED_FOLDERS = ("exports", "reports")


@pytest.fixture(autouse=True)
def _pii_key(monkeypatch):
    monkeypatch.setenv("PARKWH_PII_KEY", PII_KEY)


# ---------------------------------------------------------------------------- states


def built_tables() -> dict[str, list[tuple]]:
    """Every table dbt materialised (views follow raw by definition), each as its sorted rows."""
    con = duckdb.connect(str(config.warehouse().database), read_only=True)
    try:
        names = con.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_catalog = current_database() and table_type = 'BASE TABLE'"
            f" and table_schema in ({', '.join(repr(s) for s in BUILT_SCHEMAS)})"
            " order by 1, 2"
        ).fetchall()
        return {
            f"{schema}.{name}": sorted(
                con.execute(f'select * from "{schema}"."{name}"').fetchall(), key=repr
            )
            for schema, name in names
        }
    finally:
        con.close()


def raw_rows() -> dict[str, list[tuple]]:
    con = duckdb.connect(str(config.warehouse().database), read_only=True)
    try:
        return {
            table: sorted(con.execute(f"select * from raw.{table}").fetchall(), key=repr)
            for table in ("submissions", "base", "companies", "talent", "funding", "expert_scores")
        }
    finally:
        con.close()


def published_files() -> dict[str, str]:
    """sha256 of every published file: published.duckdb, the exports and the reports."""
    root = config.warehouse().root
    paths = [config.warehouse().published_database]
    for folder in PUBLISHED_FOLDERS:
        paths.extend(p for p in sorted((root / folder).rglob("*")) if p.is_file())
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in paths
        if p.exists()
    }


def service_events(base_code: str) -> int:
    con = duckdb.connect(str(config.warehouse().database), read_only=True)
    try:
        return con.execute(
            "select service_events from marts.fct_base_year where base_code = ?"
            " and reporting_year = ?",
            [base_code, YEAR],
        ).fetchone()[0]
    finally:
        con.close()


def one(database: Path, sql: str):
    con = duckdb.connect(str(database), read_only=True)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def leftovers(root: Path) -> list[str]:
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.name.endswith((".tmp", ".tmp.wal"))
        or ".incoming-" in p.name
        or (".building" in p.relative_to(root).parts and p.is_file())
        or p.name.startswith(".exports-staging-")
    )


# ---------------------------------------------------------------------------- running and killing


def build(tmp_path: Path) -> None:
    result = transform.run_dbt(
        ["build"], target_path=tmp_path / "target", log_path=tmp_path / "logs"
    )
    assert result.returncode == 0, result.stdout[-4000:]


def start(script: str, tmp_path: Path, log_path: Path) -> subprocess.Popen:
    """Run ``script`` in a new session (so dbt, its child, can be killed with it); dbt's log and
    artefacts go under ``log_path`` (dagster-dbt puts its log in a folder of the target path)."""
    path = tmp_path / "step.py"
    path.write_text(textwrap.dedent(script), encoding="utf-8")
    return subprocess.Popen(
        [sys.executable, str(path)],
        env={
            **os.environ,
            "PARKWH_WAREHOUSE_DIR": str(config.warehouse().root),
            "DBT_TARGET_PATH": str(log_path / "target"),
            "DBT_LOG_PATH": str(log_path),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def kill_when(process: subprocess.Popen, ready, timeout: float = 300) -> None:
    """SIGKILL the process and its children as soon as ``ready()`` is true."""
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None:
            output = process.stdout.read().decode(errors="replace")[-4000:]
            raise AssertionError(
                f"the step ended (status {process.returncode}) before the point:\n{output}"
            )
        if time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            raise AssertionError("the point was never reached")
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    # The children (dbt) die a moment later; their locks go with them.
    for _ in range(500):
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.02)
    raise AssertionError("the step's children outlived SIGKILL")


def log_has(folder: Path, text: str) -> bool:
    """Whether a dbt log under ``folder`` has the text."""
    return any(
        text in log.read_text(encoding="utf-8", errors="replace") for log in folder.rglob("dbt.log")
    )


@pytest.fixture()
def previous_state(warehouse_dir, tmp_path):
    """A built warehouse from the tiny inbox; then one base resubmits a corrected file."""
    inbox = config.warehouse().inbox
    tiny_inbox.write_inbox(inbox)
    ingest_all()
    build(tmp_path)
    before = service_events(RESUBMITTING)
    tiny_inbox.resubmit(inbox, RESUBMITTING, YEAR)
    return before


# ---------------------------------------------------------------------------- the dbt build

# ---------------------------------------------------------------------------- building aside


def test_a_build_aside_that_ends_replaces_the_warehouse_in_one_step(warehouse_dir):
    database = config.warehouse().database
    con = duckdb.connect(str(database))
    con.execute("create table t as select 1 as x")
    con.close()
    with transform.building_aside() as build:
        assert transform.dbt_env()["PARKWH_DUCKDB_PATH"] == str(build.path)
        con = duckdb.connect(str(build.path))
        con.execute("insert into t values (2)")
        con.close()
        # Until the build ends, the warehouse is the previous one.
        assert one(database, "select count(*) from t") == 1
    assert one(database, "select sum(x) from t") == 3
    assert transform.dbt_env()["PARKWH_DUCKDB_PATH"] == str(database)
    assert leftovers(warehouse_dir) == []


@pytest.mark.parametrize("how", ["killed", "exception"])
def test_a_build_aside_that_fails_leaves_the_warehouse_as_it_was(warehouse_dir, how):
    database = config.warehouse().database
    con = duckdb.connect(str(database))
    con.execute("create table t as select 1 as x")
    con.close()
    before = hashlib.sha256(database.read_bytes()).hexdigest()
    expected = pytest.raises(RuntimeError) if how == "exception" else contextlib.nullcontext()
    with expected, transform.building_aside() as build:
        con = duckdb.connect(str(build.path))
        con.execute("drop table t")
        con.close()
        if how == "exception":
            raise RuntimeError("dbt could not start")
        build.keep = False  # what run_dbt does when dbt dies of a signal
    assert hashlib.sha256(database.read_bytes()).hexdigest() == before
    assert leftovers(warehouse_dir) == []


def test_a_copy_left_by_a_killed_build_is_discarded_by_the_next(warehouse_dir):
    database = config.warehouse().database
    duckdb.connect(str(database)).close()
    stale = transform.building_path()
    stale.parent.mkdir()
    stale.write_bytes(b"half a database")
    with transform.building_aside() as build:
        assert build.path == stale
        assert one(build.path, "select 1") == 1
    assert not stale.exists()


# ---------------------------------------------------------------------------- the dbt build

DBT_STEP = """
    import dagster as dg
    from parkwh.defs.transform import defs, parkwh_dbt_models
    dg.materialize([parkwh_dbt_models], resources={"dbt": defs.resources["dbt"]})
"""


def test_a_dbt_build_killed_half_way_leaves_every_table_as_it_was(previous_state, tmp_path):
    ingest_all()  # the resubmission is in raw; the tables built from it are not yet
    tables, files = built_tables(), published_files()
    assert tables and any(tables.values())
    # Dagster's dbt steps keep their artefacts and log under warehouse/dbt/runs/, a folder each.
    runs = config.warehouse().root / "dbt" / "runs"
    earlier = set(runs.iterdir()) if runs.exists() else set()

    def new_logs_have(text: str) -> bool:
        now = set(runs.iterdir()) if runs.exists() else set()
        return any(log_has(folder, text) for folder in now - earlier)

    step = start(DBT_STEP, tmp_path, tmp_path / "killed")
    # Killed once dbt has replaced a table that the resubmission changes.
    kill_when(
        step,
        lambda: new_logs_have("OK created sql table model intermediate.int_submissions_in_force"),
    )
    assert not new_logs_have("Completed successfully")

    assert built_tables() == tables
    assert published_files() == files
    assert service_events(RESUBMITTING) == previous_state

    build(tmp_path)

    assert service_events(RESUBMITTING) == previous_state + 1
    assert leftovers(config.warehouse().root) == []


# ---------------------------------------------------------------------------- parkwh run, killed in each stage

RUN_STEP = """
    import os, signal, sys

    point = {point!r}

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    if point == "ingest":
        from parkwh.ingest import landing

        real_publish = landing.publish

        def publish(temp, target):
            real_publish(temp, target)
            die()  # the resubmission's first part file landed, the others and its commit mark not

        landing.publish = publish
    elif point == "publish":
        from parkwh.publish import exports

        real_stage = exports.stage_table

        def stage_table(*args, **kwargs):
            staged = real_stage(*args, **kwargs)
            die()  # an export is written in the staging folder, the publication not committed

        exports.stage_table = stage_table

    from parkwh.cli import main

    sys.argv = ["parkwh", "run"]
    main()
"""


def published_figure(database: Path) -> int:
    """2023's service events of every base, as published.duckdb publishes them."""
    return one(
        database,
        f"select service_events from published.report_summary"
        f" where reporting_year = {YEAR} and scope = 'all'",
    )


def parkwh_run(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "parkwh.cli", "run"],
        env={
            **os.environ,
            "PARKWH_WAREHOUSE_DIR": str(config.warehouse().root),
            "DBT_TARGET_PATH": str(tmp_path / "run-target"),
            "COLUMNS": "160",
        },
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def audit_rows(table: str) -> list[tuple]:
    con = duckdb.connect(str(config.warehouse().database), read_only=True)
    try:
        return sorted(con.execute(f"select * from audit.{table}").fetchall(), key=repr)
    finally:
        con.close()


@pytest.mark.slow
def test_parkwh_run_killed_in_ingestion_dbt_and_publication_then_completed(warehouse_dir, tmp_path):
    """One base resubmits; three runs are killed, each in a later stage; the fourth completes.

    After each kill the published outputs are byte for byte the previous publication's, and the
    warehouse is as the last completed step left it; each run completes what the killed one
    had not (ingestion, then the dbt build), and the last one publishes the resubmission.
    """
    inbox = config.warehouse().inbox
    tiny_inbox.write_inbox(inbox)
    first = parkwh_run(tmp_path)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    published_db = config.warehouse().published_database
    files, tables, raw_before = published_files(), built_tables(), raw_rows()
    assert any(p.startswith("exports/") for p in files) and "published.duckdb" in files
    figure = published_figure(published_db)
    events = service_events(RESUBMITTING)
    publications = audit_rows("publications")
    tiny_inbox.resubmit(inbox, RESUBMITTING, YEAR)

    # 1. Killed in ingestion: the resubmission is invisible, nothing else moved.
    step = start(RUN_STEP.format(point="ingest"), tmp_path, tmp_path / "ingest-logs")
    step.wait(timeout=600)
    assert step.returncode == -signal.SIGKILL, step.stdout.read().decode()[-3000:]
    assert raw_rows() == raw_before
    assert built_tables() == tables
    assert published_files() == files

    # 2. Killed in the dbt build: this run completed the ingestion, the tables are as they were.
    # Dagster's dbt steps keep their artefacts and log under warehouse/dbt/runs/, a folder each.
    runs = config.warehouse().root / "dbt" / "runs"
    earlier = set(runs.iterdir()) if runs.exists() else set()
    step = start(RUN_STEP.format(point="dbt"), tmp_path, tmp_path / "dbt-logs")
    kill_when(
        step,
        lambda: any(
            log_has(folder, "OK created sql table model intermediate.int_submissions_in_force")
            for folder in set(runs.iterdir()) - earlier
        ),
    )
    assert raw_rows() != raw_before
    assert built_tables() == tables
    assert service_events(RESUBMITTING) == events
    assert published_files() == files

    # 3. Killed in publication: this run completed the build, the publication is the previous.
    step = start(RUN_STEP.format(point="publish"), tmp_path, tmp_path / "publish-logs")
    step.wait(timeout=600)
    assert step.returncode == -signal.SIGKILL, step.stdout.read().decode()[-3000:]
    assert service_events(RESUBMITTING) == events + 1
    assert published_files() == files
    assert audit_rows("publications") == publications
    assert published_figure(published_db) == figure

    # 4. The next run publishes the resubmission.
    last = parkwh_run(tmp_path)
    assert last.returncode == 0, last.stdout[-3000:] + last.stderr[-3000:]
    assert published_figure(published_db) == figure + 1
    assert published_files() != files
    assert leftovers(config.warehouse().root) == []


def test_a_publication_removes_what_a_killed_one_left(warehouse_dir):
    from parkwh.publish import files

    staging = warehouse_dir / ".exports-staging-0123456789ab"
    (staging / "park_ranking").mkdir(parents=True)
    (staging / "park_ranking" / "data.parquet").write_bytes(b"half")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    orphan = warehouse_dir / f".published.duckdb.{dead.pid}.0badcafe.tmp"
    orphan.write_bytes(b"half a database")
    in_use = warehouse_dir / f".published.duckdb.{os.getpid()}.0badcafe.tmp"
    in_use.write_bytes(b"being written")

    removed = files.remove_leftovers(warehouse_dir)

    assert sorted(removed) == sorted([staging, orphan])
    assert not staging.exists() and not orphan.exists() and in_use.exists()
