"""``parkwh template``: write the blank submission workbook a base fills in."""

from __future__ import annotations

from pathlib import Path

import typer

from parkwh.commands import app, console, fail
from parkwh.submission import template as submission_template


@app.command(
    epilog=(
        "Example: parkwh template --year 2023 --base-code SH001 "
        "--out warehouse/inbox/2023/SH001.xlsx"
    ),
)
def template(
    year: int = typer.Option(..., "--year", help="Reporting year the workbook describes."),
    out: Path = typer.Option(..., "--out", help="Where to write the workbook (*.xlsx)."),
    base_code: str | None = typer.Option(
        None, "--base-code", help="Pre-fill the base sheet with this base code, e.g. SH001."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite OUT if it already exists."),
) -> None:
    """Write the blank submission workbook for one reporting year.

    One sheet per part, bilingual headers, dropdowns and checks, and a sheet of instructions.
    """
    if base_code is not None:
        base_code = base_code.strip().upper()
    if out.exists() and not force:
        raise fail(f"{out}: already exists; pass --force to overwrite it")
    if out.exists() and out.is_dir():
        raise fail(f"{out}: is a folder; expected a file name ending in .xlsx")
    try:
        written = submission_template.write_template(out, year, base_code)
    except submission_template.TemplateError as error:
        raise fail(str(error)) from None
    except OSError as error:
        raise fail(f"{out}: cannot write the template ({error.strerror or error})") from None
    console.print(f"wrote the {year} submission template to {written}", highlight=False)
