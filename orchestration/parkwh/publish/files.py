"""Files that readers open while parkwh rewrites them: written aside, then renamed into place."""

from __future__ import annotations

import hashlib
import os
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
