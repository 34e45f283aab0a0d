"""Runs the suites: reads each dataset from DuckDB (read-only), validates it with Great Expectations 1.x.

Why DataFrames, not Great Expectations' SQL data source: GX 1.24 reads a DuckDB table through
SQLAlchemy with a SQL engine that closes its connection before it fetches the rows, so a
validation sees no rows unless a private name of GX is patched (GX issues #11579, #10738).
Reading each dataset into a pandas DataFrame with DuckDB and validating that in GX's pandas
engine needs no change to how GX validates, and no network.

What keeps it fast and small at a national scale (millions of roster rows):

- One dataset at a time: read, validate, release. Only one dataset's rows are in memory.
- Narrow first. Every expectation here looks at its own columns only, so GX validates every row
  of a frame holding just the columns the dataset's expectations name (a check digit's inputs
  and not the rest of the roster). GX copies the frame it validates several times per
  expectation; a narrow frame makes those copies cheap.
- The rows of a failure are read only when there is one. When an expectation finds unexpected
  rows, the dataset is read again whole (its keys and every column its samples show) and GX
  validates those expectations again on it; the failing rows, the bases and the years come from
  that validation, exactly as if the whole dataset had been read at once.
- Integer columns arrive as int64: GX compares an int64 column in one vectorised step and an
  int32 column value by value in Python.

Great Expectations takes seconds to import: it is imported here, inside the functions that
use it, never when Dagster loads the definitions; and before the warehouse is opened, so the
read lock is held for the reads and validations only.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from parkwh import db
from parkwh.quality import tables
from parkwh.quality.derive import FUNCTIONS
from parkwh.quality.results import ExpectationResult, QualityRun, SuiteInfo, plain
from parkwh.quality.suites import Derivation, Expectation, Query, Suite

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

SAMPLE_ROWS = 10
"""Failing rows kept per expectation for the check metadata, the report and the audit table."""
SHOW_ALL_COLUMNS_UP_TO = 12
"""A query's rows are built to explain a failure: show them whole when they are this narrow."""

_COUNTS = {"result_format": "SUMMARY"}
"""The first, narrow validation: success and counts, not every unexpected value."""
_ROWS = {"result_format": "COMPLETE", "return_unexpected_index_query": False}
"""The validation on the whole dataset: every unexpected row's index (samples, bases, years)."""
DUCKDB_MEMORY_LIMIT = "256MB"
"""DuckDB's share of the gate's memory: its cache of the warehouse's blocks and its joins (which
spill to disk beyond it). DuckDB's default (most of the machine's memory) keeps every block the
run has read. A query that needs more than this runs with the default (see ``_frame``)."""


