"""``parkwh purge-pii --before YEAR``: personal values of old years leave raw, the archive and the
inbox; pseudonyms, every other value and every figure stay; a killed purge is completed by a rerun."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
from fixtures import tiny_inbox
from fixtures.personal_scan import tree_hits
from parkwh import config, pii
from parkwh.ingest.purge import purge_personal_data
from parkwh.ingest.run import ingest_all
from parkwh.submission import writers

PII_KEY = "purge-test-key"
OLD, KEPT = tiny_inbox.YEARS
PERSONAL = ("person_name", "id_number", "phone")
RAW_TABLES = ("submissions", "base", "companies", "talent", "funding", "expert_scores")

# Someone on the 2022 roster only: after the purge nothing anywhere may name them.
LEAVER = {
    "person_name": "欧阳离园",
    "id_type": "passport",
    "id_number": "G55501234",
    "phone": "13700998877",
    "gender": "女",
    "birth_year": 1988,
    "study_country": "法国",
    "degree": "硕士",
    "return_year": 2016,
    "entered_date": dt.date(2017, 5, 1),
    "left_date": dt.date(OLD, 6, 30),
    "talent_programme": "none",
    "programme_year": None,
}


@pytest.fixture(autouse=True)
def _pii_key(monkeypatch):
    monkeypatch.setenv("PARKWH_PII_KEY", PII_KEY)


def _old_records_with_leaver() -> dict:
    data = tiny_inbox.records("SH001", OLD)
    leaver = dict(LEAVER, employer_credit_code=data["companies"][0]["credit_code"])
    data["talent"].append(leaver)
    return data


@pytest.fixture()
def ingested(warehouse_dir):
    """The tiny inbox over two years, with one person on the old year's roster only; ingested."""
    inbox = config.warehouse().inbox
    tiny_inbox.write_inbox(inbox)
    tiny_inbox.write_submission(inbox, "SH001", OLD, _old_records_with_leaver())
    summaries = ingest_all()
    assert all(f.status == "accepted" for s in summaries for f in s.files), [
        s.text() for s in summaries
    ]
    return warehouse_dir


def leaver_values() -> set[str]:
    return {LEAVER["person_name"], LEAVER["id_number"], LEAVER["phone"]}


def raw_rows(table: str, exclude: tuple[str, ...] = ()) -> list[tuple]:
    """Every row of a raw table, sorted, without the ``exclude`` columns."""
    con = duckdb.connect(str(config.warehouse().database), read_only=True)
    try:
        names = [r[0] for r in con.execute(f"describe raw.{table}").fetchall()]
        keep = ", ".join(f'"{n}"' for n in names if n not in exclude)
        return sorted(
            con.execute(f"select {keep} from raw.{table}").fetchall(),
            key=lambda row: tuple("" if v is None else str(v) for v in row),
        )
    finally:
        con.close()


def scalar(sql: str):
    con = duckdb.connect(str(config.warehouse().database), read_only=True)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def tree_digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.endswith(".lock")
    }


# ---------------------------------------------------------------------------- the purge


