"""``make bench``: time the whole pipeline on the demo at several scales, one line per scale.

``python -m parkwh.bench --scales 1,10,50`` runs, for each scale N, in a process of its own
(so that each scale's peak memory is its own) and in a warehouse folder of its own:

1. ``generate``: ``parkwh demo --scale N`` into the scale's inbox;
2. the pipeline, as ``parkwh run`` runs it, with the time of each stage: ``ingest``,
   ``transform`` (the dbt models up to the marts), ``score`` (the method and its Monte Carlo),
   ``check`` (dbt's tests and the quality suites) and ``publish``; the Monte Carlo's 1,000
   draws over 2023 are also timed on their own;
3. the **baseline**: the rows the pipeline typed (staging, versions in force) copied to Parquet,
   then DuckDB alone computing ``report_summary`` from those files in one query: the floor that
   no pipeline beats. ``× baseline`` is the pipeline's time (ingest to publish) over it;
4. a **resubmission**: one base sends a corrected 2023 file, and the pipeline runs again;
   ``resubmit`` is that run's time over the full run's.

Peak memory is the largest resident size of the scale's process tree (this process and every
child: dbt runs in its own), sampled every 0.2 s, and never less than ``getrusage`` reports.
Results go to stdout, and with ``--json FILE`` to a file; ``docs/performance.md`` keeps them.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Self

STAGES: tuple[str, ...] = ("generate", "ingest", "transform", "score", "check", "publish")
PIPELINE_STAGES: tuple[str, ...] = STAGES[1:]
BENCH_PII_KEY = "parkwh-bench-key-not-secret"
RESUBMITTED_YEAR = 2023

TARGETS = {
    "scale 1 end to end": "under 60 s",
    "scale 10 end to end": "under 600 s, peak memory under 4 GB",
    "one base resubmitted": "republished in under 0.1 of the full run",
    "Monte Carlo, 1,000 draws over 2023 (scale 1)": "under 5 s",
}


@dataclass
class ScaleResult:
    """What one scale measured."""

    scale: int
    bases: int = 0
    files: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    """Rows per part over every year (as generated)."""
    seconds: dict[str, float | None] = field(default_factory=dict)
    """Per stage (None: not reached)."""
    total_seconds: float = 0.0
    pipeline_seconds: float = 0.0
    """ingest to publish: what the baseline and the resubmission are compared with."""
    peak_memory_bytes: int = 0
    peak_memory_pipeline_process_bytes: int = 0
    """Of which the pipeline's own process (the rest: dbt's process)."""
    peak_memory_by_stage: dict[str, int] = field(default_factory=dict)
    baseline_seconds: float | None = None
    baseline_matches: bool | None = None
    """Whether the baseline's figures equal ``published.report_summary``'s (scope ``all``)."""
    resubmit_seconds: float | None = None
    resubmitted_file: str | None = None
    montecarlo_seconds: float | None = None
    montecarlo_draws: int | None = None
    load_average: list[float] = field(default_factory=list)
    """The machine's 1-minute load average at the start and the end: other work slows a run."""
    errors: list[str] = field(default_factory=list)

    @property
    def baseline_ratio(self) -> float | None:
        if not self.baseline_seconds:
            return None
        return self.pipeline_seconds / self.baseline_seconds

    @property
    def resubmit_ratio(self) -> float | None:
        if self.resubmit_seconds is None or not self.pipeline_seconds:
            return None
        return self.resubmit_seconds / self.pipeline_seconds

    def line(self) -> str:
        """The scale in one line of figures."""

        def secs(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.1f}s"

        rows = " ".join(f"{part} {n:,}" for part, n in self.rows.items())
        stages = " ".join(f"{s} {secs(self.seconds.get(s))}" for s in STAGES)
        ratio = self.baseline_ratio
        resubmit = self.resubmit_ratio
        parts = [
            f"{f'scale {self.scale}' if self.scale else 'inbox'}: {self.bases} bases, rows per part: {rows}, {self.files} files",
            f"{stages}",
            f"total {self.total_seconds:.1f}s",
            f"peak memory {self.peak_memory_bytes / 2**30:.2f} GB" + self._where_peak(),
            "vs DuckDB-only baseline "
            + ("n/a" if ratio is None else f"x{ratio:,.0f} ({self.baseline_seconds:.3f}s)"),
            "resubmit/full "
            + ("n/a" if resubmit is None else f"{resubmit:.2f} ({self.resubmit_seconds:.1f}s)"),
        ]
        if self.montecarlo_seconds is not None:
            parts.append(
                f"Monte Carlo {self.montecarlo_draws} draws {self.montecarlo_seconds:.2f}s"
            )
        if self.errors:
            parts.append("ERRORS: " + "; ".join(self.errors))
        return " | ".join(parts)

    def _where_peak(self) -> str:
        if not self.peak_memory_by_stage:
            return ""
        stage = max(self.peak_memory_by_stage, key=self.peak_memory_by_stage.get)
        own = self.peak_memory_pipeline_process_bytes / 2**30
        return f" (in {stage}; pipeline process {own:.2f} GB)"

    def to_json(self) -> dict:
        data = asdict(self)
        data["baseline_ratio"] = self.baseline_ratio
        data["resubmit_ratio"] = self.resubmit_ratio
        return data


