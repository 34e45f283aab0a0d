"""Ingestion of the inbox: archive every entry, validate it, land accepted parts, record the audit.

``ingest_year(year)`` is what the Dagster asset and the tests call; ``ingest_all()`` runs every
year folder. For each inbox entry, in this order:

1. its bytes are copied into the content-addressed archive (nothing else happens first);
2. its version id is ``<year>-<base_code>-<sha12>``: a version already recorded is left alone,
   so ingesting the same bytes twice changes nothing;
3. it is validated by the same code as ``parkwh validate``; a file with errors is recorded as
   rejected with every problem, and the run goes on with the next file;
4. an accepted version lands one Parquet file per part, then its ``submissions`` file (the
   commit mark the raw views wait for), then its audit row and problems.

Afterwards the accepted version received last of each base and year is in force and the
earlier ones are marked superseded. The whole run holds the warehouse's writer lock.

Steps 3 and 4's landing run in worker processes (``PARKWH_INGEST_WORKERS``, default one per
CPU; ``workers.py``) when a run has enough new entries: the run's own process archives each
entry, hands it to a worker, and records the audit rows in the entries' order, in its one
connection, each once its version's files have landed. Audit rows are written in batches (one
transaction each): before a batch commits, the landing folders its files were renamed into are
synced, so an audit row never outlives, on disk, the files it reports.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import functools
import logging
import os
import re
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from parkwh import db, pii
from parkwh.ingest import archive, inbox, landing, raw
from parkwh.ingest.inbox import InboxEntry
from parkwh.ingest.workers import WorkerDied, WorkerPool
from parkwh.submission import spec
from parkwh.submission.errors import ERROR, Problem, SubmissionError
from parkwh.submission.reader import EXPERT_SCORES, PartData, file_sha256, read_expert_scores
from parkwh.submission.validate import check_file, cyclic_gc_paused, has_errors
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


AUDIT_BATCH_SIZE = 64
"""Versions whose audit rows a run writes in one transaction. Each commit waits for DuckDB to
sync its log (milliseconds), which one transaction per version would pay thousands of times."""

_run_audit: contextvars.ContextVar[list[tuple[dict, list[Problem]]] | None] = (
    contextvars.ContextVar("parkwh_ingest_audit", default=None)
)
"""Audit rows of versions that have landed, waiting for the run's next batch."""


def _record(row: dict, problems: list[Problem]) -> None:
    """Record a version's audit row and its problems, once its files have landed: within a run,
    with the run's next batch (``_write_audit``); outside one, at once."""
    pending = _run_audit.get()
    if pending is None:
        _write_audit([(row, problems)])
    else:
        pending.append((row, problems))


def _write_audit(versions: list[tuple[dict, list[Problem]]]) -> None:
    """Write versions' audit rows and their problems in one transaction."""
    version = pa.Table.from_pylist([row for row, _ in versions], schema=_AUDIT_SCHEMA)
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
            for row, problems in versions
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


def _recorded_versions() -> tuple[dict[str, str], set[tuple[str, dt.datetime]]]:
    """(status by version id, the (source path, received at) of every version recorded)."""
    with _connection() as con:
        raw.ensure_schemas(con)
        rows = con.execute(
            "SELECT submission_id, status, source_path, received_at FROM audit.submissions"
        ).fetchall()
    return {sid: status for sid, status, _, _ in rows}, {(path, at) for _, _, path, at in rows}


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


@dataclass
class _Landed:
    """What validating an entry and landing its parts gave: what the audit needs, no rows."""

    changed: bool
    """The file changed between archiving and reading: nothing landed, it is read again."""
    problems: list[Problem] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    rejected: bool = True
    loaded_at: dt.datetime | None = None
    folders: set[str] = field(default_factory=set)
    """The landing folders its files were renamed into (synced before its audit row commits)."""


_worker_pii_key: bytes | None = None
"""The pseudonym key in a worker process, handed over when it starts (it never reads the key
file, so the parent alone creates it)."""


