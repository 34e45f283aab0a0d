"""Ingestion of the inbox: archive every entry, validate it, land accepted parts, record the audit.

``ingest_year(year)`` is what the Dagster asset and the tests call; ``ingest_all()`` runs every
year folder. For each inbox entry, in this order:

1. its bytes are copied into the content-addressed archive (nothing else happens first);
2. its version id is ``<year>-<base_code>-<sha12>``: a version already recorded is left alone,
   so ingesting the same bytes twice changes nothing;
3. it is validated by the same code as ``parkwh validate``; a file with errors is recorded as
   rejected with every problem, and the run goes on with the next file;
4. an accepted version lands one Parquet file per part, then its ``submissions`` file (the
   commit mark the raw views wait for), then its audit row and problems in one transaction.

Afterwards the accepted version received last of each base and year is in force and the
earlier ones are marked superseded. The whole run holds the warehouse's writer lock.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import functools
import logging
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from parkwh import db, pii
from parkwh.ingest import archive, inbox, landing, raw
from parkwh.ingest.inbox import InboxEntry
from parkwh.submission import spec
from parkwh.submission.errors import ERROR, Problem, SubmissionError
from parkwh.submission.reader import EXPERT_SCORES, PartData, file_sha256, read_expert_scores
from parkwh.submission.validate import check_file, has_errors
from parkwh.submission.values import mask

log = logging.getLogger(__name__)

LANDED_TABLES: tuple[str, ...] = (*spec.PARTS, EXPERT_SCORES)
"""The raw tables that hold rows of submitted parts (``submissions`` holds one row per version)."""

READ_ATTEMPTS = 3
"""How often a file that changes while it is read is read again before it waits for the next run."""


class IngestError(RuntimeError):
    """Ingestion could not process some entries for a reason that is no fault of theirs (a disk
    error, a bug): the other entries are loaded, then this names the ones that failed."""


# ---------------------------------------------------------------------------- outcomes


@dataclass
class FileOutcome:
    """What one run did with one inbox entry."""

    source_path: str
    kind: str
    reporting_year: int | None
    base_code: str | None = None
    form: str | None = None
    submission_id: str | None = None
    sha256: str | None = None
    status: str = "failed"
    """``accepted`` or ``rejected`` (new version), ``unchanged`` (already recorded),
    ``skipped`` (changing while read: next run) or ``failed`` (see ``note``)."""
    recorded_status: str | None = None
    """For an unchanged entry, the status the audit holds for it."""
    rows: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    note: str | None = None

    @property
    def errors(self) -> int:
        return sum(p.severity == ERROR for p in self.problems)

    @property
    def warnings(self) -> int:
        return len(self.problems) - self.errors

    def reason(self) -> str:
        """Why a file was rejected, in one line: its first error and how many more."""
        if self.note:
            return self.note
        errors = [p for p in self.problems if p.severity == ERROR]
        if not errors:
            return ""
        first = errors[0]
        where = first.location()
        more = (
            f" (and {len(errors) - 1} more error{'s' * (len(errors) > 2)})"
            if len(errors) > 1
            else ""
        )
        return f"{where + ': ' if where else ''}{first.message}{more}"


@dataclass
class IngestSummary:
    """What a run of ingestion did, for people (``text``) and for the Dagster UI (metadata)."""

    reporting_year: int | None
    run_id: str
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    files: list[FileOutcome] = field(default_factory=list)
    status_counts: dict[str, int] = field(default_factory=dict)
    """Versions of the year by audit status after the run (accepted = in force)."""
    rows_in_force: dict[str, int] = field(default_factory=dict)
    """Rows of the year's versions in force, per raw table."""

    def _with(self, status: str) -> list[FileOutcome]:
        return [f for f in self.files if f.status == status]

    @property
    def accepted(self) -> list[FileOutcome]:
        return self._with("accepted")

    @property
    def rejected(self) -> list[FileOutcome]:
        return self._with("rejected")

    @property
    def unchanged(self) -> list[FileOutcome]:
        return self._with("unchanged")

    @property
    def skipped(self) -> list[FileOutcome]:
        return self._with("skipped")

    @property
    def failed(self) -> list[FileOutcome]:
        return self._with("failed")

    @property
    def rows_loaded(self) -> dict[str, int]:
        """Rows landed by this run, per raw table."""
        totals = Counter({table: 0 for table in LANDED_TABLES})
        for outcome in self.accepted:
            totals.update(outcome.rows)
        return dict(totals)

    def text(self) -> str:
        """The run in a few lines, naming every file rejected and why."""
        year = self.reporting_year if self.reporting_year is not None else "all years"
        lines = [
            f"Ingestion of {year}: {len(self.accepted)} accepted, {len(self.rejected)} rejected, "
            f"{len(self.unchanged)} unchanged"
            + (f", {len(self.skipped)} skipped" if self.skipped else "")
            + (f", {len(self.failed)} failed" if self.failed else "")
            + "."
        ]
        loaded = {t: n for t, n in self.rows_loaded.items() if n}
        if loaded:
            lines.append("Rows loaded: " + ", ".join(f"{t} {n}" for t, n in loaded.items()) + ".")
        for outcome in self.rejected:
            lines.append(f"Rejected {outcome.source_path}: {outcome.reason()}")
        still = [f.source_path for f in self.unchanged if f.recorded_status == "rejected"]
        if still:
            lines.append("Still rejected, unchanged since: " + ", ".join(still))
        for outcome in self.skipped + self.failed:
            lines.append(f"{outcome.status.capitalize()} {outcome.source_path}: {outcome.note}")
        return "\n".join(lines)

    def problems_markdown(self, limit: int = 20) -> str:
        """The first problems of the files this run rejected or accepted with warnings, as a table."""
        rows = [
            (outcome.source_path, p)
            for outcome in self.accepted + self.rejected
            for p in outcome.problems
        ]
        if not rows:
            return "No problems found."

        def cell(text: object) -> str:
            return "" if text is None else str(text).replace("|", "\\|").replace("\n", " ")

        lines = [
            "| file | part | row | column | value | rule | severity | message |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for path, p in rows[:limit]:
            lines.append(
                "| "
                + " | ".join(
                    cell(v)
                    for v in (path, p.part, p.row, p.column, p.value, p.rule, p.severity, p.message)
                )
                + " |"
            )
        if len(rows) > limit:
            lines.append(f"\n… and {len(rows) - limit} more in audit.submission_problems.")
        return "\n".join(lines)


# ---------------------------------------------------------------------------- identities


def submission_id(entry: InboxEntry, sha256: str) -> str:
    """``<year>-<base_code>-<sha12>``; ``<year>-expert_scores-<sha12>``; strays name themselves."""
    year = entry.reporting_year
    if entry.kind == "submission":
        return f"{year}-{entry.base_code}-{sha256[:12]}"
    if entry.kind == "expert_scores":
        return f"{year}-{EXPERT_SCORES}-{sha256[:12]}"
    slug = re.sub(r"[^0-9A-Za-z]+", "_", entry.path.name).strip("_")[:40] or "unnamed"
    return f"{year if year is not None else 'none'}-stray-{slug}-{sha256[:12]}"


# ---------------------------------------------------------------------------- landing tables


@dataclass(frozen=True)
class _Provenance:
    submission_id: str
    base_code: str | None
    source_path: str
    sha256: str
    loaded_at: dt.datetime


def _part_table(data: PartData, prov: _Provenance, pii_key: bytes | None) -> pa.Table:
    """A part as it lands: provenance, then the submitted values as text, then units."""
    arrow = data.to_arrow()
    n = arrow.num_rows
    columns: dict[str, pa.Array] = {
        "submission_id": landing.constant(prov.submission_id, n, pa.string()),
    }
    if data.part == EXPERT_SCORES:
        columns["base_code"] = arrow["base_code"]  # the scored base, as the committee typed it
    else:
        columns["base_code"] = landing.constant(prov.base_code, n, pa.string())
    columns["source_path"] = landing.constant(prov.source_path, n, pa.string())
    columns["source_sha256"] = landing.constant(prov.sha256, n, pa.string())
    columns["source_row"] = arrow["source_row"].cast(pa.int32())
    columns["loaded_at"] = landing.constant(prov.loaded_at, n, pa.timestamp("us"))
    for name in raw.value_columns(data.part):
        if name == "person_key":
            ids = arrow["id_number"].to_pylist()
            columns[name] = pa.array(
                [pii.pseudonym(i, pii_key) if i else None for i in ids], type=pa.string()
            )
        elif name == "received_at":
            continue  # added by the caller, who knows when the file arrived
        elif name in arrow.column_names:
            columns[name] = arrow[name].cast(pa.string())
        else:
            columns[name] = landing.constant(None, n, pa.string())
    return pa.table(columns)


def _submission_table(entry: InboxEntry, prov: _Provenance, received_at: dt.datetime) -> pa.Table:
    return pa.table(
        {
            "submission_id": pa.array([prov.submission_id], pa.string()),
            "base_code": pa.array([prov.base_code], pa.string()),
            "form": pa.array([entry.form], pa.string()),
            "source_path": pa.array([prov.source_path], pa.string()),
            "source_sha256": pa.array([prov.sha256], pa.string()),
            "received_at": pa.array([received_at], pa.timestamp("us")),
            "loaded_at": pa.array([prov.loaded_at], pa.timestamp("us")),
        }
    )


# ---------------------------------------------------------------------------- audit


_AUDIT_SCHEMA = pa.schema(
    [
        ("submission_id", pa.string()),
        ("kind", pa.string()),
        ("base_code", pa.string()),
        ("reporting_year", pa.int32()),
        ("form", pa.string()),
        ("source_path", pa.string()),
        ("source_sha256", pa.string()),
        ("archive_path", pa.string()),
        ("size_bytes", pa.int64()),
        ("received_at", pa.timestamp("us")),
        ("status", pa.string()),
        ("error_count", pa.int32()),
        ("warning_count", pa.int32()),
        ("problem_count", pa.int32()),
        ("row_count", pa.int32()),
        ("first_seen_at", pa.timestamp("us")),
        ("loaded_at", pa.timestamp("us")),
        ("ingest_run_id", pa.string()),
    ]
)

_PROBLEM_SCHEMA = pa.schema(
    [
        ("submission_id", pa.string()),
        ("problem_number", pa.int32()),
        ("source_path", pa.string()),
        ("part", pa.string()),
        ("source_row", pa.int32()),
        ("column_name", pa.string()),
        ("column_label", pa.string()),
        ("value", pa.string()),
        ("rule", pa.string()),
        ("severity", pa.string()),
        ("message", pa.string()),
    ]
)


_run_connection: contextvars.ContextVar[duckdb.DuckDBPyConnection | None] = contextvars.ContextVar(
    "parkwh_ingest_connection", default=None
)
"""The connection a run holds for its audit writes: opening the warehouse file for each of
thousands of entries costs more than validating them."""


@contextlib.contextmanager
def _connection() -> Iterator[duckdb.DuckDBPyConnection]:
    """The run's connection, or a connection of its own outside a run."""
    held = _run_connection.get()
    if held is not None:
        yield held
        return
    with db.connect() as con:
        yield con


def _record(row: dict, problems: list[Problem]) -> None:
    """Write a version's audit row and its problems in one transaction."""
    version = pa.Table.from_pylist([row], schema=_AUDIT_SCHEMA)
    found = pa.Table.from_pylist(
        [
            {
                "submission_id": row["submission_id"],
                "problem_number": number,
                "source_path": row["source_path"],
                "part": p.part,
                "source_row": p.row,
                "column_name": p.column,
                "column_label": p.column_label,
                "value": p.value,
                "rule": p.rule,
                "severity": p.severity,
                "message": p.message,
            }
            for number, p in enumerate(problems, start=1)
        ],
        schema=_PROBLEM_SCHEMA,
    )
    with _connection() as con:
        con.register("incoming_version", version)
        con.register("incoming_problems", found)
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute("INSERT INTO audit.submissions BY NAME SELECT * FROM incoming_version")
            con.execute(
                "INSERT INTO audit.submission_problems BY NAME SELECT * FROM incoming_problems"
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        finally:
            con.unregister("incoming_version")
            con.unregister("incoming_problems")


def _recorded_versions() -> dict[str, str]:
    with _connection() as con:
        raw.ensure_schemas(con)
        return dict(con.execute("SELECT submission_id, status FROM audit.submissions").fetchall())


# ---------------------------------------------------------------------------- one entry


def _read(entry: InboxEntry) -> tuple[dict[str, PartData] | None, list[Problem], str | None]:
    """(parts, problems, sha256 of what was read) of a submission or expert score file.

    Validation is exactly ``parkwh validate``'s: ``check_file`` for submissions; for the
    expert score file, ``read_expert_scores`` (which ``check_file`` also uses) for its rows.
    """
    if entry.kind == "submission":
        submission, problems = check_file(entry.path)
        if submission is None:
            return None, problems, file_sha256(entry.path)
        return submission.parts, problems, submission.sha256
    try:
        part, problems = read_expert_scores(entry.path)
    except SubmissionError as exc:
        return None, [exc.problem], file_sha256(entry.path)
    return {EXPERT_SCORES: part}, problems, file_sha256(entry.path)


def _ingest_entry(entry: InboxEntry, recorded: dict[str, str], run_id: str) -> FileOutcome:
    source_path = entry.relative_path()
    outcome = FileOutcome(
        source_path=source_path,
        kind=entry.kind,
        reporting_year=entry.reporting_year,
        base_code=entry.base_code,
        form=entry.form,
    )
    for _attempt in range(READ_ATTEMPTS):
        received_at = entry.received_at()
        stored = archive.archive(entry)
        sid = submission_id(entry, stored.sha256)
        outcome.submission_id, outcome.sha256 = sid, stored.sha256
        if sid in recorded:
            outcome.status, outcome.recorded_status = "unchanged", recorded[sid]
            return outcome
        if entry.kind == "stray":
            parts, problems = None, [entry.problem]
            break
        parts, problems, read_sha = _read(entry)
        if read_sha == stored.sha256:
            break
        # The file was rewritten between archiving and reading (a copy still in progress):
        # what was read is not what was archived, so neither is recorded.
    else:
        outcome.status = "skipped"
        outcome.note = "the file kept changing while it was read; it is ingested on the next run"
        return outcome

    # Problems name the file as provenance does: relative to the warehouse folder.
    outcome.problems = [_relocated(p, source_path) for p in problems if p is not None]
    rejected = parts is None or has_errors(outcome.problems)
    loaded_at = landing.utc_now()
    if not rejected:
        tables = [*parts, "submissions"] if entry.kind == "submission" else list(parts)
        loaded_at = landing.landed_at(tables, entry.reporting_year, sid) or loaded_at
        prov = _Provenance(sid, entry.base_code, source_path, stored.sha256, loaded_at)
        pii_key = pii.pii_key() if "talent" in parts else None
        for part_name, data in parts.items():
            table = _part_table(data, prov, pii_key)
            if part_name == EXPERT_SCORES:
                table = table.append_column(
                    "received_at", landing.constant(received_at, table.num_rows, pa.timestamp("us"))
                )
            landing.land(part_name, entry.reporting_year, sid, table)
            outcome.rows[part_name] = table.num_rows
        if entry.kind == "submission":
            # Written last: the raw part views show this version from this moment on.
            landing.land(
                "submissions",
                entry.reporting_year,
                sid,
                _submission_table(entry, prov, received_at),
            )
    outcome.status = "rejected" if rejected else "accepted"
    _record(
        {
            "submission_id": sid,
            "kind": entry.kind,
            "base_code": entry.base_code,
            "reporting_year": entry.reporting_year,
            "form": entry.form,
            "source_path": source_path,
            "source_sha256": stored.sha256,
            "archive_path": stored.relative_path(),
            "size_bytes": stored.size_bytes,
            "received_at": received_at,
            "status": outcome.status,
            "error_count": outcome.errors,
            "warning_count": outcome.warnings,
            "problem_count": len(outcome.problems),
            "row_count": None if rejected else sum(outcome.rows.values()),
            "first_seen_at": loaded_at,
            "loaded_at": None if rejected else loaded_at,
            "ingest_run_id": run_id,
        },
        outcome.problems,
    )
    recorded[sid] = outcome.status
    return outcome


def _outcome_without_version(entry: InboxEntry, status: str) -> FileOutcome:
    return FileOutcome(
        source_path=entry.relative_path(),
        kind=entry.kind,
        reporting_year=entry.reporting_year,
        base_code=entry.base_code,
        status=status,
    )


def _relocated(problem: Problem, source_path: str) -> Problem:
    """The problem as the audit keeps it: named by its source path, personal data masked.

    The validator masks the values it reports; the reader's own findings (a JSON list where an
    ID number belongs) are masked here, since the audit lies outside the raw schema.
    """
    value = problem.value
    if (problem.part, problem.column) in _personal_columns():
        value = mask(value)  # idempotent: a masked value stays as it is
    return Problem(
        source_path,
        problem.part,
        problem.row,
        problem.column,
        problem.column_label,
        value,
        problem.rule,
        problem.message,
        problem.severity,
    )


@functools.cache
def _personal_columns() -> frozenset[tuple[str, str]]:
    return frozenset((f.part, f.key) for f in spec.personal_fields())


# ---------------------------------------------------------------------------- runs


def _ingest(
    entries: list[InboxEntry],
    reporting_year: int | None,
    run_id: str | None,
    raise_on_failure: bool = True,
) -> IngestSummary:
    run_id = run_id or uuid.uuid4().hex
    summary = IngestSummary(reporting_year, run_id, landing.utc_now())
    with db.writer_lock(), db.connect() as run_connection:
        token = _run_connection.set(run_connection)
        try:
            _ingest_entries(entries, summary, run_id)
        finally:
            _run_connection.reset(token)
        con = run_connection
        raw.ensure_schemas(con)
        raw.refresh_views(con)
        raw.settle_statuses(con)
        if reporting_year is not None:
            summary.status_counts = dict(
                con.execute(
                    "SELECT status, count(*) FROM audit.submissions "
                    "WHERE reporting_year = ? GROUP BY status ORDER BY status",
                    [reporting_year],
                ).fetchall()
            )
            summary.rows_in_force = _rows_in_force(con, reporting_year)
    summary.finished_at = landing.utc_now()
    if summary.failed and raise_on_failure:
        _raise_failed([summary])
    return summary


def _ingest_entries(entries: list[InboxEntry], summary: IngestSummary, run_id: str) -> None:
    """Each entry in turn; holding the writer lock, with the run's connection in force."""
    # Holding the lock, no other ingestion runs: any temporary file is a crashed run's.
    archive.remove_incoming()
    landing.remove_incoming()
    recorded = _recorded_versions()
    for entry in entries:
        try:
            outcome = _ingest_entry(entry, recorded, run_id)
        except FileNotFoundError:
            # Moved or deleted while the run was at it: a person tidying the inbox, no failure.
            outcome = _outcome_without_version(entry, "skipped")
            outcome.note = "it left the inbox while it was ingested"
        except Exception as exc:  # one entry's failure must not stop the others
            log.exception("ingesting %s failed", entry.path)
            outcome = _outcome_without_version(entry, "failed")
            outcome.note = f"{type(exc).__name__}: {exc}"
        summary.files.append(outcome)
        log.info("%s: %s", outcome.source_path, outcome.status)


def _raise_failed(summaries: list[IngestSummary]) -> None:
    lines = [f"{outcome.source_path}: {outcome.note}" for s in summaries for outcome in s.failed]
    raise IngestError(
        "Ingestion could not process "
        + ("this entry" if len(lines) == 1 else f"these {len(lines)} entries")
        + " (the others were ingested; rerun once the cause is fixed):\n"
        + "\n".join(lines)
    )


def _rows_in_force(con, reporting_year: int) -> dict[str, int]:
    """Rows of the year's versions in force, per raw table (``submissions``: bases in force)."""
    counts = {}
    for table in raw.TABLES:
        counts[table] = con.execute(
            f"SELECT count(*) FROM raw.{table} WHERE reporting_year = ? AND submission_id IN "
            "(SELECT submission_id FROM audit.submissions WHERE status = 'accepted')",
            [reporting_year],
        ).fetchone()[0]
    return counts


def ingest_year(reporting_year: int, *, run_id: str | None = None) -> IngestSummary:
    """Ingest ``inbox/<year>/`` (and record any stray outside the year folders)."""
    entries = inbox.scan_year(reporting_year) + inbox.scan_strays()
    return _ingest(entries, reporting_year, run_id)


def ingest_all(*, run_id: str | None = None) -> list[IngestSummary]:
    """Ingest every year folder of the inbox, oldest first; strays are recorded with the first."""
    summaries = []
    strays = inbox.scan_strays()
    for year, _folder in inbox.year_folders():
        summaries.append(_ingest(inbox.scan_year(year) + strays, year, run_id, False))
        strays = []
    if strays or not summaries:
        summaries.append(_ingest(strays, None, run_id, False))
    if any(s.failed for s in summaries):
        _raise_failed(summaries)
    return summaries
