"""The method's catalogue: indicators and parameters per reporting year, read from the seeds.

``seeds/method_indicators.csv`` holds one row per indicator and validity period and
``seeds/method_parameters.csv`` one row per period of the method's parameters; dbt loads the
same files as seeds. A year is evaluated with the rows valid for it, so changing a weight from
some year on (close the old row with ``last_year``, add a row from the next year) leaves every
earlier year's method as it was.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from parkwh import config

INDICATORS_FILE = "method_indicators.csv"
PARAMETERS_FILE = "method_parameters.csv"

FIGURES: tuple[str, ...] = (
    "enterprises_in_park", "returnees_in_park", "incubated_cum", "high_tech_cum", "little_giants_cum",
    "listed_cum", "returnees_cum", "talent_national", "talent_provincial", "revenue_yuan", "tax_yuan",
    "service_events", "vc_yuan", "fiscal_yuan",
)
"""The figures of ``marts.fct_base_year`` an indicator may be computed from (docs/figures.md)."""

NORMALISATIONS: tuple[str, ...] = ("minmax", "goalposts", "zscore", "percentile")

COVERAGE_TOLERANCE = 1e-6
"""Coverage is compared with this tolerance, so that 0.6666666667 means exactly two thirds."""


class CatalogueError(ValueError):
    """A catalogue row that cannot be used; the message names the file, row and column."""


@dataclass(frozen=True)
class Indicator:
    """One catalogue row: an indicator as the method uses it in the years it is valid."""

    code: str
    name_zh: str
    name_en: str
    unit: str
    dimension: str
    dimension_name_zh: str
    dimension_name_en: str
    dimension_weight: float
    weight: float
    direction: int
    normalisation: str
    score_low: float
    score_high: float
    goal_low: float | None
    goal_high: float | None
    numerator: str
    denominator: str | None
    first_year: int
    last_year: int | None
    definition: str = ""

    def valid_in(self, year: int) -> bool:
        return self.first_year <= year and (self.last_year is None or year <= self.last_year)


@dataclass(frozen=True)
class Parameters:
    """The method's parameters for a period of reporting years."""

    first_year: int
    last_year: int | None
    expert_share: float
    expert_trim: int
    skew_threshold: float
    kurtosis_threshold: float
    max_winsorised_points: int
    min_coverage: float
    rounding_digits: int
    mc_draws: int
    mc_seed: int
    mc_weight_noise: float
    mc_expert_share_low: float
    mc_expert_share_high: float

    def valid_in(self, year: int) -> bool:
        return self.first_year <= year and (self.last_year is None or year <= self.last_year)


@dataclass(frozen=True)
class Method:
    """The method of one reporting year: its indicators (catalogue order) and its parameters."""

    year: int
    indicators: tuple[Indicator, ...]
    parameters: Parameters
    dimensions: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        seen: list[str] = []
        for indicator in self.indicators:
            if indicator.dimension not in seen:
                seen.append(indicator.dimension)
        object.__setattr__(self, "dimensions", tuple(seen))

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(i.code for i in self.indicators)

    @property
    def dimension_of(self) -> np.ndarray:
        """For each indicator, the index of its dimension in ``dimensions``."""
        return np.array([self.dimensions.index(i.dimension) for i in self.indicators], dtype=np.int64)

    @property
    def indicator_weights(self) -> np.ndarray:
        return np.array([i.weight for i in self.indicators], dtype=float)

    @property
    def dimension_weights(self) -> np.ndarray:
        """One weight per dimension (every row of a dimension carries the same weight)."""
        return np.array([next(i.dimension_weight for i in self.indicators if i.dimension == d)
                         for d in self.dimensions], dtype=float)


@dataclass(frozen=True)
class Catalogue:
    """Every catalogue row and every parameter period."""

    indicators: tuple[Indicator, ...]
    parameters: tuple[Parameters, ...]

    def method(self, year: int) -> Method:
        """The method valid in ``year``; an error when no parameters, or several, cover the year."""
        periods = [p for p in self.parameters if p.valid_in(year)]
        if len(periods) != 1:
            raise CatalogueError(
                f"{PARAMETERS_FILE}: {len(periods)} rows cover reporting year {year}; exactly one must")
        indicators = tuple(i for i in self.indicators if i.valid_in(year))
        if not indicators:
            raise CatalogueError(f"{INDICATORS_FILE}: no indicator is valid in reporting year {year}")
        return Method(year, indicators, periods[0])

    def with_weight(self, code: str, weight: float, from_year: int) -> Catalogue:
        """A copy in which ``code`` weighs ``weight`` from ``from_year`` on (earlier years unchanged)."""
        rows: list[Indicator] = []
        for i in self.indicators:
            if i.code != code or (i.last_year is not None and i.last_year < from_year):
                rows.append(i)
                continue
            if i.first_year < from_year:
                rows.append(_replace(i, last_year=from_year - 1))
                rows.append(_replace(i, first_year=from_year, weight=weight))
            else:
                rows.append(_replace(i, weight=weight))
        return Catalogue(tuple(rows), self.parameters)