def _validate_and_land(
    entry: InboxEntry, sha256: str, sid: str, source_path: str, received_at: dt.datetime
) -> _Landed:
    """Read and validate an archived entry and, if it is accepted, land its files.

    It runs in a worker process or in the run's own; either way it lands every part file, then
    the ``submissions`` file (the commit mark), before the parent records the audit row.
    """
    with cyclic_gc_paused():  # the parts' rows become many small objects, none in a cycle
        return _validate_and_land_unpaused(entry, sha256, sid, source_path, received_at)


def _validate_and_land_unpaused(
    entry: InboxEntry, sha256: str, sid: str, source_path: str, received_at: dt.datetime
) -> _Landed:
    parts, problems, read_sha = _read(entry)
    if read_sha != sha256:
        # The file was rewritten between archiving and reading (a copy still in progress):
        # what was read is not what was archived, so neither is recorded.
        return _Landed(changed=True)
    # Problems name the file as provenance does: relative to the warehouse folder.
    problems = [_relocated(p, source_path) for p in problems if p is not None]
    rejected = parts is None or has_errors(problems)
    loaded_at = landing.utc_now()
    rows: dict[str, int] = {}
    folders: set[str] = set()
    if not rejected:
        tables = [*parts, "submissions"] if entry.kind == "submission" else list(parts)
        loaded_at = landing.landed_at(tables, entry.reporting_year, sid) or loaded_at
        prov = _Provenance(sid, entry.base_code, source_path, sha256, loaded_at)
        pii_key = (_worker_pii_key or pii.pii_key()) if "talent" in parts else None
        for part_name, data in parts.items():
            table = _part_table(data, prov, pii_key)
            if part_name == EXPERT_SCORES:
                table = table.append_column(
                    "received_at", landing.constant(received_at, table.num_rows, pa.timestamp("us"))
                )
            path, _ = landing.land(part_name, entry.reporting_year, sid, table)
            rows[part_name] = table.num_rows
            folders.add(str(path.parent))
        if entry.kind == "submission":
            # Written last: the raw part views show this version from this moment on.
            path, _ = landing.land(
                "submissions",
                entry.reporting_year,
                sid,
                _submission_table(entry, prov, received_at),
            )
            folders.add(str(path.parent))
    return _Landed(False, problems, rows, rejected, loaded_at, folders)


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


# ---------------------------------------------------------------------------- worker processes

WORKERS_ENV = "PARKWH_INGEST_WORKERS"
"""How many processes validate and land entries at once; 1 keeps the work in the run's process.
Unset: one per CPU the process may use."""

MIN_NEW_ENTRIES_FOR_WORKERS = 8
"""With fewer new entries a run validates them itself: starting workers would cost more."""

WINDOW_PER_WORKER = 2
"""Entries handed to each worker ahead of the one the run is recording, so none waits idle."""

ARCHIVE_THREADS = 4
"""Entries archived at once, ahead of their validation: a copy mostly waits for the disk to
sync its bytes, and several such waits overlap."""


def worker_count() -> int:
    """The number of worker processes ``PARKWH_INGEST_WORKERS`` asks for (default: the CPUs)."""
    text = os.environ.get(WORKERS_ENV, "").strip()
    if not text:
        try:
            return len(os.sched_getaffinity(0)) or 1
        except AttributeError:  # not Linux
            return os.cpu_count() or 1
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise ValueError(
            f"{WORKERS_ENV} must be a whole number of processes, 1 or more (1 validates in the "
            f"ingesting process itself); got {text!r}"
        )
    return count


def _start_worker(pii_key: bytes) -> None:
    """Set up a worker process: the pseudonym key, handed over by the run."""
    global _worker_pii_key
    _worker_pii_key = pii_key


def _workers(count: int) -> WorkerPool:
    """Worker processes for a run; the run's process reads (or creates) the pseudonym key."""
    return WorkerPool(count, setup=(_start_worker, pii.pii_key()))