# ---------------------------------------------------------------------------- memory


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    found = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as handle:
                found.extend(int(p) for p in handle.read().split())
        except OSError:
            continue
    return found


def tree_rss_bytes(root: int) -> int:
    """Resident memory of a process and all its descendants (Linux ``/proc``; 0 elsewhere)."""
    total, pending, seen = 0, [root], set()
    while pending:
        pid = pending.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += _rss_bytes(pid)
        pending.extend(_children(pid))
    return total


class PeakMemory:
    """Samples the process tree's resident memory in a thread; ``peak`` is the largest seen.

    ``label`` names what is running (the bench sets it to the stage at work): ``peaks`` keeps
    the largest total per label, and ``peak_self`` this process's own, so a large figure can
    be traced to a stage and to the pipeline or to dbt's process.
    """

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.peak = 0
        self.peak_self = 0
        self.label = "start"
        self.peaks: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="peak-memory", daemon=True)

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.is_set():
            total = tree_rss_bytes(me)
            self.peak = max(self.peak, total)
            self.peak_self = max(self.peak_self, _rss_bytes(me))
            self.peaks[self.label] = max(self.peaks.get(self.label, 0), total)
            self._stop.wait(self.interval)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        # getrusage's maxima (KiB on Linux) catch a peak between two samples of one process.
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        self.peak = max(self.peak, own, children)
        self.peak_self = max(self.peak_self, own)


# ---------------------------------------------------------------------------- stages


def run_pipeline_timed(
    result: ScaleResult | None = None,
    seconds: dict[str, float | None] | None = None,
    label: str = "the pipeline",
    memory: PeakMemory | None = None,
) -> dict[str, float | None]:
    """Run the pipeline once, as ``parkwh run`` does; seconds per stage, put into ``seconds``.

    The pipeline runs its stages in one Dagster run (dbt's tests and models interleave), so a
    stage's time is measured from its events: the time up to each asset or check that completes
    is charged to that asset's or check's stage (the Dagster start-up to the first, ingest).
    A failed run or a closed quality gate is recorded in ``result.errors``.
    """
    from parkwh.pipeline import run_pipeline

    seconds = {} if seconds is None else seconds
    spent = dict.fromkeys(PIPELINE_STAGES, 0.0)
    last = [time.perf_counter(), "ingest"]

    def progress(event) -> None:
        if event.kind in ("done", "skipped") and event.stage in spent:
            now = time.perf_counter()
            spent[event.stage] += now - last[0]
            last[0], last[1] = now, event.stage
            if memory is not None:
                memory.label = event.stage  # what runs next is most likely the same stage

    if memory is not None:
        memory.label = "ingest"

    # Dagster's console log stays quiet: a failure is in the summary, and in the run's event log.
    summary = run_pipeline(progress=progress, console_log_level="CRITICAL")
    spent[last[1]] += time.perf_counter() - last[0]  # the run's end, after its last event
    seconds.update(spent)
    for stage in PIPELINE_STAGES:
        _progress(f"  {stage}: {spent[stage]:.1f}s")
    if not summary.success and result is not None:
        result.errors.append(f"{label} failed: {summary.failure()}")
    return seconds


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------- baseline

_BASELINE_TABLES = {
    # file name: the typed rows of the versions in force, as the pipeline staged them
    "base": "select * from staging.stg_base where submission_id in ({in_force})",
    "companies": "select * from staging.stg_companies where submission_id in ({in_force})",
    "talent": "select * from staging.stg_talent where submission_id in ({in_force})",
    "funding": "select * from staging.stg_funding where submission_id in ({in_force})",
}
_IN_FORCE = "select submission_id from staging.stg_submissions where is_in_force"

