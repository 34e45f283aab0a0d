"""Purging personal data of old reporting years: names, ID numbers and phones go, pseudonyms and figures stay.

A retention rule ("keep returnees' personal data for N years") is applied by
``purge_personal_data(before_year)``. For every reporting year before ``before_year``:

1. **landing** (what ``raw`` reads): each Parquet file of a part with personal fields
   (``seeds/submission_fields.csv``, ``personal = true``) is rewritten with those columns
   emptied (NULL) and every other column, ``person_key`` included, unchanged. The new file is
   written under a temporary name in its folder and renamed over the old one in one step, so a
   reader sees the old file or the new one, never half of either. This is the one case where a
   landed file is rewritten.
2. **archive**: the archived bytes of every submission version of those years (accepted,
   superseded or rejected: a rejected file holds personal values too) are removed. A tombstone
   ``<archived name>.purged.json`` is written first, saying what was there and when it went,
   so ``source_sha256`` still leads somewhere.
3. **inbox**: a submission of those years still lying in the inbox, with the very bytes that
   were recorded, is removed too; otherwise the next ingestion would archive it again.
   An inbox file that ingestion has not recorded is left alone and named in the summary.

Expert score files hold no personal data and are kept; so are strays, which are never parsed.
The run holds the warehouse's writer lock; each step is idempotent, so a purge that is killed
half-way is completed by running it again. Every purge is recorded in ``audit.pii_purges``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from parkwh import config, db
from parkwh.ingest import archive, inbox, landing
from parkwh.submission import spec
from parkwh.submission.reader import file_sha256

TOMBSTONE_SUFFIX = ".purged.json"

PURGES_DDL = """
CREATE TABLE IF NOT EXISTS audit.pii_purges (
    purged_at          TIMESTAMP NOT NULL,
    before_year        INTEGER NOT NULL,
    reporting_years    VARCHAR NOT NULL,
    landing_files      INTEGER NOT NULL,
    values_removed     BIGINT NOT NULL,
    archive_entries    INTEGER NOT NULL,
    inbox_entries      INTEGER NOT NULL
)
"""


@dataclass
class PurgeSummary:
    """What a purge did (or, for a dry run, would do)."""

    before_year: int
    dry_run: bool
    reporting_years: list[int] = field(default_factory=list)
    landing_files: list[str] = field(default_factory=list)
    """Landing files rewritten without personal values (relative to the warehouse)."""
    values_removed: int = 0
    """Personal values (cells) emptied in landing."""
    archive_entries: list[str] = field(default_factory=list)
    inbox_entries: list[str] = field(default_factory=list)
    inbox_left: list[str] = field(default_factory=list)
    """Inbox entries of the purged years that ingestion has not recorded: not touched."""

    def text(self) -> str:
        verb = "would remove" if self.dry_run else "removed"
        years = ", ".join(str(y) for y in self.reporting_years) or "none"
        head = (
            f"Personal data before {self.before_year} (reporting years: {years}): {verb} "
            f"{self.values_removed} personal values from {len(self.landing_files)} landing files, "
            f"{len(self.archive_entries)} archived submissions and "
            f"{len(self.inbox_entries)} inbox entries. Pseudonyms and every figure are kept."
        )
        lines = [head]
        if self.inbox_left:
            lines.append(
                "Not yet ingested, left in the inbox (ingest them, then purge again): "
                + ", ".join(self.inbox_left)
            )
        return "\n".join(lines)


def personal_columns() -> dict[str, list[str]]:
    """The personal columns of each part that has any: part -> column names."""
    found: dict[str, list[str]] = {}
    for f in spec.personal_fields():
        found.setdefault(f.part, []).append(f.key)
    return found


def _relative(path: Path) -> str:
    return path.relative_to(config.warehouse().root).as_posix()


def _years_before(before_year: int) -> list[int]:
    """Reporting years with landed files or recorded versions before ``before_year``."""
    years: set[int] = set()
    root = config.warehouse().landing
    if root.is_dir():
        for folder in root.glob("*/reporting_year=*"):
            try:
                year = int(folder.name.split("=", 1)[1])
            except ValueError:
                continue
            if year < before_year:
                years.add(year)
    return sorted(years)


# ---------------------------------------------------------------------------- landing


def _purge_landing_file(path: Path, columns: list[str], dry_run: bool) -> int:
    """Empty the personal columns of one landed file; the number of values removed."""
    table = pq.read_table(path)
    present = [c for c in columns if c in table.column_names]
    values = sum(table.num_rows - table.column(c).null_count for c in present)
    if values == 0 or dry_run:
        return values
    for name in present:
        index = table.schema.get_field_index(name)
        column_type = table.schema.field(index).type
        table = table.set_column(
            index, table.schema.field(index), pa.nulls(table.num_rows, column_type)
        )
    # A hidden temporary name ending in .tmp: every reader skips it, and the next ingestion
    # (landing.remove_incoming) clears one left by a purge that was killed.
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temp.open("wb") as handle:
            pq.write_table(table, handle, compression="zstd")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
        landing.fsync_folder(path.parent)
    finally:
        temp.unlink(missing_ok=True)
    return values


def _purge_landing(years: list[int], summary: PurgeSummary) -> None:
    for part, columns in personal_columns().items():
        for year in years:
            folder = landing.table_folder(part) / f"reporting_year={year}"
            for path in sorted(folder.glob("*.parquet")):
                removed = _purge_landing_file(path, columns, summary.dry_run)
                if removed:
                    summary.landing_files.append(_relative(path))
                    summary.values_removed += removed


# ---------------------------------------------------------------------------- archive and inbox


def _recorded_submissions(before_year: int) -> list[dict]:
    """Every submission version of the purged years, and whether its bytes serve a kept year too."""
    if not config.warehouse().database.exists():
        return []
    with db.connect(read_only=True) as con:
        if not con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'audit' AND table_name = 'submissions'"
        ).fetchone()[0]:
            return []
        rows = con.execute(
            """
            SELECT s.submission_id, s.reporting_year, s.source_path, s.source_sha256,
                   s.archive_path,
                   EXISTS (
                       SELECT 1 FROM audit.submissions AS kept
                       WHERE kept.archive_path = s.archive_path
                         AND (kept.reporting_year IS NULL OR kept.reporting_year >= ?)
                   ) AS shared_with_kept_year
            FROM audit.submissions AS s
            WHERE s.kind = 'submission' AND s.reporting_year < ?
            ORDER BY s.reporting_year, s.source_path, s.submission_id
            """,
            [before_year, before_year],
        ).fetchall()
    names = [
        "submission_id",
        "reporting_year",
        "source_path",
        "source_sha256",
        "archive_path",
        "shared",
    ]
    return [dict(zip(names, row)) for row in rows]


def _remove_tree(path: Path) -> None:
    """Remove a file or folder, read-only archived copies included."""
    if path.is_dir():

        def _writable_then_retry(function, target, _exc_info):
            os.chmod(os.path.dirname(target), stat.S_IRWXU)
            function(target)

        shutil.rmtree(path, onerror=_writable_then_retry)
    else:
        path.unlink(missing_ok=True)


def _write_tombstone(path: Path, version: dict, purged_at: dt.datetime) -> None:
    tombstone = path.with_name(path.name + TOMBSTONE_SUFFIX)
    if tombstone.exists():
        return
    note = {
        "purged_at": purged_at.isoformat(timespec="seconds") + "Z",
        "reason": "personal data of returnees removed under the retention rule "
        "(parkwh purge-pii); the landed rows, their pseudonyms and every figure are kept",
        "source_sha256": version["source_sha256"],
        "submission_id": version["submission_id"],
        "source_path": version["source_path"],
    }
    # Named as the archive's own temporary copies, so a killed purge's leftover is cleared too.
    temp = tombstone.with_name(f".incoming-{os.getpid()}-tombstone")
    temp.write_text(json.dumps(note, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(temp, tombstone)


def _purge_archive(versions: list[dict], summary: PurgeSummary, purged_at: dt.datetime) -> None:
    root = config.warehouse().root
    for version in versions:
        if version["shared"]:
            # The same bytes were also submitted for a year that is kept.
            continue
        path = root / version["archive_path"]
        if not path.exists():
            continue
        summary.archive_entries.append(version["archive_path"])
        if summary.dry_run:
            continue
        # The tombstone first: a purge killed between the two steps leaves it beside the
        # bytes, and the rerun removes them.
        _write_tombstone(path, version, purged_at)
        _remove_tree(path)
        landing.fsync_folder(path.parent)


def _purge_inbox(before_year: int, versions: list[dict], summary: PurgeSummary) -> None:
    root = config.warehouse().root
    recorded: dict[str, set[str]] = {}
    for version in versions:
        recorded.setdefault(version["source_path"], set()).add(version["source_sha256"])
    for year, _folder in inbox.year_folders():
        if year >= before_year:
            continue
        for entry in inbox.scan_year(year):
            if entry.kind != "submission":
                continue
            relative = entry.relative_path()
            try:
                digest = file_sha256(entry.path)
            except OSError:
                continue
            if digest not in recorded.get(relative, set()):
                summary.inbox_left.append(relative)
                continue
            summary.inbox_entries.append(relative)
            if not summary.dry_run:
                _remove_tree(root / relative)


# ---------------------------------------------------------------------------- the purge


def purge_personal_data(before_year: int, *, dry_run: bool = False) -> PurgeSummary:
    """Remove personal values of every reporting year before ``before_year`` (see the module doc)."""
    summary = PurgeSummary(before_year, dry_run)
    purged_at = landing.utc_now()
    with db.writer_lock():
        if not dry_run:
            # Holding the lock, any temporary file is a killed run's.
            landing.remove_incoming()
            archive.remove_incoming()
        versions = _recorded_submissions(before_year)
        summary.reporting_years = sorted(
            set(_years_before(before_year)) | {v["reporting_year"] for v in versions}
        )
        _purge_landing(summary.reporting_years, summary)
        _purge_archive(versions, summary, purged_at)
        _purge_inbox(before_year, versions, summary)
        if not dry_run:
            with db.connect() as con:
                con.execute(PURGES_DDL)
                con.execute(
                    "COMMENT ON TABLE audit.pii_purges IS 'Every purge of personal data "
                    "(parkwh purge-pii): which years, how many files and values'"
                )
                con.execute(
                    "INSERT INTO audit.pii_purges VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        purged_at,
                        before_year,
                        ",".join(str(y) for y in summary.reporting_years),
                        len(summary.landing_files),
                        summary.values_removed,
                        len(summary.archive_entries),
                        len(summary.inbox_entries),
                    ],
                )
    return summary
