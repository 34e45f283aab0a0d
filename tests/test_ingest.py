"""Ingestion into a real warehouse: forms, provenance, archive, rejections, versions, interruptions."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import unicodedata
from decimal import Decimal
from pathlib import Path

import pyarrow.dataset as ds
import pytest
from fixtures.submissions import samples
from parkwh import config, db
from parkwh.ingest import raw
from parkwh.ingest.run import IngestSummary, ingest_all, ingest_year
from parkwh.submission import spec, writers
from parkwh.submission.validate import check_file

YEAR = samples.YEAR
PII_KEY = "test-key-for-pseudonyms"
PART_SIZES = {part: len(rows) for part, rows in samples.records().items()}


@pytest.fixture(autouse=True)
def _pii_key(monkeypatch):
    monkeypatch.setenv("PARKWH_PII_KEY", PII_KEY)


# ---------------------------------------------------------------------------- helpers


def records(code: str = samples.BASE_CODE) -> dict[str, list[dict]]:
    """The sample submission of base ``code``, numbers as exact decimals (as the writers want)."""
    data = samples.records()
    data["base"][0]["base_code"] = code
    return {
        part: [
            {k: Decimal(str(v)) if isinstance(v, float) else v for k, v in row.items()}
            for row in rows
        ]
        for part, rows in data.items()
    }


def inbox_path(code: str, form: str, year: int = YEAR) -> Path:
    folder = config.warehouse().inbox_year(year)
    return folder / (code if form == "csv" else f"{code}.{form}")


def submit(
    code: str, form: str, data=None, *, year: int = YEAR, mtime: float | None = None
) -> Path:
    """Write a submission into the inbox with the project's writers; optionally set its mtime."""
    path = inbox_path(code, form, year)
    writers.write_submission(path, records(code) if data is None else data)
    if mtime is not None:
        for p in [path, *path.iterdir()] if path.is_dir() else [path]:
            os.utime(p, (mtime, mtime))
    return path


def expected_text(value) -> str | None:
    """A value as it must land: the text a person sees (computed here, not by the reader)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def query(sql: str, params=None) -> list[dict]:
    with db.connect(read_only=True) as con:
        cursor = con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]


def scalar(sql: str, params=None):
    with db.connect(read_only=True) as con:
        return con.execute(sql, params or []).fetchone()[0]


def part_values(part: str, submission_id: str) -> list[dict]:
    """A version's rows of a part, submitted fields only, in row order."""
    keys = [f.key for f in spec.part_fields(part) if f.key not in ("base_code", "reporting_year")]
    rows = query(
        f"SELECT {', '.join(keys)} FROM raw.{part} WHERE submission_id = ? ORDER BY source_row",
        [submission_id],
    )
    return rows


def version_of(summary: IngestSummary, source_suffix: str):
    [outcome] = [f for f in summary.files if f.source_path.endswith(source_suffix)]
    return outcome


def sha256_of(path: Path) -> str:
    """sha256 of a file, or of a folder as the contract defines it (name NUL size NUL bytes)."""
    digest = hashlib.sha256()
    if path.is_dir():
        for member in sorted((p for p in path.iterdir() if p.is_file()), key=lambda p: p.name):
            data = member.read_bytes()
            digest.update(member.name.encode() + b"\0" + str(len(data)).encode() + b"\0" + data)
    else:
        digest.update(path.read_bytes())
    return digest.hexdigest()


# ---------------------------------------------------------------------------- forms


def test_each_form_loads_the_same_records(warehouse_dir):
    forms = {"SH001": "xlsx", "SH002": "json", "SH003": "csv"}
    for code, form in forms.items():
        submit(code, form)

    summary = ingest_year(YEAR)

    assert [f.status for f in summary.files] == ["accepted"] * 3, summary.text()
    assert summary.rows_loaded == {**{p: 3 * n for p, n in PART_SIZES.items()}, "expert_scores": 0}
    data = records()
    for part in spec.PARTS:
        expected = [
            {
                f.key: expected_text(row.get(f.key))
                for f in spec.part_fields(part)
                if f.key not in ("base_code", "reporting_year")
            }
            for row in data[part]
        ]
        for code, form in forms.items():
            sid = version_of(summary, inbox_path(code, form).name).submission_id
            assert part_values(part, sid) == expected, (part, form)

    submissions = query("SELECT * FROM raw.submissions ORDER BY base_code")
    assert [(s["base_code"], s["form"]) for s in submissions] == list(forms.items())
    assert {s["reporting_year"] for s in submissions} == {YEAR}
    # Money columns carry their unit: the writers' default headers name 元.
    units = query("SELECT DISTINCT revenue_unit, tax_paid_unit FROM raw.companies")
    assert units == [{"revenue_unit": "元", "tax_paid_unit": "元"}]


