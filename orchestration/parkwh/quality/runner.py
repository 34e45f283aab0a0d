"""Runs the suites: reads each dataset from DuckDB (read-only), validates it with Great Expectations 1.x.

Why DataFrames, not Great Expectations' SQL data source: GX 1.24 reads a DuckDB table through
SQLAlchemy with a SQL engine that closes its connection before it fetches the rows, so a
validation sees no rows unless a private name of GX is patched (GX issues #11579, #10738).
Reading each dataset into a pandas DataFrame with DuckDB and validating that in GX's pandas
engine needs no patch and no network, and is fast at this warehouse's sizes (tens of thousands
of rows per table). It also lets the warehouse connection close before validation starts,
so the file is held for the seconds the reads take, not for the whole run.

Great Expectations takes seconds to import: it is imported here, inside the functions that
use it, never when Dagster loads the definitions.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from parkwh import db
from parkwh.quality import tables
from parkwh.quality.derive import FUNCTIONS
from parkwh.quality.results import ExpectationResult, QualityRun, SuiteInfo, plain
from parkwh.quality.suites import Expectation, Query, Suite

if TYPE_CHECKING:
    import pandas as pd

SAMPLE_ROWS = 10
"""Failing rows kept per expectation for the check metadata, the report and the audit table."""
SHOW_ALL_COLUMNS_UP_TO = 12
_MISSING = object()
"""A query's rows are built to explain a failure: show them whole when they are this narrow."""


def run_suites(
    suites: Sequence[Suite],
    *,
    run_id: str,
    clock: Callable[[], dt.datetime] | None = None,
) -> QualityRun:
    """Validate every expectation of ``suites`` on the warehouse in force."""
    now = clock or (lambda: dt.datetime.now(dt.timezone.utc).replace(tzinfo=None))
    started = now()
    frames, relations = _read_datasets(suites)
    batch_definition = _gx_batch_definition()
    results: list[ExpectationResult] = []
    for suite in suites:
        for dataset, expectations in _by_dataset(suite.expectations).items():
            loaded = frames[(suite.name, dataset)]
            relation = relations.get(expectations[0].table)
            if isinstance(loaded, Exception):
                results.extend(_not_run(e, relation, str(loaded)) for e in expectations)
            else:
                results.extend(
                    _validate(batch_definition, suite, dataset, loaded, expectations, relation)
                )
    order = {e.key: n for n, e in enumerate(e for s in suites for e in s.expectations)}
    results.sort(key=lambda r: order[r.key])
    return QualityRun(
        run_id=run_id,
        started_at=started,
        finished_at=now(),
        suites=[
            SuiteInfo(s.name, s.title, s.layer, s.description, s.path.name) for s in suites
        ],
        relations={name: relations.get(name) for s in suites for name in s.reads()},
        results=results,
    )


# ---------------------------------------------------------------------------- reading


def _by_dataset(expectations: Sequence[Expectation]) -> dict[str, list[Expectation]]:
    groups: dict[str, list[Expectation]] = {}
    for expectation in expectations:
        groups.setdefault(expectation.dataset, []).append(expectation)
    return groups


def _read_datasets(
    suites: Sequence[Suite],
) -> tuple[dict[tuple[str, str], pd.DataFrame | Exception], dict[str, str | None]]:
    """Every dataset the suites validate, read in one short read-only connection."""
    frames: dict[tuple[str, str], Any] = {}
    with db.connect(read_only=True) as connection:
        catalog = {
            f"{schema}.{name}": kind
            for schema, name, kind in connection.execute(
                "select table_schema, table_name, table_type from information_schema.tables"
            ).fetchall()
        }
        relations = tables.resolve(catalog)
        sources = _snapshot_views(connection, suites, relations, catalog)
        for suite in suites:
            for dataset, expectations in _by_dataset(suite.expectations).items():
                table_name = expectations[0].table
                try:
                    if dataset.startswith("query:"):
                        query = suite.queries[expectations[0].query or ""]
                        frame = _read_query(connection, query, relations, sources)
                    else:
                        frame = _read_table(connection, table_name, expectations, relations, sources)
                except Exception as error:  # noqa: BLE001 - reported as the expectations' failure
                    frames[(suite.name, dataset)] = _explain(error)
                    continue
                frames[(suite.name, dataset)] = frame.reset_index(drop=True)
    return frames, relations


def _snapshot_views(
    connection, suites: Sequence[Suite], relations: dict[str, str | None], catalog: dict[str, str]
) -> dict[str, str | None]:
    """Where to read each table: a view (staging, raw) is computed once into a temporary table.

    A staging view re-parses its raw rows each time it is read, and several datasets read the
    same view; one snapshot per run is faster, and every dataset then sees the same rows.
    Temporary tables live in memory, so this works on a read-only connection.
    """
    sources: dict[str, str | None] = dict(relations)
    for name in dict.fromkeys(t for s in suites for t in s.reads()):
        relation = relations.get(name)
        if relation is None or catalog.get(relation) != "VIEW":
            continue
        snapshot = f"quality_snapshot_{name}"
        try:
            connection.execute(f"create or replace temp table {snapshot} as select * from {relation}")
        except Exception:  # noqa: BLE001 - the datasets reading the view will report the error
            continue
        sources[name] = snapshot
    return sources


