"""Ingestion in worker processes: the same warehouse as in one process, and a dying worker costs
only the entry it was validating.

Each test builds one inbox (the tiny inbox's three bases over two years, every form, the expert
scores, plus a file with errors, a stray and the same bytes under a second name), ingests it with
``PARKWH_INGEST_WORKERS`` set, and compares with what one process makes of the same files.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest
from fixtures import tiny_inbox
from fixtures.submissions import samples
from parkwh import config
from parkwh.ingest import raw, run
from parkwh.submission import writers

PII_KEY = "parallel-test-key"
CRASHING = ("SH002", 2023)
"""The entry whose worker dies, in the crash tests."""
VALIDATE_AND_LAND = run._validate_and_land
"""The real one (tests replace it, in this process, by a wrapper that calls this)."""
TIME_COLUMNS = {"loaded_at", "first_seen_at", "ingest_run_id"}
"""Columns that differ between two runs of the same files (when, and which run)."""


@pytest.fixture(autouse=True)
def _pii_key(monkeypatch):
    monkeypatch.setenv("PARKWH_PII_KEY", PII_KEY)


def write_inbox(inbox: Path) -> None:
    """The tiny inbox, a rejected file, a stray, and one file's bytes under a second name."""
    tiny_inbox.write_inbox(inbox)
    bad = tiny_inbox.records("SH001", 2023)
    bad["companies"][0]["credit_code"] = samples.wrong_check_digit(
        bad["companies"][0]["credit_code"]
    )
    bad["base"][0]["base_code"] = "SH004"
    writers.write_submission(inbox / "2023" / "SH004.json", bad)
    (inbox / "2023" / "notes.txt").write_text("not a submission", encoding="utf-8")
    # The same bytes as SH001.xlsx: one version, seen twice in the same run.
    shutil.copy2(inbox / "2023" / "SH001.xlsx", inbox / "2023" / "SH001.xlsm")


def warehouse_state(root: Path) -> dict[str, list[tuple]]:
    """Every audit row and problem, and every raw row, without the columns that tell when."""
    con = duckdb.connect(str(root / "parkwh.duckdb"), read_only=True)
    try:
        state = {}
        tables = [f"audit.{t}" for t in ("submissions", "submission_problems")]
        tables += [f"raw.{t}" for t in raw.TABLES]
        for table in tables:
            names = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
            kept = ", ".join(f'"{n}"' for n in names if n not in TIME_COLUMNS)
            state[table] = sorted(con.execute(f"SELECT {kept} FROM {table}").fetchall(), key=repr)
        return state
    finally:
        con.close()


def ingest_copy(inbox: Path, root: Path, monkeypatch, workers: int) -> list[run.IngestSummary]:
    """Ingest a copy of ``inbox`` (modification times kept) into the warehouse ``root``."""
    shutil.copytree(inbox, root / "inbox")
    monkeypatch.setenv("PARKWH_WAREHOUSE_DIR", str(root))
    monkeypatch.setenv(run.WORKERS_ENV, str(workers))
    return run.ingest_all()


def record_worker_pid(*args):
    """``_validate_and_land`` that leaves a mark naming the process it ran in."""
    marks = Path(os.environ["PARKWH_TEST_WORKER_MARKS"])
    (marks / f"{os.getpid()}-{args[2]}").touch()
    return VALIDATE_AND_LAND(*args)


def die_on_one_entry(entry, *args):
    """``_validate_and_land`` whose process dies (as if killed) on one entry."""
    if (entry.base_code, entry.reporting_year) == CRASHING:
        os.kill(os.getpid(), signal.SIGKILL)
    return VALIDATE_AND_LAND(entry, *args)


@pytest.fixture()
def inbox(tmp_path) -> Path:
    folder = tmp_path / "source" / "inbox"
    write_inbox(folder)
    return folder


