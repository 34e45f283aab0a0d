"""The method's SQL models, built by dbt on a small fixture warehouse, against hand-worked numbers and the numpy reference.

The fixture stands in for the warehouse model upstream of the method: ``marts.fct_base_year``,
``marts.dim_base``, ``marts.dim_province`` and ``staging.stg_expert_scores`` are written directly,
and ``dbt build`` runs the method's seeds and models on them in a copy of the dbt project whose
catalogue is small enough to work through by hand:

- 2019: a z-score and a goalposts indicator over four bases;
- 2020 and 2021: one indicator, revenue, over twelve bases with COINr's skewed sample (1 to 10,
  30, 100); 2020 allows no winsorisation (the log transform), 2021 up to five points;
- 2022 and 2023: incubated (min-max), events (percentile rank) in the size dimension and the
  high-tech share (min-max) in the quality dimension; the same bases as the numpy reference's
  small example (tests/test_method_reference.py), with a missing value imputed from last year,
  one from the median, a base that did not submit and one with a third of the indicators.
"""

from __future__ import annotations

import csv
import math
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from parkwh import transform
from parkwh.method import reference as R
from parkwh.method.catalogue import FIGURES, load_catalogue
from parkwh.method.explain import explain
from parkwh.method.inputs import read_warehouse
from test_method_reference import PARAMETERS, indicator

REPO = Path(__file__).resolve().parents[1]

CATALOGUE = [
    indicator("tax", "money", 1, "tax_yuan", normalisation="zscore", first_year=2019, last_year=2019),
    indicator("vc", "money", 1, "vc_yuan", normalisation="goalposts", goal_low=0, goal_high=8, first_year=2019,
              last_year=2019),
    indicator("revenue", "money", 1, "revenue_yuan", first_year=2020, last_year=2021),
    indicator("incubated", "size", 1, "incubated_cum", first_year=2022),
    indicator("events", "size", 1, "service_events", normalisation="percentile", first_year=2022),
    indicator("share", "quality", 1, "high_tech_cum", denominator="incubated_cum", first_year=2022),
]
PARAMETER_ROWS = [
    dict(PARAMETERS, first_year=2019, last_year=2020, max_winsorised_points=0, mc_draws=200, mc_seed=7),
    dict(PARAMETERS, first_year=2021, last_year="", max_winsorised_points=5, mc_draws=200, mc_seed=7),
]

K_BASES = [f"K{i:02d}" for i in range(1, 13)]
COINR_SAMPLE = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 30, 100]


def fig(incubated=None, events=None, high_tech=None, revenue=None, tax=None, vc=None):
    return {"incubated_cum": incubated, "service_events": events, "high_tech_cum": high_tech,
            "revenue_yuan": revenue, "tax_yuan": tax, "vc_yuan": vc}


FIGURES_BY_YEAR = {
    2019: {"K01": fig(tax=1, vc=2), "K02": fig(tax=2, vc=4), "K03": fig(tax=3, vc=6), "K04": fig(tax=4, vc=10)},
    2020: {k: fig(revenue=v) for k, v in zip(K_BASES, COINR_SAMPLE)},
    2021: {k: fig(revenue=v) for k, v in zip(K_BASES, COINR_SAMPLE)},
    2022: {"A": fig(8, 3, 4), "B": fig(15, 7, None), "C": fig(25, 6, 10), "D": fig(40, 2, 0), "E": fig(12, 5, 6)},
    2023: {"A": fig(10, 4, 5), "B": fig(20, 8, None), "C": fig(30, None, 15), "D": fig(50, 2, 0), "E": None,
           "F": fig(None, 5, None), "G": fig(90, 4, 18)},
}
EXPERTS_2023 = {"A": [60, 70, 80], "B": [80, 50, 70, 60, 100], "D": [40, 40], "G": [80, 90, 100, 90]}


