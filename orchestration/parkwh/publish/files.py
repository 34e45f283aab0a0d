"""Files that readers open while parkwh rewrites them: written aside, then renamed into place."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import uuid
from pathlib import Path

_CHUNK = 1 << 20


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def temporary_sibling(target: Path) -> Path:
    """A hidden name beside ``target``: on the same file system, so the rename is one step."""
    return target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")


def fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def replace(temporary: Path, target: Path) -> None:
    """Give a complete file its real name in one step: a reader sees the old file or the new one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(temporary, target)


def write_bytes_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = temporary_sibling(target)
    try:
        with temporary.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


_TEMPORARY_NAME = re.compile(r"\..+\.(\d+)\.[0-9a-f]{8}\.tmp(\.wal)?")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_leftovers(root: Path) -> list[Path]:
    """Remove what a publication killed half-way left in ``root``; the paths removed.

    Call it holding the writer lock: a staging folder is only used under it, so any one found
    is a dead run's. A temporary sibling is removed only when the process named in it is gone.
    """
    removed: list[Path] = []
    if not root.is_dir():
        return removed
    for path in root.glob(".exports-staging-*"):
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    for path in root.glob(".*.tmp*"):
        found = _TEMPORARY_NAME.fullmatch(path.name)
        if found and path.is_file() and not _alive(int(found.group(1))):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