BASELINE_SQL = """
with companies as (
    select base_code, reporting_year, credit_code, entered_date, left_date, high_tech_year,
           little_giant_year, listing_date, revenue_yuan, tax_yuan
    from read_parquet('{dir}/companies.parquet')
    where is_returnee_founded
),
company_figures as (
    select base_code, reporting_year,
        count(*) filter (where entered_date <= make_date(reporting_year, 12, 31)
            and (left_date is null or left_date > make_date(reporting_year, 12, 31)))
            as enterprises_in_park,
        count(*) filter (where entered_date <= make_date(reporting_year, 12, 31)) as incubated_cum,
        count(*) filter (where entered_date <= make_date(reporting_year, 12, 31)
            and high_tech_year <= reporting_year) as high_tech_cum,
        count(*) filter (where entered_date <= make_date(reporting_year, 12, 31)
            and little_giant_year <= reporting_year) as little_giants_cum,
        count(*) filter (where entered_date <= make_date(reporting_year, 12, 31)
            and listing_date <= make_date(reporting_year, 12, 31)) as listed_cum,
        coalesce(sum(revenue_yuan), 0) as revenue_yuan,
        coalesce(sum(tax_yuan), 0) as tax_yuan
    from companies group by all
),
talent_figures as (
    select base_code, reporting_year,
        count(*) filter (where entered_date <= make_date(reporting_year, 12, 31)
            and (left_date is null or left_date > make_date(reporting_year, 12, 31)))
            as returnees_in_park,
        count(*) filter (where entered_date <= make_date(reporting_year, 12, 31)) as returnees_cum,
        count(*) filter (where entered_date <= make_date(reporting_year, 12, 31)
            and talent_programme_code = 'national_major') as talent_national,
        count(*) filter (where entered_date <= make_date(reporting_year, 12, 31)
            and talent_programme_code = 'provincial') as talent_provincial
    from read_parquet('{dir}/talent.parquet') group by all
),
funding_figures as (
    select f.base_code, f.reporting_year,
        coalesce(sum(f.amount_yuan) filter (
            where f.funding_kind_code in ('angel', 'venture_capital')), 0) as vc_yuan,
        coalesce(sum(f.amount_yuan) filter (
            where f.funding_kind_code = 'government_grant'), 0) as fiscal_yuan
    from read_parquet('{dir}/funding.parquet') as f
    semi join (select distinct base_code, reporting_year, credit_code from companies) as c
        on c.base_code = f.base_code and c.reporting_year = f.reporting_year
        and c.credit_code = f.credit_code
    where extract(year from f.funding_date) = f.reporting_year
    group by all
),
base_years as (
    select b.base_code, b.reporting_year, b.service_events,
        coalesce(c.enterprises_in_park, 0) as enterprises_in_park,
        coalesce(c.incubated_cum, 0) as incubated_cum,
        coalesce(c.high_tech_cum, 0) as high_tech_cum,
        coalesce(c.little_giants_cum, 0) as little_giants_cum,
        coalesce(c.listed_cum, 0) as listed_cum,
        coalesce(c.revenue_yuan, 0) as revenue_yuan, coalesce(c.tax_yuan, 0) as tax_yuan,
        coalesce(t.returnees_in_park, 0) as returnees_in_park,
        coalesce(t.returnees_cum, 0) as returnees_cum,
        coalesce(t.talent_national, 0) as talent_national,
        coalesce(t.talent_provincial, 0) as talent_provincial,
        coalesce(f.vc_yuan, 0) as vc_yuan, coalesce(f.fiscal_yuan, 0) as fiscal_yuan
    from read_parquet('{dir}/base.parquet') as b
    left join company_figures as c using (base_code, reporting_year)
    left join talent_figures as t using (base_code, reporting_year)
    left join funding_figures as f using (base_code, reporting_year)
)
select reporting_year, 'all' as scope, count(*)::bigint as bases,
    sum(enterprises_in_park)::bigint as enterprises_in_park,
    sum(returnees_in_park)::bigint as returnees_in_park,
    sum(incubated_cum)::bigint as incubated_cum, sum(high_tech_cum)::bigint as high_tech_cum,
    sum(little_giants_cum)::bigint as little_giants_cum, sum(listed_cum)::bigint as listed_cum,
    sum(returnees_cum)::bigint as returnees_cum, sum(talent_national)::bigint as talent_national,
    sum(talent_provincial)::bigint as talent_provincial,
    sum(revenue_yuan)::decimal(18, 2) as revenue_yuan, sum(tax_yuan)::decimal(18, 2) as tax_yuan,
    sum(service_events)::bigint as service_events, sum(vc_yuan)::decimal(18, 2) as vc_yuan,
    sum(fiscal_yuan)::decimal(18, 2) as fiscal_yuan
from base_years
group by reporting_year
order by reporting_year
"""

