"""The whole demo, its 2023 expert scores calibrated, reproduces the report's top 10 and their mean score."""

from __future__ import annotations

import csv
import time
from decimal import Decimal

import duckdb
import numpy as np
import pytest
from parkwh import config, transform
from parkwh.demo import DEFAULT_SEED, generate_demo
from parkwh.demo import calibrate as demo_calibrate
from parkwh.demo.bases import LAST_YEAR, TOP10, demo_bases
from parkwh.method import montecarlo as MC
from parkwh.method import reference as R
from parkwh.method.calibrate import expert_targets
from parkwh.method.catalogue import load_catalogue
from parkwh.method.inputs import read_warehouse
from parkwh.submission import writers


def calibrated_expert_scores() -> list[dict]:
    """The 2023 expert scores as the demo command is to write them (docs/method.md, "Calibration")."""
    bases = demo_bases(1)
    targets = demo_calibrate.base_targets(bases, np.random.default_rng([DEFAULT_SEED, 1]))
    submitting = [b for b in bases if b.submits(LAST_YEAR)]
    figures = {b.code: (targets[b.code].as_dict() if b.submits(LAST_YEAR) else None) for b in bases}
    preferred = demo_calibrate.expert_targets(submitting, np.random.default_rng([DEFAULT_SEED, 5]))
    calibration = expert_targets(figures, TOP10, year=LAST_YEAR, preferred=preferred)
    return demo_calibrate.expert_scores(calibration.targets, np.random.default_rng([DEFAULT_SEED, 6]))


@pytest.mark.slow
def test_the_calibrated_demo_reproduces_the_reports_ranking(warehouse_dir, tmp_path, monkeypatch):
    from parkwh.ingest.run import ingest_all

    monkeypatch.setenv("PARKWH_PII_KEY", "demo test key")
    inbox = config.warehouse().inbox
    generate_demo(inbox)
    with (inbox / str(LAST_YEAR) / "expert_scores.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["base_code", "expert_id", "score"])
        for row in calibrated_expert_scores():
            writer.writerow([row["base_code"], row["expert_id"], writers.decimal_text(row["score"])])
    ingest_all()
    result = transform.run_dbt(["build"], target_path=tmp_path / "target", log_path=tmp_path / "logs")
    assert result.returncode == 0, result.stdout[-6000:]

    con = duckdb.connect(str(config.warehouse().database), read_only=True)
    try:
        ranking = con.execute("""select base_code, rank, score, ranked, rank_p05, rank_median, rank_p95
                                 from published.park_ranking where reporting_year = 2023
                                 order by rank nulls last, base_code""").fetchall()
        assert len(ranking) == 68 and sum(r[3] for r in ranking) == 66
        assert [r[0] for r in ranking[:10]] == list(TOP10) and [r[1] for r in ranking[:10]] == list(range(1, 11))
        assert sum(r[2] for r in ranking[:10]) / 10 == Decimal("95.154")
        assert all(r[4] <= r[5] <= r[6] for r in ranking if r[3])
        assert all(r[1] is None and r[4] is None for r in ranking if not r[3])
        every_year = con.execute("""select count(*) from published.park_ranking
                                    where ranked and not (rank_p05 <= rank_median and rank_median <= rank_p95)""")
        assert every_year.fetchall() == [(0,)]

        # The SQL models and the numpy reference agree on every year's scores and ranks.
        figures, experts = read_warehouse(con)
        catalogue = load_catalogue()
        sql = con.execute("select reporting_year, base_code, score_unrounded, rank from intermediate.int_method_scores"
                          " where ranked").fetchall()
        results = {}
        for year in sorted(figures):
            method, data = R.year_data(catalogue, year, figures, experts.get(year))
            results[year] = R.evaluate(method, data)
        for year, code, score, rank in sql:
            result = results[year]
            b = result.data.base_codes.index(code)
            assert score == pytest.approx(result.score_unrounded[b], abs=1e-9) and rank == result.rank[b]

        # A thousand draws over the 2023 demo take well under five seconds.
        started = time.perf_counter()
        u = MC.simulate_result(results[2023])
        assert time.perf_counter() - started < 5 and u.draws == 1000
    finally:
        con.close()