@pytest.fixture()
def few_entries_are_enough(monkeypatch):
    """Workers even for a handful of new entries (a run starts them for eight or more)."""
    monkeypatch.setattr(run, "MIN_NEW_ENTRIES_FOR_WORKERS", 1)


# ---------------------------------------------------------------------------- same result


def test_workers_and_one_process_make_the_same_warehouse(
    inbox, tmp_path, monkeypatch, few_entries_are_enough
):
    marks = tmp_path / "marks"
    marks.mkdir()
    monkeypatch.setenv("PARKWH_TEST_WORKER_MARKS", str(marks))
    monkeypatch.setattr(run, "_validate_and_land", record_worker_pid)

    serial = ingest_copy(inbox, tmp_path / "serial", monkeypatch, workers=1)
    in_this_process = {p.name.split("-")[0] for p in marks.iterdir()}
    assert in_this_process == {str(os.getpid())}
    for mark in marks.iterdir():
        mark.unlink()

    parallel = ingest_copy(inbox, tmp_path / "parallel", monkeypatch, workers=2)
    worker_pids = {p.name.split("-")[0] for p in marks.iterdir()}
    assert worker_pids and str(os.getpid()) not in worker_pids  # validated in other processes

    assert warehouse_state(tmp_path / "parallel") == warehouse_state(tmp_path / "serial")
    # The outcomes come back in the inbox's order, as one process gives them.
    described = [
        [(f.source_path, f.status, f.recorded_status, f.rows, f.problems) for f in s.files]
        for s in serial
    ]
    assert [
        [(f.source_path, f.status, f.recorded_status, f.rows, f.problems) for f in s.files]
        for s in parallel
    ] == described
    statuses = {f.source_path: f.status for s in parallel for f in s.files}
    # The same bytes under two names are one version: the first in name order is recorded.
    assert statuses["inbox/2023/SH001.xlsm"] == "accepted"
    assert statuses["inbox/2023/SH001.xlsx"] == "unchanged"
    assert statuses["inbox/2023/SH004.json"] == "rejected"
    assert statuses["inbox/2023/notes.txt"] == "rejected"
    assert [s.rows_in_force for s in parallel] == [s.rows_in_force for s in serial]
    assert [s.status_counts for s in parallel] == [s.status_counts for s in serial]


def test_a_second_run_with_workers_finds_every_entry_unchanged(
    inbox, tmp_path, monkeypatch, few_entries_are_enough
):
    ingest_copy(inbox, tmp_path / "warehouse", monkeypatch, workers=2)
    before = warehouse_state(tmp_path / "warehouse")
    again = run.ingest_all()
    assert {f.status for s in again for f in s.files} == {"unchanged"}
    assert warehouse_state(tmp_path / "warehouse") == before


# ---------------------------------------------------------------------------- a worker dies


def test_a_worker_that_dies_fails_only_its_entry(
    inbox, tmp_path, monkeypatch, few_entries_are_enough
):
    ingest_copy(inbox, tmp_path / "serial", monkeypatch, workers=1)
    expected = warehouse_state(tmp_path / "serial")

    monkeypatch.setattr(run, "_validate_and_land", die_on_one_entry)
    with pytest.raises(run.IngestError) as raised:
        ingest_copy(inbox, tmp_path / "crashed", monkeypatch, workers=2)
    message = str(raised.value)
    assert (
        "inbox/2023/SH002.json: the process validating it stopped abruptly (killed by signal 9"
        in message
    )
    assert "this entry" in message  # the only one

    root = tmp_path / "crashed"
    with duckdb.connect(str(root / "parkwh.duckdb"), read_only=True) as con:
        recorded = {
            r[0] for r in con.execute("SELECT source_path FROM audit.submissions").fetchall()
        }
    assert "inbox/2023/SH002.json" not in recorded
    assert "inbox/2023/SH003" in recorded and "inbox/2022/SH002.json" in recorded
    assert not [p for p in (root / "landing").rglob("*") if p.name.endswith(".tmp")]

    # The next run, whose worker survives, ingests it: the warehouse one process makes.
    monkeypatch.setattr(run, "_validate_and_land", VALIDATE_AND_LAND)
    summaries = run.ingest_all()
    assert [f.source_path for s in summaries for f in s.accepted] == ["inbox/2023/SH002.json"]
    assert warehouse_state(root) == expected


