"""Parquet exports of the published tables, for BI tools: one hive partition per reporting year.

``exports/<table>/reporting_year=<year>/data.parquet``. A publication of a year writes every
published table's partition of that year. The files are written to a staging folder outside
``exports/`` first (Polars reads every file of a folder it is given, hidden or not), and renamed
into place only once the publication is recorded, one file at a time: a reader sees a partition
whole, old or new, never half of one. ``exports/manifest.json`` (replaced the same way, last)
lists the tables, their columns with types and descriptions, and every file with its row count,
sha256 and publication.

``reporting_year`` lives in the folder name only, as hive partitioning has it; its type is
INTEGER (``manifest.json`` says so, and docs/publishing.md shows how each reader is told).
Column descriptions travel in the Parquet metadata: on each Arrow field (``description``), and
for readers that see only the file's key-value metadata, as JSON under ``parkwh.columns``.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from parkwh import config
from parkwh.publish import files
from parkwh.publish.catalog import PARTITION_COLUMN, PARTITION_TYPE, Table, quote

FILE_NAME = "data.parquet"
MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = "parkwh-exports/1"


@dataclass(frozen=True)
class ExportFile:
    """One written file: a table's partition of one reporting year, staged or in place."""

    table: str
    reporting_year: int
    staged: Path
    rows: int
    size_bytes: int
    sha256: str

    @property
    def target(self) -> Path:
        return target_path(self.table, self.reporting_year)

    @property
    def relative_path(self) -> str:
        return relative_path(self.table, self.reporting_year)


def relative_path(table: str, reporting_year: int) -> str:
    """Where a partition's file lives under ``exports/`` (as the manifest and the audit give it)."""
    return f"{table}/{PARTITION_COLUMN}={reporting_year}/{FILE_NAME}"


def target_path(table: str, reporting_year: int) -> Path:
    return config.warehouse().exports / relative_path(table, reporting_year)


def new_staging_folder() -> Path:
    """A private folder on the warehouse's file system, outside ``exports/``."""
    folder = config.warehouse().root / f".exports-staging-{uuid.uuid4().hex[:12]}"
    folder.mkdir(parents=True)
    return folder


def arrow_schema(table: Table, data: pa.Schema, publication: dict) -> pa.Schema:
    """``data``'s schema with the table's and each column's description attached."""
    by_name = {c.name: c for c in table.columns}
    fields = []
    for field in data:
        column = by_name[field.name]
        metadata = {"parkwh.type": column.type}
        if column.description:
            metadata["description"] = column.description
        fields.append(field.with_metadata(metadata))
    described = [
        {"name": c.name, "type": c.type, "description": c.description} for c in table.columns
    ]
    metadata = {
        "parkwh.table": table.name,
        "parkwh.description": table.description,
        "parkwh.columns": json.dumps(described, ensure_ascii=False),
        "parkwh.publication_id": publication["publication_id"],
        "parkwh.published_at": _utc_text(publication["published_at"]),
    }
    metadata["parkwh.partitioning"] = f"hive: {PARTITION_COLUMN} {PARTITION_TYPE}"
    return pa.schema(fields, metadata=metadata)


def _write(data: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        pq.write_table(data, handle, compression="zstd")
    files.fsync(path)


def stage_table(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    reporting_year: int,
    publication: dict,
    staging: Path,
) -> ExportFile:
    """Write a table's partition of ``reporting_year`` into ``staging``, in a canonical order.

    The same rows give the same bytes (no clock in the file), so a file can be checked against,
    and restored to, the checksum its publication recorded.
    """
    sql = (
        f"select {table.select_list(without=(PARTITION_COLUMN,))} from {table.relation}"
        f" where {quote(PARTITION_COLUMN)} = ? order by all"
    )
    data = con.sql(sql, params=[reporting_year]).to_arrow_table()
    data = data.cast(arrow_schema(table, data.schema, publication))
    # Flat in the staging folder: a folder per table and year would be as many to make and remove.
    staged = staging / f"{table.name}.{PARTITION_COLUMN}={reporting_year}.{FILE_NAME}"
    _write(data, staged)
    return ExportFile(
        table=table.name,
        reporting_year=reporting_year,
        staged=staged,
        rows=data.num_rows,
        size_bytes=staged.stat().st_size,
        sha256=files.sha256_of(staged),
    )


def put_in_place(staged: list[ExportFile]) -> None:
    for export in staged:
        files.replace(export.staged, export.target)


def discard(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)


def in_place(relative_path: str, sha256: str) -> bool:
    """Whether the file the audit records is in ``exports/`` with the bytes it records."""
    path = config.warehouse().exports / relative_path
    return path.is_file() and files.sha256_of(path) == sha256


def write_manifest(
    con: duckdb.DuckDBPyConnection, tables: list[Table], not_exported: dict[str, str] | None = None
) -> Path:
    """Rewrite ``exports/manifest.json`` from the audit of the publications in force."""
    found = con.execute(
        "select publication_id, reporting_year, version, published_at, method_version,"
        " submissions_sha256, exports_sha256"
        " from audit.publications"
        " qualify version = max(version) over (partition by reporting_year)"
        " order by reporting_year"
    ).fetchall()
    file_rows = con.execute(
        "select table_name, reporting_year, path, rows, size_bytes, sha256, publication_id"
        " from audit.publication_files where list_contains(?, publication_id)"
        " order by table_name, reporting_year",
        [[p[0] for p in found]],
    ).fetchall()
    by_table: dict[str, list[dict]] = {}
    for table_name, year, path, rows, size, sha, publication_id in file_rows:
        by_table.setdefault(table_name, []).append(
            {
                "path": path,
                "reporting_year": year,
                "rows": rows,
                "bytes": size,
                "sha256": sha,
                "publication_id": publication_id,
            }
        )
    manifest_tables = {}
    for table in tables:
        entries = by_table.get(table.name, [])
        partition_doc = next(
            (c.description for c in table.columns if c.name == PARTITION_COLUMN), ""
        )
        manifest_tables[table.name] = {
            "description": table.description,
            "path": table.name,
            "partitioning": {
                "flavor": "hive",
                "columns": [
                    {"name": PARTITION_COLUMN, "type": PARTITION_TYPE, "description": partition_doc}
                ],
            },
            "columns": [
                {"name": c.name, "type": c.type, "description": c.description}
                for c in table.columns
                if c.name != PARTITION_COLUMN
            ],
            "rows": sum(e["rows"] for e in entries),
            "files": entries,
        }
    manifest = {
        "format": MANIFEST_FORMAT,
        "written_at": _utc_text(dt.datetime.now(dt.UTC)),
        "publications": [
            {
                "publication_id": p[0],
                "reporting_year": p[1],
                "version": p[2],
                "published_at": _utc_text(p[3]),
                "method_version": p[4],
                "submissions_sha256": p[5],
                "exports_sha256": p[6],
            }
            for p in found
        ],
        "tables": manifest_tables,
        "not_exported": dict(sorted((not_exported or {}).items())),
    }
    path = manifest_path()
    files.write_bytes_atomically(
        path, (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    )
    return path


def _utc_text(moment: dt.datetime) -> str:
    """ISO 8601 in UTC with a Z; a naive time is UTC already (the warehouse stores UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="seconds") + "Z"


def manifest_path() -> Path:
    return config.warehouse().exports / MANIFEST_NAME


def read_manifest() -> dict:
    return json.loads(manifest_path().read_text(encoding="utf-8"))