def test_old_years_lose_personal_values_and_keep_everything_else(ingested):
    before = {t: raw_rows(t) for t in RAW_TABLES}
    before_without_personal = {t: raw_rows(t, PERSONAL) for t in RAW_TABLES}
    # The leaver is there before the purge, in raw and in the archived and inbox copies.
    found = tree_hits(ingested, leaver_values())
    assert any(p.startswith("landing/talent/") for p in found)
    assert any(p.startswith("archive/") for p in found)
    assert any(p.startswith("inbox/") for p in found)

    summary = purge_personal_data(KEPT)

    assert summary.reporting_years == [OLD]
    # Every value that is not personal, the pseudonyms included, is as it was, row for row.
    assert {t: raw_rows(t, PERSONAL) for t in RAW_TABLES} == before_without_personal
    # The old year's personal columns are empty; the kept year's untouched.
    for column in PERSONAL:
        assert scalar(f"select count({column}) from raw.talent where reporting_year = {OLD}") == 0
    assert raw_rows("talent") != before["talent"]
    kept_now = [r for r in raw_rows("talent") if r[2] == KEPT]
    assert kept_now == [r for r in before["talent"] if r[2] == KEPT]
    assert summary.values_removed == sum(
        1
        for r in before["talent"]
        if r[2] == OLD
        for v in r
        if v is not None and str(v) in tiny_inbox.personal_values() | leaver_values()
    )

    # Nothing anywhere in the warehouse names the leaver any more: raw (the database's views
    # over landing), landing, archive, inbox.
    assert tree_hits(ingested, leaver_values()) == {}
    # Their pseudonym is still there, so the old year still counts them.
    leaver_key = pii.pseudonym(LEAVER["id_number"], PII_KEY.encode())
    assert scalar(f"select count(*) from raw.talent where person_key = '{leaver_key}'") == 1


def test_the_archive_keeps_a_tombstone_and_the_kept_year_and_expert_scores(ingested):
    con = duckdb.connect(str(config.warehouse().database), read_only=True)
    versions = con.execute(
        "select reporting_year, kind, archive_path from audit.submissions order by 1, 3"
    ).fetchall()
    con.close()

    summary = purge_personal_data(KEPT)

    old_submissions = {p for y, k, p in versions if y == OLD and k == "submission"}
    assert set(summary.archive_entries) == old_submissions and len(old_submissions) == 3
    for year, kind, path in versions:
        archived = ingested / path
        if year == OLD and kind == "submission":
            assert not archived.exists()
            tombstone = archived.with_name(archived.name + ".purged.json")
            sha256 = archived.name.split(".")[0]
            assert f'"source_sha256": "{sha256}"' in tombstone.read_text(encoding="utf-8")
        else:
            assert archived.exists(), path
    inbox = config.warehouse().inbox
    assert sorted(p.name for p in (inbox / str(OLD)).iterdir()) == ["expert_scores.csv"]
    assert len([p for p in (inbox / str(KEPT)).iterdir()]) == 4
    # The personal values of the kept year are where they were.
    assert tree_hits(ingested / "archive", tiny_inbox.personal_values(years=(KEPT,)))


def test_a_rerun_of_ingestion_after_the_purge_brings_nothing_back(ingested):
    purge_personal_data(KEPT)
    raw_before = {t: raw_rows(t) for t in RAW_TABLES}

    summaries = ingest_all()

    assert [f.status for s in summaries for f in s.files] == ["unchanged"] * (1 + 4)
    assert {t: raw_rows(t) for t in RAW_TABLES} == raw_before
    assert tree_hits(ingested, leaver_values()) == {}


def test_a_dry_run_changes_nothing_and_a_second_purge_finds_nothing(ingested):
    before = tree_digest(ingested)
    dry = purge_personal_data(KEPT, dry_run=True)
    assert tree_digest(ingested) == before
    assert dry.values_removed > 0 and len(dry.landing_files) == 3 and len(dry.inbox_entries) == 3

    done = purge_personal_data(KEPT)
    assert (done.values_removed, done.landing_files) == (dry.values_removed, dry.landing_files)
    again = purge_personal_data(KEPT)
    assert (again.values_removed, again.landing_files, again.archive_entries) == (0, [], [])
    assert scalar("select count(*) from audit.pii_purges") == 2


def test_an_inbox_file_not_yet_ingested_is_left_alone_and_named(ingested):
    late = tiny_inbox.entry_path(config.warehouse().inbox, "SH002", OLD)
    data = tiny_inbox.records("SH002", OLD)
    data["base"][0]["service_events"] += 5
    writers.write_submission(late, data)  # new bytes, never ingested

    summary = purge_personal_data(KEPT)

    assert late.exists()
    assert summary.inbox_left == [f"inbox/{OLD}/SH002.json"]
    assert "Not yet ingested" in summary.text()