def _likely_new(entries: list[InboxEntry], seen: set[tuple[str, dt.datetime]]) -> int:
    """How many entries are probably not recorded yet: their path and time are not in the audit.

    Only the choice of workers or none rests on this guess; each entry's digest decides.
    """
    new = 0
    for entry in entries:
        try:
            new += (entry.relative_path(), entry.received_at()) not in seen
        except OSError:
            new += 1
    return new


# ---------------------------------------------------------------------------- the entries of a run


@dataclass
class _Ticket:
    """One inbox entry on its way through a run."""

    entry: InboxEntry
    outcome: FileOutcome
    attempts: int = 0
    received_at: dt.datetime | None = None
    stored: archive.Archived | None = None
    copied: Future | None = None
    """Its archiving, in a copier thread."""
    future: Future | None = None
    landed: _Landed | None = None
    follows: bool = False
    """An earlier entry of the run has the same version id: judged once that one is recorded."""
    final: bool = False
    """The outcome is complete (unchanged, skipped, failed, recorded)."""

    def ready(self) -> bool:
        return self.future is None or self.future.done()

    def work(self) -> tuple:
        """The arguments of ``_validate_and_land``."""
        outcome = self.outcome
        return (
            self.entry,
            outcome.sha256,
            outcome.submission_id,
            outcome.source_path,
            self.received_at,
        )


