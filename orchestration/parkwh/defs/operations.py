"""Dagster operations: the jobs by stage of the work, the inbox sensor and the schedules.

Jobs select by asset group and key prefix, never by lists of assets, so the assets and checks
other areas add (the method, the quality gate, publishing) join the right job as they appear:

- ``ingest`` (one reporting year): the inbox into ``raw``;
- ``transform``: the dbt warehouse model from ``raw`` to the marts, with its dbt tests;
- ``score``: the ranking method (the ``method`` group);
- ``check``: every check (dbt tests and the quality suites) on the warehouse as it is;
- ``publish``: the quality gate, then what it guards: the published tables, the exports,
  published.duckdb and the report;
- ``pipeline`` (one reporting year): all of it, in order. The inbox sensor, both schedules and
  ``parkwh run`` launch this one.

Every job runs its steps in one process, one after another: DuckDB allows one writer per file,
so there is nothing to gain from parallel steps, and the instance's run queue (one run at a
time) keeps runs from overlapping. Anything outside Dagster takes the warehouse's file lock.
"""

# No `from __future__ import annotations`: Dagster reads the context annotations at definition time.
import datetime as dt
import hashlib
import json
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from parkwh.defs import transform as _dbt_area
from parkwh.defs.partitions import reporting_year_partitions
from parkwh.ingest import archive, inbox
from parkwh.ingest.inbox import InboxEntry
from parkwh.quality.checks import PUBLISHING_PREFIXES

# ---------------------------------------------------------------------------- stages and jobs

STAGES = ("ingest", "transform", "score", "check", "publish")
"""The stages of the work, in order; every asset belongs to one, every check to ``check``."""

PIPELINE_JOB = "pipeline"

INGEST_ASSETS = dg.AssetSelection.groups("ingest")
PUBLISH_ASSETS = dg.AssetSelection.key_prefixes(
    *([prefix] for prefix in PUBLISHING_PREFIXES)
) | dg.AssetSelection.groups("published", "publish")
"""What publishes: the key prefixes the quality gate guards, and the publishing groups."""
SCORE_ASSETS = dg.AssetSelection.groups("method") - PUBLISH_ASSETS
TRANSFORM_ASSETS = dg.AssetSelection.all() - INGEST_ASSETS - SCORE_ASSETS - PUBLISH_ASSETS

_DBT_DEFINITIONS = [a for a in _dbt_area.defs.assets or () if isinstance(a, dg.AssetsDefinition)]
DBT_MODELS = dg.AssetSelection.assets(*_DBT_DEFINITIONS)
DBT_TESTS = dg.AssetSelection.checks(*_DBT_DEFINITIONS)
"""The dbt models and dbt's own tests, whichever dbt asset definitions the dbt area makes."""
QUALITY_CHECKS = dg.AssetSelection.all_asset_checks() - DBT_TESTS
"""Every check that is no dbt test: the quality gate's suites. The gate runs its suites in one
step that cannot be split, so a job takes all of its checks or none."""

STAGE_SELECTIONS: dict[str, dg.AssetSelection] = {
    "ingest": INGEST_ASSETS,
    "transform": TRANSFORM_ASSETS,
    "score": SCORE_ASSETS,
    "publish": PUBLISH_ASSETS,
}


def stage_of_assets(asset_graph) -> dict[dg.AssetKey, str]:
    """The stage of every asset of a resolved asset graph (``Definitions.resolve_asset_graph()``)."""
    found: dict[dg.AssetKey, str] = {}
    for stage, selection in STAGE_SELECTIONS.items():
        for key in selection.resolve(asset_graph):
            found.setdefault(key, stage)
    return found


def _job(name: str, selection: dg.AssetSelection, description: str):
    # A job that selects a year-partitioned asset (ingest) is partitioned by reporting year;
    # Dagster infers that from the assets.
    return dg.define_asset_job(
        name, selection=selection, description=description, executor_def=dg.in_process_executor
    )