def _replace(indicator: Indicator, **changes) -> Indicator:
    from dataclasses import replace

    return replace(indicator, **changes)


# ---------------------------------------------------------------------------- reading rows


def _text(row: Mapping[str, object], key: str) -> str:
    value = row.get(key)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


class _Reader:
    """Typed access to one row, with errors that name the file, row and column."""

    def __init__(self, source: str, number: int, row: Mapping[str, object]):
        self.source, self.row_number, self.row = source, number, row

    def fail(self, key: str, expected: str) -> CatalogueError:
        return CatalogueError(f"{self.source}, row {self.row_number}, column {key}: "
                              f"{_text(self.row, key)!r} is not {expected}")

    def text(self, key: str, required: bool = True) -> str:
        value = _text(self.row, key)
        if required and not value:
            raise self.fail(key, "a value (it is required)")
        return value

    def number(self, key: str, required: bool = True) -> float | None:
        value = _text(self.row, key)
        if not value:
            if required:
                raise self.fail(key, "a number (it is required)")
            return None
        try:
            number = float(value)
        except ValueError:
            raise self.fail(key, "a number") from None
        if not math.isfinite(number):
            raise self.fail(key, "a finite number")
        return number

    def integer(self, key: str, required: bool = True) -> int | None:
        number = self.number(key, required)
        if number is None:
            return None
        if number != int(number):
            raise self.fail(key, "a whole number")
        return int(number)


def indicator_from_row(row: Mapping[str, object], source: str = INDICATORS_FILE, number: int = 0) -> Indicator:
    r = _Reader(source, number, row)
    direction = r.integer("direction")
    if direction not in (1, -1):
        raise r.fail("direction", "1 (more is better) or -1 (less is better)")
    normalisation = r.text("normalisation", required=False) or "minmax"
    if normalisation not in NORMALISATIONS:
        raise r.fail("normalisation", f"one of {', '.join(NORMALISATIONS)}")
    numerator = r.text("numerator")
    if numerator not in FIGURES:
        raise r.fail("numerator", "a figure of fct_base_year (docs/figures.md)")
    denominator = r.text("denominator", required=False) or None
    if denominator is not None and denominator not in FIGURES:
        raise r.fail("denominator", "a figure of fct_base_year (docs/figures.md), or empty")
    weight = r.number("indicator_weight")
    if weight <= 0:
        raise r.fail("indicator_weight", "a positive weight")
    dimension_weight = r.number("dimension_weight")
    if dimension_weight <= 0:
        raise r.fail("dimension_weight", "a positive weight")
    score_low = r.number("score_low", required=False)
    score_high = r.number("score_high", required=False)
    score_low = 0.0 if score_low is None else score_low
    score_high = 100.0 if score_high is None else score_high
    if not 0 <= score_low < score_high <= 100:
        raise r.fail("score_high", f"above score_low ({score_low:g}) and within 0–100")
    goal_low, goal_high = r.number("goal_low", required=False), r.number("goal_high", required=False)
    if normalisation == "goalposts" and (goal_low is None or goal_high is None or goal_low == goal_high):
        raise r.fail("goal_high", "a goalpost different from goal_low (goalposts need both)")
    first_year = r.integer("first_year")
    last_year = r.integer("last_year", required=False)
    if last_year is not None and last_year < first_year:
        raise r.fail("last_year", f"empty or not before first_year ({first_year})")
    return Indicator(
        code=r.text("indicator_code"), name_zh=r.text("indicator_name_zh"), name_en=r.text("indicator_name_en"),
        unit=r.text("unit", required=False), dimension=r.text("dimension_code"),
        dimension_name_zh=r.text("dimension_name_zh", required=False),
        dimension_name_en=r.text("dimension_name_en", required=False),
        dimension_weight=dimension_weight, weight=weight, direction=direction, normalisation=normalisation,
        score_low=score_low, score_high=score_high, goal_low=goal_low, goal_high=goal_high,
        numerator=numerator, denominator=denominator, first_year=first_year, last_year=last_year,
        definition=r.text("definition", required=False),
    )