def run_suites(
    suites: Sequence[Suite],
    *,
    run_id: str,
    clock: Callable[[], dt.datetime] | None = None,
    narrow: bool = True,
) -> QualityRun:
    """Validate every expectation of ``suites`` on the warehouse in force.

    ``narrow=False`` reads every dataset whole and validates it once: slower and larger, the
    same results; the reference the narrow reads are tested against.
    """
    now = clock or (lambda: dt.datetime.now(dt.timezone.utc).replace(tzinfo=None))
    started = now()
    batch_definition = _gx_batch_definition()
    results: list[ExpectationResult] = []
    with _lean(), db.connect(read_only=True) as connection:
        connection.execute(f"set memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
        connection.execute("set enable_progress_bar = false")
        catalog = [
            f"{schema}.{name}"
            for schema, name in connection.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        ]
        relations = tables.resolve(catalog)
        for suite in suites:
            for dataset, expectations in _by_dataset(suite.expectations).items():
                reader = _Reader(connection, suite, dataset, expectations, relations)
                results.extend(_check_dataset(batch_definition, reader, narrow=narrow))
    order = {e.key: n for n, e in enumerate(e for s in suites for e in s.expectations)}
    results.sort(key=lambda r: order[r.key])
    return QualityRun(
        run_id=run_id,
        started_at=started,
        finished_at=now(),
        suites=[SuiteInfo(s.name, s.title, s.layer, s.description, s.path.name) for s in suites],
        relations={name: relations.get(name) for s in suites for name in s.reads()},
        results=results,
    )


@contextmanager
def _lean() -> Iterator[None]:
    """Settings of the libraries for the length of a run, put back afterwards.

    - Great Expectations fingerprints every DataFrame it loads (a hash of every value, kept in
      the batch's markers and used for nothing here): seconds and hundreds of MB for a column of
      millions of IDs. Its size threshold for that is set to 0 so it never does.
    - Arrow allocates from the system allocator, the one pandas and numpy use, so that the memory
      one dataset frees serves the next one instead of staying with a second allocator.
    """
    import pyarrow as pa
    from great_expectations.execution_engine import pandas_execution_engine

    pool = pa.default_memory_pool()
    threshold = getattr(pandas_execution_engine, "HASH_THRESHOLD", None)
    pa.set_memory_pool(pa.system_memory_pool())
    if threshold is not None:
        pandas_execution_engine.HASH_THRESHOLD = 0
    try:
        yield
    finally:
        pa.set_memory_pool(pool)
        if threshold is not None:
            pandas_execution_engine.HASH_THRESHOLD = threshold


def _by_dataset(expectations: Sequence[Expectation]) -> dict[str, list[Expectation]]:
    groups: dict[str, list[Expectation]] = {}
    for expectation in expectations:
        groups.setdefault(expectation.dataset, []).append(expectation)
    return groups


def _check_dataset(
    batch_definition, reader: _Reader, *, narrow: bool = True
) -> list[ExpectationResult]:
    """Every expectation of one dataset: narrow validation first, the whole dataset for failures."""
    expectations, relation = reader.expectations, reader.relation

    def not_run(error: Exception) -> list[ExpectationResult]:
        reason = str(_explain(error))
        return [_not_run(e, relation, reason) for e in expectations]

    # A table-level expectation (a row count, a column set) sees every column; a query of a
    # table's columns is a few rows: both are read whole at once.
    narrow = (
        narrow
        and all(e.columns() for e in expectations)
        and not (reader.query and reader.query.columns_of)
    )
    try:
        whole = None if narrow else reader.whole()
        if narrow:
            reader.open()  # a missing table or a broken query fails here, as reading it whole would
    except Exception as error:  # noqa: BLE001 - reported as the expectations' failure
        return not_run(error)
    results: list[ExpectationResult] = []
    runnable: list[Expectation] = []
    for expectation in expectations:
        try:
            build_expectation(expectation)
        except Exception as error:  # noqa: BLE001 - a broken entry fails closed, with its reason
            results.append(_not_run(expectation, relation, f"the suite entry is invalid: {error}"))
            continue
        runnable.append(expectation)
    if not runnable:
        return results
    if whole is not None:
        outcomes = _validate(batch_definition, reader.label, whole, runnable, _ROWS)
    else:
        outcomes = {}
        try:
            for frame, group in reader.groups(runnable):
                outcomes.update(_validate(batch_definition, reader.label, frame, group, _COUNTS))
                del frame
        except Exception as error:  # noqa: BLE001 - reported as the expectations' failure
            return not_run(error)
        failing = [e for e in runnable if _has_unexpected_rows(outcomes.get(e.key))]
        if failing:
            try:
                whole = reader.whole()
            except Exception as error:  # noqa: BLE001 - read narrow already: unlikely, fails closed
                return not_run(error)
            outcomes.update(_validate(batch_definition, reader.label, whole, failing, _ROWS))
    for expectation in runnable:
        outcome = outcomes.get(expectation.key)
        if outcome is None:
            results.append(_not_run(expectation, relation, "Great Expectations returned no result"))
        else:
            results.append(_result(expectation, relation, whole, outcome))
    return results


def _has_unexpected_rows(outcome: Any) -> bool:
    return outcome is not None and bool((outcome.result or {}).get("unexpected_count"))


# ---------------------------------------------------------------------------- reading


class _Reader:
    """One dataset of a suite (a table, or a query of the suite), read narrow or whole."""

    def __init__(
        self,
        connection: duckdb.DuckDBPyConnection,
        suite: Suite,
        dataset: str,
        expectations: list[Expectation],
        relations: dict[str, str | None],
    ) -> None:
        self.connection = connection
        self.expectations = expectations
        self.relations = relations
        self.table_name = expectations[0].table
        self.relation = relations.get(self.table_name)
        self.query = (
            suite.queries[expectations[0].query or ""] if dataset.startswith("query:") else None
        )
        self.label = f"{suite.name}.{dataset}"
        self._source: str | None = None
        self._columns: list[str] = []

    def whole(self) -> pd.DataFrame:
        """Every row, with every column a failing row's sample may show."""
        if self.query is None:
            frame = _read_table(self.connection, self.table_name, self.expectations, self.relations)
        elif self.query.columns_of:
            frame = _read_columns(self.connection, self.query, self.relations)
        else:
            frame = _read_query(self.connection, self.query, self.relations)
        return frame.reset_index(drop=True)

    def open(self) -> None:
        """Find the dataset and its columns, reading no row."""
        if self.query is None:
            self._source, self._columns = _table_source(
                self.connection, self.table_name, self.relations
            )
            return
        sql = tables.render_sql(self.query.sql or "", self.relations)
        self._columns = self.connection.sql(
            sql
        ).columns  # binds the query (a broken one fails here)
        self._source = f"({sql}) as dataset"
        # The whole read's column errors (a derive input or a dropped column the query lacks) are
        # the narrow read's too: the derivations and the drop run on no rows first.
        import pandas as pd

        probe = pd.DataFrame({c: [] for c in self._columns})
        _derive(probe, self.query.derive)
        if self.query.drop:
            probe.drop(columns=list(self.query.drop))

    def groups(
        self, expectations: list[Expectation]
    ) -> Iterator[tuple[pd.DataFrame, list[Expectation]]]:
        """Every row of the columns each group of expectations looks at, one group at a time.

        A table is read once per group, so only one group's columns are in memory; a query is
        computed once, with the columns of all its groups (few, and it may join large tables).
        """
        groups: dict[tuple[str, ...], list[Expectation]] = {}
        for expectation in expectations:
            groups.setdefault(tuple(sorted(set(expectation.columns()))), []).append(expectation)
        assert self._source is not None, "open() first"
        if self.query is None:
            for columns, group in groups.items():
                yield (
                    _select(
                        self.connection, self._source, [c for c in self._columns if c in columns]
                    ),
                    group,
                )
            return
        union = list(dict.fromkeys(c for columns in groups for c in columns))
        needed, derivations = _needed(self.query.derive, union)
        frame = _select(self.connection, self._source, [c for c in self._columns if c in needed])
        _derive(frame, derivations)
        for columns, group in groups.items():
            yield frame[[c for c in columns if c in frame.columns]], group


def _frame(connection, sql: str) -> pd.DataFrame:
    """A query's result as a DataFrame, through Arrow (several times faster than DuckDB's own
    conversion for text), with dates as datetimes.

    DECIMAL columns become float64: Great Expectations compares an object column value by value
    in Python, a float column in one vectorised step. Yuan amounts up to 10^13 keep their cents
    exactly as floats; the one check that needs exact sums (report_summary against the facts)
    compares in SQL, before this conversion. Narrower integers become int64 and narrower floats
    float64 for the same reason (an exact widening).
    """
    import duckdb
    import pyarrow as pa

    try:
        table = connection.sql(sql).to_arrow_table()
    except duckdb.OutOfMemoryException:
        # More than the gate's share for DuckDB (a warehouse larger than those measured): DuckDB's
        # own default then, for this query and the rest of the run.
        connection.execute("reset memory_limit")
        table = connection.sql(sql).to_arrow_table()
    for index, column in enumerate(table.schema):
        kind = column.type
        if pa.types.is_decimal(kind) or (pa.types.is_floating(kind) and kind.bit_width < 64):
            table = table.set_column(index, column.name, table.column(index).cast(pa.float64()))
        elif pa.types.is_integer(kind) and kind.bit_width < 64:
            table = table.set_column(index, column.name, table.column(index).cast(pa.int64()))
    return table.to_pandas(date_as_object=False)


def _select(connection, source: str, columns: list[str]) -> pd.DataFrame:
    """``columns`` of every row of ``source``; with no column, as many rows and no column."""
    if columns:
        return _frame(connection, f"select {', '.join(_quote(c) for c in columns)} from {source}")
    return _frame(connection, f"select true as present from {source}").iloc[:, :0]


def _quote(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _table_source(
    connection, table_name: str, relations: dict[str, str | None]
) -> tuple[str, list[str]]:
    """The relation holding a table, and its columns."""
    relation = relations.get(table_name)
    if relation is None:
        raise LookupError(
            f"the table {table_name} does not exist (looked for {', '.join(tables.table(table_name).relations)})"
        )
    existing = [
        c
        for (c,) in connection.execute(f"select column_name from (describe {relation})").fetchall()
    ]
    return relation, existing


def _read_table(
    connection, table_name: str, expectations: list[Expectation], relations: dict[str, str | None]
) -> pd.DataFrame:
    """The columns the expectations and their messages use (their columns and row keys).

    A column that is absent stays absent, so that its expectation, not the whole dataset,
    reports it.
    """
    source, existing = _table_source(connection, table_name, relations)
    wanted: set[str] = set()
    for expectation in expectations:
        columns = expectation.columns()
        if not columns:
            wanted = set()
            break
        wanted.update(columns, expectation.row_keys)
    chosen = [c for c in existing if c in wanted] if wanted else existing
    return _select(connection, source, chosen)


def _read_query(connection, query: Query, relations: dict[str, str | None]) -> pd.DataFrame:
    """A query's rows, with its derived columns."""
    frame = _frame(connection, tables.render_sql(query.sql or "", relations))
    _derive(frame, query.derive)
    return frame.drop(columns=list(query.drop)) if query.drop else frame


def _needed(
    derivations: Sequence[Derivation], columns: list[str]
) -> tuple[set[str], list[Derivation]]:
    """The query columns to read and the derivations to run for ``columns``.

    A derivation may read an earlier one's column, or replace a column of the query.
    """
    needed = set(columns)
    chosen: list[Derivation] = []
    for derivation in reversed(derivations):
        if derivation.column in needed:
            chosen.append(derivation)
            needed.discard(derivation.column)
            needed.update(derivation.inputs)
    return needed, chosen[::-1]


def _derive(frame: pd.DataFrame, derivations: Sequence[Derivation]) -> None:
    for derivation in derivations:
        frame[derivation.column] = _derived(
            derivation.function, [frame[c] for c in derivation.inputs], frame.index
        )


def _derived(function_name: str, inputs: list[pd.Series], index: pd.Index) -> pd.Series:
    """Apply a derive function to each row's inputs, once per distinct input (an ID number or a
    credit code recurs in every year's roster)."""
    import numpy as np
    import pandas as pd

    function = FUNCTIONS[function_name]
    rows = len(index)
    if rows == 0:
        return pd.Series([], index=index, dtype=object)
    # Number the distinct inputs: each column's values, then the combinations; a missing value
    # is a value of its own (every function answers None for it).
    combined = np.zeros(rows, dtype=np.int64)
    for series in inputs:
        codes, uniques = pd.factorize(series, use_na_sentinel=False)
        combined, _ = pd.factorize(combined * (len(uniques) + 1) + codes)
    # factorize numbers values in order of first appearance: the first row of each number.
    _, first = np.unique(combined, return_index=True)
    arguments = [series.iloc[first].tolist() for series in inputs]
    answers = np.empty(len(first), dtype=object)
    answers[:] = [function(*row) for row in zip(*arguments)]
    # Object dtype keeps None apart from False: a missing value is another expectation's business.
    return pd.Series(answers[combined], index=index, dtype=object)


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
    frame = pd.DataFrame(
        rows, columns=["column_name", "expected_type", "actual_type", "type_matches"]
    )
    frame["type_matches"] = frame["type_matches"].astype(object)
    return frame


def _explain(error: Exception) -> Exception:
    message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return (
        type(error)(message)
        if isinstance(error, (LookupError, ValueError))
        else RuntimeError(message)
    )


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
    label: str,
    frame: pd.DataFrame,
    expectations: list[Expectation],
    result_format: dict[str, Any],
) -> dict[str, Any]:
    """GX's result for each expectation (by key), validated on ``frame``."""
    import great_expectations as gx
    from great_expectations.validator.v1_validator import Validator

    gx_suite = gx.ExpectationSuite(name=label)
    for expectation in expectations:
        gx_suite.add_expectation(build_expectation(expectation))
    # What ``batch.validate`` and a validation definition's ``run`` do, less a second load of the
    # batch: each load fingerprints the whole DataFrame (seconds for a column of millions of IDs).
    validator = Validator(
        batch_definition=batch_definition,
        batch_parameters={"dataframe": frame},
        result_format=result_format,
    )
    validation = validator.validate_expectation_suite(gx_suite)
    return {r.expectation_config.meta.get("parkwh_key"): r for r in validation.results}


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
    expectation: Expectation, relation: str | None, frame: pd.DataFrame | None, outcome: Any
) -> ExpectationResult:
    """One expectation's result.

    ``frame`` is the whole dataset GX validated it on; None when it was validated narrow and
    found no row to show.
    """
    result = dict(outcome.result or {})
    exception = _exception_message(outcome.exception_info)
    indices = [i for i in (result.get("unexpected_index_list") or []) if not isinstance(i, dict)]
    failing = None
    if frame is not None:
        failing = (
            frame.loc[[i for i in indices if i in frame.index]] if indices else frame.iloc[0:0]
        )
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


def _distinct(frame: pd.DataFrame | None, column: str) -> list:
    if frame is None or column not in frame.columns or frame.empty:
        return []
    return sorted({plain(v) for v in frame[column].tolist()} - {None})


def _samples(expectation: Expectation, failing: pd.DataFrame | None) -> list[dict[str, Any]]:
    if failing is None or failing.empty:
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