ingest_job = _job(
    "ingest",
    INGEST_ASSETS,
    "Ingest one reporting year's inbox: archive, validate, land accepted parts in raw, record "
    "every version and problem in the audit tables.",
)
transform_job = _job(
    "transform",
    TRANSFORM_ASSETS - QUALITY_CHECKS,
    "Build the warehouse model from raw to the marts with dbt, and run its dbt tests.",
)
score_job = _job(
    "score",
    SCORE_ASSETS - QUALITY_CHECKS,
    "Score and rank the bases by the method in force (the method group).",
)
check_job = _job(
    "check",
    dg.AssetSelection.all_asset_checks(),
    "Run every check on the warehouse as it is: the dbt tests and the data-quality suites "
    "(the quality report and audit.check_results are written); nothing is rebuilt.",
)
publish_job = _job(
    "publish",
    (PUBLISH_ASSETS - QUALITY_CHECKS) | QUALITY_CHECKS,
    "Run the quality gate on the warehouse as built and, when it is open, publish: the "
    "published tables, the Parquet exports and a new publication version, published.duckdb and "
    "the reports. A closed gate publishes nothing and the previous publication stays.",
)
pipeline_job = _job(
    PIPELINE_JOB,
    dg.AssetSelection.all(),
    "Everything for one reporting year, in order: ingest the year's inbox, transform, score, "
    "check, and publish if the quality gate is open. The inbox sensor, the schedules and "
    "`parkwh run` launch this job.",
)

JOBS = (ingest_job, transform_job, score_job, check_job, publish_job, pipeline_job)

# ---------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class OperationSettings:
    """When things run: read from the environment, so each installation sets its own calendar.

    - ``PARKWH_SUBMISSION_DEADLINE`` (``MM-DD``, default ``04-30``): the day by which bases submit
      the previous year's figures; the yearly publication runs the morning after.
    - ``PARKWH_TIMEZONE`` (default ``Asia/Shanghai``): the schedules' clock.
    - ``PARKWH_NIGHTLY_CRON`` (default ``0 2 * * *``): the nightly rebuild-and-check.
    - ``PARKWH_INBOX_SENSOR_SECONDS`` (default 30): how often the sensor looks at the inbox.
    - ``PARKWH_INBOX_SETTLE_SECONDS`` (default 5): a file changed more recently than this is
      still being copied; the sensor looks at it again on its next tick.
    """

    deadline_month: int = 4
    deadline_day: int = 30
    timezone: str = "Asia/Shanghai"
    nightly_cron: str = "0 2 * * *"
    sensor_seconds: int = 30
    settle_seconds: float = 5.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "OperationSettings":
        env = os.environ if env is None else env
        defaults = cls()
        deadline = env.get("PARKWH_SUBMISSION_DEADLINE", "").strip()
        month, day = defaults.deadline_month, defaults.deadline_day
        if deadline:
            match = re.fullmatch(r"(\d{1,2})-(\d{1,2})", deadline)
            try:
                if match is None:
                    raise ValueError
                month, day = int(match[1]), int(match[2])
                dt.date(2000, month, day)  # a leap year: 02-29 is a valid deadline
            except ValueError:
                raise ValueError(
                    f"PARKWH_SUBMISSION_DEADLINE must be a day of the year as MM-DD (e.g. 04-30), "
                    f"not {deadline!r}"
                ) from None
        return cls(
            deadline_month=month,
            deadline_day=day,
            timezone=env.get("PARKWH_TIMEZONE", defaults.timezone),
            nightly_cron=env.get("PARKWH_NIGHTLY_CRON", defaults.nightly_cron),
            sensor_seconds=_number(
                env, "PARKWH_INBOX_SENSOR_SECONDS", defaults.sensor_seconds, int
            ),
            settle_seconds=_number(
                env, "PARKWH_INBOX_SETTLE_SECONDS", defaults.settle_seconds, float
            ),
        )

    @property
    def publication_day(self) -> tuple[int, int]:
        """(month, day) of the yearly publication run: the day after the deadline."""
        # Counted in a year without 29 February, so a 02-28 deadline publishes on 1 March.
        try:
            deadline = dt.date(2001, self.deadline_month, self.deadline_day)
        except ValueError:  # 02-29
            deadline = dt.date(2001, 2, 28)
        after = deadline + dt.timedelta(days=1)
        return after.month, after.day

    @property
    def yearly_cron(self) -> str:
        month, day = self.publication_day
        return f"0 6 {day} {month} *"


