"""The evaluation method in numpy, for one set of choices: the reference the SQL models are tested against.

Every step is a function with one job, on arrays with one row per base and one column per
indicator of the year's method (catalogue order); ``evaluate`` chains them and keeps each step's
output. The SQL models in ``dbt_project/models/method/`` implement the same steps; the Monte
Carlo (``montecarlo``), the demo's calibration (``calibrate``) and ``parkwh explain`` call these
functions, and the tests compare both implementations. ``docs/method.md`` states the rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from parkwh.method.catalogue import COVERAGE_TOLERANCE, Catalogue, Indicator, Method

ARITHMETIC = "arithmetic"
GEOMETRIC = "geometric"
GEOMETRIC_FLOOR = 1.0
"""In geometric aggregation a normalised score below 1 counts as 1, so one zero cannot zero a whole score."""

ZSCORE_SPAN = 3.0
"""z-scores are capped at ±3 standard deviations, then mapped linearly onto the indicator's score range."""

LOG_OFFSET_SHARE = 0.01
"""COINr's log transform: ln(x − min + 0.01·(max − min))."""


@dataclass(frozen=True)
class Choices:
    """The choices the Monte Carlo varies; ``None`` keeps the catalogue's or the year's parameter."""

    normalisation: str | None = None
    max_winsorised_points: int | None = None
    aggregation: str = ARITHMETIC
    expert_share: float | None = None
    indicator_weights: np.ndarray | None = None
    dimension_weights: np.ndarray | None = None


@dataclass
class YearData:
    """What the method reads for one year, aligned with the method's indicators."""

    year: int
    base_codes: tuple[str, ...]
    submitted: np.ndarray
    """(n,) whether the base has a submission in force."""
    raw: np.ndarray
    """(n, m) raw indicator values; NaN where missing."""
    previous_raw: np.ndarray
    """(n, m) the base's raw value of the same indicator the year before; NaN where none."""
    expert_scores: tuple[np.ndarray, ...]
    """Per base, its experts' scores (possibly none)."""


# ---------------------------------------------------------------------------- indicator values


def indicator_value(indicator: Indicator, figures: Mapping[str, object] | None) -> float:
    """An indicator's raw value from a base's figures: the numerator, or numerator / denominator.

    NaN when a figure is missing or the denominator is zero.
    """
    if figures is None:
        return float("nan")
    numerator = _as_float(figures.get(indicator.numerator))
    if indicator.denominator is None:
        return numerator
    denominator = _as_float(figures.get(indicator.denominator))
    if np.isnan(denominator) or denominator == 0:
        return float("nan")
    return numerator / denominator


def _as_float(value: object) -> float:
    if value is None:
        return float("nan")
    try:
        number = float(value)  # Decimal, int, numpy and pandas scalars alike
    except (TypeError, ValueError):
        return float("nan")
    return number


def year_data(catalogue: Catalogue, year: int, figures: Mapping[int, Mapping[str, Mapping[str, object] | None]],
              expert_scores: Mapping[str, Sequence[float]] | None = None,
              base_codes: Sequence[str] | None = None, method: Method | None = None) -> tuple[Method, YearData]:
    """The method of ``year`` and its input, from figures per year and base (None: did not submit).

    ``figures[year][base_code]`` holds the base's figures (``fct_base_year`` columns); a base
    listed with ``None`` is designated but did not submit. ``figures[year - 1]`` (if present)
    feeds the imputation of missing values. ``method`` evaluates the year with another year's
    method (what-if comparisons); by default the catalogue's method of ``year``.
    """
    method = catalogue.method(year) if method is None else method
    this_year = figures[year]
    codes = tuple(base_codes) if base_codes is not None else tuple(sorted(this_year))
    raw = np.array([[indicator_value(i, this_year.get(c)) for i in method.indicators] for c in codes],
                   dtype=float).reshape(len(codes), len(method.indicators))
    previous = np.full_like(raw, np.nan)
    if year - 1 in figures:
        try:
            before = {i.code: i for i in catalogue.method(year - 1).indicators}
        except ValueError:
            before = {}
        for j, indicator in enumerate(method.indicators):
            if indicator.code in before:
                for b, code in enumerate(codes):
                    previous[b, j] = indicator_value(before[indicator.code], figures[year - 1].get(code))
    submitted = np.array([this_year.get(c) is not None for c in codes], dtype=bool)
    experts = expert_scores or {}
    scores = tuple(np.asarray(experts.get(c, ()), dtype=float) for c in codes)
    return method, YearData(year, codes, submitted, raw, previous, scores)


# ---------------------------------------------------------------------------- coverage and imputation


