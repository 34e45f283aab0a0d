"""The pipeline in process: the Dagster jobs the sensor and schedules launch, run here with progress.

``run_pipeline`` is what ``parkwh run`` (and ``make demo``) calls. It runs the very jobs of the
code location (``parkwh.defs.operations``) with ``execute_in_process`` on the warehouse's own
Dagster instance (``warehouse/dagster_home``), so its runs show in the UI of ``make dev`` beside
the sensor's and the schedules'. Without ``--year`` it ingests every reporting year that has an
inbox folder, one ``ingest`` run per year, and then runs ``pipeline`` for the latest year, which
ingests that year and builds, checks and publishes everything once.

Only one process writes the warehouse at a time (DuckDB allows one writer per file): a run here
holds the warehouse's writer lock from start to end, so a second ``parkwh run`` waits for the
first and then runs. It also waits for the runs Dagster is executing (``make dev``: the
sensor's, a schedule's, one started in the UI) to finish; a run Dagster starts meanwhile
waits at its first writing step until this one is done.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import dagster as dg
import duckdb
import filelock

from parkwh import config, db
from parkwh.defs import operations

LAUNCHED_BY_TAG = "parkwh/launched_by"
LAUNCHER = "parkwh_run"
PID_TAG = "parkwh/pid"

_DUCKDB_LOCK_MESSAGE = "Could not set lock on file"
_IN_PROGRESS = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


class PipelineError(RuntimeError):
    """The pipeline cannot start: the message says why and what to do, in one line."""


# ---------------------------------------------------------------------------- progress


@dataclass(frozen=True)
class ProgressEvent:
    """One thing a run did, for a progress display.

    ``kind``: ``waiting`` (for another writer), ``run`` (a job run starts: ``label`` is the job
    and partition), ``planned`` (an asset or check will run in ``stage``), ``done`` (it ran:
    ``ok`` says whether it passed), ``skipped`` (it was not built: an upstream failure or the
    closed gate), ``failed`` (a step failed: ``message`` says why), ``finished`` (a run ended).
    """

    kind: str
    stage: str | None = None
    label: str | None = None
    ok: bool = True
    message: str | None = None


ProgressCallback = Callable[[ProgressEvent], None]


# ---------------------------------------------------------------------------- the summary


@dataclass
class JobRun:
    job: str
    partition: str | None
    run_id: str
    success: bool = False
    seconds: float = 0.0


@dataclass
class YearFiles:
    """What ingestion did with one reporting year's inbox."""

    accepted: int = 0
    rejected: int = 0
    unchanged: int = 0
    skipped: int = 0
    bases_in_force: int = 0
    rejected_files: list[str] = field(default_factory=list)


@dataclass
class CheckOutcome:
    asset: str
    name: str
    passed: bool
    severity: str
    description: str | None = None


@dataclass
class RunSummary:
    """What ``run_pipeline`` did: runs, files, rows, checks and what was published."""

    years: list[int]
    runs: list[JobRun] = field(default_factory=list)
    planned: Counter = field(default_factory=Counter)
    """Assets (and, for ``check``, checks) planned per stage."""
    done: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    files: dict[int, YearFiles] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    """``dagster/row_count`` of every asset materialised, by asset key."""
    stage_rows: Counter = field(default_factory=Counter)
    checks: list[CheckOutcome] = field(default_factory=list)
    published: dict[str, dict[str, object]] = field(default_factory=dict)
    """Publishing assets materialised, with their metadata (paths, row counts)."""
    gate: str | None = None
    """``open`` or ``closed`` when the quality gate ran."""
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    listener_errors: list[str] = field(default_factory=list)
    """Events the summary could not read (a bug of the display, never of the run)."""

    @property
    def success(self) -> bool:
        return bool(self.runs) and all(r.success for r in self.runs) and not self.errors

    def checks_with(self, outcome: str) -> list[CheckOutcome]:
        """Checks that ``passed``, or did not pass with severity ``ERROR`` or ``WARN``.

        The gate's own verdict (``publication_gate``, repeated on each asset it guards) is not
        counted here: ``gate`` holds it.
        """
        from parkwh.quality.checks import GATE_CHECK_NAME

        checks = [c for c in self.checks if c.name != GATE_CHECK_NAME]
        if outcome == "passed":
            return [c for c in checks if c.passed]
        return [c for c in checks if not c.passed and c.severity == outcome]

    def failure(self) -> str:
        """Why the pipeline did not succeed, in one line."""
        if self.gate == "closed":
            failed = self.checks_with("ERROR")
            first = ""
            if failed:
                why = _first_line(failed[0].description)
                why = why if len(why) <= 160 else why[:157] + "..."
                first = f": {failed[0].asset} {failed[0].name}: {why}"
            more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
            return (
                f"the quality gate is closed{first}{more}. Nothing new was published; the "
                "previous publication stays (see the quality report)"
            )
        if self.errors:
            more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
            return self.errors[0] + more
        failed = next((r for r in self.runs if not r.success), None)
        return f"the {failed.job} run failed" if failed else "nothing ran"