_COMPARED = (
    "reporting_year", "scope", "bases", "enterprises_in_park", "returnees_in_park",
    "incubated_cum", "high_tech_cum", "little_giants_cum", "listed_cum", "returnees_cum",
    "talent_national", "talent_provincial", "revenue_yuan", "tax_yuan", "service_events",
    "vc_yuan", "fiscal_yuan",
)  # fmt: skip


def run_baseline(folder: Path, repeats: int = 3) -> tuple[float, bool | None]:
    """Copy the staged rows to Parquet (not timed), then time DuckDB computing the report's
    figures from them: the best of ``repeats``. Also whether they equal the pipeline's."""
    import duckdb

    from parkwh import db

    folder.mkdir(parents=True, exist_ok=True)
    with db.connect(read_only=True) as con:
        for name, sql in _BASELINE_TABLES.items():
            query = sql.format(in_force=_IN_FORCE)
            con.execute(f"copy ({query}) to '{folder / name}.parquet' (format parquet)")
        try:
            published = con.execute(
                f"select {', '.join(_COMPARED)} from published.report_summary"
                " where scope = 'all' order by reporting_year"
            ).fetchall()
        except duckdb.Error:
            published = None
    best = float("inf")
    rows: list[tuple] = []
    for _ in range(repeats):
        con = duckdb.connect()  # in memory: DuckDB and the Parquet files, nothing else
        started = time.perf_counter()
        rows = con.execute(BASELINE_SQL.format(dir=folder.as_posix())).fetchall()
        best = min(best, time.perf_counter() - started)
        con.close()
    matches = (
        None if published is None else [tuple(r) for r in rows] == [tuple(r) for r in published]
    )
    return best, matches


# ---------------------------------------------------------------------------- resubmission


def resubmit_one_base(
    inbox: Path, year: int = RESUBMITTED_YEAR, avoid: set[Path] = frozenset()
) -> Path:
    """A base sends a corrected file: one of the year's JSON submissions (not one of ``avoid``,
    the files written invalid or superseded on purpose), one more service event, received now."""
    from parkwh.submission import spec

    field_ = next(f for f in spec.part_fields("base") if f.key == "service_events")
    names = {field_.key, field_.label_zh, field_.label_en}
    avoided = {p.resolve() for p in avoid}
    for path in sorted((inbox / str(year)).glob("*.json")):
        if path.resolve() in avoided:
            continue
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
        base = data.get("base")
        base = base[0] if isinstance(base, list) and base else base
        if not isinstance(base, dict):
            continue
        key = next((k for k in base if any(n and n in k for n in names)), None)
        if key is None or not isinstance(base[key], int):
            continue
        base[key] += 1
        path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        later = time.time() + 1
        os.utime(path, (later, later))
        return path
    raise RuntimeError(f"no JSON submission of {year} in {inbox} to resubmit")


# ---------------------------------------------------------------------------- Monte Carlo


def time_montecarlo(draws: int = 1000, year: int = RESUBMITTED_YEAR) -> float:
    """Seconds for the method's Monte Carlo (``draws`` draws) over one year of the warehouse."""
    from parkwh import db
    from parkwh.method import inputs, montecarlo, reference
    from parkwh.method.catalogue import load_catalogue

    with db.connect(read_only=True) as con:
        figures, experts = inputs.read_warehouse(con)
    catalogue = load_catalogue()
    method, data = reference.year_data(catalogue, year, figures, experts.get(year))
    evaluated = reference.evaluate(method, data)
    started = time.perf_counter()
    montecarlo.simulate_result(evaluated, draws=draws)
    return time.perf_counter() - started


# ---------------------------------------------------------------------------- one scale