def coverage(raw: np.ndarray, submitted: np.ndarray, min_coverage: float) -> tuple[np.ndarray, np.ndarray]:
    """Indicators available per base, and whether the base is ranked.

    A base is ranked when it submitted and has at least ``min_coverage`` of the year's indicators.
    """
    available = (~np.isnan(raw)).sum(axis=1)
    expected = raw.shape[1]
    ranked = submitted & (available >= expected * min_coverage - COVERAGE_TOLERANCE)
    return available, ranked


def impute(raw: np.ndarray, ranked: np.ndarray, previous_raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fill a ranked base's missing value: its own value the year before, else the year's median.

    The median is taken over the ranked bases that have the value. Returns the values (unranked
    bases keep their raw values) and, per cell, the rule used (``''``, ``previous_year``, ``median``).
    """
    values = raw.copy()
    rule = np.full(raw.shape, "", dtype=object)
    for j in range(raw.shape[1]):
        column = raw[ranked, j]
        present = column[~np.isnan(column)]
        median = float(np.median(present)) if present.size else float("nan")
        for b in np.flatnonzero(ranked & np.isnan(raw[:, j])):
            if not np.isnan(previous_raw[b, j]):
                values[b, j], rule[b, j] = previous_raw[b, j], "previous_year"
            elif not np.isnan(median):
                values[b, j], rule[b, j] = median, "median"
    return values, rule


# ---------------------------------------------------------------------------- outlier treatment


def skewness(x: np.ndarray) -> float:
    """Sample skewness as COINr, Excel's SKEW and e1071 type 2 define it; NaN below 3 points or without spread."""
    x = np.asarray(x, dtype=float)
    n = x.size
    if n < 3:
        return float("nan")
    d = x - x.mean()
    m2 = float((d**2).sum())
    if m2 <= 0:
        return float("nan")
    g1 = np.sqrt(n) * float((d**3).sum()) / m2**1.5
    return g1 * np.sqrt(n * (n - 1)) / (n - 2)


def kurtosis(x: np.ndarray) -> float:
    """Sample excess kurtosis as COINr, Excel's KURT and e1071 type 2 define it; NaN below 4 points or without spread."""
    x = np.asarray(x, dtype=float)
    n = x.size
    if n < 4:
        return float("nan")
    d = x - x.mean()
    m2 = float((d**2).sum())
    if m2 <= 0:
        return float("nan")
    r = n * float((d**4).sum()) / m2**2
    return ((n + 1) * (r - 3) + 6) * (n - 1) / ((n - 2) * (n - 3))


def has_outliers(x: np.ndarray, skew_threshold: float, kurtosis_threshold: float) -> bool:
    """COINr's rule: |skewness| ≥ threshold and kurtosis ≥ threshold (undefined statistics pass)."""
    s, k = skewness(x), kurtosis(x)
    if np.isnan(s) or np.isnan(k):
        return False
    return abs(s) >= skew_threshold and k >= kurtosis_threshold


def winsorise(x: np.ndarray, points: int, side: str) -> np.ndarray:
    """Winsorise ``points`` points on one side: the ``points`` highest (lowest) values become the next one."""
    x = np.asarray(x, dtype=float)
    if points <= 0:
        return x.copy()
    ordered = np.sort(x)
    if side == "high":
        return np.minimum(x, ordered[::-1][points])
    return np.maximum(x, ordered[points])


def log_transform(x: np.ndarray) -> np.ndarray:
    """COINr's default log transform (``log_CT``): ln(x − min + 0.01·(max − min))."""
    x = np.asarray(x, dtype=float)
    low, high = x.min(), x.max()
    return np.log(x - low + LOG_OFFSET_SHARE * (high - low))


@dataclass(frozen=True)
class Treatment:
    """What the outlier step did to one indicator in one year."""

    treatment: str
    """``none``, ``winsorised`` or ``log``."""
    points: int
    side: str | None
    skew_before: float
    kurtosis_before: float
    skew_after: float
    kurtosis_after: float


def treat(x: np.ndarray, skew_threshold: float, kurtosis_threshold: float,
          max_points: int) -> tuple[np.ndarray, Treatment]:
    """COINr's outlier rule on one indicator's values (the ranked bases').

    An indicator that fails the rule is winsorised one point at a time on the side of its skew
    (high for skew ≥ 0), up to ``max_points``; the fewest points that pass are kept. If none
    does, the log transform is applied to the untreated values instead.
    """
    x = np.asarray(x, dtype=float)
    s0, k0 = skewness(x), kurtosis(x)
    if not has_outliers(x, skew_threshold, kurtosis_threshold):
        return x.copy(), Treatment("none", 0, None, s0, k0, s0, k0)
    side = "high" if s0 >= 0 else "low"
    for points in range(1, min(max_points, x.size - 1) + 1):
        w = winsorise(x, points, side)
        if not has_outliers(w, skew_threshold, kurtosis_threshold):
            return w, Treatment("winsorised", points, side, s0, k0, skewness(w), kurtosis(w))
    logged = log_transform(x)
    return logged, Treatment("log", 0, None, s0, k0, skewness(logged), kurtosis(logged))


# ---------------------------------------------------------------------------- normalisation


def unit_score(x: np.ndarray, how: str, direction: int = 1, goal_low: float | None = None,
               goal_high: float | None = None) -> np.ndarray:
    """Each value's position in [0, 1] among the values given (NaN stays NaN).

    - ``minmax``: (x − min) / (max − min);
    - ``zscore``: (z + 3) / 6 with z = (x − mean) / sd (sample sd), capped to [0, 1];
    - ``percentile``: the share of the other bases below, ties counting half;
    - ``goalposts``: (x − goal_low) / (goal_high − goal_low), capped to [0, 1] (the goalposts
      carry the direction: goal_low above goal_high means less is better).

    ``direction`` −1 reverses the first three. When every value is equal, every base scores 1.
    """
    x = np.asarray(x, dtype=float)
    out = np.full(x.shape, np.nan)
    present = ~np.isnan(x)
    v = x[present]
    if v.size == 0:
        return out
    if how == "goalposts":
        out[present] = np.clip((v - goal_low) / (goal_high - goal_low), 0.0, 1.0)
        return out
    low, high = v.min(), v.max()
    if high == low:
        out[present] = 1.0
        return out
    if how == "minmax":
        u = (v - low) / (high - low)
    elif how == "zscore":
        z = (v - v.mean()) / v.std(ddof=1)
        u = np.clip((z + ZSCORE_SPAN) / (2 * ZSCORE_SPAN), 0.0, 1.0)
    elif how == "percentile":
        below = (v[None, :] < v[:, None]).sum(axis=1)
        tied = (v[None, :] == v[:, None]).sum(axis=1) - 1
        u = (below + 0.5 * tied) / (v.size - 1)
    else:
        raise ValueError(f"unknown normalisation {how!r}")
    out[present] = u if direction == 1 else 1.0 - u
    return out


def normalise(x: np.ndarray, indicator: Indicator, how: str | None = None) -> np.ndarray:
    """The indicator's normalised scores within its score range (``score_low``–``score_high``)."""
    method = how or indicator.normalisation
    u = unit_score(x, method, indicator.direction, indicator.goal_low, indicator.goal_high)
    return indicator.score_low + (indicator.score_high - indicator.score_low) * u


# ---------------------------------------------------------------------------- aggregation


def membership(method: Method) -> np.ndarray:
    """(m, K) one-hot: which dimension each indicator belongs to."""
    out = np.zeros((len(method.indicators), len(method.dimensions)))
    out[np.arange(len(method.indicators)), method.dimension_of] = 1.0
    return out


def aggregate(values: np.ndarray, weights: np.ndarray, groups: np.ndarray, how: str = ARITHMETIC) -> np.ndarray:
    """Weighted means of ``values`` (…, n, m) by group, over the values present.

    ``weights`` is (…, m) and ``groups`` (m, K) one-hot; the result is (…, n, K). Missing values
    drop out and the weights of those present are rescaled to sum to one; a group with no value
    present is NaN. ``how`` is ``arithmetic`` or ``geometric`` (values below 1 count as 1).
    """
    present = ~np.isnan(values)
    if how == ARITHMETIC:
        terms = np.where(present, values, 0.0)
    elif how == GEOMETRIC:
        terms = np.where(present, np.log(np.maximum(np.where(present, values, 1.0), GEOMETRIC_FLOOR)), 0.0)
    else:
        raise ValueError(f"unknown aggregation {how!r}")
    w = weights[..., None, :]
    numerator = (terms * w) @ groups
    denominator = (present * w) @ groups
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = numerator / denominator
    mean = np.where(denominator > 0, mean, np.nan)
    return np.exp(mean) if how == GEOMETRIC else mean


def effective_weights(present: np.ndarray, weights: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """(n, m): each weight divided by the sum of its group's weights present for the base."""
    w = np.where(present, weights[None, :], 0.0)
    totals = w @ groups  # (n, K)
    per_item = totals @ groups.T  # (n, m): the total of the item's group
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(present, w / per_item, np.nan)


# ---------------------------------------------------------------------------- experts, scores and ranks


def trimmed_mean(scores: Sequence[float] | np.ndarray, trim: int = 1) -> float:
    """The mean after dropping the ``trim`` highest and ``trim`` lowest scores.

    With ``2 × trim`` scores or fewer nothing is dropped; with none, NaN.
    """
    s = np.sort(np.asarray(scores, dtype=float))
    if s.size == 0:
        return float("nan")
    if s.size > 2 * trim:
        s = s[trim:s.size - trim]
    return float(s.mean())


def round_half_away(x: np.ndarray | float, digits: int) -> np.ndarray:
    """Round half away from zero, as SQL's round() does (numpy's round goes half to even)."""
    scale = 10.0**digits
    x = np.asarray(x, dtype=float)
    return np.sign(x) * np.floor(np.abs(x) * scale + 0.5) / scale


def competition_rank(scores: np.ndarray) -> np.ndarray:
    """Ranks by score, highest first; ties share the lower number ("1224"); NaN scores get no rank (0).

    Works on (…, n): each row is ranked separately.
    """
    s = np.asarray(scores, dtype=float)
    valid = ~np.isnan(s)
    filled = np.where(valid, s, -np.inf)
    higher = (filled[..., None, :] > filled[..., :, None]) & valid[..., None, :]
    return np.where(valid, 1 + higher.sum(axis=-1), 0)


def combine(indicator_score: np.ndarray, expert_score: np.ndarray, expert_share: float | np.ndarray) -> np.ndarray:
    """(1 − s)·indicator score + s·expert score; the indicator score alone where no expert scored."""
    s = np.asarray(expert_share, dtype=float)
    mixed = (1 - s) * indicator_score + s * expert_score
    return np.where(np.isnan(expert_score), indicator_score, mixed)


# ---------------------------------------------------------------------------- the whole method


@dataclass
class YearResult:
    """Every step's output for one year, one row per base (``base_codes`` order)."""

    method: Method
    data: YearData
    choices: Choices
    available: np.ndarray
    ranked: np.ndarray
    imputed: np.ndarray
    imputation_rule: np.ndarray
    treated: np.ndarray
    treatments: tuple[Treatment | None, ...]
    normalised: np.ndarray
    indicator_weights: np.ndarray
    dimension_weights: np.ndarray
    dimension_scores: np.ndarray
    indicator_score: np.ndarray
    expert_score: np.ndarray
    expert_share: float
    score_unrounded: np.ndarray
    score: np.ndarray
    rank: np.ndarray
    groups: np.ndarray = field(repr=False)

    def contributions(self) -> np.ndarray:
        """(n, m) each indicator's share of the indicator score: effective weight × normalised score."""
        present = ~np.isnan(self.normalised)
        within = effective_weights(present, self.indicator_weights, self.groups)
        dim_present = ~np.isnan(self.dimension_scores)
        across = effective_weights(dim_present, self.dimension_weights, np.ones((len(self.method.dimensions), 1)))
        overall = within * (across @ self.groups.T)
        return overall * self.normalised

    def row(self, base_code: str) -> int:
        return self.data.base_codes.index(base_code)


def evaluate(method: Method, data: YearData, choices: Choices = Choices()) -> YearResult:
    """Run the year's method with the given choices; every step's output is kept."""
    p = method.parameters
    n, m = data.raw.shape
    available, ranked = coverage(data.raw, data.submitted, p.min_coverage)
    imputed, rule = impute(data.raw, ranked, data.previous_raw)

    max_points = p.max_winsorised_points if choices.max_winsorised_points is None else choices.max_winsorised_points
    treated = np.full((n, m), np.nan)
    normalised = np.full((n, m), np.nan)
    treatments: list[Treatment | None] = []
    for j, indicator in enumerate(method.indicators):
        rows = ranked & ~np.isnan(imputed[:, j])
        if not rows.any():
            treatments.append(None)
            continue
        values, treatment = treat(imputed[rows, j], p.skew_threshold, p.kurtosis_threshold, max_points)
        treated[rows, j] = values
        treatments.append(treatment)
        normalised[rows, j] = normalise(values, indicator, choices.normalisation)

    groups = membership(method)
    w = method.indicator_weights if choices.indicator_weights is None else np.asarray(choices.indicator_weights)
    big_w = method.dimension_weights if choices.dimension_weights is None else np.asarray(choices.dimension_weights)
    dimension_scores = aggregate(normalised, w, groups, choices.aggregation)
    indicator_score = aggregate(dimension_scores, big_w, np.ones((len(method.dimensions), 1)), choices.aggregation)[:, 0]

    expert = np.array([trimmed_mean(s, p.expert_trim) for s in data.expert_scores])
    share = p.expert_share if choices.expert_share is None else choices.expert_share
    unrounded = np.where(ranked, combine(indicator_score, expert, share), np.nan)
    score = round_half_away(unrounded, p.rounding_digits)
    rank = competition_rank(np.where(ranked, score, np.nan))
    return YearResult(method, data, choices, available, ranked, imputed, rule, treated, tuple(treatments),
                      normalised, w, big_w, dimension_scores, indicator_score, expert, share, unrounded,
                      score, rank, groups)
