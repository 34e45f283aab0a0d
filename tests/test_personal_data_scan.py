"""No submitted personal value (name, ID or passport number, phone) is anywhere but in the raw layer.

The whole pipeline (``parkwh run``) runs on the tiny inbox, whose every name, ID number and phone
the test knows from the records it wrote. Then every table outside ``raw``, ``published.duckdb``,
the exports, the reports, the quality reports and Dagster's own storage are read, each with a
reader of its kind (``fixtures.personal_scan``), and none may hold any of those values. A person is
followed across years by the keyed pseudonym alone, computed here with ``hmac`` from the key file
the run created.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import shutil
import stat
import subprocess
import sys
import unicodedata
from pathlib import Path

import duckdb
import pytest
from fixtures import tiny_inbox
from fixtures.personal_scan import duckdb_hits, tree_hits
from parkwh import config

# What holds personal data by design: the submitted files, their archived copies, the landing
# Parquet the raw views read, and the database file (scanned below with raw left out).
RAW_SOURCES = ("inbox", "archive", "landing", "parkwh.duckdb")


@pytest.fixture(scope="module")
def published_warehouse(tmp_path_factory) -> Path:
    """The tiny inbox run through ``parkwh run``, with the pseudonym key in a key file."""
    root = tmp_path_factory.mktemp("personal_scan") / "warehouse"
    tiny_inbox.write_inbox(root / "inbox")
    env = {k: v for k, v in os.environ.items() if k != "PARKWH_PII_KEY"}
    env.update(PARKWH_WAREHOUSE_DIR=str(root), COLUMNS="160")
    done = subprocess.run(
        [sys.executable, "-m", "parkwh.cli", "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return root


def personal() -> set[str]:
    values = tiny_inbox.personal_values()
    assert len(values) == len(tiny_inbox.BASES) * 3 * 3  # three people, three values each
    return values


def test_every_table_outside_raw_is_free_of_personal_values(published_warehouse):
    database = published_warehouse / "parkwh.duckdb"
    con = duckdb.connect(str(database), read_only=True)
    try:
        schemas = {
            r[0]
            for r in con.execute(
                "select distinct table_schema from information_schema.tables"
            ).fetchall()
        }
        # The raw layer does hold them: the scan below has something to miss.
        assert (
            con.execute("select count(*) from raw.talent where id_number is not null").fetchone()[0]
            == 18
        )
    finally:
        con.close()
    assert {"staging", "intermediate", "marts", "published", "audit"} <= schemas
    assert duckdb_hits(database, personal(), skip_schemas=("raw",)) == {}


def test_published_database_exports_and_reports_are_free_of_personal_values(published_warehouse):
    published = published_warehouse / "published.duckdb"
    exports = sorted((published_warehouse / "exports").rglob("*.parquet"))
    reports = sorted((published_warehouse / "reports").rglob("*.html"))
    assert published.exists() and exports and reports
    assert duckdb_hits(published, personal()) == {}
    # Everything else the warehouse folder holds: exports, reports, quality reports, Dagster's
    # run storage and event logs, the manifest, logs.
    assert tree_hits(published_warehouse, personal(), skip=RAW_SOURCES) == {}


def test_the_scan_finds_a_leak(published_warehouse, tmp_path):
    """Each kind of file the scan reads, with one personal value planted in it."""
    [name, *_] = sorted(v for v in personal() if not v.isascii())
    phone = next(v for v in personal() if v.isdigit() and len(v) == 11)
    leaky = tmp_path / "leaky"
    shutil.copytree(published_warehouse, leaky, ignore=shutil.ignore_patterns(*RAW_SOURCES))
    report = next((leaky / "reports").rglob("*.html"))
    report.write_text(report.read_text(encoding="utf-8") + f"<p>{name}</p>", encoding="utf-8")
    con = duckdb.connect(str(leaky / "published.duckdb"))
    con.execute(f"create table published.contacts as select 'call {phone}' as note")
    con.close()
    found = tree_hits(leaky, personal())
    assert found.get(report.relative_to(leaky).as_posix()) == {name}
    assert found.get("published.duckdb") == {phone}
    [(where, hits)] = duckdb_hits(leaky / "published.duckdb", personal()).items()
    assert where.endswith("contacts.note") and hits == {phone}


def test_a_person_is_followed_across_years_by_a_keyed_pseudonym(published_warehouse):
    key_file = published_warehouse / ".pii_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text(encoding="ascii").strip().encode("ascii")
    con = duckdb.connect(str(published_warehouse / "parkwh.duckdb"), read_only=True)
    try:
        keys = con.execute(
            "select base_code, reporting_year, person_key from staging.stg_talent"
        ).fetchall()
    finally:
        con.close()
    for base_code in tiny_inbox.BASES:
        for row in tiny_inbox.records(base_code, tiny_inbox.YEARS[0])["talent"]:
            number = "".join(unicodedata.normalize("NFKC", row["id_number"]).split()).upper()
            expected = hmac.new(key, number.encode(), hashlib.sha256).hexdigest()
            # The same pseudonym in both years, and it is not the unkeyed hash of the number.
            assert {(b, y) for b, y, k in keys if k == expected} == {
                (base_code, year) for year in tiny_inbox.YEARS
            }
            assert expected != hashlib.sha256(number.encode()).hexdigest()


def test_the_key_file_is_never_committed():
    project = config.project_dir()
    if not (project / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not a git checkout")
    path = Path("warehouse") / ".pii_key"  # where the key file lives in a default install
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", str(path)], cwd=project, check=False
    ).returncode
    assert ignored == 0, f"{path} is not ignored by git"