def test_units_and_typed_provenance_columns(warehouse_dir):
    path = inbox_path("SH001", "xlsx")
    writers.write_xlsx(path, records(), units={"revenue": "万元"})
    ingest_year(YEAR)

    revenue = query("SELECT revenue, revenue_unit FROM raw.companies ORDER BY source_row")
    assert revenue[0] == {"revenue": "1.20005", "revenue_unit": "万元"}  # 12000.5 yuan in 万元
    types = {name: sql_type for name, sql_type, *_ in query_rows("DESCRIBE raw.companies")}
    assert types["reporting_year"] == "INTEGER"
    assert types["source_row"] == "INTEGER"
    assert types["loaded_at"] == "TIMESTAMP"
    assert all(types[f.key] == "VARCHAR" for f in spec.part_fields("companies"))
    assert [name for name, _ in raw.columns("companies")] == list(types)


def query_rows(sql: str) -> list[tuple]:
    with db.connect(read_only=True) as con:
        return con.execute(sql).fetchall()


# ---------------------------------------------------------------------------- provenance


def test_every_row_traces_back_to_its_archived_bytes(warehouse_dir):
    originals = {
        "SH001": submit("SH001", "xlsx"),
        "SH002": submit("SH002", "json"),
        "SH003": submit("SH003", "csv"),
    }
    digests = {code: sha256_of(path) for code, path in originals.items()}
    ingest_year(YEAR)
    # Whatever happens to the inbox afterwards, the bytes stay in the archive.
    shutil.rmtree(config.warehouse().inbox)

    traced = 0
    for part in spec.PARTS:
        rows = query(
            f"SELECT p.base_code, p.submission_id, p.source_sha256, p.source_path, "
            f"a.archive_path FROM raw.{part} p "
            "JOIN audit.submissions a ON a.source_sha256 = p.source_sha256"
        )
        assert len(rows) == 3 * PART_SIZES[part]
        for row in rows:
            archived = warehouse_dir / row["archive_path"]
            assert row["source_sha256"] == digests[row["base_code"]]
            assert sha256_of(archived) == row["source_sha256"]
            assert row["submission_id"] == f"{YEAR}-{row['base_code']}-{row['source_sha256'][:12]}"
            assert (
                row["source_path"]
                == originals[row["base_code"]].relative_to(warehouse_dir).as_posix()
            )
            traced += 1
    assert traced == 3 * sum(PART_SIZES.values())

    # The archived copy reads back as the same submission.
    row = query("SELECT archive_path FROM audit.submissions WHERE base_code = 'SH002'")[0]
    copy = warehouse_dir / "reread" / str(YEAR) / "SH002.json"
    copy.parent.mkdir(parents=True)
    shutil.copyfile(warehouse_dir / row["archive_path"], copy)
    submission, problems = check_file(copy)
    assert problems == []
    assert {p: len(d.rows) for p, d in submission.parts.items()} == PART_SIZES


def test_received_at_is_the_file_modification_time(warehouse_dir):
    when = dt.datetime(2024, 3, 15, 8, 30, 0, 250000, tzinfo=dt.UTC)
    submit("SH001", "json", mtime=when.timestamp())
    submit("SH002", "csv", mtime=when.timestamp() + 60)
    ingest_year(YEAR)
    got = dict(query_rows("SELECT base_code, received_at FROM raw.submissions"))
    assert got["SH001"] == when.replace(tzinfo=None)
    assert got["SH002"] == when.replace(tzinfo=None) + dt.timedelta(seconds=60)


