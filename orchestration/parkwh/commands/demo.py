"""``parkwh demo``: write the calibrated synthetic submissions for 2019–2023 into the inbox."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from parkwh import config
from parkwh.commands import app, console, fail
from parkwh.demo import DEFAULT_SEED, DemoError, generate_demo
from parkwh.demo.bases import MAX_SCALE
from parkwh.submission import spec


@app.command()
def demo(
    out: Path = typer.Option(None, "--out", help="Folder to write into (default: the warehouse inbox)."),
    seed: int = typer.Option(DEFAULT_SEED, "--seed", help="Seed: the same seed writes the same bytes."),
    scale: int = typer.Option(1, "--scale", min=1, max=MAX_SCALE,
                              help="Multiply the number of bases (and rows) N-fold, for benchmarks."),
    force: bool = typer.Option(False, "--force", help="Replace submissions already in the folder's year folders."),
) -> None:
    """Write the synthetic demo data set: 68 bases, 2019–2023, calibrated to the 2024 report."""
    target = out if out is not None else config.warehouse().inbox
    started = time.perf_counter()
    try:
        with console.status(f"writing the synthetic demo submissions into {escape(str(target))} …"):
            result = generate_demo(target, seed=seed, scale=scale, force=force)
    except DemoError as exc:
        raise fail(str(exc))
    except OSError as exc:
        raise fail(f"cannot write the demo into {target}: {exc.strerror or exc}")
    elapsed = time.perf_counter() - started

    table = Table(title="synthetic submissions written: files per form, rows per part", header_style="bold")
    table.add_column("year", justify="right")
    for form in ("xlsx", "json", "csv"):
        table.add_column(form, justify="right")
    for part in spec.PARTS:
        table.add_column(part, justify="right")
    for year in sorted(result.files):
        forms, rows = result.forms[year], result.rows[year]
        table.add_row(str(year), *(f"{forms[f]:,}" for f in ("xlsx", "json", "csv")),
                      *(f"{rows[p]:,}" for p in spec.PARTS))
    console.print(table)
    files = sum(len(v) for v in result.files.values())
    console.print(f"[bold yellow]SYNTHETIC DATA[/]: {files:,} submission files in {escape(str(result.out))} "
                  f"(seed {seed}, scale {scale}, {elapsed:.1f} s). Park names are real; every company, "
                  "person, ID number, phone and amount is invented (see SYNTHETIC.md).", highlight=False)
    if scale == 1:
        console.print("Calibrated: the 2023 figures reproduce the incubation bases' report of 2024-06-19.",
                      highlight=False)
    else:
        console.print(f"Scale {scale}: the shape of the data set is kept, its totals no longer match the report.",
                      highlight=False)
    for path in result.superseded:
        console.print(f"  resubmitted: {escape(str(path.relative_to(result.out)))} is superseded by a later file",
                      highlight=False)
    for path in result.invalid:
        console.print(f"  invalid on purpose: {escape(str(path.relative_to(result.out)))} (validation rejects it)",
                      highlight=False)
    console.print("Each year folder also holds expert_scores.csv (seven experts per base). "
                  "Next: [bold]parkwh run[/] builds the warehouse from the inbox.", highlight=False)
