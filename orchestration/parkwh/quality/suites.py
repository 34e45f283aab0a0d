"""Reads the data-quality suites: one YAML file per suite in ``expectations/``.

A suite is data, versioned with the project: every expectation names the table it applies to,
its severity (``error`` stops publication, ``warning`` is shown and recorded), a description,
what a base or analyst should do when it fails, and a Great Expectations 1.x expectation type
with its arguments. Where Great Expectations has no expectation for a rule (a check digit, a
figure that must not shrink from one year to the next), the suite defines a *query*: SQL over
the warehouse, optionally with columns computed in Python, whose result an ordinary
expectation then validates. ``expectations/README.md`` documents the format.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from parkwh import config
from parkwh.quality import tables
from parkwh.quality.derive import FUNCTIONS

SEVERITIES = ("error", "warning")
LAYER_ORDER = ("staging", "marts", "published")
"""Suites run and are reported in pipeline order."""

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_SUITE_KEYS = {"suite", "title", "layer", "description", "row_keys", "queries", "expectations"}
_QUERY_KEYS = {"description", "sql", "columns_of", "expected_types", "derive", "drop"}
_EXPECTATION_KEYS = {
    "id", "table", "query", "severity", "description", "fix", "expect", "kwargs", "row_keys",
}


class SuiteError(ValueError):
    """A suite file that cannot be used: names the file, the entry and what is wrong."""


@dataclass(frozen=True)
class Derivation:
    """A column computed in Python from other columns of each row (e.g. a check digit's validity)."""

    column: str
    function: str
    inputs: tuple[str, ...]


@dataclass(frozen=True)
class Query:
    """A dataset built for a suite: SQL over logical tables, or the columns of a table."""

    name: str
    description: str = ""
    sql: str | None = None
    columns_of: str | None = None
    expected_types: dict[str, str | None] = field(default_factory=dict)
    derive: tuple[Derivation, ...] = ()
    drop: tuple[str, ...] = ()

    def tables(self) -> list[str]:
        if self.columns_of:
            return [self.columns_of]
        return tables.referenced_tables(self.sql or "")


@dataclass(frozen=True)
class Expectation:
    """One expectation of a suite, with what the gate and the report need to know about it."""

    suite: str
    id: str
    table: str
    severity: str
    description: str
    fix: str
    expect: str
    kwargs: dict[str, Any]
    query: str | None = None
    row_keys: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """Unique across suites: ``<suite>.<id>``."""
        return f"{self.suite}.{self.id}"

    @property
    def dataset(self) -> str:
        """The data it is validated on: a query of its suite, or its whole table."""
        return f"query:{self.query}" if self.query else f"table:{self.table}"

    @property
    def gx_class_name(self) -> str:
        """The Great Expectations class: ``expect_column_values_to_be_unique`` → ``ExpectColumnValuesToBeUnique``."""
        return "".join(part.capitalize() for part in self.expect.split("_"))

    def columns(self) -> list[str]:
        """The columns the expectation reads (shown beside a failing row's keys)."""
        out: list[str] = []
        for key in ("column", "column_A", "column_B"):
            value = self.kwargs.get(key)
            if isinstance(value, str):
                out.append(value)
        for key in ("column_list",):
            value = self.kwargs.get(key)
            if isinstance(value, list):
                out.extend(str(v) for v in value)
        return out


@dataclass(frozen=True)
class Suite:
    name: str
    title: str
    layer: str
    description: str
    path: Path
    queries: dict[str, Query]
    expectations: tuple[Expectation, ...]

    def tables(self) -> list[str]:
        """The tables its expectations apply to, in the order they first appear."""
        seen: list[str] = []
        for expectation in self.expectations:
            if expectation.table not in seen:
                seen.append(expectation.table)
        return seen

    def reads(self) -> list[str]:
        """Every table its datasets read (applied-to tables and those its queries join)."""
        seen = list(self.tables())
        for query in self.queries.values():
            for name in query.tables():
                if name not in seen:
                    seen.append(name)
        return seen


def load_suites(folder: Path | None = None) -> list[Suite]:
    """Every suite in ``expectations/`` (``*.yml``), in pipeline order."""
    folder = folder or config.expectations_dir()
    paths = sorted(folder.glob("*.yml"))
    if not paths:
        raise SuiteError(f"{folder}: no suite files (*.yml) found")
    suites = [load_suite(path) for path in paths]
    names = [s.name for s in suites]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SuiteError(f"{folder}: suite names used twice: {', '.join(duplicates)}")
    return sorted(suites, key=lambda s: (LAYER_ORDER.index(s.layer), s.name))


def load_suite(path: Path) -> Suite:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise SuiteError(f"{path.name}: not valid YAML: {error}") from None
    if not isinstance(document, dict):
        raise SuiteError(f"{path.name}: expected a mapping with suite, layer and expectations")
    where = path.name
    _no_unknown_keys(where, document, _SUITE_KEYS)
    name = _name(where, "suite", document.get("suite"))
    layer = document.get("layer")
    if layer not in LAYER_ORDER:
        raise SuiteError(f"{where}: layer must be one of {', '.join(LAYER_ORDER)}, not {layer!r}")
    default_keys = tuple(document.get("row_keys") or ())
    queries = {
        query_name: _query(f"{where}: query {query_name}", query_name, body)
        for query_name, body in (document.get("queries") or {}).items()
    }
    entries = document.get("expectations") or []
    if not isinstance(entries, list) or not entries:
        raise SuiteError(f"{where}: expected a list of expectations")
    expectations = []
    seen: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        expectation = _expectation(f"{where}: expectation {number}", name, entry, queries, default_keys)
        if expectation.id in seen:
            raise SuiteError(f"{where}: expectation id {expectation.id!r} used twice")
        seen.add(expectation.id)
        expectations.append(expectation)
    return Suite(
        name=name,
        title=str(document.get("title") or name),
        layer=layer,
        description=" ".join(str(document.get("description") or "").split()),
        path=path,
        queries=queries,
        expectations=tuple(expectations),
    )


def _no_unknown_keys(where: str, mapping: dict, allowed: set[str]) -> None:
    unknown = sorted(set(mapping) - allowed)
    if unknown:
        raise SuiteError(f"{where}: unknown keys {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")


def _name(where: str, key: str, value: Any) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise SuiteError(f"{where}: {key} must be a lower-case name (letters, digits, _), not {value!r}")
    return value


def _text(where: str, key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SuiteError(f"{where}: {key} is required (a sentence)")
    return " ".join(value.split())


def _query(where: str, name: str, body: Any) -> Query:
    _name(where, "query name", name)
    if not isinstance(body, dict):
        raise SuiteError(f"{where}: expected a mapping with sql or columns_of")
    _no_unknown_keys(where, body, _QUERY_KEYS)
    sql, columns_of = body.get("sql"), body.get("columns_of")
    if (sql is None) == (columns_of is None):
        raise SuiteError(f"{where}: give exactly one of sql and columns_of")
    if columns_of is not None:
        tables.table(columns_of)
        expected = body.get("expected_types")
        if not isinstance(expected, dict) or not expected:
            raise SuiteError(f"{where}: columns_of needs expected_types (column: TYPE, or null for any type)")
        expected_types = {str(k): (None if v is None else str(v).upper()) for k, v in expected.items()}
    else:
        try:
            tables.referenced_tables(sql)
        except KeyError as error:
            raise SuiteError(f"{where}: {error.args[0]}") from None
        expected_types = {}
    derivations = []
    for column, spec in (body.get("derive") or {}).items():
        if not isinstance(spec, dict) or spec.get("function") not in FUNCTIONS:
            raise SuiteError(
                f"{where}: derive {column}: expected a function among {', '.join(sorted(FUNCTIONS))}"
            )
        inputs = spec.get("columns") or []
        if not isinstance(inputs, list) or not inputs:
            raise SuiteError(f"{where}: derive {column}: expected the input columns as a list")
        derivations.append(Derivation(str(column), spec["function"], tuple(map(str, inputs))))
    return Query(
        name=name,
        description=" ".join(str(body.get("description") or "").split()),
        sql=sql,
        columns_of=columns_of,
        expected_types=expected_types,
        derive=tuple(derivations),
        drop=tuple(map(str, body.get("drop") or ())),
    )


def _expectation(
    where: str, suite: str, entry: Any, queries: dict[str, Query], default_keys: tuple[str, ...]
) -> Expectation:
    if not isinstance(entry, dict):
        raise SuiteError(f"{where}: expected a mapping")
    _no_unknown_keys(where, entry, _EXPECTATION_KEYS)
    identifier = _name(where, "id", entry.get("id"))
    where = f"{where} ({identifier})"
    table_name = entry.get("table")
    try:
        tables.table(str(table_name))
    except KeyError as error:
        raise SuiteError(f"{where}: {error.args[0]}") from None
    severity = entry.get("severity")
    if severity not in SEVERITIES:
        raise SuiteError(f"{where}: severity must be error or warning, not {severity!r}")
    query = entry.get("query")
    if query is not None and query not in queries:
        raise SuiteError(f"{where}: query {query!r} is not defined in the suite's queries")
    expect = entry.get("expect")
    if not isinstance(expect, str) or not expect.startswith("expect_"):
        raise SuiteError(f"{where}: expect must name a Great Expectations expectation (expect_…)")
    kwargs = entry.get("kwargs") or {}
    if not isinstance(kwargs, dict):
        raise SuiteError(f"{where}: kwargs must be a mapping")
    return Expectation(
        suite=suite,
        id=identifier,
        table=str(table_name),
        severity=severity,
        description=_text(where, "description", entry.get("description")),
        fix=_text(where, "fix", entry.get("fix")),
        expect=expect,
        kwargs={key: _value(where, value) for key, value in kwargs.items()},
        query=query,
        row_keys=tuple(entry.get("row_keys") or default_keys),
    )


def _value(where: str, value: Any) -> Any:
    """Resolve the shorthands a suite may use in kwargs.

    ``{enum: company_status}`` is the list of that enumeration's codes (from the submission
    format's seeds, so a suite never repeats them); a YAML date becomes a datetime, which is how
    a DuckDB DATE arrives in a DataFrame.
    """
    if isinstance(value, dict) and set(value) == {"enum"}:
        from parkwh.submission import spec

        enums = spec.enums()
        if value["enum"] not in enums:
            raise SuiteError(f"{where}: unknown enumeration {value['enum']!r}")
        return [v.code for v in enums[value["enum"]]]
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, list):
        return [_value(where, v) for v in value]
    return value
