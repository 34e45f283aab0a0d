"""What the annual report shows, read from ``published.duckdb``: only what is published, never more."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import duckdb

Row = dict[str, Any]


class ReportError(RuntimeError):
    """The report cannot be made: the message says why and what to do."""


@dataclass
class ReportData:
    year: int
    publication: Row
    versions: list[Row]
    changes: list[Row]
    summary: dict[str, Row]
    ranking: list[Row]
    dimension_scores: list[Row]
    dimensions: list[Row]
    provinces: list[Row]
    regions: list[Row]
    designated: Row
    trends: list[Row]
    catalogue_columns: list[str]
    catalogue: list[Row]
    parameters: Row
    quality_run: Row | None
    quality_by_suite: list[Row]
    quality_findings: list[Row]
    notes: list[str] = field(default_factory=list)

    @property
    def top10(self) -> list[Row]:
        return [
            r
            for r in self.ranking
            if r.get("ranked") and r.get("rank") is not None and r["rank"] <= 10
        ]

    @property
    def ranked(self) -> list[Row]:
        return [r for r in self.ranking if r.get("ranked")]


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None) -> list[Row]:
    result = con.execute(sql, params or [])
    names = [d[0] for d in result.description]
    return [dict(zip(names, row)) for row in result.fetchall()]


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "select column_name from duckdb_columns() where schema_name = ? and table_name = ?"
            " order by column_index",
            [schema, table],
        ).fetchall()
    ]


def _exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(_columns(con, schema, table))


def _first(candidates: tuple[str, ...], available: list[str]) -> str | None:
    return next((c for c in candidates if c in available), None)


def load(con: duckdb.DuckDBPyConnection, year: int) -> ReportData:
    """Everything the report of ``year`` shows, from a connection to ``published.duckdb``."""
    for table in ("publications", "park_ranking", "report_summary"):
        if not _exists(con, "main", table):
            raise ReportError(f"published.duckdb has no {table}: publish the warehouse first")
    versions = _rows(
        con, "select * from main.publications where reporting_year = ? order by version", [year]
    )
    if not versions:
        years = [
            r[0]
            for r in con.execute(
                "select distinct reporting_year from main.publications order by 1"
            ).fetchall()
        ]
        raise ReportError(
            f"{year} has not been published (published years: {', '.join(map(str, years)) or 'none'})"
        )
    publication = versions[-1]
    changes = (
        _rows(
            con,
            "select * from main.park_ranking_changes where publication_id = ? order by base_code",
            [publication["publication_id"]],
        )
        if _exists(con, "main", "park_ranking_changes")
        else []
    )
    summary = {
        r["scope"]: r
        for r in _rows(con, "select * from main.report_summary where reporting_year = ?", [year])
    }
    ranking = _rows(
        con,
        "select * from main.park_ranking where reporting_year = ?"
        " order by ranked desc, rank nulls last, base_code",
        [year],
    )
    data = ReportData(
        year=year,
        publication=publication,
        versions=versions,
        changes=changes,
        summary=summary,
        ranking=ranking,
        dimension_scores=[],
        dimensions=[],
        provinces=[],
        regions=[],
        designated={},
        trends=_rows(
            con,
            "select * from main.report_summary where reporting_year <= ? order by reporting_year, scope",
            [year],
        ),
        catalogue_columns=[],
        catalogue=[],
        parameters={},
        quality_run=None,
        quality_by_suite=[],
        quality_findings=[],
    )
    _load_dimensions(con, data)
    _load_geography(con, data)
    _load_catalogue(con, data)
    _load_quality(con, data)
    return data


def _load_dimensions(con: duckdb.DuckDBPyConnection, data: ReportData) -> None:
    """Each top-10 base's score in each dimension of the method."""
    if not _exists(con, "main", "park_scores"):
        data.notes.append("park_scores is not published: no dimension scores")
        return
    columns = _columns(con, "main", "park_scores")
    code = _first(("dimension_code", "dimension", "dimension_id"), columns)
    if code is None:
        data.notes.append("park_scores has no dimension column: no dimension scores")
        return
    name_zh = _first(("dimension_name_zh",), columns)
    name_en = _first(("dimension_name_en",), columns)
    score = _first(("dimension_score",), columns)
    value = f"max({score})" if score else "sum(contribution)"
    if not score and "contribution" not in columns:
        data.notes.append("park_scores has no dimension score: no dimension scores")
        return
    zh = f"any_value({name_zh})" if name_zh else code
    en = f"any_value({name_en})" if name_en else code
    data.dimension_scores = _rows(
        con,
        f"select base_code, {code} as dimension_code, {zh} as dimension_name_zh,"
        f" {en} as dimension_name_en, cast({value} as double) as dimension_score"
        " from main.park_scores where reporting_year = ? and list_contains(?, base_code)"
        " group by base_code, dimension_code order by base_code, dimension_code",
        [data.year, [r["base_code"] for r in data.top10]],
    )
    seen: dict[str, Row] = {}
    for row in data.dimension_scores:
        seen.setdefault(
            row["dimension_code"],
            {
                "dimension_code": row["dimension_code"],
                "dimension_name_zh": row["dimension_name_zh"],
                "dimension_name_en": row["dimension_name_en"],
            },
        )
    data.dimensions = list(seen.values())


