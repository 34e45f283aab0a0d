"""The annual report: ``warehouse/reports/<year>/index.html``, one self-contained page per published year.

It reads ``published.duckdb`` only, so it shows exactly what was published and never waits for
(or blocks) the pipeline. The page is a function of the publication: rendering a year again
without a new publication gives the same bytes. Drawing the charts is most of the work, so every
page's charts are drawn together (``parkwh.publish.svg``: in parallel, and kept, so a chart whose
figures did not change is not drawn again).
"""

from __future__ import annotations

from pathlib import Path

from parkwh import config
from parkwh.publish import files, readonly, svg
from parkwh.publish.report import charts, page
from parkwh.publish.report.data import ReportData, ReportError, load

__all__ = [
    "ReportData",
    "ReportError",
    "chart_cache",
    "published_years",
    "render",
    "render_all",
    "report_path",
]


def report_path(year: int) -> Path:
    return config.warehouse().reports / str(year) / "index.html"


def chart_cache() -> Path:
    """Where drawn charts are kept between publications (outside ``reports/``: not published)."""
    return config.warehouse().root / ".cache" / "report-charts"


def published_years() -> list[int]:
    with readonly.connect() as con:
        return _published_years(con)


def _published_years(con) -> list[int]:
    return [
        r[0]
        for r in con.execute(
            "select distinct reporting_year from main.publications order by 1"
        ).fetchall()
    ]


def build_pages(
    datas: list[ReportData], cache: Path | None = None, workers: svg.Workers | None = None
) -> tuple[list[str], set[str]]:
    """The pages of ``datas``, and the cache entries their charts are kept under."""
    chart_specs = [charts.specs(data) for data in datas]
    wanted = [
        (n, name, spec) for n, specs in enumerate(chart_specs) for name, spec in specs.items()
    ]
    drawn, keys = svg.render([spec for _, _, spec in wanted if spec is not None], cache, workers)
    pictures: list[dict[str, str | None]] = [dict.fromkeys(specs) for specs in chart_specs]
    next_drawn = iter(drawn)
    for n, name, spec in wanted:
        if spec is not None:
            pictures[n][name] = next(next_drawn)
    return [page.render(data, p) for data, p in zip(datas, pictures)], keys


def build_page(data: ReportData) -> str:
    [html], _ = build_pages([data])
    return html


def _connect():
    try:
        return readonly.connect()
    except FileNotFoundError as error:
        raise ReportError(str(error)) from None


def render(year: int, output: Path | None = None) -> Path:
    """Write the report of ``year`` (to ``reports/<year>/index.html`` unless ``output`` is given)."""
    with _connect() as con:
        data = load(con, year)
    [html], _ = build_pages([data], chart_cache())
    target = output or report_path(year)
    files.write_bytes_atomically(target, html.encode("utf-8"))
    return target


def render_all() -> dict[int, Path]:
    """Write the report of every published year; the charts no page shows any more are let go."""
    cache = chart_cache()
    # With no chart kept (a first publication), every chart is to be drawn: the processes that
    # draw them start now, while the data is read. Otherwise the few new charts are drawn as found.
    ahead = 0 if cache.is_dir() and any(cache.glob("*.svg")) else svg.process_count()
    with svg.Workers(ahead) as workers:
        with _connect() as con:
            datas = [load(con, year) for year in _published_years(con)]
        pages, keys = build_pages(datas, cache, workers)
    written = {}
    for data, html in zip(datas, pages):
        written[data.year] = report_path(data.year)
        files.write_bytes_atomically(written[data.year], html.encode("utf-8"))
    svg.prune(cache, keys)
    return written
