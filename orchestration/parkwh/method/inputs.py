"""The method's inputs as the reference reads them: figures per year and base, expert scores per year and base."""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from parkwh.method.catalogue import FIGURES

Figures = dict[int, dict[str, dict[str, object] | None]]
"""``figures[year][base_code]``: the base's figures, or None when it is designated but did not submit."""

Experts = dict[int, dict[str, list[float]]]
"""``experts[year][base_code]``: the experts' scores of the base."""


def figures_from_rows(rows: Iterable[dict]) -> Figures:
    """Figures per year and base from rows shaped like ``marts.fct_base_year``."""
    out: Figures = {}
    for row in rows:
        year = int(row["reporting_year"])
        submitted = bool(row.get("submitted", True))
        out.setdefault(year, {})[str(row["base_code"])] = (
            {f: row.get(f) for f in FIGURES} if submitted else None)
    return out


def experts_from_rows(rows: Iterable[dict]) -> Experts:
    """Expert scores per year and base from rows shaped like ``staging.stg_expert_scores``."""
    out: Experts = {}
    for row in rows:
        if row.get("expert_score") is None:
            continue
        out.setdefault(int(row["reporting_year"]), {}).setdefault(str(row["base_code"]), []).append(
            float(row["expert_score"]))
    return out


def _dicts(relation: duckdb.DuckDBPyRelation) -> list[dict]:
    columns = relation.columns
    return [dict(zip(columns, values)) for values in relation.fetchall()]


def read_warehouse(con: duckdb.DuckDBPyConnection) -> tuple[Figures, Experts]:
    """Every year's figures (``marts.fct_base_year``) and expert scores (``staging.stg_expert_scores``)."""
    figures = figures_from_rows(_dicts(con.sql(
        f"select base_code, reporting_year, submitted, {', '.join(FIGURES)} from marts.fct_base_year")))
    experts = experts_from_rows(_dicts(con.sql(
        "select reporting_year, base_code, expert_score from staging.stg_expert_scores")))
    return figures, experts