SLOW_WORK = textwrap.dedent(
    """
    import os, time

    def slow(*args):
        open(os.path.join(os.environ["PARKWH_TEST_WORKER_MARKS"], str(os.getpid())), "w").close()
        time.sleep(60)  # a long validation: the run is killed meanwhile
    """
)
WATCHED_RUN = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, sys.argv[1])  # slow_work, which the workers import too

    from parkwh.ingest import run
    from slow_work import slow

    run.MIN_NEW_ENTRIES_FOR_WORKERS = 1
    run._validate_and_land = slow
    run.ingest_all()
    """
)


def test_workers_end_when_the_run_is_killed(inbox, tmp_path, monkeypatch):
    """A worker of a killed run must not go on landing files while the next run starts."""
    root = tmp_path / "warehouse"
    shutil.copytree(inbox, root / "inbox")
    marks = tmp_path / "marks"
    marks.mkdir()
    code = tmp_path / "code"
    code.mkdir()
    (code / "slow_work.py").write_text(SLOW_WORK, encoding="utf-8")
    script = code / "watched.py"
    script.write_text(WATCHED_RUN, encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, str(script), str(code)],
        env={
            **os.environ,
            "PARKWH_WAREHOUSE_DIR": str(root),
            "PARKWH_TEST_WORKER_MARKS": str(marks),
            run.WORKERS_ENV: "2",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while len(list(marks.iterdir())) < 2:
            assert process.poll() is None, process.stdout.read().decode()[-3000:]
            assert time.monotonic() < deadline, "the workers never started"
            time.sleep(0.05)
        workers = [int(p.name) for p in marks.iterdir()]
        process.kill()  # the run's process only, not its workers
        process.wait(timeout=30)
        deadline = time.monotonic() + 15
        alive = workers
        while alive and time.monotonic() < deadline:
            time.sleep(0.1)
            alive = [pid for pid in workers if _alive(pid)]
        assert alive == [], "workers outlived the run"
    finally:
        if process.poll() is None:
            process.kill()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (dead, not yet reaped by its new parent) is no longer running.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


# ---------------------------------------------------------------------------- settings


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_a_bad_worker_count_is_a_clear_error(monkeypatch, value):
    monkeypatch.setenv(run.WORKERS_ENV, value)
    with pytest.raises(ValueError, match=rf"{run.WORKERS_ENV} must be a whole number.*{value!r}"):
        run.worker_count()


def test_the_worker_count_defaults_to_the_cpus(monkeypatch):
    monkeypatch.delenv(run.WORKERS_ENV, raising=False)
    assert run.worker_count() == len(os.sched_getaffinity(0))
    monkeypatch.setenv(run.WORKERS_ENV, "3")
    assert run.worker_count() == 3


def test_few_new_entries_are_validated_in_the_run_itself(inbox, tmp_path, monkeypatch):
    marks = tmp_path / "marks"
    marks.mkdir()
    monkeypatch.setenv("PARKWH_TEST_WORKER_MARKS", str(marks))
    monkeypatch.setattr(run, "_validate_and_land", record_worker_pid)
    root = tmp_path / "warehouse"
    ingest_copy(inbox, root, monkeypatch, workers=2)  # 16 new entries: workers
    assert str(os.getpid()) not in {p.name.split("-")[0] for p in marks.iterdir()}
    for mark in marks.iterdir():
        mark.unlink()

    tiny_inbox.resubmit(config.warehouse().inbox, "SH001", 2023)  # one new entry
    run.ingest_all()
    assert {p.name.split("-")[0] for p in marks.iterdir()} == {str(os.getpid())}