class _Entries:
    """Takes a run's entries through archive, validation and landing, then records them, in order.

    The run's process archives each entry first, as it comes; workers (if any) validate it and
    land its files, a few entries ahead; the run's process then records each entry's audit row
    in the entries' order, in its one connection. One entry's failure never stops the others.
    """

    def __init__(
        self,
        summary: IngestSummary,
        run_id: str,
        recorded: dict[str, str],
        workers: WorkerPool | None,
    ):
        self.summary = summary
        self.run_id = run_id
        self.recorded = recorded
        self.workers = workers
        self.claimed: dict[str, _Ticket] = {}
        self.unwritten: dict[str, FileOutcome] = {}
        self.unsynced: set[str] = set()
        """Landing folders renamed into since the last audit batch."""

    def run(self, entries: list[InboxEntry]) -> None:
        ahead = self.workers.count * WINDOW_PER_WORKER if self.workers else 0
        queued = deque(_Ticket(entry, _new_outcome(entry)) for entry in entries)
        copying: deque[_Ticket] = deque()  # being archived, in the entries' order
        window: deque[_Ticket] = deque()  # archived and handed on, in the entries' order
        with ThreadPoolExecutor(ARCHIVE_THREADS, thread_name_prefix="parkwh-archive") as copier:
            while queued or copying or window:
                while queued and len(copying) < ARCHIVE_THREADS:
                    ticket = queued.popleft()
                    ticket.copied = copier.submit(self._copy, ticket)
                    copying.append(ticket)
                if window and (len(window) > ahead or window[0].ready()):
                    self._finish(window.popleft())
                elif copying and copying[0].copied.done() and len(window) <= ahead:
                    ticket = copying.popleft()
                    self._guarded(ticket, self._start)
                    window.append(ticket)
                else:
                    waiting = [copying[0].copied] if copying else []
                    if window and window[0].future is not None:
                        waiting.append(window[0].future)
                    wait(waiting, return_when=FIRST_COMPLETED)
        self.flush()

    def _guarded(self, ticket: _Ticket, step: Callable[[_Ticket], None]) -> None:
        entry = ticket.entry
        try:
            step(ticket)
        except FileNotFoundError:
            # Moved or deleted while the run was at it: a person tidying the inbox, no failure.
            ticket.outcome = _outcome_without_version(entry, "skipped")
            ticket.outcome.note = "it left the inbox while it was ingested"
            ticket.final = True
        except WorkerDied as exc:
            log.error("ingesting %s failed: %s", entry.path, exc)
            ticket.outcome = _outcome_without_version(entry, "failed")
            ticket.outcome.note = str(exc)
            ticket.final = True
        except Exception as exc:  # one entry's failure must not stop the others
            log.exception("ingesting %s failed", entry.path)
            ticket.outcome = _outcome_without_version(entry, "failed")
            ticket.outcome.note = f"{type(exc).__name__}: {exc}"
            ticket.final = True

    @staticmethod
    def _copy(ticket: _Ticket) -> None:
        """Archive the entry, before anything else is done with it (in a copier thread)."""
        ticket.received_at = ticket.entry.received_at()
        ticket.stored = archive.archive(ticket.entry)

    def _start(self, ticket: _Ticket) -> None:
        """Once the entry is archived, hand it to be validated (unless it is known already)."""
        entry, outcome = ticket.entry, ticket.outcome
        if ticket.copied is None:
            self._copy(ticket)
        else:
            ticket.copied.result()  # the archiving's error, if it failed
        sid = submission_id(entry, ticket.stored.sha256)
        outcome.submission_id, outcome.sha256 = sid, ticket.stored.sha256
        if sid in self.recorded:
            outcome.status, outcome.recorded_status = "unchanged", self.recorded[sid]
            ticket.final = True
            return
        if entry.kind == "stray":
            problems = [entry.problem] if entry.problem is not None else []
            relocated = [_relocated(p, outcome.source_path) for p in problems]
            ticket.landed = _Landed(False, relocated, {}, True, landing.utc_now())
            return
        leader = self.claimed.setdefault(sid, ticket)
        if leader is not ticket:
            ticket.follows = True
            return
        if self.workers is None:
            ticket.landed = _validate_and_land(*ticket.work())
        else:
            ticket.future = self.workers.submit(_validate_and_land, *ticket.work())

    def _finish(self, ticket: _Ticket) -> None:
        if not ticket.final:
            self._guarded(ticket, self._complete)
        self.summary.files.append(ticket.outcome)
        log.info("%s: %s", ticket.outcome.source_path, ticket.outcome.status)

    def _complete(self, ticket: _Ticket) -> None:
        """Wait for the entry's validation (reading it again if it changed), then record it."""
        while True:
            if ticket.follows:
                # Judged against the earlier entry's audit row, which must be written first.
                self.flush()
                sid = ticket.outcome.submission_id
                if sid in self.recorded:
                    ticket.outcome.status = "unchanged"
                    ticket.outcome.recorded_status = self.recorded[sid]
                    ticket.final = True
                    return
                # The earlier entry was not recorded (it failed): this one is ingested itself.
                ticket.follows = False
                self.claimed[sid] = ticket
                ticket.landed = _validate_and_land(*ticket.work())
            landed = ticket.landed if ticket.landed is not None else ticket.future.result()
            if not landed.changed:
                self._record(ticket, landed)
                return
            ticket.attempts += 1
            ticket.landed = ticket.future = ticket.copied = None
            if ticket.attempts >= READ_ATTEMPTS:
                ticket.outcome.status = "skipped"
                ticket.outcome.note = (
                    "the file kept changing while it was read; it is ingested on the next run"
                )
                ticket.final = True
                return
            self._start(ticket)  # archived again: the bytes it has now
            if ticket.final:
                return

    def _record(self, ticket: _Ticket, landed: _Landed) -> None:
        entry, outcome = ticket.entry, ticket.outcome
        stored, sid = ticket.stored, outcome.submission_id
        outcome.problems = landed.problems
        outcome.rows = landed.rows
        outcome.status = "rejected" if landed.rejected else "accepted"
        _record(
            {
                "submission_id": sid,
                "kind": entry.kind,
                "base_code": entry.base_code,
                "reporting_year": entry.reporting_year,
                "form": entry.form,
                "source_path": outcome.source_path,
                "source_sha256": stored.sha256,
                "archive_path": stored.relative_path(),
                "size_bytes": stored.size_bytes,
                "received_at": ticket.received_at,
                "status": outcome.status,
                "error_count": outcome.errors,
                "warning_count": outcome.warnings,
                "problem_count": len(outcome.problems),
                "row_count": None if landed.rejected else sum(outcome.rows.values()),
                "first_seen_at": landed.loaded_at,
                "loaded_at": None if landed.rejected else landed.loaded_at,
                "ingest_run_id": self.run_id,
            },
            outcome.problems,
        )
        self.recorded[sid] = outcome.status
        self.unwritten[sid] = outcome
        self.unsynced.update(landed.folders)
        ticket.final = True
        pending = _run_audit.get()
        if pending is not None and len(pending) >= AUDIT_BATCH_SIZE:
            self.flush()

    def sync_landed(self) -> None:
        """Make the renames of the files landed since the last batch durable: one sync of each
        folder they went to, before the audit rows that say they landed commit."""
        for folder in sorted(self.unsynced):
            landing.fsync_folder(Path(folder))
        self.unsynced.clear()

    def flush(self) -> None:
        """Write the audit rows recorded so far; a batch that fails is written version by
        version, so only the version at fault fails."""
        pending = _run_audit.get()
        if not pending:
            self.unwritten.clear()
            return
        batch = list(pending)
        pending.clear()
        self.sync_landed()
        try:
            _write_audit(batch)
        except Exception:
            log.exception(
                "writing %d audit rows at once failed; writing them one by one", len(batch)
            )
            for item in batch:
                try:
                    _write_audit([item])
                except Exception as exc:  # one version's failure must not stop the others
                    sid = item[0]["submission_id"]
                    log.exception("recording %s failed", sid)
                    self.recorded.pop(sid, None)
                    outcome = self.unwritten.get(sid)
                    if outcome is not None:
                        outcome.status = "failed"
                        outcome.note = f"{type(exc).__name__}: {exc}"
        self.unwritten.clear()