@contextlib.contextmanager
def _environment(warehouse: Path) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in ("PARKWH_WAREHOUSE_DIR", "PARKWH_PII_KEY")}
    os.environ["PARKWH_WAREHOUSE_DIR"] = str(warehouse)
    os.environ.setdefault("PARKWH_PII_KEY", BENCH_PII_KEY)
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _generate(result: ScaleResult, inbox: Path, source: Path | None) -> set[Path]:
    """Write the scale's inbox (the demo, or a copy of ``source``); the files not to resubmit."""
    from parkwh.demo import generate_demo
    from parkwh.ingest.inbox import base_code_of

    if source is not None:
        shutil.copytree(source, inbox)
        entries = [p for year in inbox.iterdir() if year.is_dir() for p in year.iterdir()]
        submissions = [p for p in entries if base_code_of(p.stem if p.is_file() else p.name)]
        result.files = len(submissions)
        result.bases = len({(p.stem if p.is_file() else p.name) for p in submissions})
        return set()
    demo = generate_demo(inbox, scale=result.scale, force=True)
    result.files = sum(len(paths) for paths in demo.files.values())
    result.bases = len(
        {p.stem if p.suffix else p.name for paths in demo.files.values() for p in paths}
    )
    for per_part in demo.rows.values():
        for part, n in per_part.items():
            result.rows[part] = result.rows.get(part, 0) + n
    return set(demo.invalid) | set(demo.superseded)


def measure_scale(
    scale: int,
    folder: Path,
    montecarlo_draws: int = 1000,
    source: Path | None = None,
    resubmit: bool = True,
) -> ScaleResult:
    """Generate, run, time the baseline and a resubmission for one scale, in ``folder``."""
    from parkwh import config

    result = ScaleResult(scale, load_average=[_load()])
    warehouse = folder / "warehouse"
    if warehouse.exists():
        shutil.rmtree(warehouse)
    warehouse.mkdir(parents=True)
    with _environment(warehouse), PeakMemory() as memory:
        _progress(f"scale {scale}: writing the inbox")
        started = time.perf_counter()
        memory.label = "generate"
        avoid = _generate(result, config.warehouse().inbox, source)
        result.seconds["generate"] = time.perf_counter() - started
        _progress(f"  generate: {result.seconds['generate']:.1f}s ({result.files} files)")
        try:
            run_pipeline_timed(result, result.seconds, memory=memory)
            _add_totals(result)
            if source is not None:
                result.rows = _rows_in_force()

            _progress("  baseline: DuckDB alone on the staged rows in Parquet")
            memory.label = "baseline"
            result.baseline_seconds, result.baseline_matches = run_baseline(folder / "baseline")

            result.montecarlo_draws = montecarlo_draws
            memory.label = "montecarlo"
            result.montecarlo_seconds = time_montecarlo(montecarlo_draws)

            if resubmit:
                path = resubmit_one_base(config.warehouse().inbox, avoid=avoid)
                result.resubmitted_file = path.relative_to(warehouse).as_posix()
                _progress(f"  resubmission of {result.resubmitted_file}")
                memory.label = "resubmission"
                again = run_pipeline_timed(result, label="the run after the resubmission")
                memory.label = "resubmission"
                result.resubmit_seconds = sum(s for s in again.values() if s)
        except Exception as exc:  # noqa: BLE001 - the line must still say what was measured
            result.errors.append(
                f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:300]}"
            )
            _add_totals(result)
    result.peak_memory_bytes = memory.peak
    result.peak_memory_pipeline_process_bytes = memory.peak_self
    result.peak_memory_by_stage = dict(memory.peaks)
    result.load_average.append(_load())
    return result


def _load() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return 0.0


def _add_totals(result: ScaleResult) -> None:
    measured = {stage: s for stage, s in result.seconds.items() if s is not None}
    result.total_seconds = sum(measured.values())
    result.pipeline_seconds = result.total_seconds - measured.get("generate", 0.0)


def _rows_in_force() -> dict[str, int]:
    """Rows per part of the raw layer (for an inbox that was copied, not generated)."""
    from parkwh import db
    from parkwh.submission import spec

    with db.connect(read_only=True) as con:
        return {
            part: con.execute(f"select count(*) from raw.{part}").fetchone()[0]
            for part in spec.PARTS
        }


# ---------------------------------------------------------------------------- the command