# ---------------------------------------------------------------------------- events


def _value(metadata_value: object) -> object:
    return getattr(metadata_value, "value", metadata_value)


def _first_line(text: str | None) -> str:
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


def _root_message(error) -> str:
    """The first line of the innermost cause: what went wrong, not Dagster's wrapper of it."""
    messages = []
    while error is not None:
        messages.append(_first_line(error.message))
        error = error.cause or getattr(error, "context", None)
    lock = next((m for m in messages if _DUCKDB_LOCK_MESSAGE in m), None)
    return lock or next((m for m in reversed(messages) if m), "")


def _explain(message: str) -> str:
    if _DUCKDB_LOCK_MESSAGE in message:
        return (
            f"the warehouse file {config.warehouse().database} is held open by another program "
            "(a DuckDB client or BI tool): close it, or point readers at published.duckdb, and "
            "run again"
        )
    return message


class _Collector:
    """Listens to one run's events: feeds the summary and the progress callback."""

    def __init__(self, summary: RunSummary, stages: dict[dg.AssetKey, str], progress):
        self.summary = summary
        self.stages = stages
        self.progress = progress

    def _stage(self, key: dg.AssetKey | None) -> str:
        return self.stages.get(key, "transform") if key is not None else "transform"

    def __call__(self, entry: dg.EventLogEntry) -> None:
        # Called inside Dagster's logging of the event: an exception here would fail the step
        # that emitted it, so a display problem must never escape.
        try:
            self._handle(entry)
        except Exception as exc:  # noqa: BLE001
            self.summary.listener_errors.append(f"{type(exc).__name__}: {exc}")

    def _handle(self, entry: dg.EventLogEntry) -> None:
        event = entry.dagster_event
        if event is None:
            return
        kind = event.event_type
        summary = self.summary
        if kind == dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED:
            stage = self._stage(event.asset_key)
            summary.planned[stage] += 1
            self.progress(ProgressEvent("planned", stage, event.asset_key.to_user_string()))
        elif kind == dg.DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED:
            summary.planned["check"] += 1
            self.progress(ProgressEvent("planned", "check"))
        elif kind == dg.DagsterEventType.ASSET_MATERIALIZATION:
            self._materialized(entry.asset_materialization)
        elif kind == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            self._checked(entry.asset_check_evaluation)
        elif kind == dg.DagsterEventType.ASSET_FAILED_TO_MATERIALIZE:
            stage = self._stage(event.asset_key)
            summary.skipped[stage] += 1
            label = event.asset_key.to_user_string() if event.asset_key else None
            self.progress(ProgressEvent("skipped", stage, label, ok=False))
        elif kind == dg.DagsterEventType.STEP_FAILURE:
            error = event.step_failure_data.error if event.step_failure_data else None
            message = _explain(_root_message(error) if error else _first_line(event.message))
            summary.errors.append(f"step {event.step_key} failed: {message}")
            self.progress(ProgressEvent("failed", None, event.step_key, ok=False, message=message))

    def _materialized(self, materialization: dg.AssetMaterialization) -> None:
        key = materialization.asset_key
        stage = self._stage(key)
        label = key.to_user_string()
        metadata = {name: _value(v) for name, v in materialization.metadata.items()}
        summary = self.summary
        summary.done[stage] += 1
        rows = metadata.get("dagster/row_count")
        if isinstance(rows, int):
            summary.rows[label] = rows
            summary.stage_rows[stage] += rows
        if key == dg.AssetKey(["raw", "submissions"]) and materialization.partition:
            summary.files[int(materialization.partition)] = YearFiles(
                accepted=int(metadata.get("files_accepted", 0)),
                rejected=int(metadata.get("files_rejected", 0)),
                unchanged=int(metadata.get("files_unchanged", 0)),
                skipped=int(metadata.get("files_skipped", 0)),
                bases_in_force=int(metadata.get("bases_in_force", 0)),
                rejected_files=[
                    line[2:].strip()
                    for line in str(metadata.get("rejected_files", "")).splitlines()
                    if line.startswith("- ")
                ],
            )
        if stage == "publish":
            summary.published[label] = metadata
        detail = f"{label} [{materialization.partition}]" if materialization.partition else label
        self.progress(ProgressEvent("done", stage, detail))

    def _checked(self, evaluation: dg.AssetCheckEvaluation) -> None:
        from parkwh.quality.checks import GATE_CHECK_NAME

        severity = evaluation.severity.value if evaluation.severity else "ERROR"
        outcome = CheckOutcome(
            asset=evaluation.asset_key.to_user_string(),
            name=evaluation.check_name,
            passed=evaluation.passed,
            severity=severity,
            description=evaluation.description,
        )
        self.summary.checks.append(outcome)
        self.summary.done["check"] += 1
        if evaluation.check_name == GATE_CHECK_NAME:
            gate = _value(evaluation.metadata.get("gate")) if evaluation.metadata else None
            closed = not evaluation.passed or gate == "closed" or self.summary.gate == "closed"
            self.summary.gate = "closed" if closed else "open"
        self.progress(
            ProgressEvent("done", "check", f"{outcome.asset}: {outcome.name}", ok=evaluation.passed)
        )


