"""How the quality runner reads: narrow reads give the results whole reads give, a dataset is read
whole only when one of its expectations fails, and its shortcuts answer what the slow way answers.

The warehouse is the one ``test_quality_suites`` builds (its figures computed independently of
the code under test); the reference for the narrow reads is the same run with every dataset read
whole and validated once (``narrow=False``), which is how the gate read before.
"""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from parkwh import config
from parkwh.quality import derive, runner, tables
from parkwh.quality.results import FAIL, PASS
from parkwh.quality.suites import load_suites
from stdnum.cn import ric
from stdnum.exceptions import ValidationError
from test_quality_suites import CORRUPTIONS, build_warehouse

# Each case: statements on the clean warehouse and the suite to run. Chosen to cover each kind of
# dataset (a table, a query, a query with derived columns, a query of a table's columns) failing
# and passing, and the failures that are no failing row (a missing table or column).
CASES = {
    "clean": ([], None),
    "table, compound key twice": ([CORRUPTIONS["duplicated company"][0]], "facts"),
    "table, value out of range": ([CORRUPTIONS["negative revenue"][0]], "facts"),
    "query with derived columns": ([CORRUPTIONS["bad ID number check digit"][0]], "submissions"),
    "query joining dimensions": ([CORRUPTIONS["company missing from its dimension"][0]], "facts"),
    "query of a table's columns": (
        ["alter table staging.stg_companies alter revenue_yuan type double"],
        "submissions",
    ),
    "more failing rows than samples": (
        ["update staging.stg_talent set degree_code = 'phd2'"],
        "submissions",
    ),
    "integer column out of range": (
        ["update staging.stg_companies set high_tech_year = 1900 where source_row = 2"],
        "submissions",
    ),
    "missing column": (["alter table marts.fct_company_year drop column employees"], "facts"),
    "missing row key column": (
        ["alter table marts.fct_company_year drop column submission_id"],
        "facts",
    ),
    "missing table": (["drop table marts.candidate_park_scores"], "published"),
    "missing raw table": (["drop table raw.talent"], "submissions"),
}


@pytest.fixture()
def warehouse(warehouse_dir):
    build_warehouse(config.warehouse().database)
    return config.warehouse().database


def sql(*statements: str) -> None:
    con = duckdb.connect(str(config.warehouse().database))
    try:
        for statement in statements:
            con.execute(statement)
    finally:
        con.close()


def suites(name: str | None = None):
    return [s for s in load_suites() if name is None or s.name == name]


def comparable(quality_run) -> list[dict]:
    """Results as data; a query's row order is DuckDB's to choose, so samples compare as sets."""
    out = []
    for result in quality_run.results:
        data = result.to_dict()
        data["sample_rows"] = sorted(json.dumps(row, sort_keys=True) for row in data["sample_rows"])
        out.append(data)
    return out


@pytest.mark.parametrize("case", sorted(CASES))
def test_narrow_reads_give_the_results_of_whole_reads(warehouse, case):
    statements, suite = CASES[case]
    sql(*statements)
    chosen = suites(suite)
    narrow = runner.run_suites(chosen, run_id="narrow")
    whole = runner.run_suites(chosen, run_id="whole", narrow=False)
    assert comparable(narrow) == comparable(whole)
    if statements:
        assert any(r.outcome == FAIL for r in narrow.results)
    else:
        assert all(r.outcome == PASS for r in narrow.results if r.severity == "error")


def test_more_failing_rows_than_samples_keep_the_first_rows_of_the_table(warehouse):
    sql(CASES["more failing rows than samples"][0][0])
    result = next(
        r
        for r in runner.run_suites(suites("submissions"), run_id="t").results
        if r.expectation_id == "talent_degree_valid"
    )
    con = duckdb.connect(str(config.warehouse().database), read_only=True)
    try:
        ((total,),) = con.execute("select count(*) from staging.stg_talent").fetchall()
        bases = [
            b
            for (b,) in con.execute(
                "select distinct base_code from staging.stg_talent order by 1"
            ).fetchall()
        ]
        # Every row fails: the samples are the table's first rows, in the table's order.
        first = con.execute(
            f"select submission_id, source_row from staging.stg_talent limit {runner.SAMPLE_ROWS}"
        ).fetchall()
    finally:
        con.close()
    assert result.outcome == FAIL and result.unexpected_count == total > runner.SAMPLE_ROWS
    assert [(row["submission_id"], row["source_row"]) for row in result.sample_rows] == first
    assert all(row["degree_code"] == "phd2" for row in result.sample_rows)
    assert result.base_codes == bases  # every failing row's base, not only the samples'


