"""``parkwh run``: the whole pipeline in this process, with progress per stage and a summary."""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Column, Table

from parkwh import config
from parkwh.commands import app, console, fail

JOB_CHOICES = ("pipeline", "ingest", "transform", "score", "check", "publish")
TOP = 10


@contextlib.contextmanager
def _output_to(log_path: Path) -> Iterator[Console]:
    """Send everything written to stdout and stderr meanwhile (dbt's and Dagster's own output,
    warnings, child processes) to ``log_path``; yield a console on the real terminal."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    screen = Console(
        file=terminal,
        force_terminal=console.is_terminal,
        width=console.width,
        color_system=console.color_system,
    )
    try:
        with log_path.open("ab") as log:
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
            try:
                yield screen
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
    finally:
        os.close(saved[0])
        os.close(saved[1])
        terminal.close()


class _Display:
    """A progress bar per stage, fed by the pipeline's events."""

    def __init__(self, progress: Progress, stages: tuple[str, ...]):
        self.progress = progress
        self.tasks = {
            stage: progress.add_task(stage, total=None, detail="", start=False) for stage in stages
        }
        self.failed: dict[str, int] = dict.fromkeys(stages, 0)

    def __call__(self, event) -> None:
        task = self.tasks.get(event.stage) if event.stage else None
        if event.kind == "waiting":
            self.progress.console.print(f"[yellow]waiting:[/] {escape(event.message or '')}")
        elif event.kind == "run":
            self.progress.console.print(f"[bold]▶ {escape(event.label or '')}[/]")
        elif event.kind == "planned" and task is not None:
            current = self.progress.tasks[task].total or 0
            self.progress.update(task, total=current + 1)
            self.progress.start_task(task)
        elif event.kind in {"done", "skipped"} and task is not None:
            if not event.ok:
                self.failed[event.stage] += 1
            note = (
                f"  [red]{self.failed[event.stage]} not passed[/]"
                if self.failed[event.stage]
                else ""
            )
            self.progress.update(task, advance=1, detail=escape(event.label or "") + note)
        elif event.kind == "failed":
            self.progress.console.print(
                f"[red]✗ {escape(event.label or '')}:[/] {escape(event.message or '')}",
                highlight=False,
            )

    def finish(self) -> None:
        for task in self.tasks.values():
            if self.progress.tasks[task].total is None:
                self.progress.update(task, total=0, detail="[dim]nothing to do[/]")


def _files_table(summary) -> Table | None:
    if not summary.files:
        return None
    table = Table(title="ingestion: files per reporting year", header_style="bold")
    for column in ("year", "accepted", "rejected", "unchanged", "bases in force"):
        table.add_column(column, justify="right")
    for year, files in sorted(summary.files.items()):
        table.add_row(
            str(year),
            f"{files.accepted:,}",
            f"[red]{files.rejected:,}[/]" if files.rejected else "0",
            f"{files.unchanged:,}",
            f"{files.bases_in_force:,}",
        )
    return table


def _stages_table(summary, stages: tuple[str, ...]) -> Table:
    table = Table(title="stages", header_style="bold")
    table.add_column("stage")
    table.add_column("done", justify="right")
    table.add_column("rows", justify="right")
    table.add_column("outcome")
    for stage in stages:
        planned, done = summary.planned[stage], summary.done[stage]
        if stage == "check":
            failed = len(summary.checks_with("ERROR"))
            warned = len(summary.checks_with("WARN"))
            outcome = f"{len(summary.checks_with('passed')):,} passed"
            outcome += f", [yellow]{warned} warnings[/]" if warned else ""
            outcome += f", [red]{failed} failed[/]" if failed else ""
            if summary.gate:
                colour = "green" if summary.gate == "open" else "red"
                outcome += f"; quality gate [{colour}]{summary.gate}[/]"
        elif stage == "publish" and planned:
            outcome = (
                f"published {', '.join(sorted(summary.published))}"
                if done == planned
                else f"[red]{planned - done} of {planned} not published[/]"
            )
        else:
            outcome = (
                ""
                if not planned
                else ("ok" if done == planned else f"[red]{planned - done} not built[/]")
            )
        rows = summary.stage_rows[stage]
        table.add_row(stage, f"{done:,}/{planned:,}", f"{rows:,}" if rows else "", outcome)
    return table