def _new_outcome(entry: InboxEntry) -> FileOutcome:
    return FileOutcome(
        source_path=entry.relative_path(),
        kind=entry.kind,
        reporting_year=entry.reporting_year,
        base_code=entry.base_code,
        form=entry.form,
    )


# ---------------------------------------------------------------------------- runs


def _ingest_entries(
    entries: list[InboxEntry],
    summary: IngestSummary,
    run_id: str,
    recorded: dict[str, str],
    workers: WorkerPool | None,
) -> None:
    """Each entry in turn; holding the writer lock, with the run's connection in force."""
    pending: list[tuple[dict, list[Problem]]] = []
    token = _run_audit.set(pending)
    work = _Entries(summary, run_id, recorded, workers)
    try:
        work.run(entries)
    finally:
        _run_audit.reset(token)
        if pending:  # an error escaped the entries' own handling: keep what landed on record
            work.sync_landed()
            _write_audit(pending)


def _ingest(
    groups: list[tuple[int | None, list[InboxEntry]]], run_id: str | None
) -> list[IngestSummary]:
    """Ingest each group of entries (a year's, with the strays), then settle the warehouse once.

    One writer lock, one connection and one set of workers serve the whole run; the raw views
    are refreshed and the versions in force settled at the end.
    """
    run_id = run_id or uuid.uuid4().hex
    summaries: list[IngestSummary] = []
    with db.writer_lock(), db.connect() as con:
        token = _run_connection.set(con)
        try:
            # Holding the lock, no other ingestion runs: any temporary file is a crashed run's.
            archive.remove_incoming()
            landing.remove_incoming()
            recorded, seen = _recorded_versions()
            count = worker_count()
            new = _likely_new([e for _, entries in groups for e in entries], seen)
            workers = _workers(count) if count > 1 and new >= MIN_NEW_ENTRIES_FOR_WORKERS else None
            try:
                for reporting_year, entries in groups:
                    summary = IngestSummary(reporting_year, run_id, landing.utc_now())
                    summaries.append(summary)
                    _ingest_entries(entries, summary, run_id, recorded, workers)
            finally:
                if workers is not None:
                    workers.close()
                    if workers.died:
                        landing.remove_incoming()  # what a dead worker was writing
        finally:
            _run_connection.reset(token)
        raw.ensure_schemas(con)
        raw.refresh_views(con)
        raw.settle_statuses(con)
        years = sorted({s.reporting_year for s in summaries if s.reporting_year is not None})
        statuses = _status_counts(con, years)
        rows = _rows_in_force(con, years)
        for summary in summaries:
            if summary.reporting_year is not None:
                summary.status_counts = statuses[summary.reporting_year]
                summary.rows_in_force = rows[summary.reporting_year]
    finished_at = landing.utc_now()
    for summary in summaries:
        summary.finished_at = finished_at
    return summaries


