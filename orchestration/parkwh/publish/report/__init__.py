"""The annual report: ``warehouse/reports/<year>/index.html``, one self-contained page per published year.

It reads ``published.duckdb`` only, so it shows exactly what was published and never waits for
(or blocks) the pipeline. The page is a function of the publication: rendering a year again
without a new publication gives the same bytes.
"""

from __future__ import annotations

from pathlib import Path

from parkwh import config
from parkwh.publish import files, readonly
from parkwh.publish.report import charts, page
from parkwh.publish.report.data import ReportData, ReportError, load

__all__ = ["ReportData", "ReportError", "published_years", "render", "report_path"]


def report_path(year: int) -> Path:
    return config.warehouse().reports / str(year) / "index.html"


def published_years() -> list[int]:
    with readonly.connect() as con:
        return [
            r[0]
            for r in con.execute(
                "select distinct reporting_year from main.publications order by 1"
            ).fetchall()
        ]


def build_page(data: ReportData) -> str:
    return page.render(
        data,
        {
            "dimensions": charts.dimension_scores(data),
            "intervals": charts.rank_intervals(data),
            "changes": charts.rank_changes(data),
            "provinces": charts.provinces(data),
            "trends": charts.trends(data),
        },
    )


def render(year: int, output: Path | None = None) -> Path:
    """Write the report of ``year`` (to ``reports/<year>/index.html`` unless ``output`` is given)."""
    try:
        con = readonly.connect()
    except FileNotFoundError as error:
        raise ReportError(str(error)) from None
    with con:
        data = load(con, year)
    html = build_page(data)
    target = output or report_path(year)
    files.write_bytes_atomically(target, html.encode("utf-8"))
    return target