def _frame(connection, sql: str) -> pd.DataFrame:
    """A query's result as a DataFrame, through Arrow (several times faster than DuckDB's own
    conversion for text), with dates as datetimes.

    DECIMAL columns become float64: Great Expectations compares an object column value by value
    in Python, a float column in one vectorised step. Yuan amounts up to 10^13 keep their cents
    exactly as floats; the one check that needs exact sums (report_summary against the facts)
    compares in SQL, before this conversion.
    """
    import pyarrow as pa

    table = connection.sql(sql).to_arrow_table()
    for index, column in enumerate(table.schema):
        if pa.types.is_decimal(column.type):
            table = table.set_column(index, column.name, table.column(index).cast(pa.float64()))
    return table.to_pandas(date_as_object=False)


def _read_table(
    connection,
    table_name: str,
    expectations: list[Expectation],
    relations: dict[str, str | None],
    sources: dict[str, str | None],
) -> pd.DataFrame:
    relation, source = relations.get(table_name), sources.get(table_name)
    if relation is None or source is None:
        raise LookupError(
            f"the table {table_name} does not exist (looked for {', '.join(tables.table(table_name).relations)})"
        )
    # Only the columns the expectations and their messages use: a roster of 200 000 rows reads
    # in a fraction of the time. A column that is absent stays absent, so that its expectation,
    # not the whole dataset, reports it.
    wanted: set[str] = set()
    for expectation in expectations:
        columns = expectation.columns()
        if not columns:
            wanted = set()
            break
        wanted.update(columns, expectation.row_keys)
    existing = [c for (c,) in connection.execute(f"select column_name from (describe {source})").fetchall()]
    chosen = [c for c in existing if c in wanted] if wanted else existing
    return _frame(connection, f"select {', '.join(_quote(c) for c in chosen)} from {source}")


def _quote(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _read_query(
    connection, query: Query, relations: dict[str, str | None], sources: dict[str, str | None]
) -> pd.DataFrame:
    if query.columns_of:
        return _read_columns(connection, query, relations)
    # A table that does not exist is named by its logical name and candidates, not by a snapshot.
    tables.render_sql(query.sql or "", relations)
    frame = _frame(connection, tables.render_sql(query.sql or "", sources))
    for derivation in query.derive:
        frame[derivation.column] = _derived(derivation.function, [frame[c].tolist() for c in derivation.inputs])
    if query.drop:
        frame = frame.drop(columns=list(query.drop))
    return frame


def _derived(function_name: str, inputs: list[list[Any]]) -> list[Any]:
    """Apply a derive function to each row's inputs, once per distinct input."""
    import pandas as pd

    function = FUNCTIONS[function_name]
    answers: dict[tuple, Any] = {}
    out = []
    for row in zip(*inputs):
        # A missing input (None, NaN) is a cache miss at worst: every function answers None for it.
        answer = answers.get(row, _MISSING)
        if answer is _MISSING:
            answer = answers[row] = function(*row)
        out.append(answer)
    # Object dtype keeps None apart from False: a missing value is another expectation's business.
    return pd.Series(out, dtype=object) if out else pd.Series([], dtype=object)


def _read_columns(connection, query: Query, relations: dict[str, str | None]) -> pd.DataFrame:
    """One row per expected column: its expected DuckDB type and the one the table has (None if absent)."""
    import pandas as pd

    relation = relations.get(query.columns_of or "")
    if relation is None:
        raise LookupError(
            f"the table {query.columns_of} does not exist "
            f"(looked for {', '.join(tables.table(query.columns_of or '').relations)})"
        )
    schema, name = tables.split(relation)
    actual = {
        column.lower(): data_type.upper()
        for column, data_type in connection.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = ? and table_name = ?",
            [schema, name],
        ).fetchall()
    }
    rows = []
    for column, expected in query.expected_types.items():
        found = actual.get(column.lower())
        rows.append(
            {
                "column_name": column,
                "expected_type": expected,
                "actual_type": found,
                # "any type" is written as null in the suite: then only presence matters.
                "type_matches": None if found is None else (expected is None or expected == found),
            }
        )
    frame = pd.DataFrame(rows, columns=["column_name", "expected_type", "actual_type", "type_matches"])
    frame["type_matches"] = frame["type_matches"].astype(object)
    return frame


def _explain(error: Exception) -> Exception:
    message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return type(error)(message) if isinstance(error, (LookupError, ValueError)) else RuntimeError(message)


# ---------------------------------------------------------------------------- validating


