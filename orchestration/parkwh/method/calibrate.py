"""Calibration of the demo's expert scores: targets that make the default method reproduce the report's top 10.

The report (2024-06-19) names the ten best bases of 2023 in order and their mean score, 95.154.
The method is not bent to reproduce them: the demo's figures are what they are, the method is
the catalogue's, and only the expert panel's scores (which the report does not publish) are
chosen. ``expert_targets`` computes every base's indicator score with the numpy reference, then
picks each base's expert score (the trimmed mean the demo's seven experts must reach) so that

- the ten bases come out first, in the report's order, about ``gap`` apart (never under half of it);
- their published scores (rounded to the method's decimals) average exactly ``target_mean``;
- every other base scores below the tenth, and no expert score leaves [0, 100].

Expert scores sit on a grid of 0.02 (seven one-decimal scores reach it exactly); where the
mean cannot be hit on that grid, one base gets a target on a grid of 0.002 (two decimals).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from parkwh.method import reference
from parkwh.method.catalogue import Catalogue, load_catalogue

REPORT_TOP10_MEAN = 95.154
COARSE_GRID = 0.02
"""Five one-decimal scores (the trimmed mean of seven) sum to a multiple of 0.1: a mean on this grid."""
FINE_GRID = 0.002
"""The grid of a trimmed mean of two-decimal scores."""


class CalibrationError(ValueError):
    """The data cannot reproduce the report under the method; the message says what must change."""


@dataclass(frozen=True)
class Calibration:
    """The expert targets, and the scores the method will publish with them."""

    targets: dict[str, float]
    indicator_scores: dict[str, float]
    published: dict[str, float]
    top10: tuple[str, ...]

    @property
    def top10_mean(self) -> float:
        return round(sum(self.published[c] for c in self.top10) / len(self.top10), 6)


def _on_grid(value: float, grid: float) -> float:
    return round(round(value / grid) * grid, 6)


def expert_targets(figures: Mapping[str, Mapping[str, object] | None], top10: Sequence[str], *,
                   year: int = 2023, target_mean: float = REPORT_TOP10_MEAN,
                   preferred: Mapping[str, float] | None = None, catalogue: Catalogue | None = None,
                   previous_figures: Mapping[str, Mapping[str, object] | None] | None = None,
                   gap: float = 0.1) -> Calibration:
    """Expert score targets per submitting base (see the module's docstring).

    ``figures`` maps every designated base to its figures for ``year`` (``fct_base_year``
    columns; None for a base that did not submit). ``preferred`` are the expert scores the demo
    would otherwise give (the other bases keep theirs where the ranking allows). Raises
    ``CalibrationError`` naming what the data lack when the report cannot be reproduced.
    """
    catalogue = catalogue or load_catalogue()
    by_year = {year: dict(figures)}
    if previous_figures is not None:
        by_year[year - 1] = dict(previous_figures)
    method, data = reference.year_data(catalogue, year, by_year, expert_scores=None)
    result = reference.evaluate(method, data)
    p = method.parameters
    share, digits = p.expert_share, p.rounding_digits
    codes = data.base_codes
    index = {c: i for i, c in enumerate(codes)}
    missing = [c for c in top10 if c not in index or not result.ranked[index[c]]]
    if missing:
        raise CalibrationError(f"the top 10 must be ranked bases in {year}; not ranked: {', '.join(missing)}")
    if not 0 < share < 1:
        raise CalibrationError(f"the expert share of {year} is {share}: expert scores cannot move the ranking")
    indicator = {c: float(result.indicator_score[index[c]]) for c in codes if result.ranked[index[c]]}

    def published(code: str, expert: float) -> float:
        return float(reference.round_half_away(reference.combine(
            np.array(indicator[code]), np.array(expert), share), digits))

    top_i = np.array([indicator[c] for c in top10])
    needed = (target_mean - share * 100) / (1 - share)
    if top_i.mean() < needed:
        raise CalibrationError(
            f"the top 10's indicator scores average {top_i.mean():.3f} under the {year} method; with expert "
            f"scores of at most 100 and an expert share of {share:g}, a mean published score of "
            f"{target_mean} needs an average of at least {needed:.3f} (every base's own score near "
            f"{needed:.1f} or more): the demo's top 10 must lead the other bases on more indicators")

    # Published scores the experts agree with: the indicator scores, made strictly decreasing in
    # the report's order, then moved together to the report's mean. A base whose experts would
    # need more than 100 stays at its ceiling and the others move further.
    ceiling = (1 - share) * top_i + share * 100.0
    floor = (1 - share) * top_i

    def schedule(shift: float) -> np.ndarray:
        p = np.minimum(top_i + shift, ceiling)
        for k in range(1, len(p)):
            p[k] = min(p[k], p[k - 1] - gap)
        return p

    low, high = -100.0, 100.0
    if schedule(high).mean() < target_mean:
        raise CalibrationError(
            f"the top 10 cannot average {target_mean} in the report's order under the {year} method: their "
            f"indicator scores are {', '.join(f'{c} {v:.3f}' for c, v in zip(top10, top_i))}; each must be "
            f"high enough that its expert score (at most 100) can lift it above the bases after it")
    for _ in range(200):
        middle = (low + high) / 2
        if schedule(middle).mean() < target_mean:
            low = middle
        else:
            high = middle
    desired = schedule(high)
    if np.any(desired < floor - 1e-9):
        raise CalibrationError(
            f"the top 10's indicator scores are so far apart that an expert score below 0 would be needed "
            f"to keep them in the report's order at a mean of {target_mean}")
    experts = [min(100.0, max(0.0, _on_grid((d - (1 - share) * i) / share, COARSE_GRID)))
               for d, i in zip(desired, top_i)]
    experts = _hit_mean(list(top10), experts, published, target_mean, digits, gap)

    targets = dict(zip(top10, experts))
    scores = {c: published(c, e) for c, e in targets.items()}
    tenth = scores[top10[-1]]
    others = [c for c in codes if c not in targets and c in indicator]
    wishes = {c: float(preferred.get(c, indicator[c])) if preferred else indicator[c] for c in others}
    # The experts rate no other base above a top-10 base: their wishes are scaled down together
    # (keeping their order) until the best of them is a point below the top 10's lowest.
    others_ceiling = min(experts) - 1.0
    factor = min(1.0, others_ceiling / max(wishes.values())) if wishes and max(wishes.values()) > 0 else 1.0
    for code in others:
        # Below the tenth base by at least the spacing.
        limit = (tenth - gap - (1 - share) * indicator[code]) / share
        expert = np.floor(min(wishes[code] * factor, limit, 100.0) / COARSE_GRID) * COARSE_GRID
        if expert < 0:
            raise CalibrationError(
                f"{code}'s indicator score ({indicator[code]:.3f}) is so high that even an expert score of 0 "
                f"publishes it above the tenth base ({tenth:.3f}): the demo's other bases must trail the top 10")
        targets[code] = round(float(expert), 6)
        scores[code] = published(code, targets[code])
    _check(list(top10), targets, scores, target_mean, gap)
    return Calibration(targets, indicator, scores, tuple(top10))


def _hit_mean(top10: list[str], experts: list[float], published, target_mean: float, digits: int,
              gap: float) -> list[float]:
    """Nudge the top 10's expert targets until their published scores average exactly ``target_mean``."""
    unit = 10.0**-digits
    wanted = round(target_mean * len(top10) / unit)

    def total(values: list[float]) -> int:
        return sum(round(published(c, e) / unit) for c, e in zip(top10, values))

    def ordered(values: list[float]) -> bool:
        s = [published(c, e) for c, e in zip(top10, values)]
        # Nudges may eat into the spacing, never below half of it.
        return all(a - b >= gap / 2 - 1e-9 for a, b in pairwise(s)) and all(0 <= e <= 100 for e in values)

    values = list(experts)
    missing = wanted - total(values)
    if missing % 4:
        # One step of the coarse grid moves a published score by exactly 0.004: a remainder needs
        # one base on the fine grid. Take the base with the most room around it.
        candidates = sorted(range(len(top10)), key=lambda k: -_room(top10, values, published, k))
        for k in candidates:
            for step in sorted(range(-40, 41), key=abs):
                trial = list(values)
                trial[k] = round(values[k] + step * FINE_GRID, 6)
                moved = total(trial) - total(values)
                if (missing - moved) % 4 == 0 and ordered(trial):
                    values = trial
                    break
            else:
                continue
            break
        missing = wanted - total(values)
    # Whole coarse steps, spread over the bases (the middle ones first, where the gaps are widest).
    order = sorted(range(len(top10)), key=lambda k: abs(k - (len(top10) - 1) / 2))
    guard = 0
    while missing and guard < 10_000:
        guard += 1
        direction = 1 if missing > 0 else -1
        for k in order:
            trial = list(values)
            trial[k] = round(values[k] + direction * COARSE_GRID, 6)
            if ordered(trial) and abs(wanted - total(trial)) < abs(missing):
                values, missing = trial, wanted - total(trial)
                break
        else:
            break
    if missing:
        raise CalibrationError(f"the top 10's published scores cannot average exactly {target_mean} "
                               f"with expert scores in [0, 100] and gaps of {gap}")
    return values


def _room(top10: list[str], values: list[float], published, k: int) -> float:
    s = [published(c, e) for c, e in zip(top10, values)]
    above = s[k - 1] - s[k] if k > 0 else 10.0
    below = s[k] - s[k + 1] if k + 1 < len(s) else 10.0
    return min(above, below, values[k], 100 - values[k])


def _check(top10: list[str], targets: dict[str, float], scores: dict[str, float], target_mean: float,
           gap: float) -> None:
    top = [scores[c] for c in top10]
    if any(a - b < gap / 2 - 1e-9 for a, b in pairwise(top)):
        raise CalibrationError("the top 10 do not come out in the report's order")
    others = [s for c, s in scores.items() if c not in top10]
    if others and max(others) >= top[-1]:
        raise CalibrationError("another base publishes a score as high as the tenth")
    if round(sum(top) / len(top), 6) != round(target_mean, 6):
        raise CalibrationError(f"the top 10 average {sum(top) / len(top)}, not {target_mean}")
    if any(not 0 <= t <= 100 for t in targets.values()):
        raise CalibrationError("an expert target leaves [0, 100]")
