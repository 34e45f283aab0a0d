"""Landing: each accepted part of each submission version as one immutable Parquet file.

``landing/<table>/reporting_year=<year>/<submission_id>.parquet``. A file is written under a
hidden temporary name in its own folder, flushed to disk, then renamed into place in one step,
so a reader (DuckDB, Spark, Polars…) sees the whole file or none of it; the temporary names
start with a dot and end in ``.tmp``, which every Parquet reader skips. A landed file is never
rewritten: landing the same version again keeps the file that is there.

``reporting_year`` is in the folder name only (hive partitioning), as engines expect.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from parkwh import config

_TEMP_SUFFIX = ".tmp"


def table_folder(table: str) -> Path:
    return config.warehouse().landing / table


def year_folder(table: str, reporting_year: int) -> Path:
    return table_folder(table) / f"reporting_year={reporting_year}"


def path_for(table: str, reporting_year: int, submission_id: str) -> Path:
    return year_folder(table, reporting_year) / f"{submission_id}.parquet"


def glob(table: str) -> str:
    """The pattern of every landed file of a table (absolute, POSIX)."""
    return (table_folder(table) / "reporting_year=*" / "*.parquet").as_posix()


def has_files(table: str) -> bool:
    return any(table_folder(table).glob("reporting_year=*/*.parquet"))


def land(table: str, reporting_year: int, submission_id: str, data: pa.Table) -> tuple[Path, bool]:
    """Write a version's file of a table unless it is there already; (path, whether written)."""
    target = path_for(table, reporting_year, submission_id)
    if target.exists():
        return target, False
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{os.getpid()}{_TEMP_SUFFIX}")
    try:
        with temp.open("wb") as handle:
            # No dictionary pages: landed values are mostly distinct text, which zstd alone
            # packs smaller, and writing them is a third faster.
            pq.write_table(data, handle, compression="zstd", use_dictionary=False)
            handle.flush()
            os.fsync(handle.fileno())
        publish(temp, target)
    finally:
        temp.unlink(missing_ok=True)
    return target, True


def landed_at(tables: list[str], reporting_year: int, submission_id: str) -> dt.datetime | None:
    """``loaded_at`` of a version's files that an interrupted run landed already, if any.

    The run that completes the version reuses it, so every file of a version, its
    ``submissions`` row and its audit row agree on when it was loaded.
    """
    for table in tables:
        path = path_for(table, reporting_year, submission_id)
        if path.exists():
            column = pq.read_table(path, columns=["loaded_at"]).column("loaded_at")
            if len(column):
                return column[0].as_py()
    return None


def publish(temp: Path, target: Path) -> None:
    """Give a complete temporary file its real name, in one step."""
    os.replace(temp, target)


def fsync_folder(folder: Path) -> None:
    """Make the renames into a folder durable: its entries are on disk once this returns.

    A landed file's bytes are synced before it is renamed; the rename itself is in the folder's
    metadata, which ingestion syncs once per batch of versions, before their audit rows commit.
    """
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_incoming() -> int:
    """Delete temporary files left by an interrupted run; call it holding the writer lock."""
    root = config.warehouse().landing
    if not root.is_dir():
        return 0
    removed = 0
    for stale in root.glob(f"*/reporting_year=*/.*{_TEMP_SUFFIX}"):
        stale.unlink(missing_ok=True)
        removed += 1
    return removed


def constant(value, length: int, type_: pa.DataType) -> pa.Array:
    """A column holding one value on every row."""
    return pa.repeat(pa.scalar(value, type=type_), length)


def utc_now() -> dt.datetime:
    """Now, naive UTC to the microsecond: the form of every TIMESTAMP parkwh writes."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