def _gx_batch_definition():
    """A DataFrame batch definition in an ephemeral context: nothing written to disk or sent anywhere."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    project_config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )
    context = gx.get_context(mode="ephemeral", project_config=project_config)
    # One asset and batch definition serve every dataset: the DataFrame is a batch parameter.
    # (Each asset or suite added to a context re-serialises its whole configuration, which
    # would cost more than the validations themselves.)
    return (
        context.data_sources.add_pandas(name="parkwh")
        .add_dataframe_asset(name="dataset")
        .add_batch_definition_whole_dataframe("whole")
    )


def build_expectation(expectation: Expectation):
    """The Great Expectations 1.x object for one suite entry (raises on an unknown type or argument)."""
    import great_expectations.expectations as gxe

    cls = getattr(gxe, expectation.gx_class_name, None)
    if cls is None:
        raise ValueError(f"Great Expectations has no expectation {expectation.expect}")
    return cls(**expectation.kwargs, meta={"parkwh_key": expectation.key})


def _validate(
    batch_definition,
    suite: Suite,
    dataset: str,
    frame: pd.DataFrame,
    expectations: list[Expectation],
    relation: str | None,
) -> list[ExpectationResult]:
    import great_expectations as gx

    gx_suite = gx.ExpectationSuite(name=f"{suite.name}.{dataset}")
    results: list[ExpectationResult] = []
    runnable: list[Expectation] = []
    for expectation in expectations:
        try:
            gx_suite.add_expectation(build_expectation(expectation))
        except Exception as error:  # noqa: BLE001 - a broken entry fails closed, with its reason
            results.append(_not_run(expectation, relation, f"the suite entry is invalid: {error}"))
            continue
        runnable.append(expectation)
    if not runnable:
        return results
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    validation = batch.validate(gx_suite, result_format={"result_format": "COMPLETE"})
    by_key = {r.expectation_config.meta.get("parkwh_key"): r for r in validation.results}
    for expectation in runnable:
        outcome = by_key.get(expectation.key)
        if outcome is None:
            results.append(_not_run(expectation, relation, "Great Expectations returned no result"))
        else:
            results.append(_result(expectation, relation, frame, outcome))
    return results


def _exception_message(info: Any) -> str | None:
    """GX reports an exception either flat or per metric; find the first message."""
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "an exception")
    for value in info.values():
        found = _exception_message(value)
        if found:
            return found
    return None


def _result(
    expectation: Expectation, relation: str | None, frame: pd.DataFrame, outcome: Any
) -> ExpectationResult:
    result = dict(outcome.result or {})
    exception = _exception_message(outcome.exception_info)
    indices = [i for i in (result.get("unexpected_index_list") or []) if not isinstance(i, dict)]
    failing = frame.loc[[i for i in indices if i in frame.index]] if indices else frame.iloc[0:0]
    return ExpectationResult(
        suite=expectation.suite,
        expectation_id=expectation.id,
        table=expectation.table,
        relation=relation,
        dataset=expectation.dataset,
        expectation_type=expectation.expect,
        kwargs=plain(expectation.kwargs),
        severity=expectation.severity,
        description=expectation.description,
        fix=expectation.fix,
        success=bool(outcome.success) and exception is None,
        element_count=_int(result.get("element_count")),
        unexpected_count=_int(result.get("unexpected_count")),
        unexpected_percent=_float(result.get("unexpected_percent")),
        observed_value=plain(result.get("observed_value")),
        base_codes=_distinct(failing, "base_code"),
        reporting_years=[int(y) for y in _distinct(failing, "reporting_year")],
        sample_rows=_samples(expectation, failing),
        exception=exception,
    )


def _not_run(expectation: Expectation, relation: str | None, reason: str) -> ExpectationResult:
    """An expectation that could not be evaluated fails (at its own severity): a gate fails closed."""
    return ExpectationResult(
        suite=expectation.suite,
        expectation_id=expectation.id,
        table=expectation.table,
        relation=relation,
        dataset=expectation.dataset,
        expectation_type=expectation.expect,
        kwargs=plain(expectation.kwargs),
        severity=expectation.severity,
        description=expectation.description,
        fix=expectation.fix,
        success=False,
        exception=reason,
    )


def _distinct(frame: pd.DataFrame, column: str) -> list:
    if column not in frame.columns or frame.empty:
        return []
    return sorted({plain(v) for v in frame[column].tolist()} - {None})


def _samples(expectation: Expectation, failing: pd.DataFrame) -> list[dict[str, Any]]:
    if failing.empty:
        return []
    if expectation.query and len(failing.columns) <= SHOW_ALL_COLUMNS_UP_TO:
        columns = list(failing.columns)
    else:
        wanted = list(expectation.row_keys) + expectation.columns()
        columns = [c for c in dict.fromkeys(wanted) if c in failing.columns]
    return [plain(row) for row in failing[columns].head(SAMPLE_ROWS).to_dict(orient="records")]


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _float(value: Any) -> float | None:
    return None if value is None else round(float(value), 4)
