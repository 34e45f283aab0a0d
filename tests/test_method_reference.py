"""The numpy reference of the method, step by step, on small examples worked out by hand.

Every expected number below is derived in the comment beside it; the statistics of the outlier
rule are recomputed from their textbook definitions with exact fractions.
"""

from __future__ import annotations

import csv
from fractions import Fraction
from math import sqrt

import numpy as np
import pytest
from parkwh.method import reference as R
from parkwh.method.catalogue import (
    CatalogueError,
    Method,
    catalogue_from_rows,
    load_catalogue,
)

PARAMETERS = {"first_year": 2022, "last_year": "", "expert_share": 0.2, "expert_trim": 1, "outlier_skew_threshold": 2,
                  "outlier_kurtosis_threshold": 3.5, "max_winsorised_points": 5, "min_coverage": "0.6666666667",
                  "rounding_digits": 3, "mc_draws": 100, "mc_seed": 1, "mc_weight_noise": 0.25, "mc_expert_share_low": 0.1,
                  "mc_expert_share_high": 0.3}


def indicator(code, dimension, weight, numerator, normalisation="minmax", dimension_weight=1, direction=1,
              low=0, high=100, denominator="", goal_low="", goal_high="", first_year=2022, last_year=""):
    return {"indicator_code": code, "indicator_name_zh": code, "indicator_name_en": code, "unit": "", "dimension_code": dimension,
                "dimension_name_zh": dimension, "dimension_name_en": dimension, "dimension_weight": dimension_weight,
                "indicator_weight": weight, "direction": direction, "normalisation": normalisation, "score_low": low,
                "score_high": high, "goal_low": goal_low, "goal_high": goal_high, "numerator": numerator,
                "denominator": denominator, "first_year": first_year, "last_year": last_year, "definition": ""}


def small_method(**overrides) -> Method:
    """Three indicators in two dimensions: size (incubated, events) and quality (high-tech share)."""
    rows = [
        indicator("incubated", "size", 1, "incubated_cum"),
        indicator("events", "size", 1, "service_events", normalisation="percentile"),
        indicator("share", "quality", 1, "high_tech_cum", denominator="incubated_cum"),
    ]
    return catalogue_from_rows(rows, [dict(PARAMETERS, **overrides)]).method(2023)


def figures(incubated, events, high_tech):
    return {"incubated_cum": incubated, "service_events": events, "high_tech_cum": high_tech}


# ------------------------------------------------------------------ the shipped catalogue


def test_the_shipped_catalogue_has_16_indicators_in_4_dimensions_for_every_demo_year():
    catalogue = load_catalogue()
    for year in range(2019, 2024):
        method = catalogue.method(year)
        assert len(method.indicators) == 16
        assert method.dimensions == ("scale", "quality", "talent", "services")
        assert method.parameters.expert_share == 0.2 and method.parameters.max_winsorised_points == 5
        assert method.parameters.mc_draws == 1000
        # Two thirds, written to ten decimals, admits a base with exactly two thirds.
        _available, ranked = R.coverage(np.array([[1.0] * 8 + [np.nan] * 4]), np.array([True]),
                                       method.parameters.min_coverage)
        assert ranked[0]


