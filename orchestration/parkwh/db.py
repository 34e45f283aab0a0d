"""Connections to the warehouse DuckDB file: short-lived, and one writer at a time.

DuckDB lets one process hold a file for writing, and a failed lock is an immediate error
("Could not set lock on file"), not a wait. Every parkwh writer therefore takes a file lock
next to the warehouse first, so a second writer (another run, ``parkwh run`` while ``dagster dev``
materialises, dbt in its own process) waits its turn instead of failing. Connections are opened
for one piece of work and closed at once: an open connection, even a read-only one, blocks
every writer in other processes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from filelock import FileLock

from parkwh import config

# Long enough for a whole dbt build or a large ingestion to finish before the next writer
# gives up; a writer that waits this long is a stuck process, which deserves an error.
WRITER_LOCK_TIMEOUT_SECONDS = 6 * 60 * 60

# A warehouse file created by parkwh opens in every DuckDB client from 1.1 on (SQL users and BI
# connectors often lag behind); a file written with the default storage opens in 2.x only.
STORAGE_COMPATIBILITY_VERSION = "v1.0.0"

_locks: dict[Path, FileLock] = {}
_locks_guard = threading.Lock()


def _lock_for(path: Path) -> FileLock:
    # One FileLock object per lock file, so that nested use in one thread is re-entrant
    # (FileLock counts re-entries per object and thread); two objects on the same file would
    # each take the OS lock and the inner one would wait for the outer one forever.
    with _locks_guard:
        lock = _locks.get(path)
        if lock is None:
            lock = FileLock(str(path), timeout=WRITER_LOCK_TIMEOUT_SECONDS)
            _locks[path] = lock
        return lock


@contextmanager
def writer_lock(timeout: float | None = None) -> Iterator[None]:
    """Hold the warehouse's writer lock: other writers (any process) wait until it is released.

    Re-entrant within one thread, so a step that holds it may call helpers that take it too.
    """
    paths = config.warehouse()
    paths.root.mkdir(parents=True, exist_ok=True)
    lock = _lock_for(paths.lock_file)
    with lock.acquire(timeout=WRITER_LOCK_TIMEOUT_SECONDS if timeout is None else timeout):
        yield


@contextmanager
def connect(read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to ``parkwh.duckdb``, closed on exit.

    A writing connection holds the writer lock for as long as it is open. A reading connection
    takes the lock as well, because a reader in another process makes every writer fail at once
    (and a writer makes a reader fail); keep reading connections as short as writing ones.
    """
    database = config.warehouse().database
    if read_only and not database.exists():
        raise FileNotFoundError(
            f"The warehouse {database} does not exist yet: ingest some submissions first."
        )
    with writer_lock():
        settings = {}
        if not read_only and not database.exists():
            settings["storage_compatibility_version"] = STORAGE_COMPATIBILITY_VERSION
        connection = duckdb.connect(str(database), read_only=read_only, config=settings)
        try:
            yield connection
        finally:
            connection.close()