def test_a_dataset_is_read_whole_only_when_an_expectation_finds_rows(warehouse, monkeypatch):
    """GX sees only the columns each group of expectations names, unless rows must be shown."""
    sql(CORRUPTIONS["negative revenue"][0])
    seen: list[tuple[str, list[str], str, list[str]]] = []
    validate = runner._validate

    def recording(batch_definition, label, frame, expectations, result_format):
        seen.append(
            (
                label,
                list(frame.columns),
                result_format["result_format"],
                [e.key for e in expectations],
            )
        )
        return validate(batch_definition, label, frame, expectations, result_format)

    monkeypatch.setattr(runner, "_validate", recording)
    (facts,) = suites("facts")
    runner.run_suites([facts], run_id="t")
    whole = [s for s in seen if s[2] == "COMPLETE"]
    assert [s[3] for s in whole] == [["facts.company_revenue_not_negative"]]
    # The whole read has the row keys the samples show; the narrow ones only what is validated.
    assert {"base_code", "reporting_year", "credit_code", "submission_id", "revenue_yuan"} <= set(
        whole[0][1]
    )
    expectations = {e.key: e for e in facts.expectations}
    for label, columns, result_format, keys in seen:
        if result_format == "COMPLETE":
            continue
        named = {c for key in keys for c in expectations[key].columns()}
        if label.startswith("facts.table:"):
            assert set(columns) == named, (label, columns)
        else:  # a query's frame also holds nothing but the columns its expectations name
            assert set(columns) <= named, (label, columns)


def test_a_query_over_duckdbs_share_of_memory_runs_with_duckdbs_default(warehouse, monkeypatch):
    (facts,) = suites("facts")
    expected = comparable(runner.run_suites([facts], run_id="t"))
    tiny = "1MB"
    con = duckdb.connect(str(config.warehouse().database), read_only=True)
    try:
        con.execute(f"set memory_limit = '{tiny}'")
        relations = tables.resolve(
            f"{s}.{n}"
            for s, n in con.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        )
        with pytest.raises(duckdb.OutOfMemoryException):  # the limit really is too small
            con.sql(
                tables.render_sql(facts.queries["year_over_year"].sql, relations)
            ).to_arrow_table()
    finally:
        con.close()
    monkeypatch.setattr(runner, "DUCKDB_MEMORY_LIMIT", tiny)
    assert comparable(runner.run_suites([facts], run_id="t")) == expected


def test_library_settings_are_put_back_after_a_run(warehouse_dir):
    from great_expectations.execution_engine import pandas_execution_engine

    threshold, pool = pandas_execution_engine.HASH_THRESHOLD, pa.default_memory_pool().backend_name
    with pytest.raises(
        FileNotFoundError
    ):  # no warehouse yet: the run fails, the settings come back
        runner.run_suites(suites("facts"), run_id="t")
    build_warehouse(config.warehouse().database)
    runner.run_suites(suites("facts"), run_id="t")
    assert pandas_execution_engine.HASH_THRESHOLD == threshold
    assert pa.default_memory_pool().backend_name == pool


# ---------------------------------------------------------------------------- shortcuts


_text = st.one_of(
    st.none(), st.sampled_from(["", "a", "b", "91350100M000100Y43", "中"]), st.text(max_size=3)
)


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.tuples(_text, _text), max_size=40))
def test_derived_columns_answer_what_each_row_would(rows, monkeypatch_module):
    calls: list[tuple] = []

    def joined(a, b):
        calls.append((a, b))
        return None if derive._is_missing(a) else f"{a}|{b}"

    monkeypatch_module.setitem(runner.FUNCTIONS, "joined", joined)
    frame = pd.DataFrame({"a": [r[0] for r in rows], "b": [r[1] for r in rows]}, dtype=object)
    frame = frame.astype({"a": "str", "b": "str"}) if rows else frame
    values = list(zip(frame["a"].tolist(), frame["b"].tolist()))
    reference = [None if derive._is_missing(a) else f"{a}|{b}" for a, b in values]
    calls.clear()
    out = runner._derived("joined", [frame["a"], frame["b"]], frame.index)
    assert out.tolist() == reference
    assert out.dtype == object
    distinct = {tuple("<missing>" if derive._is_missing(v) else v for v in row) for row in values}
    assert len(calls) == len(distinct)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


_unicode_digits = st.sampled_from("0123456789٠١٢٣٤٥٦٧٨٩０１２３")


@settings(max_examples=500, deadline=None)
@given(
    digits=st.one_of(
        st.text(alphabet="0123456789", min_size=18, max_size=18),
        st.builds(
            lambda y, m, d, rest: f"110101{y:04d}{m:02d}{d:02d}{rest}",
            st.integers(0, 9999),
            st.integers(0, 99),
            st.integers(0, 99),
            st.text(alphabet="0123456789X", min_size=4, max_size=4),
        ),
        st.text(alphabet=_unicode_digits, min_size=18, max_size=18),
    )
)
def test_the_birth_date_check_answers_what_stdnum_answers(digits):
    try:
        ric.get_birth_date(digits)
        expected = True
    except (ValidationError, ValueError):
        expected = False
    assert derive._has_real_birth_date(digits) is expected


def test_a_real_birth_date_is_accepted_and_a_29th_of_february_only_in_a_leap_year():
    assert derive._has_real_birth_date("110101" + dt.date(2000, 2, 29).strftime("%Y%m%d") + "0000")
    assert not derive._has_real_birth_date("110101" + "20010229" + "0000")