# ---------------------------------------------------------------------------- the instance and lock


@contextlib.contextmanager
def warehouse_instance() -> Iterator[dg.DagsterInstance]:
    """The warehouse's own Dagster instance (``warehouse/dagster_home``), as ``make dev`` uses it."""
    from parkwh.commands.dev import prepare_dagster_home

    home = prepare_dagster_home()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        yield instance


@contextlib.contextmanager
def _writer_lock(progress: ProgressCallback) -> Iterator[None]:
    lock = db.writer_lock(timeout=0)
    try:
        lock.__enter__()
    except filelock.Timeout:
        progress(
            ProgressEvent(
                "waiting",
                message="another run is writing the warehouse: this one starts when it is done",
            )
        )
        lock = db.writer_lock()
        lock.__enter__()
    try:
        yield
    finally:
        lock.__exit__(None, None, None)


DAEMON_ALIVE_SECONDS = 120
"""A Dagster daemon whose last heartbeat is older than this is not running."""
POLL_SECONDS = 2.0


def _dagster_runs_in_progress(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    """Runs Dagster itself is executing now (launched from the UI, the sensor or a schedule).

    Only while a daemon runs (``make dev``): without one, a run left "started" was cut short
    when Dagster stopped, and nothing will finish it.
    """
    now = time.time()
    beats = instance.get_daemon_heartbeats()
    if not any(now - beat.timestamp < DAEMON_ALIVE_SECONDS for beat in beats.values()):
        return []
    runs = instance.get_runs(
        filters=dg.RunsFilter(
            statuses=[
                dg.DagsterRunStatus.STARTING,
                dg.DagsterRunStatus.STARTED,
                dg.DagsterRunStatus.CANCELING,
            ]
        )
    )
    return [run for run in runs if run.tags.get(LAUNCHED_BY_TAG) != LAUNCHER]


def _wait_for_dagster_runs(instance: dg.DagsterInstance, progress: ProgressCallback) -> None:
    told = False
    while running := _dagster_runs_in_progress(instance):
        if not told:
            names = ", ".join(f"{run.job_name} ({run.run_id[:8]})" for run in running)
            progress(
                ProgressEvent(
                    "waiting",
                    message=f"Dagster is running {names}: this run starts when it is done",
                )
            )
            told = True
        time.sleep(POLL_SECONDS)


def _fail_orphaned_runs(instance: dg.DagsterInstance) -> None:
    """Mark as failed the runs of ``parkwh run`` processes that died mid-run.

    Holding the writer lock, no other ``parkwh run`` on this warehouse is running, so any of
    their runs still "in progress" was interrupted. Left alone, it would count against the
    instance's run queue (one run at a time) and hold every queued run back for ever.
    """
    stale = instance.get_runs(
        filters=dg.RunsFilter(statuses=_IN_PROGRESS, tags={LAUNCHED_BY_TAG: LAUNCHER})
    )
    for run in stale:
        instance.report_run_failed(
            run, "The parkwh run process that started this run ended before it finished."
        )


# ---------------------------------------------------------------------------- planning


def plan_runs(
    years: Sequence[int] | None, job: str = operations.PIPELINE_JOB
) -> list[tuple[str, int | None]]:
    """The (job, reporting year) runs to execute, in order; raises ``PipelineError`` if none can."""
    jobs = {j.name: j for j in operations.JOBS}
    if job not in jobs:
        raise PipelineError(f"no job named {job!r}; the jobs are {', '.join(jobs)}")
    partitioned = job in (operations.PIPELINE_JOB, operations.ingest_job.name)
    known = operations.reporting_years()
    if not partitioned:
        if years:
            raise PipelineError(
                f"the {job} job covers every reporting year at once: drop --year, or run the "
                "ingest or pipeline job"
            )
        return [(job, None)]
    if years:
        unknown = sorted(set(years) - set(known))
        if unknown:
            raise PipelineError(
                f"{', '.join(map(str, unknown))} is no reporting year parkwh evaluates: a year "
                f"is evaluated once it is over ({known[0]}–{known[-1]})"
            )
        chosen = sorted(set(years))
    else:
        chosen, _ = operations.inbox_years()
        if not chosen:
            inbox_folder = config.warehouse().inbox
            raise PipelineError(
                f"the inbox {inbox_folder} holds no reporting-year folder ({known[0]}–{known[-1]}): "
                "put submissions in inbox/<year>/, or write the demo with parkwh demo"
            )
    if job == operations.ingest_job.name:
        return [(job, year) for year in chosen]
    return [(operations.ingest_job.name, year) for year in chosen[:-1]] + [(job, chosen[-1])]


def _years_already_ingested(years: Sequence[int]) -> dict[int, YearFiles]:
    """The years among ``years`` whose every inbox entry the audit records already, as they are.

    Ingesting such a year again would find every file unchanged, so ``parkwh run`` skips its
    ingest run (the latest year's is never skipped: the pipeline run ingests it). An entry counts
    as recorded when its version id (year, base, sha256 of its bytes) is in the audit: archived
    but not recorded (a run killed in between) is not enough. Strays ride with the first year.
    Called holding the writer lock.
    """
    from parkwh.ingest import inbox
    from parkwh.ingest.run import submission_id

    if not years or not config.warehouse().database.exists():
        return {}
    try:
        with db.connect(read_only=True) as connection:
            recorded = dict(
                connection.execute("select submission_id, status from audit.submissions").fetchall()
            )
            in_force = dict(
                connection.execute(
                    "select reporting_year, count(*) from audit.submissions "
                    "where status = 'accepted' and kind = 'submission' group by reporting_year"
                ).fetchall()
            )
    except duckdb.Error:  # no audit yet, or a file another program holds: ingest as usual
        return {}
    unchanged: dict[int, YearFiles] = {}
    strays = inbox.scan_strays()
    for year in sorted(years):
        entries = inbox.scan_year(year) + strays
        strays = []
        try:
            ids = [submission_id(e, operations.entry_sha256(e)) for e in entries]
        except OSError:  # moved while we looked: let ingestion deal with it
            break
        if any(i not in recorded for i in ids):
            continue
        unchanged[year] = YearFiles(
            unchanged=len(ids),
            bases_in_force=int(in_force.get(year, 0)),
            rejected_files=[],
        )
    return unchanged


def _load_definitions() -> dg.Definitions:
    from parkwh.definitions import defs

    return defs


def _noop(_event: ProgressEvent) -> None:
    return None


# ---------------------------------------------------------------------------- the runner


def run_pipeline(
    years: Sequence[int] | None = None,
    *,
    job: str = operations.PIPELINE_JOB,
    progress: ProgressCallback | None = None,
    instance: dg.DagsterInstance | None = None,
    console_log_level: str = "WARNING",
) -> RunSummary:
    """Run ``job`` in process (``pipeline``: ingest every year, then everything once).

    ``years``: reporting years to run (default: every year folder of the inbox). ``instance``:
    the Dagster instance to record runs in (default: the warehouse's own). Returns what happened;
    a failed step or a closed gate is in the summary, not an exception. Raises ``PipelineError``
    when nothing can start (no inbox, a year parkwh does not evaluate). ``console_log_level``:
    what of Dagster's log reaches the console (the run's event log keeps everything).
    """
    progress = progress or _noop
    started = time.perf_counter()
    plan = plan_runs(years, job)
    partitions = [year for _, year in plan if year is not None]
    summary = RunSummary(years=sorted(set(partitions)))
    definitions = _load_definitions()
    stages = operations.stage_of_assets(definitions.resolve_asset_graph())

    with contextlib.ExitStack() as stack:
        if instance is None:
            # Opened holding the lock: two processes must not create its storage at once.
            with _writer_lock(progress):
                instance = stack.enter_context(warehouse_instance())
        if instance.is_persistent:
            # A run that `make dev` launched goes first, whole: not only step by step.
            _wait_for_dagster_runs(instance, progress)
        stack.enter_context(_writer_lock(progress))
        if instance.is_persistent:
            _fail_orphaned_runs(instance)
        if years is None and job == operations.PIPELINE_JOB:
            unchanged = _years_already_ingested(
                [year for job_name, year in plan if job_name == operations.ingest_job.name]
            )
            summary.files.update(unchanged)
            plan = [run for run in plan if run[1] not in unchanged or run[0] != "ingest"]
        for job_name, year in plan:
            run = JobRun(
                job=job_name, partition=str(year) if year else None, run_id=str(uuid.uuid4())
            )
            summary.runs.append(run)
            tags = {
                **operations.run_tags(LAUNCHER, year),
                LAUNCHED_BY_TAG: LAUNCHER,
                PID_TAG: str(os.getpid()),
            }
            instance.add_event_listener(run.run_id, _Collector(summary, stages, progress))
            label = f"{job_name} {year}" if year is not None else job_name
            progress(ProgressEvent("run", label=label))
            run_started = time.perf_counter()
            result = definitions.resolve_job_def(job_name).execute_in_process(
                instance=instance,
                partition_key=run.partition,
                run_id=run.run_id,
                tags=tags,
                raise_on_error=False,
                run_config={"loggers": {"console": {"config": {"log_level": console_log_level}}}},
            )
            run.success = result.success
            run.seconds = time.perf_counter() - run_started
            progress(ProgressEvent("finished", label=label, ok=run.success))
            if not run.success:
                break
    summary.seconds = time.perf_counter() - started
    return summary