def test_talent_carries_a_keyed_pseudonym_and_problems_mask_personal_data(warehouse_dir):
    submit("SH001", "xlsx")
    bad = records("SH002")
    bad["talent"][0]["id_number"] = samples.wrong_check_digit(bad["talent"][0]["id_number"])
    submit("SH002", "json", bad)
    ingest_year(YEAR)

    for row in query("SELECT id_number, person_key FROM raw.talent"):
        normalised = "".join(unicodedata.normalize("NFKC", row["id_number"]).split()).upper()
        expected = hmac.new(PII_KEY.encode(), normalised.encode(), hashlib.sha256).hexdigest()
        assert row["person_key"] == expected

    [problem] = query(
        "SELECT * FROM audit.submission_problems WHERE rule = 'id_number_check_digit'"
    )
    full = bad["talent"][0]["id_number"]
    assert problem["value"] != full and "*" in problem["value"]
    assert problem["value"][:4] == full[:4]

    # A finding of the reader (a list where an ID number belongs) is masked as well.
    path = submit("SH003", "json")
    document = json.loads(path.read_text(encoding="utf-8"))
    hidden = document["talent"][0]["id_number"]
    document["talent"][0]["id_number"] = [hidden]
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    ingest_year(YEAR)
    values = [
        r[0]
        for r in query_rows("SELECT value FROM audit.submission_problems WHERE value IS NOT NULL")
    ]
    assert any("*" in v for v in values)
    assert not any(hidden[4:-4] in v for v in values)


# ---------------------------------------------------------------------------- rejections


def test_a_rejected_file_is_recorded_with_its_problems_and_the_rest_loads(warehouse_dir):
    submit("SH001", "xlsx")
    bad = records("SH002")
    bad["companies"][1]["credit_code"] = samples.wrong_check_digit(
        bad["companies"][1]["credit_code"]
    )
    bad["funding"][0]["funding_date"] = dt.date(2021, 1, 1)
    bad_path = submit("SH002", "json", bad)
    submit("SH003", "csv")
    year_folder = config.warehouse().inbox_year(YEAR)
    (year_folder / "notes.docx").write_bytes(b"not a submission")
    (year_folder / "SH004.csv").write_text("base_code\nSH004\n", encoding="utf-8")
    (year_folder / "README.md").write_text("what this folder is", encoding="utf-8")
    (year_folder / "~$SH001.xlsx").write_bytes(b"office owner file")
    (config.warehouse().inbox / "old-2022").mkdir()
    (config.warehouse().inbox / "old-2022" / "SH001.json").write_text("{}", encoding="utf-8")

    summary = ingest_year(YEAR)

    statuses = {f.source_path: f.status for f in summary.files}
    assert statuses == {
        f"inbox/{YEAR}/SH001.xlsx": "accepted",
        f"inbox/{YEAR}/SH002.json": "rejected",
        f"inbox/{YEAR}/SH003": "accepted",
        f"inbox/{YEAR}/SH004.csv": "rejected",
        f"inbox/{YEAR}/notes.docx": "rejected",
        "inbox/old-2022": "rejected",
    }
    # The rest of the year is loaded; the rejected file has no row in raw.
    assert sorted(r[0] for r in query_rows("SELECT base_code FROM raw.submissions")) == [
        "SH001",
        "SH003",
    ]
    assert scalar("SELECT count(*) FROM raw.companies WHERE base_code = 'SH002'") == 0
    assert scalar("SELECT count(*) FROM raw.companies") == 2 * PART_SIZES["companies"]

    # Every problem the validator finds is in the audit, located.
    _, expected = check_file(bad_path)
    audited = query(
        "SELECT p.* FROM audit.submission_problems p JOIN audit.submissions s USING (submission_id)"
        " WHERE s.source_path = ? ORDER BY problem_number",
        [f"inbox/{YEAR}/SH002.json"],
    )
    assert [(p["part"], p["source_row"], p["column_name"], p["rule"]) for p in audited] == [
        (p.part, p.row, p.column, p.rule) for p in expected
    ]
    rules = {(p["part"], p["source_row"], p["column_name"]): p["rule"] for p in audited}
    assert rules[("companies", 2, "credit_code")] == "credit_code_check_digit"
    assert rules[("funding", 1, "funding_date")] == "funding_date_outside_year"
    version = query("SELECT * FROM audit.submissions WHERE base_code = 'SH002'")[0]
    assert version["status"] == "rejected"
    assert version["problem_count"] == len(expected) == len(audited)
    assert version["error_count"] >= 2

    # Strays are archived and recorded with a problem that says what was expected.
    stray = query(
        "SELECT * FROM audit.submissions WHERE source_path = ?", [f"inbox/{YEAR}/notes.docx"]
    )[0]
    assert stray["kind"] == "stray" and (warehouse_dir / stray["archive_path"]).read_bytes() == (
        b"not a submission"
    )
    problems = {
        r["source_path"]: r["rule"]
        for r in query("SELECT source_path, rule FROM audit.submission_problems")
    }
    assert problems[f"inbox/{YEAR}/notes.docx"] == "bad_file_name"
    assert problems["inbox/old-2022"] == "not_in_year_folder"
    assert problems[f"inbox/{YEAR}/SH004.csv"] == "unsupported_form"
    archived_folder = query(
        "SELECT archive_path FROM audit.submissions WHERE source_path = 'inbox/old-2022'"
    )
    assert (warehouse_dir / archived_folder[0]["archive_path"] / "SH001.json").read_text() == "{}"

    # The run's summary names each rejected file and why.
    text = summary.text()
    for path in (f"inbox/{YEAR}/SH002.json", f"inbox/{YEAR}/notes.docx", "inbox/old-2022"):
        assert f"Rejected {path}: " in text
    assert "check digit" in text


