"""A run killed (SIGKILL) during ingestion, the dbt build or publication leaves the warehouse and the
published outputs as they were, and the next run completes the work.

Each test builds a previous state from a tiny inbox (three bases, two years), changes the inbox
(a base resubmits), starts the step in a process of its own, kills it at a chosen point, and
compares what is left with the previous state: every table dbt builds, row for row; the raw
layer's rows; the published files, byte for byte. Then it runs again and checks that the
change arrived.
"""

from __future__ import annotations

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


def leftovers(root: Path) -> list[str]:
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.name.endswith(".tmp") or ".incoming-" in p.name or ".building" in p.name
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

DBT_STEPS = {
    "run_dbt": """
        from parkwh import transform
        transform.run_dbt(["build"])
    """,
    "dagster": """
        import dagster as dg
        from parkwh.defs.transform import defs, parkwh_dbt_models
        dg.materialize([parkwh_dbt_models], resources={"dbt": defs.resources["dbt"]})
    """,
}


@pytest.mark.parametrize("runner", list(DBT_STEPS))
def test_a_dbt_build_killed_half_way_leaves_every_table_as_it_was(previous_state, tmp_path, runner):
    ingest_all()  # the resubmission is in raw; the tables built from it are not yet
    tables, files = built_tables(), published_files()
    assert tables and any(tables.values())
    logs = tmp_path / "killed"

    step = start(DBT_STEPS[runner], tmp_path, logs)
    # Killed once dbt has replaced a table that the resubmission changes.
    kill_when(
        step,
        lambda: log_has(logs, "OK created sql table model intermediate.int_submissions_in_force"),
    )
    assert not log_has(logs, "Completed successfully")

    assert built_tables() == tables
    assert published_files() == files
    assert service_events(RESUBMITTING) == previous_state

    build(tmp_path)

    assert service_events(RESUBMITTING) == previous_state + 1
    assert leftovers(config.warehouse().root) == []
