"""``parkwh report``: write the annual report of a published year as one self-contained HTML page."""

from __future__ import annotations

from pathlib import Path

import typer

from parkwh.commands import app, console, fail


@app.command()
def report(
    year: int | None = typer.Option(
        None, "--year", "-y", help="The reporting year (default: the latest published year)."
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        "-o",
        help="Write the page here instead of warehouse/reports/<year>/index.html.",
    ),
    publish: bool = typer.Option(
        False,
        "--publish",
        help="First publish what the warehouse holds (a new version of each year that changed, "
        "the Parquet exports and published.duckdb), as the pipeline's publishing assets do.",
    ),
) -> None:
    """Write the annual report of a published year: warehouse/reports/<year>/index.html.

    The page is self-contained (styles and charts inline, no request leaves it) and reads only
    what is published (published.duckdb), so it can be made while the pipeline runs.

    Example: parkwh report --year 2023
    """
    from parkwh.publish import publications, readonly
    from parkwh.publish import report as annual_report

    if publish:
        try:
            for publication in publications.publish([year] if year is not None else None):
                console.print(publication.line(), highlight=False)
            readonly.build()
        except (publications.PublishError, FileNotFoundError, ValueError) as error:
            raise fail(str(error)) from None
    try:
        if year is None:
            years = annual_report.published_years()
            if not years:
                raise fail(
                    "nothing has been published yet: run the pipeline, or parkwh report --publish"
                )
            year = years[-1]
        path = annual_report.render(year, out)
    except (annual_report.ReportError, FileNotFoundError) as error:
        raise fail(str(error)) from None
    console.print(f"Report of {year}: {path}", highlight=False)