@pytest.mark.parametrize("column, value, message", [
    ("direction", "2", "column direction: '2' is not 1 (more is better) or -1"),
    ("normalisation", "rank", "column normalisation: 'rank' is not one of minmax"),
    ("numerator", "profit_yuan", "column numerator: 'profit_yuan' is not a figure of fct_base_year"),
    ("indicator_weight", "-1", "column indicator_weight: '-1' is not a positive weight"),
    ("score_high", "120", "column score_high"),
    ("first_year", "20x3", "column first_year: '20x3' is not a number"),
])
def test_a_bad_catalogue_row_is_named_by_file_row_and_column(tmp_path, column, value, message):
    (tmp_path / "method_parameters.csv").write_text(
        ",".join(PARAMETERS) + "\n" + ",".join(str(v) for v in PARAMETERS.values()) + "\n", encoding="utf-8")
    rows = [indicator("incubated", "size", 1, "incubated_cum"), indicator("events", "size", 1, "service_events")]
    rows[1][column] = value
    with (tmp_path / "method_indicators.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with pytest.raises(CatalogueError) as error:
        load_catalogue(tmp_path)
    assert str(error.value).startswith("method_indicators.csv, row 3, ")
    assert message in str(error.value)


def test_a_year_uses_the_catalogue_rows_valid_in_it():
    rows = [indicator("incubated", "size", 1, "incubated_cum", last_year=2022),
            indicator("incubated", "size", 3, "incubated_cum", first_year=2023),
            indicator("events", "size", 1, "service_events")]
    catalogue = catalogue_from_rows(rows, [PARAMETERS])
    assert [i.weight for i in catalogue.method(2022).indicators] == [1, 1]
    assert [i.weight for i in catalogue.method(2023).indicators] == [3, 1]
    with pytest.raises(CatalogueError, match="0 rows cover reporting year 2021"):
        catalogue.method(2021)
    # with_weight splits a row at the year given and leaves the years before alone.
    changed = catalogue.with_weight("events", 5, from_year=2023)
    assert [i.weight for i in changed.method(2022).indicators] == [1, 1]
    assert sorted(i.weight for i in changed.method(2023).indicators) == [3, 5]


def test_two_rows_of_one_indicator_in_one_year_are_refused():
    rows = [indicator("incubated", "size", 1, "incubated_cum"), indicator("incubated", "size", 2, "incubated_cum")]
    with pytest.raises(CatalogueError, match="incubated has two rows valid in 2022"):
        catalogue_from_rows(rows, [PARAMETERS])


# ------------------------------------------------------------------ raw values, coverage, imputation


def test_raw_values_come_from_figures_and_a_ratio_by_zero_is_missing():
    method = small_method()
    share = method.indicators[2]
    assert R.indicator_value(share, figures(20, 3, 5)) == 0.25  # 5 / 20
    assert np.isnan(R.indicator_value(share, figures(0, 3, 0)))  # 0 / 0: no value
    assert np.isnan(R.indicator_value(share, None))  # no submission
    assert R.indicator_value(method.indicators[0], figures(20, 3, 5)) == 20


def test_coverage_needs_two_thirds_of_the_indicators_and_a_submission():
    raw = np.array([[1, 2, 3], [1, 2, np.nan], [1, np.nan, np.nan], [np.nan, np.nan, np.nan]], dtype=float)
    available, ranked = R.coverage(raw, np.array([True, True, True, False]), 0.6666666667)
    assert available.tolist() == [3, 2, 1, 0]
    assert ranked.tolist() == [True, True, False, False]  # 2 of 3 is enough, 1 of 3 is not


def test_imputation_takes_last_year_then_the_median_and_flags_each():
    raw = np.array([[1.0], [np.nan], [4.0], [np.nan], [9.0], [np.nan]])
    previous = np.array([[0.0], [7.0], [0.0], [np.nan], [0.0], [3.0]])
    ranked = np.array([True, True, True, True, True, False])
    values, rule = R.impute(raw, ranked, previous)
    # Row 1 had 7 last year; row 3 had nothing: the median of the ranked values 1, 4, 9 is 4;
    # row 5 is not ranked and stays missing.
    assert values[:, 0].tolist()[:5] == [1.0, 7.0, 4.0, 4.0, 9.0] and np.isnan(values[5, 0])
    assert rule[:, 0].tolist() == ["", "previous_year", "", "median", "", ""]


# ------------------------------------------------------------------ the outlier rule (COINr)


def _exact_skew_kurtosis(values) -> tuple[float, float]:
    """Excel's SKEW and KURT from their textbook formulas, in exact fractions."""
    x = [Fraction(v) for v in values]
    n = len(x)
    mean = sum(x) / n
    s2 = sum((v - mean) ** 2 for v in x) / (n - 1)  # sample variance
    skew = Fraction(n, (n - 1) * (n - 2)) * sum((v - mean) ** 3 for v in x) / float(s2) ** 1.5
    kurt = (Fraction(n * (n + 1), (n - 1) * (n - 2) * (n - 3)) * sum((v - mean) ** 4 for v in x) / s2**2
            - Fraction(3 * (n - 1) ** 2, (n - 2) * (n - 3)))
    return float(skew), float(kurt)


COINR_SAMPLE = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 30, 100]
"""COINr's own example of a skewed indicator (its outlier-treatment vignette): 1 to 10 and two outliers."""