def _number(env: Mapping[str, str], name: str, default, kind):
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = kind(text)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, not {text!r}") from None
    if value < 0:
        raise ValueError(f"{name} must not be negative, not {text!r}")
    return value


SETTINGS = OperationSettings.from_env()

# ---------------------------------------------------------------------------- run tags

TRIGGER_TAG = "parkwh/trigger"
YEAR_TAG = "parkwh/reporting_year"
FILES_TAG = "parkwh/files"


def run_tags(trigger: str, year: int | None = None) -> dict[str, str]:
    """What started a run and for which reporting year: shown and filterable in the UI."""
    tags = {TRIGGER_TAG: trigger}
    if year is not None:
        tags[YEAR_TAG] = str(year)
    return tags


# ---------------------------------------------------------------------------- fingerprints

_CHUNK = 1 << 20
_SHORT = 16
"""Hex digits of a sha256 the cursor keeps per version seen: 64 bits tell versions apart."""


def _members(entry: InboxEntry) -> list[tuple[str, Path]]:
    return archive.folder_members(entry) if entry.path.is_dir() else [(entry.path.name, entry.path)]


def stat_key(entry: InboxEntry) -> tuple[str, int]:
    """(a key that changes when the entry's files change, the newest modification time in ns).

    Size and modification time of each file: cheap, and what tells the sensor it must read the
    bytes again.
    """
    if not entry.path.is_dir():
        stat = entry.path.stat()
        return f"{stat.st_size}:{stat.st_mtime_ns}", stat.st_mtime_ns
    parts, newest = [], entry.path.stat().st_mtime_ns
    for name, member in _members(entry):
        stat = member.stat()
        parts.append(f"{name}\0{stat.st_size}\0{stat.st_mtime_ns}")
        newest = max(newest, stat.st_mtime_ns)
    return "d:" + hashlib.sha256("\n".join(parts).encode()).hexdigest()[:_SHORT], newest


def entry_sha256(entry: InboxEntry) -> str:
    """The entry's sha256 exactly as ingestion and the archive compute it.

    A file: its bytes. A folder: each file it covers, sorted by name, as ``name NUL size NUL
    bytes`` (a CSV submission covers its CSV files, a stray folder every file).
    """
    digest = hashlib.sha256()
    if not entry.path.is_dir():
        with entry.path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
        return digest.hexdigest()
    for name, member in _members(entry):
        data = member.read_bytes()
        digest.update(name.encode("utf-8") + b"\0" + str(len(data)).encode() + b"\0")
        digest.update(data)
    return digest.hexdigest()


def is_archived(sha256: str, relative_path: str) -> bool:
    """True when the archive holds these bytes: ingestion has seen them already."""
    return archive.archived_path(sha256, relative_path).exists()


def reporting_years(current_time: dt.datetime | None = None) -> list[int]:
    """The reporting years Dagster knows (partitions), oldest first."""
    return [
        int(key) for key in reporting_year_partitions.get_partition_keys(current_time=current_time)
    ]


def inbox_years(current_time: dt.datetime | None = None) -> tuple[list[int], list[int]]:
    """(year folders of the inbox that are reporting years, year folders that are not)."""
    known = set(reporting_years(current_time))
    folders = [year for year, _ in inbox.year_folders()]
    return [y for y in folders if y in known], [y for y in folders if y not in known]


# ---------------------------------------------------------------------------- the inbox sensor


