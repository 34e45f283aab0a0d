"""``audit.check_results``: the outcome of every expectation of every quality run, kept for good.

One row per run and expectation. A later run never changes an earlier run's rows, so "what did
the gate say about 2023 on the day it was published?" has an answer in SQL. Sample rows and the
bases concerned are stored as JSON text (personal data in them is already masked).
"""

from __future__ import annotations

import json

from parkwh import db
from parkwh.quality.results import QualityRun

TABLE = "audit.check_results"

_DDL = f"""
create schema if not exists audit;
create table if not exists {TABLE} (
    run_id varchar not null,
    checked_at timestamp not null,
    suite varchar not null,
    expectation_id varchar not null,
    table_name varchar not null,
    relation varchar,
    expectation_type varchar not null,
    severity varchar not null,
    outcome varchar not null,
    gate_open boolean not null,
    element_count bigint,
    unexpected_count bigint,
    unexpected_percent double,
    base_codes varchar,
    reporting_years varchar,
    sample_rows varchar,
    observed_value varchar,
    exception_message varchar,
    description varchar not null,
    fix varchar not null,
    primary key (run_id, suite, expectation_id)
)
"""

_COLUMNS = (
    "run_id", "checked_at", "suite", "expectation_id", "table_name", "relation",
    "expectation_type", "severity", "outcome", "gate_open", "element_count", "unexpected_count",
    "unexpected_percent", "base_codes", "reporting_years", "sample_rows", "observed_value",
    "exception_message", "description", "fix",
)


def write_check_results(run: QualityRun) -> int:
    """Append the run's results (replacing the rows of the same run, if it is written again)."""
    rows = [
        (
            run.run_id,
            run.finished_at,
            r.suite,
            r.expectation_id,
            r.table,
            r.relation,
            r.expectation_type,
            r.severity,
            r.outcome,
            run.gate_open,
            r.element_count,
            r.unexpected_count,
            r.unexpected_percent,
            json.dumps(r.base_codes, ensure_ascii=False),
            json.dumps(r.reporting_years),
            json.dumps(r.sample_rows, ensure_ascii=False),
            None if r.observed_value is None else json.dumps(r.observed_value, ensure_ascii=False),
            r.exception,
            r.description,
            r.fix,
        )
        for r in run.results
    ]
    placeholders = ", ".join("?" for _ in _COLUMNS)
    with db.connect() as connection:
        connection.execute(_DDL)
        connection.execute("begin transaction")
        try:
            connection.execute(f"delete from {TABLE} where run_id = ?", [run.run_id])
            if rows:
                connection.executemany(
                    f"insert into {TABLE} ({', '.join(_COLUMNS)}) values ({placeholders})", rows
                )
            connection.execute("commit")
        except Exception:
            connection.execute("rollback")
            raise
    return len(rows)