def write_project(root: Path, catalogue: list[dict]) -> Path:
    """A copy of the dbt project and seeds with the given catalogue."""
    # symlinks=True: dbt_project/seeds stays a link to the seeds written below, not a copy of ours.
    shutil.copytree(REPO / "dbt_project", root / "dbt_project", symlinks=True,
                    ignore=shutil.ignore_patterns("target", "logs"))
    shutil.copytree(REPO / "seeds", root / "seeds")
    for name, rows in (("method_indicators.csv", catalogue), ("method_parameters.csv", PARAMETER_ROWS)):
        with (root / "seeds" / name).open("w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return root


def write_fixture(database: Path) -> None:
    con = duckdb.connect(str(database))
    try:
        con.execute("create schema marts; create schema staging")
        columns = ", ".join(f"{f} {'decimal(18,2)' if f.endswith('_yuan') else 'bigint'}" for f in FIGURES)
        con.execute(f"""create table marts.fct_base_year (base_code varchar, reporting_year integer,
            base_version_id varchar, base_name_zh varchar, province_code varchar, submitted boolean,
            submission_id varchar, {columns})""")
        for year, bases in FIGURES_BY_YEAR.items():
            for code, figures in bases.items():
                values = [(figures or {}).get(f) for f in FIGURES]
                con.execute(f"insert into marts.fct_base_year values (?, ?, ?, ?, ?, ?, ?, {', '.join('?' * len(FIGURES))})",
                            [code, year, f"v-{code}", f"{code}园", "SH", figures is not None,
                             f"{year}-{code}-000000000000" if figures is not None else None, *values])
        con.execute("""create table marts.dim_base as
            select distinct base_version_id, base_code, base_name_zh, 'Base ' || base_code as base_name_en,
                   province_code from marts.fct_base_year""")
        con.execute("create table marts.dim_province as select 'SH' as province_code, '上海市' as province_name_zh")
        con.execute("""create table staging.stg_expert_scores (submission_id varchar, reporting_year integer,
            source_row integer, base_code varchar, expert_id varchar, expert_score decimal(9,3))""")
        row = 2
        for code, scores in EXPERTS_2023.items():
            for i, score in enumerate(scores):
                con.execute("insert into staging.stg_expert_scores values (?, 2023, ?, ?, ?, ?)",
                            ["2023-expert_scores-aaaaaaaaaaaa", row, code, f"E{i + 1}", Decimal(score)])
                row += 1
    finally:
        con.close()


def build(root: Path, catalogue: list[dict]) -> Path:
    """Write the project copy and fixture under ``root`` and build the method; returns the database."""
    project = write_project(root / "project", catalogue)
    warehouse = root / "warehouse"
    warehouse.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PARKWH_PROJECT_DIR", str(project))
        mp.setenv("PARKWH_WAREHOUSE_DIR", str(warehouse))
        write_fixture(warehouse / "parkwh.duckdb")
        result = transform.run_dbt(["build", "--select", "method_indicators", "method_parameters",
                                    "path:models/method"], target_path=root / "target", log_path=root / "logs")
    assert result.returncode == 0, result.stdout[-6000:]
    return warehouse


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("method"), CATALOGUE)


@pytest.fixture()
def con(built):
    connection = duckdb.connect(str(built / "parkwh.duckdb"), read_only=True)
    yield connection
    connection.close()


def rows(con, sql: str) -> list[dict]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r)) for r in cursor.fetchall()]


def by_base(con, sql: str) -> dict[str, dict]:
    return {r["base_code"]: r for r in rows(con, sql)}


# ------------------------------------------------------------------ each step against hand-worked numbers


def test_coverage_screen(con):
    coverage = by_base(con, "select * from intermediate.int_method_coverage where reporting_year = 2023")
    assert {c: (r["indicators_available"], r["ranked"], r["not_ranked_reason"]) for c, r in coverage.items()} == {
        "A": (3, True, None), "B": (2, True, None), "C": (2, True, None), "D": (3, True, None),
        "E": (0, False, "not_submitted"), "F": (1, False, "low_coverage"), "G": (3, True, None)}


def test_imputation_is_flagged_with_its_rule(con):
    imputed = rows(con, "select * from intermediate.int_method_imputed where imputed")
    assert {(r["reporting_year"], r["base_code"], r["indicator_code"], r["imputation_rule"]): r["imputed_value"]
            for r in imputed} == pytest.approx({
                # B never had a share: the median of the ranked bases' shares, (0.4 + 0.5) / 2 in 2022
                # and (0.2 + 0.5) / 2 in 2023; C's 2023 events: its own 6 of 2022.
                (2022, "B", "share", "median"): 0.45,
                (2023, "B", "share", "median"): 0.35,
                (2023, "C", "events", "previous_year"): 6.0})


