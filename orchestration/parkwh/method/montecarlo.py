"""Uncertainty of the ranks: a seeded Monte Carlo over the method's choices, as the JRC audits composite indices.

Each draw makes every choice afresh:

- indicator and dimension weights, each times a uniform factor in [1 − noise, 1 + noise]
  (renormalised by the aggregation, as every weight is);
- the expert share, uniform in [low, high];
- the normalisation of every indicator: min-max, z-score or percentile rank (each indicator
  keeps its score range);
- the most points the outlier rule may winsorise: 0 to the year's maximum;
- arithmetic or geometric aggregation, within and across dimensions;
- the experts: each base's panel resampled with replacement before the trimmed mean.

Coverage and imputation are not varied: the draws start from the imputed values of the ranked
bases. Every variant of treatment and normalisation is computed once, the draws only pick among
them, and the scores and ranks of all draws are computed at once in arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from parkwh.method import reference
from parkwh.method.catalogue import Catalogue, Method

NORMALISATION_CHOICES: tuple[str, ...] = ("minmax", "zscore", "percentile")
CHUNK = 250
"""Draws evaluated together: bounds memory (a chunk holds draws × bases × indicators values)."""


@dataclass(frozen=True)
class Draws:
    """The choices of every draw (one row per draw)."""

    indicator_weights: np.ndarray  # (D, m)
    dimension_weights: np.ndarray  # (D, K)
    expert_share: np.ndarray  # (D,)
    normalisation: np.ndarray  # (D,) index into NORMALISATION_CHOICES
    max_winsorised_points: np.ndarray  # (D,)
    geometric: np.ndarray  # (D,) bool
    expert_pick: np.ndarray  # (D, n, E) uniform numbers that pick resampled experts


@dataclass(frozen=True)
class Uncertainty:
    """Per ranked base: its rank across the draws."""

    base_codes: tuple[str, ...]
    nominal_rank: np.ndarray
    rank_median: np.ndarray
    rank_p05: np.ndarray
    rank_p95: np.ndarray
    mean_abs_rank_shift: np.ndarray
    ranks: np.ndarray  # (D, n)
    draws: int
    seed: int


def draw(method: Method, n_bases: int, max_experts: int, draws: int, seed: int) -> Draws:
    """The choices of ``draws`` draws from ``seed`` (the same seed gives the same draws)."""
    p = method.parameters
    rng = np.random.default_rng(seed)
    m, k = len(method.indicators), len(method.dimensions)
    noise = p.mc_weight_noise
    return Draws(
        indicator_weights=method.indicator_weights * rng.uniform(1 - noise, 1 + noise, (draws, m)),
        dimension_weights=method.dimension_weights * rng.uniform(1 - noise, 1 + noise, (draws, k)),
        expert_share=rng.uniform(p.mc_expert_share_low, p.mc_expert_share_high, draws),
        normalisation=rng.integers(0, len(NORMALISATION_CHOICES), draws),
        max_winsorised_points=rng.integers(0, p.max_winsorised_points + 1, draws),
        geometric=rng.random(draws) < 0.5,
        expert_pick=rng.random((draws, n_bases, max(max_experts, 1))),
    )


def variants(method: Method, values: np.ndarray) -> np.ndarray:
    """Normalised scores for every (winsorisation limit, normalisation): (W + 1, 3, n, m)."""
    p = method.parameters
    n, m = values.shape
    out = np.full((p.max_winsorised_points + 1, len(NORMALISATION_CHOICES), n, m), np.nan)
    for j, indicator in enumerate(method.indicators):
        rows = ~np.isnan(values[:, j])
        if not rows.any():
            continue
        previous = None
        for limit in range(p.max_winsorised_points + 1):
            treated, _ = reference.treat(values[rows, j], p.skew_threshold, p.kurtosis_threshold, limit)
            if previous is not None and np.array_equal(treated, previous[0]):
                out[limit, :, rows, j] = previous[1]
                continue
            scores = np.stack([reference.normalise(treated, indicator, how) for how in NORMALISATION_CHOICES])
            out[limit, :, rows, j] = scores.T
            previous = (treated, scores.T)
    return out


def _bootstrap_experts(panels: Sequence[np.ndarray], pick: np.ndarray, trim: int) -> np.ndarray:
    """(D, n) trimmed means of each base's panel resampled with replacement (NaN without experts)."""
    d, n, e = pick.shape
    sizes = np.array([len(s) for s in panels])
    table = np.full((n, e), np.nan)
    for b, scores in enumerate(panels):
        table[b, :len(scores)] = scores
    index = np.minimum((pick * np.maximum(sizes, 1)[None, :, None]).astype(np.int64), e - 1)
    drawn = np.take_along_axis(np.broadcast_to(table, (d, n, e)), index, axis=2)
    slot = np.arange(e)[None, None, :]
    drawn = np.where(slot < sizes[None, :, None], drawn, np.nan)
    ordered = np.sort(drawn, axis=2)  # NaN last
    trimmed = np.where(sizes > 2 * trim, trim, 0)[None, :, None]
    keep = (slot >= trimmed) & (slot < sizes[None, :, None] - trimmed)
    total = np.where(keep, ordered, 0.0).sum(axis=2)
    count = keep.sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