def test_skewness_and_kurtosis_are_excels():
    for sample in (COINR_SAMPLE, [2, 4, 4, 4, 5, 5, 7, 9], [1.5, -3, 8, 0.25, 4]):
        skew, kurt = _exact_skew_kurtosis(sample)
        assert R.skewness(np.array(sample)) == pytest.approx(skew, rel=1e-12)
        assert R.kurtosis(np.array(sample)) == pytest.approx(kurt, rel=1e-12)
    # Fewer than 4 values or no spread: undefined, and the rule does not fire.
    assert np.isnan(R.kurtosis(np.array([1.0, 2.0, 30.0])))
    assert not R.has_outliers(np.array([5.0, 5.0, 5.0, 5.0, 5.0]), 2, 3.5)


def test_coinr_rule_winsorises_the_known_skewed_sample_by_one_point():
    x = np.array(COINR_SAMPLE, dtype=float)
    skew, kurt = _exact_skew_kurtosis(COINR_SAMPLE)
    assert skew >= 2 and kurt >= 3.5  # 3.06 and 9.74: the rule fires
    one = COINR_SAMPLE[:-1] + [30]  # one point: 100 becomes the next value, 30
    skew1, kurt1 = _exact_skew_kurtosis(one)
    assert skew1 < 2  # 1.71: passes after one point
    treated, treatment = R.treat(x, 2, 3.5, 5)
    assert treatment.treatment == "winsorised" and treatment.points == 1 and treatment.side == "high"
    assert treated.tolist() == one
    assert treatment.skew_after == pytest.approx(skew1) and treatment.kurtosis_after == pytest.approx(kurt1)


def test_coinr_rule_winsorises_the_fewest_points_that_pass():
    sample = list(range(1, 16)) + [1000, 2000]
    # One point (2000 -> 1000) leaves two equal outliers: still |skew| >= 2 and kurtosis >= 3.5;
    # two points (both -> 15) pass.
    assert min(abs(_exact_skew_kurtosis(sample[:-1] + [1000])[0]), 99) >= 2
    assert _exact_skew_kurtosis(sample[:-1] + [1000])[1] >= 3.5
    assert abs(_exact_skew_kurtosis(sample[:-2] + [15, 15])[0]) < 2
    treated, treatment = R.treat(np.array(sample, dtype=float), 2, 3.5, 5)
    assert (treatment.treatment, treatment.points) == ("winsorised", 2)
    assert treated.tolist() == sample[:-2] + [15, 15]


def test_coinr_rule_falls_back_to_the_log_transform_and_winsorises_low_outliers_on_their_side():
    x = np.array(COINR_SAMPLE, dtype=float)
    # With no winsorisation allowed the untreated values are log-transformed:
    # ln(x - min + 0.01 (max - min)) = ln(x - 1 + 0.99).
    treated, treatment = R.treat(x, 2, 3.5, 0)
    assert treatment.treatment == "log"
    assert treated == pytest.approx(np.log(x - 0.01))
    # A negatively skewed sample is winsorised at its low end.
    low = -x
    treated, treatment = R.treat(low, 2, 3.5, 5)
    assert (treatment.treatment, treatment.points, treatment.side) == ("winsorised", 1, "low")
    assert treated.min() == -30


# ------------------------------------------------------------------ normalisation


def test_min_max_maps_onto_the_score_range_and_can_be_reversed():
    x = np.array([2.0, 4.0, 6.0, 10.0])
    assert R.unit_score(x, "minmax").tolist() == [0, 0.25, 0.5, 1]  # (x - 2) / 8
    assert R.unit_score(x, "minmax", direction=-1).tolist() == [1, 0.75, 0.5, 0]
    # The efficacy-coefficient scale of the shipped catalogue: 60 + 40 u.
    ind = catalogue_from_rows([indicator("a", "d", 1, "incubated_cum", low=60, high=100)], [PARAMETERS]) \
        .method(2023).indicators[0]
    assert R.normalise(x, ind).tolist() == [60, 70, 80, 100]