def test_outlier_rule_on_coinrs_sample(con):
    treated = rows(con, """select reporting_year, treatment, winsorised_points, winsorised_side,
                                  skewness_before, kurtosis_before, max(treated_value) as top
                           from intermediate.int_method_treated where indicator_code = 'revenue'
                           group by all order by reporting_year""")
    # 2021: skewness 3.06 and kurtosis 9.74 fail the rule; one point (100 -> 30) passes.
    assert [(r["treatment"], r["winsorised_points"], r["winsorised_side"], r["top"]) for r in treated] == [
        ("log", 0, None, pytest.approx(math.log(100 - 1 + 0.01 * 99))),  # 2020: no points allowed
        ("winsorised", 1, "high", 30.0)]
    assert treated[1]["skewness_before"] == pytest.approx(3.0632410342394985)
    assert treated[1]["kurtosis_before"] == pytest.approx(9.741390834569144)
    # A low outlier is winsorised at the low end: 2022's shares (see test_published_ranking).
    share = rows(con, """select base_code, treated_value, point_winsorised, winsorised_side
                         from intermediate.int_method_treated
                         where reporting_year = 2022 and indicator_code = 'share' and point_winsorised""")
    assert share == [{"base_code": "D", "treated_value": pytest.approx(0.4), "point_winsorised": True,
                          "winsorised_side": "low"}]
    checks = rows(con, """select winsorised_points, has_outliers from intermediate.int_method_outlier_checks
                          where reporting_year = 2021 order by winsorised_points""")
    assert [(r["winsorised_points"], r["has_outliers"]) for r in checks] == [
        (0, True), (1, False), (2, False), (3, False), (4, False), (5, False)]


def test_normalisation_dimension_and_indicator_scores(con):
    normalised = rows(con, "select * from intermediate.int_method_normalised where reporting_year = 2023")
    values = {(r["base_code"], r["indicator_code"]): r["normalised_value"] for r in normalised}
    assert values == pytest.approx({
        ("A", "incubated"): 0, ("B", "incubated"): 12.5, ("C", "incubated"): 25, ("D", "incubated"): 50,
        ("G", "incubated"): 100,
        ("A", "events"): 37.5, ("B", "events"): 100, ("C", "events"): 75, ("D", "events"): 0, ("G", "events"): 37.5,
        ("A", "share"): 100, ("B", "share"): 70, ("C", "share"): 100, ("D", "share"): 0, ("G", "share"): 40})
    dimensions = {(r["base_code"], r["dimension_code"]): r["dimension_score"] for r in rows(
        con, "select * from intermediate.int_method_dimension_scores where reporting_year = 2023")}
    assert dimensions[("A", "size")] == pytest.approx(18.75) and dimensions[("G", "size")] == pytest.approx(68.75)
    scores = by_base(con, "select * from intermediate.int_method_indicator_scores where reporting_year = 2023")
    assert {c: r["indicator_score"] for c, r in scores.items()} == pytest.approx(
        {"A": 59.375, "B": 63.125, "C": 75, "D": 12.5, "G": 54.375})
    # 2019: z-scores of 1, 2, 3, 4 (mean 2.5, sample sd sqrt(5/3)) as (z + 3) / 6; goalposts 0 and 8
    # for 2, 4, 6, 10: 25, 50, 75 and 100 (capped).
    z = by_base(con, "select * from intermediate.int_method_normalised where indicator_code = 'tax'")
    sd = math.sqrt(5 / 3)
    assert {c: r["normalised_value"] for c, r in z.items()} == pytest.approx(
        {c: 100 * ((x - 2.5) / sd + 3) / 6 for c, x in zip(K_BASES, (1, 2, 3, 4))})
    goal = by_base(con, "select * from intermediate.int_method_normalised where indicator_code = 'vc'")
    assert {c: r["normalised_value"] for c, r in goal.items()} == {"K01": 25, "K02": 50, "K03": 75, "K04": 100}
    # 2021: min-max of the winsorised revenue, (x - 1) / 29.
    revenue = by_base(con, "select * from intermediate.int_method_normalised where reporting_year = 2021")
    assert revenue["K10"]["normalised_value"] == pytest.approx(100 * 9 / 29)
    assert revenue["K11"]["normalised_value"] == revenue["K12"]["normalised_value"] == 100


