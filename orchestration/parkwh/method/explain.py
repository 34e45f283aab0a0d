"""Why a base has its score and rank: the decomposition against the median base, and its rank change split by cause.

``explain(con, base_code, year)`` reads the warehouse (a read-only connection will do): the
published ranking and score decomposition, the Monte Carlo's interval, and, for the rank change,
the figures, expert scores and catalogue the build used. The change since last year is split by
re-running the method (the numpy reference) on mixed data:

- the method: last year's data under this year's method, against last year's rank;
- the other bases: this year's data of every other base, the base's own data still last year's;
- its own data: the base's own figures and expert scores of this year, i.e. the published rank.

The three parts add up to the published rank change.
"""

from __future__ import annotations

import copy
import statistics
from dataclasses import dataclass, field

import duckdb
import numpy as np

from parkwh.method import reference
from parkwh.method.catalogue import FIGURES, Catalogue, catalogue_from_rows
from parkwh.method.inputs import Experts, Figures, figures_from_rows


class ExplainError(LookupError):
    """The warehouse cannot explain the base and year asked for; the message says why."""


@dataclass(frozen=True)
class DimensionLine:
    code: str
    name_zh: str
    name_en: str
    weight: float | None
    score: float | None
    contribution: float | None
    median_contribution: float | None


@dataclass(frozen=True)
class IndicatorLine:
    code: str
    name_zh: str
    name_en: str
    dimension: str
    unit: str
    raw_value: float | None
    imputation_rule: str | None
    treatment: str | None
    normalised_value: float | None
    weight: float | None
    contribution: float | None
    median_contribution: float | None


@dataclass(frozen=True)
class RankChange:
    """The published rank change split by cause (places gained; the parts add up to ``total``)."""

    previous_rank: int
    rank: int
    method: int
    others: int
    own: int
    own_changes: tuple[tuple[str, float | None, float | None], ...]
    """The base's own raw indicator values, last year and this year, for those that changed."""
    expert_before: float | None
    expert_now: float | None

    @property
    def total(self) -> int:
        return self.previous_rank - self.rank


@dataclass
class Explanation:
    base_code: str
    year: int
    base_name_zh: str | None
    base_name_en: str | None
    province: str | None
    ranked: bool
    not_ranked_reason: str | None
    indicators_available: int | None
    indicators_expected: int | None
    rank: int | None
    ranked_bases: int
    score: float | None
    indicator_score: float | None
    expert_score: float | None
    expert_share: float | None
    rank_change: int | None
    rank_median: float | None
    rank_p05: int | None
    rank_p95: int | None
    mean_abs_rank_shift: float | None
    mc_draws: int | None
    mc_seed: int | None
    dimensions: list[DimensionLine] = field(default_factory=list)
    indicators: list[IndicatorLine] = field(default_factory=list)
    change: RankChange | None = None
    change_note: str | None = None


def _dicts(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cursor = con.execute(sql, params or [])
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row)) for row in cursor.fetchall()]


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {f"{s}.{t}" for s, t in con.execute(
        "select table_schema, table_name from information_schema.tables").fetchall()}


REQUIRED = ("published.park_ranking", "published.park_scores", "intermediate.int_method_scores",
            "intermediate.int_method_coverage", "intermediate.int_method_rank_uncertainty",
            "intermediate.int_method_expert_panel", "marts.fct_base_year",
            "staging.method_indicators", "staging.method_parameters")