def _targets(results: Sequence[ScaleResult]) -> list[str]:
    """Each target with what was measured and whether it is met."""
    by_scale = {r.scale: r for r in results}
    lines = []

    def verdict(ok: bool | None) -> str:
        return "not measured" if ok is None else ("met" if ok else "NOT met")

    def complete(r: ScaleResult) -> bool:
        return not r.errors

    one, ten = by_scale.get(1), by_scale.get(10)
    if one:
        ok = one.total_seconds < 60 if complete(one) else None
        lines.append(f"scale 1 end to end < 60 s: {one.total_seconds:.1f}s, {verdict(ok)}")
    if ten:
        ok = (
            ten.total_seconds < 600 and ten.peak_memory_bytes < 4 * 2**30 if complete(ten) else None
        )
        lines.append(
            f"scale 10 < 600 s and < 4 GB: {ten.total_seconds:.1f}s, "
            f"{ten.peak_memory_bytes / 2**30:.2f} GB, {verdict(ok)}"
        )
    for r in results:
        ratio = r.resubmit_ratio
        lines.append(
            f"scale {r.scale} resubmission < 0.1 of the full run: "
            + ("n/a" if ratio is None else f"{ratio:.2f}")
            + f", {verdict(None if ratio is None or not complete(r) else ratio < 0.1)}"
        )
    if one and one.montecarlo_seconds is not None:
        lines.append(
            f"Monte Carlo {one.montecarlo_draws} draws over 2023 < 5 s: "
            f"{one.montecarlo_seconds:.1f}s, {verdict(one.montecarlo_seconds < 5)}"
        )
    return lines


def _run_scale_in_child(
    scale: int, folder: Path, draws: int, source: Path | None = None, resubmit: bool = True
) -> ScaleResult:
    """Measure a scale in a process of its own, so its peak memory is its own."""
    out = folder / "result.json"
    folder.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    command = [
        sys.executable, "-m", "parkwh.bench", "--one-scale", str(scale),
        "--folder", str(folder), "--draws", str(draws), "--json", str(out),
    ]  # fmt: skip
    if source is not None:
        command += ["--inbox", str(source.resolve())]
    if not resubmit:
        command.append("--no-resubmit")
    # dbt's and Dagster's own output goes to a log beside the results: stdout keeps one line a scale.
    with (folder / "bench.log").open("w", encoding="utf-8") as log:
        done = subprocess.run(command, stdout=log, check=False)
    if not out.exists():
        result = ScaleResult(scale)
        result.errors.append(f"the scale's process ended with status {done.returncode}")
        return result
    data = json.loads(out.read_text(encoding="utf-8"))
    for derived in ("baseline_ratio", "resubmit_ratio"):
        data.pop(derived, None)
    return ScaleResult(**data)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m parkwh.bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--scales", default="1,10,50", help="comma-separated scales (default 1,10,50)"
    )
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument(
        "--workdir",
        type=Path,
        help="where each scale's warehouse is built (default: a temporary folder)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep each scale's warehouse afterwards"
    )
    parser.add_argument(
        "--draws", type=int, default=1000, help="Monte Carlo draws timed at scale 1"
    )
    parser.add_argument(
        "--inbox",
        type=Path,
        help="copy this inbox instead of generating the demo (one run, shown as scale 0)",
    )
    parser.add_argument(
        "--no-resubmit",
        action="store_true",
        help="skip the one-base resubmission (halves the time of a large scale)",
    )
    parser.add_argument("--one-scale", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args(argv)

    if options.one_scale is not None:  # the child process of one scale
        result = measure_scale(
            options.one_scale, options.folder, options.draws, options.inbox, not options.no_resubmit
        )
        options.json.write_text(json.dumps(result.to_json(), indent=2) + "\n", encoding="utf-8")
        return 0

    try:
        scales = [int(s) for s in options.scales.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--scales takes numbers separated by commas, got {options.scales!r}")
    if options.inbox is not None:
        if not options.inbox.is_dir():
            parser.error(f"--inbox {options.inbox} is not a folder")
        scales = [0]
    workdir = options.workdir or Path(tempfile.mkdtemp(prefix="parkwh-bench-"))
    started = dt.datetime.now(dt.UTC)
    results = []
    for scale in scales:
        folder = workdir / f"scale-{scale}"
        result = _run_scale_in_child(
            scale, folder, options.draws, options.inbox, not options.no_resubmit
        )
        results.append(result)
        print(result.line(), flush=True)
        if not options.keep:
            shutil.rmtree(folder, ignore_errors=True)
    if not options.keep and options.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    for line in _targets(results):
        print("target: " + line)
    if options.json:
        options.json.write_text(
            json.dumps(
                {
                    "measured_at": started.isoformat(timespec="seconds"),
                    "machine": {
                        "cpus": os.cpu_count(),
                        "python": platform.python_version(),
                        "platform": platform.platform(),
                    },
                    "targets": TARGETS,
                    "scales": [r.to_json() for r in results],
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
    return 1 if any(r.errors and not r.total_seconds for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