@dataclass
class InboxCursor:
    """What the inbox sensor remembers between ticks (and restarts: Dagster stores the cursor).

    ``entries``: path → (stat key, sha256) of what the inbox held at the last tick, so unchanged
    files are not read again. ``seen``: path → short sha256 of every version that path has had
    a run for (or that was ingested before the sensor first looked), so the same bytes never
    start a second run, even after a file is removed and put back.
    """

    entries: dict[str, tuple[str, str]] = field(default_factory=dict)
    seen: dict[str, list[str]] = field(default_factory=dict)

    VERSION = 1

    @classmethod
    def from_json(cls, text: str | None) -> "InboxCursor | None":
        if not text:
            return None
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            return None
        if not isinstance(data, dict) or data.get("version") != cls.VERSION:
            return None
        return cls(
            entries={k: (v[0], v[1]) for k, v in data.get("entries", {}).items()},
            seen={k: list(v) for k, v in data.get("seen", {}).items()},
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": self.VERSION,
                "entries": {k: list(v) for k, v in sorted(self.entries.items())},
                "seen": {k: v for k, v in sorted(self.seen.items())},
            },
            separators=(",", ":"),
            ensure_ascii=False,
        )


@dataclass
class InboxTick:
    """What one look at the inbox found."""

    cursor: InboxCursor
    new: dict[int, list[str]]
    """Reporting year → paths of entries with bytes no run has been started for."""
    settling: list[str] = field(default_factory=list)
    """Entries still changing (being copied): looked at again next tick."""
    unknown_years: list[int] = field(default_factory=list)
    """Year folders that are no reporting year (yet): e.g. the year in progress."""

    def run_key(self, year: int) -> str:
        versions = sorted(f"{p}@{self.cursor.entries[p][1]}" for p in self.new[year])
        return f"inbox-{year}-" + hashlib.sha256("\n".join(versions).encode()).hexdigest()[:20]

    def skip_reason(self) -> str:
        parts = ["No new or changed file in the inbox."]
        if self.settling:
            parts.append(
                f"Still being copied, looked at again next tick: {', '.join(self.settling[:5])}"
                + (f" and {len(self.settling) - 5} more." if len(self.settling) > 5 else ".")
            )
        if self.unknown_years:
            parts.append(
                "Not a reporting year Dagster knows (a year is evaluated once it is over): "
                + ", ".join(f"inbox/{y}/" for y in self.unknown_years)
                + "."
            )
        return " ".join(parts)


def look_at_inbox(
    cursor_text: str | None,
    *,
    now: float | None = None,
    settle_seconds: float | None = None,
    current_time: dt.datetime | None = None,
) -> InboxTick:
    """Compare the inbox with the cursor: which entries hold bytes no run was started for.

    On the very first look (no cursor) an entry whose bytes are already in the archive has been
    ingested (by ``parkwh run``, say) and starts nothing: only what is new to the warehouse does.
    """
    previous = InboxCursor.from_json(cursor_text)
    first_look = previous is None
    previous = previous or InboxCursor()
    now = time.time() if now is None else now
    settle = SETTINGS.settle_seconds if settle_seconds is None else settle_seconds
    years, unknown = inbox_years(current_time)
    cursor = InboxCursor(entries={}, seen={k: list(v) for k, v in previous.seen.items()})
    tick = InboxTick(cursor=cursor, new={}, unknown_years=unknown)
    for year in years:
        for entry in inbox.scan_year(year):
            relative = entry.relative_path()
            try:
                key, newest = stat_key(entry)
                # Changed moments ago: probably still being copied. (A modification time in the
                # future is no copy in progress, only a clock that differs.)
                if 0 <= now - newest / 1e9 < settle:
                    tick.settling.append(relative)
                    if relative in previous.entries:
                        cursor.entries[relative] = previous.entries[relative]
                    continue
                cached = previous.entries.get(relative)
                # The stat key is taken before the bytes are read: a change made while they are
                # read shows as a new stat key next tick, and the bytes are read again then.
                sha = cached[1] if cached and cached[0] == key else entry_sha256(entry)
            except FileNotFoundError:  # removed while we looked
                continue
            cursor.entries[relative] = (key, sha)
            seen = cursor.seen.setdefault(relative, [])
            if sha[:_SHORT] in seen:
                continue
            seen.append(sha[:_SHORT])
            if first_look and is_archived(sha, relative):
                continue
            tick.new.setdefault(year, []).append(relative)
    return tick


