"""Versioned publications: a correction makes a new version, the old ranking stays queryable, with a changelog."""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow.dataset as ds
import pytest
from parkwh import config
from parkwh.publish import exports, publications
from test_publish_fixture import YEARS, build, correct_submission


def _query(sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(config.warehouse().database), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _ranking(year: int) -> dict[str, tuple]:
    return {
        r[0]: r[1:]
        for r in _query(
            "select base_code, rank, score, ranked from published.park_ranking where reporting_year = ?",
            [year],
        )
    }


def _clock(text: str):
    return lambda: dt.datetime.fromisoformat(text)


def test_first_publication_is_version_1_of_every_year(warehouse_dir):
    build(warehouse_dir)
    results = publications.publish(clock=_clock("2024-06-19T08:00:00+08:00"))
    assert [(p.reporting_year, p.publication_id, p.new) for p in results] == [
        (y, f"{y}-v1", True) for y in YEARS
    ]
    rows = _query(
        "select reporting_year, version, published_at, reason, bases_submitted, bases_ranked"
        " from audit.publications order by reporting_year"
    )
    submitted = dict(
        _query(
            "select reporting_year, count(*) from marts.fct_base_year where submitted group by all"
        )
    )
    ranked = dict(
        _query(
            "select reporting_year, count(*) from published.park_ranking where ranked group by all"
        )
    )
    assert rows == [
        (y, 1, dt.datetime(2024, 6, 19, 0, 0), "first publication", submitted[y], ranked[y])
        for y in YEARS
    ]


def test_the_submissions_in_force_are_recorded_by_sha256(warehouse_dir):
    build(warehouse_dir)
    publications.publish()
    recorded = set(
        _query(
            "select base_code, submission_id, source_sha256 from audit.publication_submissions"
            " where publication_id = '2023-v1' and kind = 'submission'"
        )
    )
    in_force = set(
        _query(
            "select f.base_code, f.submission_id, s.source_sha256 from marts.fct_base_year as f"
            " join audit.submissions as s using (submission_id) where f.reporting_year = 2023 and f.submitted"
        )
    )
    assert recorded == in_force and len(recorded) > 5
    experts = _query(
        "select source_sha256 from audit.publication_submissions"
        " where publication_id = '2023-v1' and kind = 'expert_scores'"
    )
    assert experts == _query(
        "select source_sha256 from audit.submissions where kind = 'expert_scores' and reporting_year = 2023"
    )


def test_publishing_the_same_data_again_makes_no_new_version(warehouse_dir):
    build(warehouse_dir)
    first = publications.publish(clock=_clock("2024-06-19T00:00:00+00:00"))
    files = {p: p.read_bytes() for p in (warehouse_dir / "exports").rglob("*.parquet")}
    again = publications.publish(clock=_clock("2024-07-01T00:00:00+00:00"))
    assert [p.publication_id for p in again] == [p.publication_id for p in first]
    assert not any(p.new for p in again)
    assert _query("select count(*) from audit.publications")[0][0] == len(YEARS)
    assert {p: p.read_bytes() for p in (warehouse_dir / "exports").rglob("*.parquet")} == files


def test_a_correction_republishes_its_year_and_keeps_the_previous_ranking(warehouse_dir):
    build(warehouse_dir)
    publications.publish(clock=_clock("2024-06-19T00:00:00+00:00"))
    before = _ranking(2023)
    correct_submission("JS003", 2023, enterprises_in_park=60)
    after = _ranking(2023)
    moved = {code for code in before if before[code] != after[code]}
    assert moved  # the correction moves scores, so the test has something to see

    results = {
        p.reporting_year: p for p in publications.publish(clock=_clock("2024-07-01T00:00:00+00:00"))
    }
    assert results[2023].publication_id == "2023-v2" and results[2023].new
    assert results[2023].reason == "submissions corrected"
    assert not results[2022].new and not results[2021].new

    # version 1's ranking is still there, as it was published
    history = {
        (r[0], r[1]): r[2:]
        for r in _query(
            "select publication_id, base_code, rank, score, ranked, is_current"
            " from published.park_ranking_history where reporting_year = 2023"
        )
    }
    assert {code: history[("2023-v1", code)][:3] for code in before} == before
    assert {code: history[("2023-v2", code)][:3] for code in after} == after
    assert all(not v[3] for (pid, _), v in history.items() if pid == "2023-v1")
    assert all(v[3] for (pid, _), v in history.items() if pid == "2023-v2")

    # one changelog row per base whose rank or score moved, with both values
    changes = {
        r[0]: r[1:]
        for r in _query(
            "select base_code, previous_rank, rank, previous_score, score, change, previous_publication_id"
            " from published.park_ranking_changes where publication_id = '2023-v2'"
        )
    }
    assert set(changes) == moved
    for code, (previous_rank, rank, previous_score, score, change, previous_id) in changes.items():
        assert (previous_rank, previous_score) == before[code][:2]
        assert (rank, score) == after[code][:2]
        assert previous_id == "2023-v1"
        expected = (
            "rank and score"
            if previous_rank != rank and previous_score != score
            else "rank"
            if previous_rank != rank
            else "score"
        )
        assert change == expected
    assert _query("select changes from audit.publications where publication_id = '2023-v2'")[0][
        0
    ] == len(moved)

    # the new submission is recorded; the exports of 2023 are version 2's
    assert (
        _query(
            "select count(*) from audit.publication_submissions where publication_id = '2023-v2'"
            " and submission_id in (select submission_id from marts.fct_base_year where reporting_year = 2023)"
        )[0][0]
        > 0
    )
    manifest = exports.read_manifest()
    assert {p["reporting_year"]: p["publication_id"] for p in manifest["publications"]}[
        2023
    ] == "2023-v2"

    # the exported history holds both versions of 2023
    history_files = ds.dataset(
        warehouse_dir / "exports" / "park_ranking_history", partitioning="hive"
    )
    versions = set(
        history_files.to_table(filter=ds.field("reporting_year") == 2023)
        .column("publication_id")
        .to_pylist()
    )
    assert versions == {"2023-v1", "2023-v2"}


def test_a_new_method_republishes_with_its_reason(warehouse_dir):
    build(warehouse_dir)
    publications.publish()
    con = duckdb.connect(str(config.warehouse().database))
    try:
        con.execute("update staging.method_parameters set expert_share = 0.25")
    finally:
        con.close()
    results = {p.reporting_year: p for p in publications.publish()}
    assert all(p.new and p.version == 2 and p.reason == "method changed" for p in results.values())
    assert all(p.changes == 0 for p in results.values())  # same figures: nothing moved


def test_a_method_change_from_a_later_year_leaves_earlier_years_alone(warehouse_dir):
    build(warehouse_dir)
    publications.publish()
    con = duckdb.connect(str(config.warehouse().database))
    try:
        con.execute("update staging.method_parameters set last_year = 2022")
        con.execute(
            "insert into staging.method_parameters values (2023, null, 0.25, 1000, 20240619)"
        )
    finally:
        con.close()
    results = {p.reporting_year: p for p in publications.publish()}
    assert [y for y, p in results.items() if p.new] == [2023]


def test_a_missing_export_file_is_restored_without_a_new_version(warehouse_dir):
    build(warehouse_dir)
    publications.publish()
    path = warehouse_dir / "exports" / "park_scores" / "reporting_year=2022" / "data.parquet"
    original = path.read_bytes()
    path.unlink()
    results = {p.reporting_year: p for p in publications.publish()}
    assert not results[2022].new and results[2022].files_restored == 1
    assert path.read_bytes() == original


def test_publishing_needs_a_ranking(warehouse_dir):
    con = duckdb.connect(str(config.warehouse().database))
    con.execute("create schema published")
    con.close()
    with pytest.raises(publications.PublishError, match="published.park_ranking does not exist"):
        publications.publish()


def test_a_year_without_a_ranking_cannot_be_published(warehouse_dir):
    build(warehouse_dir)
    with pytest.raises(
        publications.PublishError, match="no ranking for 2030 .* holds 2021, 2022, 2023"
    ):
        publications.publish([2030])