def _top_table() -> Table | None:
    """The top of the latest published year, if the warehouse has a ranking."""
    from parkwh import db

    if not config.warehouse().database.exists():
        return None
    try:
        with db.connect(read_only=True) as con:
            found = con.execute(
                "select count(*) from information_schema.tables "
                "where table_schema = 'published' and table_name = 'park_ranking'"
            ).fetchone()[0]
            if not found:
                return None
            rows = con.execute(
                "select reporting_year, rank, base_code, base_name_zh, province, score "
                "from published.park_ranking "
                "where reporting_year = (select max(reporting_year) from published.park_ranking) "
                "and ranked order by rank, base_code limit ?",
                [TOP],
            ).fetchall()
    except Exception:  # noqa: BLE001 - the ranking is a courtesy at the end of a run
        return None
    if not rows:
        return None
    table = Table(
        title=f"{rows[0][0]}: top {len(rows)} by comprehensive score", header_style="bold"
    )
    for column, justify in (
        ("rank", "right"),
        ("base", "left"),
        ("name", "left"),
        ("province", "left"),
        ("score", "right"),
    ):
        table.add_column(column, justify=justify)
    for _year, rank, code, name, province, score in rows:
        table.add_row(
            str(rank), code, name or "", province or "", f"{score:.3f}" if score is not None else ""
        )
    return table


def _outputs() -> list[tuple[str, Path]]:
    """Where the outputs are, those that exist."""
    paths = config.warehouse()
    found = [
        ("warehouse", paths.database),
        ("published copy", paths.published_database),
        ("Parquet exports", paths.exports),
    ]
    reports = sorted(paths.reports.glob("*/index.html")) if paths.reports.is_dir() else []
    if reports:
        found.append(("report", reports[-1]))
    quality = (
        sorted(paths.quality.glob("**/index.html"), key=lambda p: p.stat().st_mtime)
        if paths.quality.is_dir()
        else []
    )
    if quality:
        found.append(("quality report", quality[-1]))
    found.append(("Dagster runs", paths.dagster_home))
    return [(label, path) for label, path in found if path.exists()]


@app.command(
    epilog=(
        "Examples: parkwh run   (every year in the inbox, then build, check, publish) · "
        "parkwh run --year 2023 · parkwh run --job check"
    ),
)
def run(
    year: list[int] = typer.Option(
        None, "--year", help="Reporting year to run (repeatable; default: every year in the inbox)."
    ),
    job: str = typer.Option(
        "pipeline",
        "--job",
        help="Which job: pipeline (everything), ingest, transform, score, check or publish.",
    ),
) -> None:
    """Run the pipeline here, without the UI: ingest, transform, score, check, publish.

    The same Dagster jobs the inbox sensor and the schedules launch, recorded in the warehouse's
    Dagster instance (make dev shows them). Runs wait for one another: one writer at a time.
    """
    if job not in JOB_CHOICES:
        raise fail(escape(f"--job {job!r}: expected one of {', '.join(JOB_CHOICES)}"))
    # Dagster's own console log would drown the progress display; its runs keep every event.
    warnings.filterwarnings("ignore")
    from parkwh.defs.operations import STAGES
    from parkwh.pipeline import PipelineError, run_pipeline

    log_path = config.warehouse().root / "logs" / "parkwh-run.log"
    try:
        with _output_to(log_path) as screen:
            progress = Progress(
                TextColumn("{task.description}", table_column=Column(width=10, no_wrap=True)),
                BarColumn(bar_width=24),
                MofNCompleteColumn(table_column=Column(min_width=9, no_wrap=True)),
                TimeElapsedColumn(),
                TextColumn(
                    "{task.fields[detail]}",
                    style="dim",
                    table_column=Column(no_wrap=True, overflow="ellipsis", ratio=1),
                ),
                console=screen,
                expand=True,
            )
            display = _Display(progress, STAGES)
            with progress:
                summary = run_pipeline(
                    year or None, job=job, progress=display, console_log_level="CRITICAL"
                )
                display.finish()
    except PipelineError as error:
        raise fail(escape(str(error))) from None
    except KeyboardInterrupt:
        raise fail(
            "interrupted: the warehouse keeps what the last finished step wrote", 130
        ) from None

    files = _files_table(summary)
    if files is not None:
        console.print(files)
    for year_files in (f for _, f in sorted(summary.files.items())):
        for line in year_files.rejected_files:
            console.print(f"  [red]rejected[/] {escape(line)}", highlight=False)
    console.print(_stages_table(summary, STAGES))
    top = _top_table()
    if top is not None:
        console.print(top)
    for label, path in _outputs():
        console.print(f"{label:>16}: {escape(str(path))}", highlight=False)
    console.print(f"{'took':>16}: {summary.seconds:.0f} s", highlight=False)
    if not summary.success:
        console.print(f"{'full log':>16}: {escape(str(log_path))}", highlight=False)
        raise fail(escape(summary.failure()))