def _load_geography(con: duckdb.DuckDBPyConnection, data: ReportData) -> None:
    """Figures by province and by region, from the facts the summary is computed from."""
    if not (_exists(con, "marts", "fct_base_year") and _exists(con, "marts", "dim_province")):
        data.notes.append("fct_base_year or dim_province is not published: no figures by province")
        return
    base = """
        with facts as (
            select f.*, p.province_name_zh, p.province_name_en, p.region_code,
                   p.region_name_zh, p.region_name_en, r.score, r.ranked, r.rank
            from marts.fct_base_year as f
            left join marts.dim_province as p on p.province_code = f.province_code
            left join main.park_ranking as r
                on r.reporting_year = f.reporting_year and r.base_code = f.base_code
            where f.reporting_year = $year
        )
        select {keys},
            count(*) as bases_designated,
            count(*) filter (where submitted) as bases_submitted,
            count(*) filter (where rank <= 10) as bases_in_top10,
            sum(enterprises_in_park) as enterprises_in_park,
            sum(incubated_cum) as incubated_cum,
            sum(listed_cum) as listed_cum,
            sum(returnees_cum) as returnees_cum,
            sum(revenue_yuan) as revenue_yuan,
            avg(score) filter (where ranked) as avg_score
        from facts group by all order by {order}
    """
    data.provinces = _rows(
        con,
        base.format(
            keys="province_code, any_value(province_name_zh) as province_name_zh,"
            " any_value(province_name_en) as province_name_en, any_value(region_code) as region_code",
            order="bases_designated desc, enterprises_in_park desc nulls last, province_code",
        ),
        {"year": data.year},
    )
    data.regions = _rows(
        con,
        base.format(
            keys="region_code, any_value(region_name_zh) as region_name_zh,"
            " any_value(region_name_en) as region_name_en, count(distinct province_code) as provinces",
            order="bases_designated desc, region_code",
        ),
        {"year": data.year},
    )
    data.designated = _rows(
        con,
        "select count(*) as bases, count(*) filter (where submitted) as submitted,"
        " count(distinct province_code) as provinces"
        " from marts.fct_base_year where reporting_year = ?",
        [data.year],
    )[0]


def _valid_in_year(con: duckdb.DuckDBPyConnection, schema: str, table: str, year: int) -> list[Row]:
    """The rows of a method table valid in ``year`` (first_year .. last_year, either open)."""
    columns = _columns(con, schema, table)
    where, params = "", []
    first = _first(("first_year", "valid_from_year", "first_year_valid"), columns)
    last = _first(("last_year", "valid_to_year", "last_year_valid"), columns)
    if first:
        where += f" and coalesce({first}, ?) <= ?"
        params += [year, year]
    if last:
        where += f" and coalesce({last}, ?) >= ?"
        params += [year, year]
    order = ", ".join(
        c for c in ("dimension_code", "dimension", "indicator_code", "code") if c in columns
    )
    return _rows(
        con,
        f'select * from "{schema}"."{table}" where true{where}'
        + (f" order by {order}" if order else ""),
        params,
    )


def _load_catalogue(con: duckdb.DuckDBPyConnection, data: ReportData) -> None:
    """The method's indicators and parameters valid in the year, as the catalogue gives them."""
    found = con.execute(
        "select schema_name, table_name from duckdb_tables()"
        " where table_name in ('method_indicators', 'method_catalogue')"
        " order by schema_name = 'main' desc, table_name limit 1"
    ).fetchone()
    if found is None:
        data.notes.append("the method catalogue is not published")
    else:
        data.catalogue_columns = _columns(con, *found)
        data.catalogue = _valid_in_year(con, found[0], found[1], data.year)
    parameters = con.execute(
        "select schema_name from duckdb_tables() where table_name = 'method_parameters' limit 1"
    ).fetchone()
    if parameters is not None:
        rows = _valid_in_year(con, parameters[0], "method_parameters", data.year)
        if rows:
            data.parameters = {
                k: v
                for k, v in rows[-1].items()
                if k not in ("first_year", "last_year") and v is not None
            }


def _load_quality(con: duckdb.DuckDBPyConnection, data: ReportData) -> None:
    """The latest quality run at or before the publication: its verdict by suite, what it found."""
    if not _exists(con, "audit", "check_results"):
        data.notes.append("no data-quality results are published")
        return
    run = _rows(
        con,
        "select run_id, max(checked_at) as checked_at, bool_and(gate_open) as gate_open"
        " from audit.check_results where checked_at <= ? group by run_id"
        " order by checked_at desc limit 1",
        [data.publication["published_at"]],
    ) or _rows(
        con,
        "select run_id, max(checked_at) as checked_at, bool_and(gate_open) as gate_open"
        " from audit.check_results group by run_id order by checked_at desc limit 1",
    )
    if not run:
        return
    data.quality_run = run[0]
    run_id = run[0]["run_id"]
    data.quality_by_suite = _rows(
        con,
        "select suite, count(*) as expectations,"
        " count(*) filter (where outcome = 'pass') as passed,"
        " count(*) filter (where outcome = 'warn') as warned,"
        " count(*) filter (where outcome = 'fail') as failed"
        " from audit.check_results where run_id = ? group by suite order by suite",
        [run_id],
    )
    data.quality_findings = _rows(
        con,
        "select suite, expectation_id, table_name, severity, outcome, unexpected_count,"
        " element_count, description, fix from audit.check_results"
        " where run_id = ? and outcome <> 'pass' order by outcome = 'fail' desc, suite, expectation_id",
        [run_id],
    )


def as_float(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return float(value)
    return float(value)
