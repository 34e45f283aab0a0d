"""``parkwh validate``: check submission files and list every problem by part, row and column."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from parkwh.commands import app, console
from parkwh.submission.errors import Problem
from parkwh.submission.reader import FORMS, form_of, is_expert_scores, part_for_name


def _is_csv_submission(folder: Path) -> bool:
    return any(
        p.suffix.lower() == ".csv" and part_for_name(p.stem)
        for p in folder.iterdir()
        if p.is_file()
    )


def _expand(paths: list[Path]) -> list[Path]:
    """Paths to check: a folder with no part's CSV file is a year folder, checked entry by entry."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir() and not _is_csv_submission(path):
            entries = sorted(
                p for p in path.iterdir() if form_of(p) in FORMS or is_expert_scores(p)
            )
            out.extend(entries or [path])
        else:
            out.append(path)
    return out


def _table(problems: list[Problem]) -> Table:
    table = Table(show_lines=False, header_style="bold", expand=False)
    table.add_column("part")
    table.add_column("row", justify="right")
    table.add_column("column")
    table.add_column("value", overflow="fold")
    table.add_column("problem", overflow="fold")
    for p in problems:
        style = "red" if p.is_error else "yellow"
        column = (
            f"{p.column}\n{p.column_label}" if p.column and p.column_label else (p.column or "")
        )
        value = "" if p.value is None else repr(p.value)
        table.add_row(
            escape(p.part or ""),
            "" if p.row is None else str(p.row),
            escape(column),
            escape(value),
            f"[{style}]{escape(p.message)}[/] [dim]{p.rule}[/]",
        )
    return table


def _check(path: Path, limit: int, quiet: bool) -> bool:
    """Check one file and print its report; True when it has no error."""
    from parkwh.submission.validate import check_file

    try:
        submission, problems = check_file(path)
    except Exception as exc:  # noqa: BLE001 - a bug must still give one line, not a traceback
        console.print(
            f"[bold red]error:[/] {escape(str(path))}: could not be checked "
            f"({type(exc).__name__}: {escape(str(exc))}); please report this",
            highlight=False,
            soft_wrap=True,
        )
        return False
    errors = sum(p.is_error for p in problems)
    warnings = len(problems) - errors
    whole_file = (
        submission is None
        and len(problems) == 1
        and problems[0].part is None
        and problems[0].row is None
    )
    if whole_file:
        # Not a submission at all: one line says why.
        console.print(
            f"[bold red]error:[/] {escape(str(problems[0]))}", highlight=False, soft_wrap=True
        )
        return False
    if submission is not None:
        what = (
            f"{submission.form}, base {submission.base_code or '?'}, "
            f"reporting year {submission.reporting_year or '?'}"
        )
    else:
        what = "expert scores"
    if problems and not quiet:
        console.print(f"[bold]{escape(str(path))}[/] ({what})", highlight=False, soft_wrap=True)
        console.print(_table(problems[:limit]))
        if len(problems) > limit:
            console.print(f"… and {len(problems) - limit} more (use --max-problems to show them)")
    if errors:
        console.print(
            f"[bold red]✗ {escape(str(path))}: {errors} error{'s' * (errors != 1)}, "
            f"{warnings} warning{'s' * (warnings != 1)}[/]",
            highlight=False,
            soft_wrap=True,
        )
    else:
        note = f", {warnings} warning{'s' * (warnings != 1)}" if warnings else ""
        console.print(
            f"[bold green]✓ {escape(str(path))}: OK[/] ({escape(what)}{note})",
            highlight=False,
            soft_wrap=True,
        )
    return errors == 0


@app.command()
def validate(
    files: list[Path] = typer.Argument(
        ...,
        help="Submissions (.xlsx, .json, or a folder of CSV files), expert_scores.csv, or a year folder.",
        show_default=False,
    ),
    max_problems: int = typer.Option(200, "--max-problems", min=1, help="Problems shown per file."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only the final line of each file."),
) -> None:
    """Check submissions before sending them: every problem, by part, row and column.

    Exits 0 only when no file has an error (warnings are allowed).

    Example: parkwh validate SH001.xlsx

    Example: parkwh validate warehouse/inbox/2023/SH001.json warehouse/inbox/2023/JS002/

    Example: parkwh validate warehouse/inbox/2023   (every submission of the year, and expert_scores.csv)
    """
    ok = True
    for path in _expand(files):
        ok = _check(path, max_problems, quiet) and ok
    if not ok:
        raise typer.Exit(1)