def test_published_ranking(con):
    columns = [r[0] for r in con.execute("describe published.park_ranking").fetchall()]
    assert columns == ["reporting_year", "rank", "base_code", "base_name_zh", "base_name_en", "province", "score",
                       "indicator_score", "expert_score", "rank_change", "rank_median", "rank_p05", "rank_p95",
                       "ranked"]
    ranking = by_base(con, "select * from published.park_ranking where reporting_year = 2023")
    assert len(ranking) == 7
    # 0.8 I + 0.2 E: A 61.5, B 64.5, C 75 (no experts: I alone), D 18, G 61.5 (tied with A).
    assert {c: (r["rank"], r["score"], r["ranked"]) for c, r in ranking.items()} == {
        "A": (3, Decimal("61.500"), True), "B": (2, Decimal("64.500"), True), "C": (1, Decimal("75.000"), True),
        "D": (5, Decimal("18.000"), True), "E": (None, None, False), "F": (None, None, False),
        "G": (3, Decimal("61.500"), True)}
    assert ranking["A"]["expert_score"] == Decimal("70.000") and ranking["C"]["expert_score"] is None
    # 2022 (no experts, scores are indicator scores): the shares 0.5, 0.45 (B's median), 0.4, 0, 0.5
    # have skewness -2.03 and kurtosis 4.22, so D's 0 is winsorised up to 0.4 (the low side);
    # min-max over 0.4-0.5 gives A 100, B 50, C 0, D 0, E 100, and the indicator scores are
    # E 65.625, A 56.25, B 55.469, C 32.031, D 25: ranks E 1, A 2, B 3, C 4, D 5.
    assert {c: r["rank_change"] for c, r in ranking.items()} == {
        "A": -1, "B": 1, "C": 3, "D": 0, "E": None, "F": None, "G": None}
    assert ranking["A"]["base_name_zh"] == "A园" and ranking["A"]["province"] == "上海市"
    for r in ranking.values():
        if r["ranked"]:
            assert r["rank_p05"] <= r["rank_median"] <= r["rank_p95"]
        else:
            assert r["rank"] is None and r["rank_median"] is None
    # The Monte Carlo records its draws and seed.
    assert con.execute("select distinct mc_draws, mc_seed from intermediate.int_method_rank_uncertainty"
                       ).fetchall() == [(200, 7)]
    ties = by_base(con, "select * from published.park_ranking where reporting_year = 2021")
    assert ties["K11"]["rank"] == ties["K12"]["rank"] == 1 and ties["K10"]["rank"] == 3
    assert ties["K11"]["rank_change"] == 1 and ties["K12"]["rank_change"] == 0  # 2020: K12 1st, K11 2nd


def test_the_decomposition_traces_every_score_to_submitted_figures(con):
    scores = rows(con, "select * from published.park_scores where reporting_year = 2023")
    assert len(scores) == 6 * 3  # six submitting bases, three indicators
    for base in ("A", "B", "C", "D", "G"):
        own = [r for r in scores if r["base_code"] == base]
        assert sum(r["contribution"] for r in own) == pytest.approx(own[0]["indicator_score"])
        assert sum(r["weight"] for r in own) == pytest.approx(1)
    f = [r for r in scores if r["base_code"] == "F"]
    assert {r["indicator_code"]: r["raw_value"] for r in f} == {"incubated": None, "events": 5, "share": None}
    assert all(r["normalised_value"] is None and not r["ranked"] for r in f)
    # Each row names the submission its figures come from, and carries the figures themselves.
    traced = con.execute("""select count(*) from published.park_scores as s
        inner join marts.fct_base_year as f using (base_code, reporting_year, submission_id)
        where s.indicator_code = 'share' and s.numerator_value = f.high_tech_cum
          and s.denominator_value = f.incubated_cum""").fetchall()[0][0]
    assert traced == 4 + 4  # A, C, D, E in 2022 and A, C, D, G in 2023 (B has no high-tech figure)


def test_sql_equals_the_numpy_reference(con, built):
    catalogue = load_catalogue(built.parent / "project" / "seeds")
    figures, experts = read_warehouse(con)
    sql = rows(con, "select * from intermediate.int_method_scores")
    normalised = rows(con, "select * from intermediate.int_method_normalised")
    for year in sorted(figures):
        method, data = R.year_data(catalogue, year, figures, experts.get(year))
        result = R.evaluate(method, data)
        index = {c: i for i, c in enumerate(data.base_codes)}
        for r in (r for r in sql if r["reporting_year"] == year):
            b = index[r["base_code"]]
            assert r["ranked"] == bool(result.ranked[b])
            if r["ranked"]:
                assert r["indicator_score"] == pytest.approx(result.indicator_score[b], abs=1e-9)
                assert r["score"] == pytest.approx(result.score[b], abs=1e-9)
                assert r["rank"] == result.rank[b]
        column = {c: j for j, c in enumerate(method.codes)}
        for r in (r for r in normalised if r["reporting_year"] == year):
            assert r["normalised_value"] == pytest.approx(
                result.normalised[index[r["base_code"]], column[r["indicator_code"]]], abs=1e-9)