def _median(values: list[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def explain(con: duckdb.DuckDBPyConnection, base_code: str, year: int) -> Explanation:
    """Everything ``parkwh explain`` shows for one base and year."""
    missing = [t for t in REQUIRED if t not in _tables(con)]
    if missing:
        raise ExplainError(f"the warehouse has no {missing[0]} yet: build it first (parkwh run)")
    code = base_code.strip().upper()
    rows = _dicts(con, "select * from published.park_ranking where base_code = ? and reporting_year = ?", [code, year])
    if not rows:
        years = [r[0] for r in con.execute(
            "select distinct reporting_year from published.park_ranking where base_code = ? order by 1", [code]
        ).fetchall()]
        if years:
            raise ExplainError(f"{code} is not in the {year} ranking; it is in {', '.join(map(str, years))}")
        raise ExplainError(f"no base {code} in the ranking (base codes look like SH001)")
    ranking = rows[0]
    state = _dicts(con, """
        select scores.not_ranked_reason, scores.expert_share, coverage.indicators_available,
               coverage.indicators_expected
        from intermediate.int_method_scores as scores
        inner join intermediate.int_method_coverage as coverage using (base_code, reporting_year)
        where base_code = ? and reporting_year = ?""", [code, year])[0]
    uncertainty = _dicts(con, "select * from intermediate.int_method_rank_uncertainty "
                              "where base_code = ? and reporting_year = ?", [code, year])
    u = uncertainty[0] if uncertainty else {}
    ranked_bases = con.execute("select count(*) from published.park_ranking where reporting_year = ? and ranked",
                               [year]).fetchall()[0][0]

    def num(value):
        return None if value is None else float(value)

    out = Explanation(
        base_code=code, year=year, base_name_zh=ranking["base_name_zh"], base_name_en=ranking["base_name_en"],
        province=ranking["province"], ranked=bool(ranking["ranked"]), not_ranked_reason=state["not_ranked_reason"],
        indicators_available=state["indicators_available"], indicators_expected=state["indicators_expected"],
        rank=ranking["rank"], ranked_bases=ranked_bases, score=num(ranking["score"]),
        indicator_score=num(ranking["indicator_score"]), expert_score=num(ranking["expert_score"]),
        expert_share=num(state["expert_share"]), rank_change=ranking["rank_change"],
        rank_median=num(ranking["rank_median"]), rank_p05=ranking["rank_p05"], rank_p95=ranking["rank_p95"],
        mean_abs_rank_shift=num(u.get("mean_abs_rank_shift")), mc_draws=u.get("mc_draws"), mc_seed=u.get("mc_seed"),
    )
    _decomposition(con, out)
    if out.ranked:
        _rank_change(con, out)
    return out


def _decomposition(con: duckdb.DuckDBPyConnection, out: Explanation) -> None:
    scores = _dicts(con, "select * from published.park_scores where reporting_year = ?", [out.year])
    # Heaviest dimension first, and within it the heaviest indicator.
    own = sorted((r for r in scores if r["base_code"] == out.base_code),
                 key=lambda r: (-r["dimension_weight"], r["dimension_code"], -r["indicator_weight"], r["indicator_code"]))
    ranked = [r for r in scores if r["ranked"]]
    for r in own:
        peers = [float(p["contribution"]) for p in ranked
                 if p["indicator_code"] == r["indicator_code"] and p["contribution"] is not None]
        out.indicators.append(IndicatorLine(
            code=r["indicator_code"], name_zh=r["indicator_name_zh"], name_en=r["indicator_name_en"],
            dimension=r["dimension_code"], unit=r["unit"] or "", raw_value=r["raw_value"],
            imputation_rule=r["imputation_rule"], treatment=r["treatment"], normalised_value=r["normalised_value"],
            weight=r["weight"], contribution=r["contribution"], median_contribution=_median(peers)))
    dimensions: dict[str, dict] = {}
    for r in own:
        dimensions.setdefault(r["dimension_code"], r)
    for dimension, r in dimensions.items():
        per_base: dict[str, float] = {}
        for p in ranked:
            if p["dimension_code"] == dimension and p["dimension_score"] is not None:
                per_base[p["base_code"]] = float(p["effective_dimension_weight"]) * float(p["dimension_score"])
        weight = r["effective_dimension_weight"]
        score = r["dimension_score"]
        out.dimensions.append(DimensionLine(
            code=dimension, name_zh=r["dimension_name_zh"] or "", name_en=r["dimension_name_en"] or "",
            weight=weight, score=score,
            contribution=None if score is None else float(weight) * float(score),
            median_contribution=_median(list(per_base.values()))))


def _warehouse_inputs(con: duckdb.DuckDBPyConnection) -> tuple[Catalogue, Figures, Experts]:
    catalogue = catalogue_from_rows(_dicts(con, "select * from staging.method_indicators"),
                                    _dicts(con, "select * from staging.method_parameters"),
                                    sources=("staging.method_indicators", "staging.method_parameters"))
    figures = figures_from_rows(_dicts(
        con, f"select base_code, reporting_year, submitted, {', '.join(FIGURES)} from marts.fct_base_year"))
    experts: Experts = {}
    for r in _dicts(con, "select reporting_year, base_code, expert_score from intermediate.int_method_expert_panel"):
        experts.setdefault(int(r["reporting_year"]), {}).setdefault(r["base_code"], []).append(float(r["expert_score"]))
    return catalogue, figures, experts


def _rank_of(catalogue: Catalogue, year: int, figures: Figures, experts: Experts, code: str,
             method=None) -> int | None:
    _, data = reference.year_data(catalogue, year, figures, experts.get(year), method=method)
    result = reference.evaluate(method or catalogue.method(year), data)
    b = data.base_codes.index(code)
    return int(result.rank[b]) if result.ranked[b] else None


def _rank_change(con: duckdb.DuckDBPyConnection, out: Explanation) -> None:
    year, code = out.year, out.base_code
    found = con.execute("select rank from published.park_ranking where base_code = ? and reporting_year = ?",
                        [code, year - 1]).fetchall()
    previous = found[0] if found else None
    if previous is None or previous[0] is None:
        out.change_note = f"{code} was not ranked in {year - 1}: there is no rank change to explain"
        return
    catalogue, figures, experts = _warehouse_inputs(con)
    now_rank = _rank_of(catalogue, year, figures, experts, code)
    if now_rank != out.rank:
        out.change_note = (f"the warehouse's data no longer give the published rank ({now_rank} instead of "
                           f"{out.rank}): rebuild before explaining the change")
        return
    method_now = catalogue.method(year)
    # 1. Last year's data, this year's method.
    with_method = _rank_of(catalogue, year - 1, figures, experts, code, method=method_now)
    # 2. Every other base's data of this year, the base's own still last year's.
    mixed = copy.deepcopy(figures)
    mixed[year][code] = copy.deepcopy(figures[year - 1].get(code))
    mixed_experts = copy.deepcopy(experts)
    mixed_experts.setdefault(year, {})[code] = list(experts.get(year - 1, {}).get(code, []))
    with_others = _rank_of(catalogue, year, mixed, mixed_experts, code)
    if with_method is None or with_others is None:
        out.change_note = "the base would not be ranked with last year's data under this year's method"
        return
    before = {i.code: reference.indicator_value(i, figures[year - 1].get(code)) for i in method_now.indicators}
    changes = []
    for indicator in method_now.indicators:
        old, new = before[indicator.code], reference.indicator_value(indicator, figures[year].get(code))
        if not (np.isnan(old) and np.isnan(new)) and old != new:
            changes.append((indicator.code, None if np.isnan(old) else old, None if np.isnan(new) else new))
    prev_panel, now_panel = experts.get(year - 1, {}).get(code, []), experts.get(year, {}).get(code, [])
    trim = method_now.parameters.expert_trim
    out.change = RankChange(
        previous_rank=int(previous[0]), rank=int(out.rank), method=int(previous[0]) - with_method,
        others=with_method - with_others, own=with_others - int(out.rank), own_changes=tuple(changes),
        expert_before=reference.trimmed_mean(prev_panel, trim) if prev_panel else None,
        expert_now=reference.trimmed_mean(now_panel, trim) if now_panel else None,
    )