def parameters_from_row(row: Mapping[str, object], source: str = PARAMETERS_FILE, number: int = 0) -> Parameters:
    r = _Reader(source, number, row)
    p = Parameters(
        first_year=r.integer("first_year"), last_year=r.integer("last_year", required=False),
        expert_share=r.number("expert_share"), expert_trim=r.integer("expert_trim"),
        skew_threshold=r.number("outlier_skew_threshold"), kurtosis_threshold=r.number("outlier_kurtosis_threshold"),
        max_winsorised_points=r.integer("max_winsorised_points"), min_coverage=r.number("min_coverage"),
        rounding_digits=r.integer("rounding_digits"), mc_draws=r.integer("mc_draws"), mc_seed=r.integer("mc_seed"),
        mc_weight_noise=r.number("mc_weight_noise"), mc_expert_share_low=r.number("mc_expert_share_low"),
        mc_expert_share_high=r.number("mc_expert_share_high"),
    )
    checks = [
        ("expert_share", 0 <= p.expert_share <= 1, "a share within 0–1"),
        ("expert_trim", p.expert_trim >= 0, "zero or more experts"),
        ("max_winsorised_points", 0 <= p.max_winsorised_points <= 20, "a count within 0–20"),
        ("min_coverage", 0 <= p.min_coverage <= 1, "a share within 0–1"),
        ("rounding_digits", 0 <= p.rounding_digits <= 6, "a number of decimals within 0–6"),
        ("mc_draws", p.mc_draws >= 1, "one draw or more"),
        ("mc_weight_noise", 0 <= p.mc_weight_noise < 1, "a share within 0–1"),
        ("mc_expert_share_high", 0 <= p.mc_expert_share_low <= p.mc_expert_share_high <= 1,
         "a share within 0–1, not below mc_expert_share_low"),
        ("last_year", p.last_year is None or p.last_year >= p.first_year, "empty or not before first_year"),
    ]
    for key, ok, expected in checks:
        if not ok:
            raise r.fail(key, expected)
    return p


def catalogue_from_rows(indicator_rows: Iterable[Mapping[str, object]],
                        parameter_rows: Iterable[Mapping[str, object]],
                        sources: tuple[str, str] = (INDICATORS_FILE, PARAMETERS_FILE)) -> Catalogue:
    """A catalogue from rows as the seeds hold them (CSV dicts, or rows of the seed tables)."""
    # Row numbers as a person sees them in the CSV file: the header is line 1.
    indicators = tuple(indicator_from_row(row, sources[0], n) for n, row in enumerate(indicator_rows, start=2))
    parameters = tuple(parameters_from_row(row, sources[1], n) for n, row in enumerate(parameter_rows, start=2))
    _check_consistency(indicators, sources[0])
    return Catalogue(indicators, parameters)


def _check_consistency(indicators: tuple[Indicator, ...], source: str) -> None:
    years = sorted({y for i in indicators for y in (i.first_year, i.last_year) if y is not None})
    for year in years:
        valid = [i for i in indicators if i.valid_in(year)]
        codes = [i.code for i in valid]
        duplicated = sorted({c for c in codes if codes.count(c) > 1})
        if duplicated:
            raise CatalogueError(f"{source}: indicator {duplicated[0]} has two rows valid in {year}")
        weights: dict[str, float] = {}
        for i in valid:
            if weights.setdefault(i.dimension, i.dimension_weight) != i.dimension_weight:
                raise CatalogueError(f"{source}: dimension {i.dimension} has two dimension_weight values in {year}")


def load_catalogue(seeds: Path | None = None) -> Catalogue:
    """The catalogue in ``seeds/`` (the project's, unless another folder is given)."""
    folder = config.seeds_dir() if seeds is None else Path(seeds)
    with (folder / INDICATORS_FILE).open(encoding="utf-8", newline="") as f:
        indicator_rows = list(csv.DictReader(f))
    with (folder / PARAMETERS_FILE).open(encoding="utf-8", newline="") as f:
        parameter_rows = list(csv.DictReader(f))
    return catalogue_from_rows(indicator_rows, parameter_rows)