def _files_tag(paths: list[str]) -> str:
    text = ", ".join(Path(p).name for p in paths)
    return text if len(text) <= 200 else text[:197] + "..."


@dg.sensor(
    name="inbox_sensor",
    job=pipeline_job,
    minimum_interval_seconds=SETTINGS.sensor_seconds,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Watches warehouse/inbox/<year>/: a new or changed submission or expert score file starts "
        "one pipeline run for its reporting year (ingest, rebuild, check, publish if the gate is "
        "open). Files are told apart by the sha256 of their bytes: the same bytes never start a "
        "second run, and the cursor keeps what was seen across restarts."
    ),
)
def inbox_sensor(context: dg.SensorEvaluationContext):
    tick = look_at_inbox(context.cursor)
    requests = []
    for year in sorted(tick.new):
        paths = tick.new[year]
        context.log.info(f"inbox/{year}/: new or changed: {', '.join(paths)}")
        requests.append(
            dg.RunRequest(
                run_key=tick.run_key(year),
                partition_key=str(year),
                tags={**run_tags("inbox_sensor", year), FILES_TAG: _files_tag(paths)},
            )
        )
    return dg.SensorResult(
        run_requests=requests,
        cursor=tick.cursor.to_json(),
        skip_reason=None if requests else tick.skip_reason(),
    )


# ---------------------------------------------------------------------------- schedules


def _scheduled_time(context: dg.ScheduleEvaluationContext) -> dt.datetime:
    return context.scheduled_execution_time or dt.datetime.now(dt.UTC)


@dg.schedule(
    name="yearly_publication",
    cron_schedule=SETTINGS.yearly_cron,
    job=pipeline_job,
    execution_timezone=SETTINGS.timezone,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=(
        "The year's publication, the morning after the submission deadline "
        f"({SETTINGS.deadline_month:02d}-{SETTINGS.deadline_day:02d}, set by "
        "PARKWH_SUBMISSION_DEADLINE): the whole pipeline for the reporting year just submitted."
    ),
)
def yearly_publication(context: dg.ScheduleEvaluationContext):
    scheduled = _scheduled_time(context)
    year = scheduled.year - 1  # figures for a year are submitted in the following one
    if year not in reporting_years(scheduled):
        return dg.SkipReason(f"{year} is not a reporting year Dagster knows.")
    return dg.RunRequest(partition_key=str(year), tags=run_tags("yearly_publication", year))


def current_reporting_year(current_time: dt.datetime | None = None) -> int:
    """The year under evaluation: the latest reporting year with an inbox folder (else the last)."""
    years, _ = inbox_years(current_time)
    return years[-1] if years else reporting_years(current_time)[-1]


@dg.schedule(
    name="nightly_check",
    cron_schedule=SETTINGS.nightly_cron,
    job=pipeline_job,
    execution_timezone=SETTINGS.timezone,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=(
        "Every night, the current reporting year (the latest with an inbox folder): ingest, "
        "rebuild and check. It publishes only when something changed and the gate is open: the "
        "quality gate stops publication, and a publication makes a new version only when its "
        "submissions in force, the method or a published figure differ from the version in force."
    ),
)
def nightly_check(context: dg.ScheduleEvaluationContext):
    year = current_reporting_year(_scheduled_time(context))
    return dg.RunRequest(partition_key=str(year), tags=run_tags("nightly_check", year))


defs = dg.Definitions(
    jobs=list(JOBS),
    sensors=[inbox_sensor],
    schedules=[yearly_publication, nightly_check],
)