def test_percentile_rank_counts_ties_as_half():
    x = np.array([1.0, 2.0, 2.0, 5.0])
    # below / (n - 1) with a tie counting half: 0/3, (1 + 0.5)/3, (1 + 0.5)/3, 3/3.
    assert R.unit_score(x, "percentile").tolist() == [0, 0.5, 0.5, 1]


def test_z_score_caps_at_three_standard_deviations():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    # mean 2.5, sample sd sqrt(5/3); u = (z + 3) / 6.
    sd = sqrt(5 / 3)
    expected = [((v - 2.5) / sd + 3) / 6 for v in x]
    assert R.unit_score(x, "zscore") == pytest.approx(expected)
    far = np.array([0.0] * 30 + [100.0])  # the outlier's z is about 5.4: capped at 1
    assert R.unit_score(far, "zscore")[-1] == 1.0


def test_goalposts_cap_outside_them_and_carry_the_direction():
    x = np.array([-2.0, 2.0, 4.0, 6.0, 10.0])
    assert R.unit_score(x, "goalposts", goal_low=0, goal_high=8).tolist() == [0, 0.25, 0.5, 0.75, 1]
    assert R.unit_score(x, "goalposts", goal_low=8, goal_high=0).tolist() == [1, 0.75, 0.5, 0.25, 0]


def test_equal_values_all_score_the_top_and_missing_stays_missing():
    for how in ("minmax", "zscore", "percentile"):
        assert R.unit_score(np.array([3.0, 3.0, 3.0]), how).tolist() == [1, 1, 1]
    out = R.unit_score(np.array([1.0, np.nan, 3.0]), "minmax")
    assert out[0] == 0 and np.isnan(out[1]) and out[2] == 1


# ------------------------------------------------------------------ aggregation, experts, ranks


def test_weighted_means_drop_missing_values_and_rescale_the_weights():
    values = np.array([[80.0, 40.0, 10.0], [80.0, np.nan, 10.0]])
    weights = np.array([1.0, 3.0, 2.0])
    groups = np.array([[1, 0], [1, 0], [0, 1]], dtype=float)
    out = R.aggregate(values, weights, groups)
    # (1·80 + 3·40) / 4 = 50; without the second value 80 alone; the second group is 10.
    assert out.tolist() == [[50, 10], [80, 10]]
    geometric = R.aggregate(values, weights, groups, R.GEOMETRIC)
    assert geometric[0, 0] == pytest.approx((80 * 40**3) ** 0.25)  # weighted geometric mean
    effective = R.effective_weights(~np.isnan(values), weights, groups)
    assert effective[0].tolist() == [0.25, 0.75, 1] and effective[1, 0] == 1


def test_trimmed_mean_drops_the_highest_and_lowest_expert():
    assert R.trimmed_mean([90, 80, 85, 95, 70]) == 85  # (90 + 80 + 85) / 3
    assert R.trimmed_mean([88, 90]) == 89  # two experts: nothing dropped
    assert np.isnan(R.trimmed_mean([]))


def test_ranks_share_the_lower_number_on_ties_and_rounding_goes_half_away():
    assert R.competition_rank(np.array([70, 90, 70, 60, np.nan])).tolist() == [2, 1, 2, 4, 0]
    assert R.round_half_away(np.array([2.0005, 60.12345, -1.5]), 3).tolist() == [2.001, 60.123, -1.5]


# ------------------------------------------------------------------ the whole method on a small example


def small_year():
    """Five ranked bases, one not submitted, one with too few values; worked through in the tests."""
    method = small_method()
    figures_2023 = {
        "A": figures(10, 4, 5),     # share 0.5
        "B": figures(20, 8, None),  # share missing, none last year: the median
        "C": figures(30, None, 15),  # events missing: last year's 6
        "D": figures(50, 2, 0),     # share 0
        "E": None,                   # did not submit
        "F": figures(None, 5, None),  # 1 of 3 indicators: not ranked
        "G": figures(90, 4, 18),    # share 0.2
    }
    figures_2022 = {"A": figures(8, 3, 4), "B": figures(15, 7, None), "C": figures(25, 6, 10),
                    "D": figures(40, 2, 0), "E": figures(12, 5, 6)}
    experts = {"A": [60, 70, 80], "B": [80, 50, 70, 60, 100], "D": [40, 40], "G": [80, 90, 100, 90]}
    catalogue = catalogue_from_rows(
        [indicator("incubated", "size", 1, "incubated_cum"),
         indicator("events", "size", 1, "service_events", normalisation="percentile"),
         indicator("share", "quality", 1, "high_tech_cum", denominator="incubated_cum")], [PARAMETERS])
    _, data = R.year_data(catalogue, 2023, {2023: figures_2023, 2022: figures_2022}, experts)
    return method, data