# ---------------------------------------------------------------------------- interruption

KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from parkwh.ingest import purge

    real_replace = os.replace
    replaced = []

    def replace(source, target):
        real_replace(source, target)
        replaced.append(target)
        if len(replaced) == 2:
            os.kill(os.getpid(), signal.SIGKILL)  # two landing files purged, one not

    purge.os.replace = replace
    purge.purge_personal_data(int(sys.argv[1]))
    """
)


def test_a_killed_purge_is_completed_by_a_rerun(ingested, tmp_path):
    without_personal = {t: raw_rows(t, PERSONAL) for t in RAW_TABLES}
    script = tmp_path / "killer.py"
    script.write_text(KILLER, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), str(KEPT)],
        env={**os.environ, "PARKWH_WAREHOUSE_DIR": str(ingested)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr[-3000:]
    # Half purged: each landing file whole, some of them done.
    partly = scalar(f"select count(id_number) from raw.talent where reporting_year = {OLD}")
    assert 0 < partly < 10
    assert {t: raw_rows(t, PERSONAL) for t in RAW_TABLES} == without_personal

    summary = purge_personal_data(KEPT)

    assert summary.values_removed > 0
    assert scalar(f"select count(id_number) from raw.talent where reporting_year = {OLD}") == 0
    assert {t: raw_rows(t, PERSONAL) for t in RAW_TABLES} == without_personal
    assert tree_hits(ingested, leaver_values()) == {}
    leftovers = [
        p for p in ingested.rglob("*") if p.name.endswith(".tmp") or ".incoming-" in p.name
    ]
    assert leftovers == []


# ---------------------------------------------------------------------------- the command


def _parkwh(*args: str, warehouse: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "parkwh.cli", *args],
        env={**os.environ, "PARKWH_WAREHOUSE_DIR": str(warehouse), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_command_purges_and_refuses_a_year_in_the_future(ingested):
    done = _parkwh("purge-pii", "--before", str(KEPT), warehouse=ingested)
    assert done.returncode == 0, done.stderr
    assert f"reporting years: {OLD}" in done.stdout and "removed" in done.stdout
    assert tree_hits(ingested, leaver_values()) == {}

    future = dt.date.today().year + 5
    refused = _parkwh("purge-pii", "--before", str(future), warehouse=ingested)
    assert refused.returncode != 0
    assert "in the future" in refused.stderr and "Traceback" not in refused.stderr
    # The kept year is whole.
    assert scalar(f"select count(id_number) from raw.talent where reporting_year = {KEPT}") == 9


# ---------------------------------------------------------------------------- the figures


def _built_relations() -> dict[str, list[tuple]]:
    """Every relation dbt builds outside raw, each as its sorted rows."""
    con = duckdb.connect(str(config.warehouse().database), read_only=True)
    try:
        relations = con.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_catalog = current_database()"
            " and table_schema in ('staging', 'intermediate', 'marts', 'published')"
            " order by 1, 2"
        ).fetchall()
        return {
            f"{schema}.{name}": sorted(
                con.execute(f'select * from "{schema}"."{name}"').fetchall(), key=repr
            )
            for schema, name in relations
        }
    finally:
        con.close()


@pytest.mark.slow
def test_the_warehouse_rebuilds_to_the_same_figures_after_a_purge(warehouse_dir, tmp_path):
    from parkwh import transform

    # The plain tiny inbox: the leaver's disappearance in the kept year would shrink a
    # cumulative figure, which the build rightly refuses.
    tiny_inbox.write_inbox(config.warehouse().inbox)
    ingest_all()

    def build() -> None:
        result = transform.run_dbt(
            ["build"], target_path=tmp_path / "target", log_path=tmp_path / "logs"
        )
        assert result.returncode == 0, result.stdout[-4000:]

    build()
    before = _built_relations()
    assert len(before) >= 20 and any(rows for rows in before.values())

    assert purge_personal_data(KEPT).values_removed > 0
    build()

    assert _built_relations() == before
