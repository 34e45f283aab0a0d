"""The Monte Carlo of the method's choices: seeded, ordered intervals, degenerate cases, speed."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from parkwh.method import montecarlo as MC
from parkwh.method import reference as R
from parkwh.method.catalogue import catalogue_from_rows, load_catalogue
from test_method_reference import PARAMETERS, indicator, small_year


def test_the_same_seed_gives_the_same_ranks_and_another_seed_other_draws():
    method, data = small_year()
    result = R.evaluate(method, data)
    first = MC.simulate_result(result, draws=300, seed=11)
    again = MC.simulate_result(result, draws=300, seed=11)
    other = MC.simulate_result(result, draws=300, seed=12)
    assert np.array_equal(first.ranks, again.ranks)
    assert not np.array_equal(first.ranks, other.ranks)
    assert first.draws == 300 and first.seed == 11


def test_intervals_are_ordered_and_contain_the_draws():
    method, data = small_year()
    u = MC.simulate_result(R.evaluate(method, data), draws=500, seed=3)
    assert u.base_codes == ("A", "B", "C", "D", "G")  # the ranked bases only
    assert np.all(u.rank_p05 <= u.rank_median) and np.all(u.rank_median <= u.rank_p95)
    assert np.all(u.ranks >= 1) and np.all(u.ranks <= 5)
    # The mean absolute shift is the mean of |draw rank - published rank|, computed here directly.
    assert u.mean_abs_rank_shift == pytest.approx(np.abs(u.ranks - u.nominal_rank).mean(axis=0))
    # D trails the others on both dimensions and stays last in every draw.
    assert set(u.ranks[:, 3].tolist()) == {5}


def test_a_base_that_leads_on_everything_keeps_its_rank_in_every_draw():
    rows = [indicator("a", "one", 1, "incubated_cum"), indicator("b", "one", 1, "service_events"),
            indicator("c", "two", 1, "vc_yuan")]
    method = catalogue_from_rows(rows, [PARAMETERS]).method(2023)
    raw = np.array([[30.0, 30, 30], [20, 20, 20], [10, 10, 10], [5, 5, 5]])
    panels = [np.array([90.0, 90, 90]), np.array([80.0, 80, 80]), np.array([70.0, 70]), np.array([60.0])]
    u = MC.simulate(method, ["A", "B", "C", "D"], raw, panels, np.array([1, 2, 3, 4]), draws=400, seed=5)
    # Every choice keeps the order: each base's interval is its rank.
    assert u.rank_p05.tolist() == u.rank_p95.tolist() == [1, 2, 3, 4]
    assert u.mean_abs_rank_shift.tolist() == [0, 0, 0, 0]


def test_the_draws_vary_every_choice_within_its_bounds():
    method, _data = small_year()
    choices = MC.draw(method, 5, 5, 2000, seed=1)
    p = method.parameters
    ratio = choices.indicator_weights / method.indicator_weights
    assert ratio.min() >= 1 - p.mc_weight_noise and ratio.max() <= 1 + p.mc_weight_noise
    assert choices.expert_share.min() >= 0.1 and choices.expert_share.max() <= 0.3
    assert set(choices.normalisation.tolist()) == {0, 1, 2}
    assert set(choices.max_winsorised_points.tolist()) == set(range(p.max_winsorised_points + 1))
    assert 0.4 < choices.geometric.mean() < 0.6


def test_resampled_experts_trim_like_the_committee():
    panels = [np.array([10.0, 20.0, 30.0]), np.array([50.0]), np.array([])]
    # Each pick of 0.0 takes the first expert every time: a panel of three tens, a panel of one fifty.
    pick = np.zeros((1, 3, 3))
    out = MC._bootstrap_experts(panels, pick, trim=1)
    assert out[0, 0] == 10 and out[0, 1] == 50 and np.isnan(out[0, 2])
    # Picks 0.0, 0.5, 0.99 take the first, second and third expert: the trimmed mean is the middle one.
    pick = np.array([[[0.0, 0.5, 0.99], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]])
    assert MC._bootstrap_experts(panels, pick, trim=1)[0, 0] == 20


def test_a_thousand_draws_over_68_bases_take_well_under_five_seconds():
    method = load_catalogue().method(2023)
    rng = np.random.default_rng(0)
    n = 66
    raw = np.exp(rng.normal(3, 1.2, (n, len(method.indicators))))  # skewed, like the bases' sizes
    panels = [rng.uniform(60, 100, 7) for _ in range(n)]
    nominal = np.arange(1, n + 1)
    started = time.perf_counter()
    u = MC.simulate(method, [f"B{i:02d}" for i in range(n)], raw, panels, nominal)
    elapsed = time.perf_counter() - started
    assert u.draws == 1000 and u.ranks.shape == (1000, n)
    assert elapsed < 5, elapsed


def test_the_frame_for_the_dbt_model_has_one_row_per_ranked_base_and_year():
    method, data = small_year()
    result = R.evaluate(method, data)
    codes = data.base_codes
    imputed = pd.DataFrame([
        {"base_code": c, "reporting_year": 2023, "indicator_code": i.code, "imputed_value": result.imputed[b, j],
             "ranked": bool(result.ranked[b])}
        for b, c in enumerate(codes) for j, i in enumerate(method.indicators)])
    panel = pd.DataFrame([{"base_code": c, "reporting_year": 2023, "expert_score": s}
                          for b, c in enumerate(codes) for s in data.expert_scores[b]])
    scores = pd.DataFrame([{"base_code": c, "reporting_year": 2023, "ranked": bool(result.ranked[b]),
                                "rank": int(result.rank[b]) if result.ranked[b] else None}
                           for b, c in enumerate(codes)])
    rows = [indicator("incubated", "size", 1, "incubated_cum"),
            indicator("events", "size", 1, "service_events", normalisation="percentile"),
            indicator("share", "quality", 1, "high_tech_cum", denominator="incubated_cum")]
    frame = MC.uncertainty_frame(catalogue_from_rows(rows, [PARAMETERS]), imputed, panel, scores)
    assert list(frame.columns) == list(MC.OUTPUT_COLUMNS)
    assert sorted(frame["base_code"]) == ["A", "B", "C", "D", "G"]
    assert set(frame["mc_draws"]) == {PARAMETERS["mc_draws"]} and set(frame["mc_seed"]) == {PARAMETERS["mc_seed"]}
    direct = MC.simulate_result(result)
    assert frame.set_index("base_code").loc[list(direct.base_codes), "rank_median"].tolist() == \
        direct.rank_median.tolist()


def test_the_order_experts_are_read_in_does_not_change_the_draws():
    method, data = small_year()
    result = R.evaluate(method, data)
    shuffled = R.YearData(data.year, data.base_codes, data.submitted, data.raw, data.previous_raw,
                          tuple(s[::-1] for s in data.expert_scores))
    again = R.evaluate(method, shuffled)
    assert np.array_equal(MC.simulate_result(result, draws=300, seed=2).ranks,
                          MC.simulate_result(again, draws=300, seed=2).ranks)