def test_the_whole_method_on_a_small_example_by_hand():
    method, data = small_year()
    result = R.evaluate(method, data)
    row = {c: i for i, c in enumerate(data.base_codes)}
    assert result.ranked.tolist() == [True, True, True, True, False, False, True]  # A B C D E F G
    # Imputation: B's share is the median of 0.5, 0.5, 0, 0.2 = 0.35; C's events last year's 6.
    assert result.imputed[row["B"], 2] == pytest.approx(0.35) and result.imputation_rule[row["B"], 2] == "median"
    assert result.imputed[row["C"], 1] == 6 and result.imputation_rule[row["C"], 1] == "previous_year"
    # incubated min-max over 10, 20, 30, 50, 90: 0, 12.5, 25, 50, 100.
    # events percentile over 4, 8, 6, 2, 4 (A and G tie): 37.5, 100, 75, 0, 37.5.
    # share min-max over 0.5, 0.35, 0.5, 0, 0.2: 100, 70, 100, 0, 40.
    expected_normalised = {"A": [0, 37.5, 100], "B": [12.5, 100, 70], "C": [25, 75, 100], "D": [50, 0, 0],
                           "G": [100, 37.5, 40]}
    for code, values in expected_normalised.items():
        assert result.normalised[row[code]] == pytest.approx(values)
    # size = mean of the two, quality = share; indicator score = mean of the dimensions.
    expected_indicator = {"A": 59.375, "B": 63.125, "C": 75, "D": 12.5, "G": 54.375}
    # experts: A 70 (60, 80 dropped), B 70, C none, D 40 (two experts, none dropped), G 90.
    expected_expert = {"A": 70, "B": 70, "D": 40, "G": 90}
    # score = 0.8 I + 0.2 E: A 47.5 + 14 = 61.5, B 50.5 + 14 = 64.5, C 75 (I alone), D 18, G 43.5 + 18 = 61.5.
    expected_score = {"A": 61.5, "B": 64.5, "C": 75, "D": 18, "G": 61.5}
    for code, indicator_score in expected_indicator.items():
        b = row[code]
        assert result.indicator_score[b] == pytest.approx(indicator_score)
        assert result.score[b] == pytest.approx(expected_score[code])
        if code in expected_expert:
            assert result.expert_score[b] == expected_expert[code]
    # C first, B second, A and G tie third, D fifth ("1224").
    assert {c: int(result.rank[row[c]]) for c in expected_score} == {"C": 1, "B": 2, "A": 3, "G": 3, "D": 5}
    assert result.rank[row["E"]] == 0 and result.rank[row["F"]] == 0
    # Contributions add up to the indicator score.
    contributions = result.contributions()
    assert np.nansum(contributions[row["A"]]) == pytest.approx(59.375)


def test_the_method_doc_lists_the_shipped_catalogue():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "method.md").read_text(encoding="utf-8")
    method = load_catalogue().method(2023)
    for i in method.indicators:
        formula = i.numerator if i.denominator is None else f"{i.numerator} / {i.denominator}"
        normalisation = {"minmax": "min-max"}.get(i.normalisation, i.normalisation)
        row = (f"| {i.dimension_name_zh} {i.dimension_name_en} ({i.dimension_weight:g}) | `{i.code}` | {i.name_zh} "
               f"| {i.name_en} | {i.unit} | {i.weight:g} | {normalisation}, {i.score_low:g}–{i.score_high:g} "
               f"| `{formula}` |")
        assert row in doc, f"docs/method.md does not show the catalogue's row of {i.code}: {row}"