def simulate(method: Method, base_codes: Sequence[str], values: np.ndarray, expert_panels: Sequence[np.ndarray],
             nominal_rank: np.ndarray, draws: int | None = None, seed: int | None = None) -> Uncertainty:
    """Ranks of the ranked bases over the draws.

    ``values`` (n, m) are the imputed values of the year's ranked bases, ``expert_panels`` their
    experts' scores and ``nominal_rank`` their published ranks (for the mean absolute shift).
    """
    p = method.parameters
    draws = p.mc_draws if draws is None else draws
    seed = p.mc_seed if seed is None else seed
    n = len(base_codes)
    if n == 0:
        empty = np.zeros(0)
        return Uncertainty((), empty, empty, empty, empty, empty, np.zeros((draws, 0)), draws, seed)
    # The bootstrap picks experts by position: sorting each panel makes the draws independent of
    # the order the scores were read in.
    expert_panels = [np.sort(np.asarray(s, dtype=float)) for s in expert_panels]
    choices = draw(method, n, max((len(s) for s in expert_panels), default=0), draws, seed)
    table = variants(method, values)
    groups = reference.membership(method)
    across = np.ones((len(method.dimensions), 1))
    ranks = np.zeros((draws, n), dtype=np.int64)
    for start in range(0, draws, CHUNK):
        part = slice(start, min(start + CHUNK, draws))
        normalised = table[choices.max_winsorised_points[part], choices.normalisation[part]]  # (c, n, m)
        scores = {}
        for how in (reference.ARITHMETIC, reference.GEOMETRIC):
            dims = reference.aggregate(normalised, choices.indicator_weights[part], groups, how)
            scores[how] = reference.aggregate(dims, choices.dimension_weights[part], across, how)[..., 0]
        indicator = np.where(choices.geometric[part, None], scores[reference.GEOMETRIC], scores[reference.ARITHMETIC])
        expert = _bootstrap_experts(expert_panels, choices.expert_pick[part], p.expert_trim)
        combined = reference.combine(indicator, expert, choices.expert_share[part, None])
        ranks[part] = reference.competition_rank(reference.round_half_away(combined, p.rounding_digits))
    nominal = np.asarray(nominal_rank, dtype=float)
    return Uncertainty(
        base_codes=tuple(base_codes), nominal_rank=nominal,
        rank_median=np.median(ranks, axis=0),
        rank_p05=np.quantile(ranks, 0.05, axis=0, method="inverted_cdf"),
        rank_p95=np.quantile(ranks, 0.95, axis=0, method="inverted_cdf"),
        mean_abs_rank_shift=np.abs(ranks - nominal[None, :]).mean(axis=0),
        ranks=ranks, draws=draws, seed=seed,
    )


def simulate_result(result: reference.YearResult, draws: int | None = None, seed: int | None = None) -> Uncertainty:
    """The Monte Carlo around one evaluated year (the reference's own output)."""
    rows = np.flatnonzero(result.ranked)
    return simulate(result.method, [result.data.base_codes[b] for b in rows], result.imputed[rows],
                    [result.data.expert_scores[b] for b in rows], result.rank[rows], draws, seed)


OUTPUT_COLUMNS = ("base_code", "reporting_year", "nominal_rank", "rank_median", "rank_p05", "rank_p95",
                  "mean_abs_rank_shift", "mc_draws", "mc_seed")


def uncertainty_frame(catalogue: Catalogue, imputed: pd.DataFrame, panel: pd.DataFrame,
                      scores: pd.DataFrame) -> pd.DataFrame:
    """The Monte Carlo of every year, from the SQL models' tables (what the dbt Python model returns).

    ``imputed``: base_code, reporting_year, indicator_code, imputed_value, ranked (int_method_imputed);
    ``panel``: base_code, reporting_year, expert_score (int_method_expert_panel);
    ``scores``: base_code, reporting_year, ranked, rank (int_method_scores).
    """
    frames = []
    for year in sorted(scores["reporting_year"].unique()):
        year = int(year)
        ranked = scores[(scores["reporting_year"] == year) & scores["ranked"].astype(bool)]
        codes = sorted(ranked["base_code"].astype(str))
        if not codes:
            continue
        method = catalogue.method(year)
        values = imputed[(imputed["reporting_year"] == year) & imputed["base_code"].isin(codes)]
        matrix = (values.pivot(index="base_code", columns="indicator_code", values="imputed_value")
                  .reindex(index=codes, columns=list(method.codes)).to_numpy(dtype=float))
        year_panel = panel[panel["reporting_year"] == year]
        panels = [year_panel.loc[year_panel["base_code"] == c, "expert_score"].to_numpy(dtype=float) for c in codes]
        nominal = ranked.set_index("base_code").loc[codes, "rank"].to_numpy(dtype=float)
        u = simulate(method, codes, matrix, panels, nominal)
        frames.append(pd.DataFrame({
            "base_code": list(u.base_codes), "reporting_year": np.full(len(codes), year, dtype=np.int32),
            "nominal_rank": u.nominal_rank.astype(np.int32), "rank_median": u.rank_median.astype(float),
            "rank_p05": u.rank_p05.astype(np.int32), "rank_p95": u.rank_p95.astype(np.int32),
            "mean_abs_rank_shift": u.mean_abs_rank_shift.astype(float),
            "mc_draws": np.full(len(codes), u.draws, dtype=np.int32),
            "mc_seed": np.full(len(codes), u.seed, dtype=np.int64),
        }))
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(
            OUTPUT_COLUMNS, ("str", "int32", "int32", "float64", "int32", "int32", "float64", "int32", "int64"))})
    return pd.concat(frames, ignore_index=True)[list(OUTPUT_COLUMNS)]