def test_expert_scores_load_and_a_bad_score_file_is_rejected(warehouse_dir):
    folder = config.warehouse().inbox_year(YEAR)
    folder.mkdir(parents=True)
    (folder / "expert_scores.csv").write_text(
        "base_code,expert_id,score\nSH001,E01,91.5\nSH002,E01,88\nSH001,E02,90\n", encoding="utf-8"
    )
    summary = ingest_year(YEAR)
    assert summary.rows_loaded["expert_scores"] == 3
    rows = query("SELECT base_code, expert_id, score, source_row FROM raw.expert_scores ORDER BY 4")
    assert [tuple(r.values()) for r in rows] == [
        ("SH001", "E01", "91.5", 2),
        ("SH002", "E01", "88", 3),
        ("SH001", "E02", "90", 4),
    ]

    other = config.warehouse().inbox_year(YEAR + 1)
    other.mkdir(parents=True)
    (other / "expert_scores.csv").write_text(
        "base_code,expert_id,score\nSH001,E01,120\n", encoding="utf-8"
    )
    summary = ingest_year(YEAR + 1)
    [outcome] = summary.rejected
    assert outcome.kind == "expert_scores" and "score_out_of_range" in {
        p.rule for p in outcome.problems
    }
    assert (
        scalar("SELECT count(*) FROM raw.expert_scores WHERE reporting_year = ?", [YEAR + 1]) == 0
    )


# ---------------------------------------------------------------------------- versions


def landing_files() -> dict[str, int]:
    root = config.warehouse().landing
    return {p.relative_to(root).as_posix(): p.stat().st_mtime_ns for p in root.rglob("*.parquet")}


def test_the_same_bytes_twice_is_one_version(warehouse_dir):
    path = submit("SH001", "xlsx")
    submit("SH002", "csv")
    first = ingest_year(YEAR)
    files, versions = landing_files(), query("SELECT * FROM audit.submissions ORDER BY 1")
    counts = {part: scalar(f"SELECT count(*) FROM raw.{part}") for part in raw.TABLES}

    # Same bytes again, even touched (a new modification time) or copied in again.
    os.utime(path, (time.time() + 100, time.time() + 100))
    second = ingest_year(YEAR)

    assert [f.status for f in first.files] == ["accepted", "accepted"]
    assert [f.status for f in second.files] == ["unchanged", "unchanged"]
    assert second.rows_loaded == {p: 0 for p in (*spec.PARTS, "expert_scores")}
    assert landing_files() == files
    assert query("SELECT * FROM audit.submissions ORDER BY 1") == versions
    assert {part: scalar(f"SELECT count(*) FROM raw.{part}") for part in raw.TABLES} == counts
    assert len(list(config.warehouse().archive.iterdir())) == 2


def test_changed_bytes_are_a_new_version_and_the_last_received_is_in_force(warehouse_dir):
    t0 = time.time() - 3600
    submit("SH001", "xlsx", mtime=t0)
    ingest_year(YEAR)

    changed = records()
    changed["base"][0]["service_events"] = 61
    submit("SH001", "xlsx", changed, mtime=t0 + 60)
    second = ingest_year(YEAR)
    assert [f.status for f in second.files] == ["accepted"]

    # A third version in another form, received later still: versions of one submission.
    later = records()
    later["base"][0]["service_events"] = 62
    submit("SH001", "json", later, mtime=t0 + 120)
    ingest_year(YEAR)

    versions = query(
        "SELECT form, status, source_sha256 FROM audit.submissions ORDER BY received_at"
    )
    assert [(v["form"], v["status"]) for v in versions] == [
        ("xlsx", "superseded"),
        ("xlsx", "superseded"),
        ("json", "accepted"),
    ]
    # Every version stays in raw and in the archive.
    assert scalar("SELECT count(*) FROM raw.submissions") == 3
    assert sorted(r[0] for r in query_rows("SELECT service_events FROM raw.base")) == [
        "48",
        "61",
        "62",
    ]
    for v in versions:
        assert list(config.warehouse().archive.glob(v["source_sha256"] + "*"))
    # raw.submissions agrees: the accepted version received last is the one in force.
    in_force = scalar(
        "SELECT b.service_events FROM raw.base b JOIN raw.submissions s USING (submission_id)"
        " ORDER BY s.received_at DESC, s.loaded_at DESC, s.submission_id DESC LIMIT 1"
    )
    assert in_force == "62"


