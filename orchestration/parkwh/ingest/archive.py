"""The content-addressed archive: every byte put in the inbox is kept under its sha256, forever.

A file goes to ``archive/<sha256><suffix>`` (``archive/3f…9a.xlsx``); a folder to
``archive/<sha256>/`` holding its files under their names. The digest is computed over the bytes
as they are copied, so an archived copy always matches its name, whatever happens to the inbox
meanwhile. A copy is made under a temporary name in the archive folder and renamed into place
in one step, so the archive never holds half a file under a real name. Archived files are
made read-only: nothing rewrites them.

For a folder the digest is the reader's (``reader.file_sha256``): each file, sorted by name,
contributes ``name NUL size NUL bytes``. A CSV submission folder is archived as the CSV files it
is read from (what its sha256 covers); a stray folder as every file in it, nested ones by
their relative path.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from parkwh import config
from parkwh.ingest.inbox import InboxEntry
from parkwh.ingest.landing import fsync_folder

_CHUNK = 1 << 20
_INCOMING_PREFIX = ".incoming-"
_SAFE_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,10}")


@dataclass(frozen=True)
class Archived:
    """Where an inbox entry's bytes are kept, and their digest."""

    sha256: str
    path: Path
    size_bytes: int

    def relative_path(self) -> str:
        return self.path.relative_to(config.warehouse().root).as_posix()


def folder_members(entry: InboxEntry) -> list[tuple[str, Path]]:
    """The files of a folder entry that its digest covers, as (name, path), sorted by name."""
    folder = entry.path
    if entry.kind == "submission":
        # Exactly the files the reader reads and hashes: the folder's own .csv files.
        found = [
            (p.name, p) for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".csv"
        ]
    else:
        found = [(p.relative_to(folder).as_posix(), p) for p in folder.rglob("*") if p.is_file()]
    return sorted(found, key=lambda item: item[0])


def _copy(source: Path, target: Path, digest: hashlib._Hash | None = None) -> int:
    """Copy bytes, feeding them to ``digest``; fsync before returning the size."""
    size = 0
    with source.open("rb") as reader, target.open("wb") as writer:
        while chunk := reader.read(_CHUNK):
            writer.write(chunk)
            if digest is not None:
                digest.update(chunk)
            size += len(chunk)
        writer.flush()
        os.fsync(writer.fileno())
    return size


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    return suffix if _SAFE_SUFFIX.fullmatch(suffix) else ""


def _archive_file(source: Path, root: Path) -> Archived:
    temp = root / f"{_INCOMING_PREFIX}{os.getpid()}-{uuid.uuid4().hex}"
    digest = hashlib.sha256()
    try:
        size = _copy(source, temp, digest)
        sha = digest.hexdigest()
        target = root / f"{sha}{_suffix(source)}"
        if target.exists():
            temp.unlink()
        else:
            temp.chmod(0o444)
            os.replace(temp, target)
            fsync_folder(root)  # durable before anything refers to it
    finally:
        if temp.exists():
            temp.unlink()
    return Archived(sha, target, size)


def _archive_folder(entry: InboxEntry, root: Path) -> Archived:
    temp = root / f"{_INCOMING_PREFIX}{os.getpid()}-{uuid.uuid4().hex}"
    temp.mkdir()
    try:
        digest = hashlib.sha256()
        total = 0
        for name, member in folder_members(entry):
            copy = temp / name
            copy.parent.mkdir(parents=True, exist_ok=True)
            size = _copy(member, copy)
            digest.update(name.encode("utf-8") + b"\0" + str(size).encode() + b"\0")
            # Hash the copy, not the source: the archive must match its name even if the
            # source changes between the two reads.
            with copy.open("rb") as handle:
                while chunk := handle.read(_CHUNK):
                    digest.update(chunk)
            copy.chmod(0o444)
            total += size
        sha = digest.hexdigest()
        target = root / sha
        if not target.exists():
            fsync_folder(temp)  # the copies' names, before the folder gets its own
            try:
                os.replace(temp, target)
            except OSError:
                if not target.is_dir():
                    raise
                # The same bytes archived at the same moment under another name: kept once.
            fsync_folder(root)  # durable before anything refers to it
    finally:
        if temp.exists():
            shutil.rmtree(temp, ignore_errors=True)
    return Archived(sha, target, total)


def archive(entry: InboxEntry) -> Archived:
    """Copy an inbox entry's bytes into the archive (once: the same bytes are kept once).

    Safe to call for several entries at once (ingestion copies a few ahead, in threads).
    """
    root = config.warehouse().archive
    root.mkdir(parents=True, exist_ok=True)
    if entry.path.is_dir():
        return _archive_folder(entry, root)
    return _archive_file(entry.path, root)


def archived_path(sha256: str, source_path: str) -> Path:
    """Where the archive keeps the bytes of ``source_path`` (relative to the warehouse) with that digest."""
    root = config.warehouse().archive
    as_file = root / f"{sha256}{_suffix(Path(source_path))}"
    return as_file if as_file.is_file() else root / sha256


def remove_incoming() -> int:
    """Delete temporary copies left by an interrupted run; call it holding the writer lock."""
    root = config.warehouse().archive
    if not root.is_dir():
        return 0
    removed = 0
    for stale in root.glob(f"{_INCOMING_PREFIX}*"):
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)
        removed += 1
    return removed