# ------------------------------------------------------------------ the method is data, versioned by year


def test_changing_one_weight_from_a_year_changes_that_year_only(built, tmp_path):
    changed = [dict(row) for row in CATALOGUE]
    events = next(r for r in changed if r["indicator_code"] == "events")
    events["last_year"] = 2022
    changed.append(dict(events, indicator_weight=3, first_year=2023, last_year=""))
    other = build(tmp_path, changed)

    def scores(warehouse):
        con = duckdb.connect(str(warehouse / "parkwh.duckdb"), read_only=True)
        try:
            return {(r[0], r[1]): r[2] for r in con.execute(
                "select reporting_year, base_code, score from published.park_ranking").fetchall()}
        finally:
            con.close()

    before, after = scores(built), scores(other)
    assert {k: v for k, v in before.items() if k[0] < 2023} == {k: v for k, v in after.items() if k[0] < 2023}
    # 2023, A: size = (1 x 0 + 3 x 37.5) / 4 = 28.125; I = (28.125 + 100) / 2 = 64.0625;
    # score = 0.8 x 64.0625 + 0.2 x 70 = 65.25 (61.5 with equal weights).
    assert after[(2023, "A")] == Decimal("65.250") and before[(2023, "A")] == Decimal("61.500")
    assert sum(after[k] != before[k] for k in before if k[0] == 2023 and before[k] is not None) >= 4


# ------------------------------------------------------------------ parkwh explain


def test_explain_splits_the_rank_change_by_cause(con):
    e = explain(con, "a", 2023)
    assert (e.rank, e.ranked_bases, e.score, e.rank_change) == (3, 5, 61.5, -1)
    assert [d.code for d in e.dimensions] == ["quality", "size"]  # equal weights: by code
    assert {i.code for i in e.indicators} == {"incubated", "events", "share"}
    assert sum(i.contribution for i in e.indicators) == pytest.approx(59.375)
    c = e.change
    assert (c.previous_rank, c.rank) == (2, 3)
    assert c.method == 0  # 2022 and 2023 share their catalogue and parameters
    assert c.method + c.others + c.own == c.total == -1
    assert ("incubated", 8.0, 10.0) in c.own_changes and c.expert_now == 70 and c.expert_before is None
    # A base new this year has no change to explain; a base not ranked says why.
    assert explain(con, "G", 2023).change_note.startswith("G was not ranked in 2022")
    f = explain(con, "F", 2023)
    assert not f.ranked and f.not_ranked_reason == "low_coverage" and (f.indicators_available, f.indicators_expected) == (1, 3)


def _cli(warehouse: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PARKWH_WAREHOUSE_DIR=str(warehouse), COLUMNS="160")
    return subprocess.run([str(Path(sys.executable).parent / "parkwh"), "explain", *args],
                          env=env, capture_output=True, text=True, timeout=120, check=False)


def test_explain_command(built, tmp_path):
    ok = _cli(built, "C", "--year", "2023")
    assert ok.returncode == 0, ok.stderr
    assert "score 75.000, rank 1 of 5" in ok.stdout and "Rank change since 2022: 4 → 1, up 3 places." in ok.stdout
    assert "90 % of draws between" in ok.stdout and "200 draws, seed 7" in ok.stdout
    not_ranked = _cli(built, "E", "--year", "2023")
    assert not_ranked.returncode == 0 and "not ranked" in not_ranked.stdout
    for args, message in ((("XX001", "--year", "2023"), "no base XX001 in the ranking (base codes look like SH001)"),
                          (("G", "--year", "2022"), "G is not in the 2022 ranking; it is in 2023")):
        result = _cli(built, *args)
        assert result.returncode == 1
        assert result.stderr.strip().splitlines() == [f"error: {message}"]
    empty = tmp_path / "empty"
    empty.mkdir()
    missing = _cli(empty, "A", "--year", "2023")
    assert missing.returncode == 1 and len(missing.stderr.strip().splitlines()) == 1
    assert "does not exist yet" in missing.stderr
