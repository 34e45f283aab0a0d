"""Calibration of the demo's expert scores against the report's top 10 and mean score."""

from __future__ import annotations

import numpy as np
import pytest
from parkwh.demo.calibrate import expert_scores, trimmed_mean
from parkwh.method import reference as R
from parkwh.method.calibrate import REPORT_TOP10_MEAN, CalibrationError, expert_targets
from parkwh.method.catalogue import FIGURES, load_catalogue

TOP = [f"T{i:02d}" for i in range(1, 11)]


def synthetic_figures(top_lead: float, seed: int = 1, small: int = 56) -> dict[str, dict | None]:
    """As many bases as the demo: ten large ones (``top_lead`` times the others' size), 56 small, one idle."""
    rng = np.random.default_rng(seed)
    out: dict[str, dict | None] = {}
    for i, code in enumerate(TOP):
        size = top_lead * (1.0 - 0.03 * i)
        out[code] = {f: float(round(size * rng.uniform(90, 110))) for f in FIGURES}
    for i in range(small):
        out[f"S{i:02d}"] = {f: float(round(rng.uniform(10, 100))) for f in FIGURES}
    out["IDLE"] = None
    for figures in out.values():
        if figures:  # ratios stay sensible: high-tech below incubated, returnees above it
            figures["high_tech_cum"] = round(figures["incubated_cum"] * 0.2)
            figures["returnees_cum"] = figures["incubated_cum"] * 4
    return out


def published_scores(figures, targets, seed=3):
    """The published scores from seven expert scores per base, made by the demo's own generator."""
    rows = expert_scores(targets, np.random.default_rng(seed))
    panels: dict[str, list[float]] = {}
    for row in rows:
        panels.setdefault(row["base_code"], []).append(float(row["score"]))
    method, data = R.year_data(load_catalogue(), 2023, {2023: figures}, panels)
    result = R.evaluate(method, data)
    return {c: float(result.score[b]) for b, c in enumerate(data.base_codes) if result.ranked[b]}, panels


def test_targets_put_the_top_10_in_order_with_the_reports_mean():
    figures = synthetic_figures(top_lead=20)
    calibration = expert_targets(figures, TOP)
    assert "IDLE" not in calibration.targets
    assert all(0 <= t <= 100 for t in calibration.targets.values())
    scores, panels = published_scores(figures, calibration.targets)
    # Recomputed independently of the calibration: the seven scores' trimmed mean, then the method.
    assert all(abs(trimmed_mean(panels[c]) - calibration.targets[c]) < 1e-9 for c in panels)
    top = [scores[c] for c in TOP]
    assert top == sorted(top, reverse=True) and len(set(top)) == 10
    assert round(sum(top) / 10, 3) == REPORT_TOP10_MEAN
    assert max(s for c, s in scores.items() if c not in TOP) < top[-1]
    # No other base's experts rate it above a top-10 base.
    assert max(t for c, t in calibration.targets.items() if c not in TOP) < min(calibration.targets[c] for c in TOP)


def test_tight_data_put_some_experts_at_their_ceiling_of_100():
    # With 20 small bases the top 10's percentile ranks spread wider and their indicator scores
    # average just above the 93.94 the report's mean needs: several experts must give 100.
    figures = synthetic_figures(top_lead=20, small=20)
    calibration = expert_targets(figures, TOP)
    assert max(calibration.targets.values()) == 100
    scores, _ = published_scores(figures, calibration.targets)
    top = [scores[c] for c in TOP]
    assert top == sorted(top, reverse=True) and round(sum(top) / 10, 3) == REPORT_TOP10_MEAN


def test_the_report_order_is_kept_even_against_the_indicators():
    figures = synthetic_figures(top_lead=20)
    order = list(reversed(TOP))  # the indicators rank T01 first; the report says T10 is first
    calibration = expert_targets(figures, order)
    scores, _ = published_scores(figures, calibration.targets)
    top = [scores[c] for c in order]
    assert top == sorted(top, reverse=True) and round(sum(top) / 10, 3) == REPORT_TOP10_MEAN


def test_targets_stay_on_a_grid_the_experts_can_reach():
    calibration = expert_targets(synthetic_figures(top_lead=20), TOP)
    fine = [t for t in calibration.targets.values() if abs(t * 50 - round(t * 50)) > 1e-6]
    assert len(fine) <= 1  # at most one base needs two-decimal expert scores
    assert all(abs(t * 500 - round(t * 500)) < 1e-6 for t in calibration.targets.values())


def test_data_that_cannot_reproduce_the_report_get_a_clear_reason():
    # Ten bases no larger than the others: their indicator scores average far below what a mean of
    # 95.154 needs even with expert scores of 100.
    figures = synthetic_figures(top_lead=0.5)
    with pytest.raises(CalibrationError, match=r"average .* needs an average of at least 93\.94"):
        expert_targets(figures, TOP)
    with pytest.raises(CalibrationError, match="not ranked: NOPE"):
        expert_targets(synthetic_figures(top_lead=20), TOP[:9] + ["NOPE"])