def test_a_rejected_resubmission_leaves_the_earlier_version_in_force(warehouse_dir):
    t0 = time.time() - 3600
    submit("SH001", "xlsx", mtime=t0)
    ingest_year(YEAR)
    broken = records()
    broken["companies"][0]["founded_date"] = "not a date"
    submit("SH001", "xlsx", broken, mtime=t0 + 60)
    summary = ingest_year(YEAR)

    assert [f.status for f in summary.files] == ["rejected"]
    statuses = [
        r[0] for r in query_rows("SELECT status FROM audit.submissions ORDER BY received_at")
    ]
    assert statuses == ["accepted", "rejected"]
    [row] = query("SELECT received_at FROM raw.submissions")
    assert row["received_at"] < dt.datetime.fromtimestamp(t0 + 60, dt.UTC).replace(tzinfo=None)
    assert scalar("SELECT count(*) FROM raw.companies") == PART_SIZES["companies"]


# ---------------------------------------------------------------------------- interruptions

KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from parkwh.ingest import landing, run

    point = sys.argv[1]
    real_publish, real_record = landing.publish, run._record

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    def publish(temp, target):
        if point == "while_writing" and target.parent.parent.name == "talent":
            die()  # the temporary file is complete, not yet renamed
        real_publish(temp, target)
        if point == "between_parts" and target.parent.parent.name == "talent":
            die()  # base, companies and talent landed; funding and the commit mark not

    def record(row, problems):
        if point == "before_audit":
            die()  # every file landed, the audit row not written
        real_record(row, problems)

    landing.publish, run._record = publish, record
    run.ingest_year(int(sys.argv[2]))
    """
)


@pytest.mark.parametrize("point", ["while_writing", "between_parts", "before_audit"])
def test_an_interrupted_load_leaves_no_partial_rows_and_a_rerun_completes_it(
    warehouse_dir, point, tmp_path
):
    submit("SH002", "csv")
    ingest_year(YEAR)
    before = {part: scalar(f"SELECT count(*) FROM raw.{part}") for part in raw.TABLES}
    submit("SH001", "xlsx")

    script = tmp_path / "killer.py"
    script.write_text(KILLER, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), point, str(YEAR)],
        env={**os.environ, "PARKWH_WAREHOUSE_DIR": str(warehouse_dir)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr[-3000:]

    after = {part: scalar(f"SELECT count(*) FROM raw.{part}") for part in raw.TABLES}
    sh001 = {
        part: scalar(f"SELECT count(*) FROM raw.{part} WHERE base_code = 'SH001'")
        for part in raw.TABLES
        if part != "expert_scores"
    }
    full = {"submissions": 1, **PART_SIZES}
    # All of the version or none of it, in every table at once.
    assert sh001 in ({t: 0 for t in full}, full), sh001
    if point == "before_audit":
        assert sh001 == full
    else:
        assert sh001 == {t: 0 for t in full}
        assert after == before
    assert scalar("SELECT count(*) FROM audit.submissions WHERE base_code = 'SH001'") == 0

    summary = ingest_year(YEAR)

    assert [f.status for f in summary.files] == ["accepted", "unchanged"]
    assert {
        part: scalar(f"SELECT count(*) FROM raw.{part} WHERE base_code = 'SH001'") for part in full
    } == full
    # No row twice, no temporary file left behind.
    for part in spec.PARTS:
        assert (
            scalar(f"SELECT count(*) - count(DISTINCT (submission_id, source_row)) FROM raw.{part}")
            == 0
        )
    leftovers = [
        p for p in warehouse_dir.rglob("*") if p.name.endswith(".tmp") or ".incoming-" in p.name
    ]
    assert leftovers == []
    assert scalar("SELECT status FROM audit.submissions WHERE base_code = 'SH001'") == "accepted"
    # One load time for the whole version, the part files of the killed run included.
    times = {
        scalar(f"SELECT DISTINCT loaded_at FROM raw.{table} WHERE base_code = 'SH001'")
        for table in full
    }
    times.add(scalar("SELECT loaded_at FROM audit.submissions WHERE base_code = 'SH001'"))
    assert len(times) == 1


# ---------------------------------------------------------------------------- engines and writers


def test_landing_files_are_readable_without_duckdb(warehouse_dir):
    submit("SH001", "xlsx")
    submit("SH002", "json")
    ingest_year(YEAR)
    landing = config.warehouse().landing
    for part in spec.PARTS:
        table = ds.dataset(landing / part, format="parquet", partitioning="hive").to_table()
        assert table.num_rows == 2 * PART_SIZES[part]
        assert set(table.column("reporting_year").to_pylist()) == {YEAR}
    committed = ds.dataset(landing / "submissions", format="parquet", partitioning="hive")
    assert sorted(committed.to_table().column("base_code").to_pylist()) == ["SH001", "SH002"]


def test_a_second_writer_waits_for_the_lock_instead_of_failing(warehouse_dir, tmp_path):
    submit("SH001", "json")
    holder = tmp_path / "holder.py"
    holder.write_text(
        textwrap.dedent(
            """
            import sys, time
            from pathlib import Path
            from parkwh import db
            with db.connect() as con:
                con.execute("CREATE TABLE IF NOT EXISTS main.held (x INTEGER)")
                Path(sys.argv[1]).touch()
                time.sleep(2)
            """
        ),
        encoding="utf-8",
    )
    ready = tmp_path / "ready"
    process = subprocess.Popen(
        [sys.executable, str(holder), str(ready)],
        env={**os.environ, "PARKWH_WAREHOUSE_DIR": str(warehouse_dir)},
    )
    try:
        deadline = time.time() + 60
        while not ready.exists():
            assert process.poll() is None and time.time() < deadline
            time.sleep(0.05)
        started = time.time()
        summary = ingest_year(YEAR)
        waited = time.time() - started
    finally:
        process.wait(timeout=60)
    assert process.returncode == 0
    assert [f.status for f in summary.files] == ["accepted"]
    assert waited > 1.0


def test_ingest_all_takes_every_year_folder(warehouse_dir):
    submit("SH001", "json", year=2022, data=_for_year(records(), 2022))
    submit("SH001", "json")
    summaries = ingest_all()
    assert [s.reporting_year for s in summaries] == [2022, 2023]
    assert sorted(r[0] for r in query_rows("SELECT reporting_year FROM raw.submissions")) == [
        2022,
        2023,
    ]


def _for_year(data: dict, year: int) -> dict:
    """The sample moved to another reporting year (funding dates must fall within it)."""
    data["base"][0]["reporting_year"] = year
    for row in data["funding"]:
        row["funding_date"] = row["funding_date"].replace(year=year)
    return data


def test_an_empty_warehouse_has_empty_raw_views(warehouse_dir):
    summary = ingest_year(YEAR)
    assert summary.files == []
    for table in raw.TABLES:
        assert scalar(f"SELECT count(*) FROM raw.{table}") == 0
        names = [r[0] for r in query_rows(f"DESCRIBE raw.{table}")]
        assert names == [name for name, _ in raw.columns(table)]


def test_a_failure_that_is_no_fault_of_the_file_loads_the_others_then_says_so(
    warehouse_dir, monkeypatch
):
    from parkwh.ingest import run

    submit("SH001", "json")
    submit("SH002", "json")
    real_read = run._read

    def read(entry):
        if entry.base_code == "SH001":
            raise OSError("disk read error")
        return real_read(entry)

    monkeypatch.setattr(run, "_read", read)
    with pytest.raises(run.IngestError, match=r"inbox/2023/SH001.json: OSError: disk read error"):
        ingest_year(YEAR)
    assert [r[0] for r in query_rows("SELECT base_code FROM raw.submissions")] == ["SH002"]
    assert scalar("SELECT count(*) FROM audit.submissions WHERE base_code = 'SH001'") == 0

    monkeypatch.setattr(run, "_read", real_read)
    summary = ingest_year(YEAR)
    assert [f.status for f in summary.files] == ["accepted", "unchanged"]
