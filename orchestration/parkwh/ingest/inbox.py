"""What is in the inbox: every submission, expert score file and stray entry, by reporting year.

The inbox layout is ``inbox/<year>/<base_code>.xlsx|.json``, a folder ``inbox/<year>/<base_code>/``
of CSV files, and ``inbox/<year>/expert_scores.csv``. Anything else a person drops there (a file
not named after a base, a folder that is not a year, a file outside any year folder) is a
*stray*: it is archived and recorded as rejected with a problem saying what was expected, so
nothing put in the inbox goes unnoticed. Only notes meant for people (README and SYNTHETIC
files) and the scratch files that editors and operating systems leave behind are passed over.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from parkwh import config
from parkwh.submission.errors import Problem
from parkwh.submission.reader import is_expert_scores
from parkwh.submission.values import BadValue, parse_base_code

Kind = Literal["submission", "expert_scores", "stray"]

YEAR_FOLDER = re.compile(r"(19|20)[0-9]{2}")
"""A reporting-year folder name, as the reader recognises one: ASCII digits only (any Unicode
digit would take ``20２３`` for a second folder of 2023)."""

BAD_FILE_NAME = "bad_file_name"
NOT_IN_YEAR_FOLDER = "not_in_year_folder"
STRAY_RULES: dict[str, str] = {
    BAD_FILE_NAME: "an entry of a year folder is named after no base and is no expert score file",
    NOT_IN_YEAR_FOLDER: "an entry of the inbox is not inside a reporting-year folder",
}
"""Rules ingestion adds to the validator's, for entries that are no submission by their place."""

_EPOCH = dt.datetime(1970, 1, 1)

_EXPECTED_LAYOUT = (
    "expected <base_code>.xlsx, <base_code>.json, a folder <base_code>/ of CSV files "
    "(base codes such as SH001) or expert_scores.csv"
)


def is_note_for_people(name: str) -> bool:
    """README and SYNTHETIC notes (any case, .md/.txt or none) describe the inbox; they are no data."""
    stem, _, suffix = name.partition(".")
    return stem.upper() in {"README", "SYNTHETIC"} and suffix.lower() in {"", "md", "txt"}


def is_scratch(name: str) -> bool:
    """Hidden files (``.DS_Store``), Office owner files (``~$SH001.xlsx``) and OS thumbnails."""
    return name.startswith((".", "~$")) or name in {"Thumbs.db", "desktop.ini"}


def _skipped(name: str) -> bool:
    return is_note_for_people(name) or is_scratch(name)


@dataclass(frozen=True)
class InboxEntry:
    """One thing in the inbox that ingestion records: a submission, an expert score file, a stray."""

    path: Path
    kind: Kind
    reporting_year: int | None
    """From the year folder; None for a stray outside any year folder."""
    base_code: str | None = None
    """From the file or folder name (submissions only)."""
    problem: Problem | None = None
    """Why a stray is rejected."""

    @property
    def is_folder(self) -> bool:
        return self.path.is_dir()

    @property
    def form(self) -> str | None:
        """``xlsx``, ``json`` or ``csv`` (a folder), as far as the name tells; None when it does not."""
        if self.path.is_dir():
            return "csv" if self.kind == "submission" else None
        suffix = self.path.suffix.lower()
        if self.kind == "expert_scores":
            return "csv"
        return {".xlsx": "xlsx", ".xlsm": "xlsx", ".json": "json"}.get(suffix)

    def relative_path(self) -> str:
        """The path relative to the warehouse folder, with ``/``: what provenance records."""
        return relative_to_warehouse(self.path)

    def received_at(self) -> dt.datetime:
        """When the entry arrived: its modification time (a folder's: its newest file's), naive UTC."""
        if self.path.is_dir():
            if self.kind == "submission":
                # The files the submission is read from; a note beside them is not the data.
                members = [p for p in self.path.glob("*") if p.suffix.lower() == ".csv"]
            else:
                members = list(self.path.rglob("*"))
            times = [p.stat().st_mtime_ns for p in members if p.is_file()]
            mtime_ns = max(times) if times else self.path.stat().st_mtime_ns
        else:
            mtime_ns = self.path.stat().st_mtime_ns
        # Naive UTC, to the microsecond, as a TIMESTAMP column holds it.
        return _EPOCH + dt.timedelta(microseconds=mtime_ns // 1000)


def relative_to_warehouse(path: Path) -> str:
    root = config.warehouse().root
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def base_code_of(name: str) -> str | None:
    """The base code a file or folder name gives (``SH001.xlsx`` → ``SH001``), or None."""
    if not re.fullmatch(r"[A-Za-z]{2}\d{3}", name):
        return None
    try:
        return parse_base_code(name)
    except BadValue:
        return None


def _stray(path: Path, year: int | None, rule: str, message: str) -> InboxEntry:
    problem = Problem(
        file=str(path),
        part=None,
        row=None,
        column=None,
        column_label=None,
        value=None,
        rule=rule,
        message=message,
    )
    return InboxEntry(path, "stray", year, problem=problem)


def year_folders() -> list[tuple[int, Path]]:
    """The reporting-year folders of the inbox, oldest first."""
    inbox = config.warehouse().inbox
    if not inbox.is_dir():
        return []
    return sorted(
        (int(p.name), p) for p in inbox.iterdir() if p.is_dir() and YEAR_FOLDER.fullmatch(p.name)
    )


def scan_year(year: int) -> list[InboxEntry]:
    """Every entry of ``inbox/<year>/`` that ingestion records, in name order."""
    folder = config.warehouse().inbox_year(year)
    if not folder.is_dir():
        return []
    entries = []
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if _skipped(path.name):
            continue
        if path.is_file() and is_expert_scores(path):
            entries.append(InboxEntry(path, "expert_scores", year))
            continue
        stem = path.name if path.is_dir() else path.stem
        code = base_code_of(stem)
        if code is not None:
            # The form (.xlsx, .json, CSV folder, or an unsupported one) is the reader's to judge.
            entries.append(InboxEntry(path, "submission", year, base_code=code))
            continue
        what = "folder" if path.is_dir() else "file"
        entries.append(
            _stray(
                path,
                year,
                BAD_FILE_NAME,
                f"the {what} name {path.name!r} names no base; {_EXPECTED_LAYOUT}",
            )
        )
    return entries


def scan_strays() -> list[InboxEntry]:
    """Entries of the inbox outside any year folder: loose files, and folders not named as a year."""
    inbox = config.warehouse().inbox
    if not inbox.is_dir():
        return []
    entries = []
    for path in sorted(inbox.iterdir(), key=lambda p: p.name):
        if _skipped(path.name) or (path.is_dir() and YEAR_FOLDER.fullmatch(path.name)):
            continue
        if path.is_dir():
            message = (
                f"the folder {path.name!r} is not a reporting year; expected inbox/<year>/ "
                "(e.g. inbox/2023/) holding the submissions of that year"
            )
        else:
            message = (
                f"the file {path.name!r} is not inside a reporting-year folder; expected "
                f"inbox/<year>/{path.name} (e.g. inbox/2023/)"
            )
        entries.append(_stray(path, None, NOT_IN_YEAR_FOLDER, message))
    return entries