def _raise_failed(summaries: list[IngestSummary]) -> None:
    lines = [f"{outcome.source_path}: {outcome.note}" for s in summaries for outcome in s.failed]
    raise IngestError(
        "Ingestion could not process "
        + ("this entry" if len(lines) == 1 else f"these {len(lines)} entries")
        + " (the others were ingested; rerun once the cause is fixed):\n"
        + "\n".join(lines)
    )


def _in_years(years: list[int]) -> str:
    return "reporting_year IN (" + ", ".join(str(int(y)) for y in years) + ")"


def _status_counts(con, years: list[int]) -> dict[int, dict[str, int]]:
    """Versions of each year by audit status."""
    counts: dict[int, dict[str, int]] = {year: {} for year in years}
    if years:
        for year, status, n in con.execute(
            f"SELECT reporting_year, status, count(*) FROM audit.submissions "
            f"WHERE {_in_years(years)} GROUP BY ALL ORDER BY reporting_year, status"
        ).fetchall():
            counts[year][status] = n
    return counts


def _rows_in_force(con, years: list[int]) -> dict[int, dict[str, int]]:
    """Rows of each year's versions in force, per raw table (``submissions``: bases in force).

    Counted from the landed files' footers: a file holds the rows of the version it is named
    after, and a version in force has every file (landing comes before the audit), so neither
    the rows nor the raw views' commit rule need reading.
    """
    counts = {year: {table: 0 for table in raw.TABLES} for year in years}
    if not years:
        return counts
    in_force = {
        sid
        for (sid,) in con.execute(
            f"SELECT submission_id FROM audit.submissions WHERE status = 'accepted' AND "
            f"{_in_years(years)}"
        ).fetchall()
    }
    for table in raw.TABLES:
        folders = [landing.year_folder(table, year) for year in years]
        globs = [(f / "*.parquet").as_posix() for f in folders if any(f.glob("*.parquet"))]
        if not globs:
            continue
        for file_name, num_rows in con.execute(
            "SELECT file_name, num_rows FROM parquet_file_metadata(?)", [globs]
        ).fetchall():
            path = Path(file_name)
            if path.stem in in_force:
                year = int(path.parent.name.removeprefix("reporting_year="))
                counts[year][table] += num_rows
    return counts


def ingest_year(reporting_year: int, *, run_id: str | None = None) -> IngestSummary:
    """Ingest ``inbox/<year>/`` (and record any stray outside the year folders)."""
    entries = inbox.scan_year(reporting_year) + inbox.scan_strays()
    [summary] = _ingest([(reporting_year, entries)], run_id)
    if summary.failed:
        _raise_failed([summary])
    return summary


def ingest_all(*, run_id: str | None = None) -> list[IngestSummary]:
    """Ingest every year folder of the inbox, oldest first; strays are recorded with the first."""
    groups: list[tuple[int | None, list[InboxEntry]]] = [
        (year, inbox.scan_year(year)) for year, _folder in inbox.year_folders()
    ]
    strays = inbox.scan_strays()
    if groups:
        groups[0][1].extend(strays)
    else:
        groups.append((None, strays))
    summaries = _ingest(groups, run_id)
    if any(s.failed for s in summaries):
        _raise_failed(summaries)
    return summaries
