"""What parkwh publishes: the tables, their columns with the types readers get, and their descriptions.

The published tables are every table and view of the ``published`` schema: the ones dbt builds
(``park_ranking``, ``park_scores``, ``report_summary``…) and the publication history parkwh keeps
(``park_ranking_history``, ``park_ranking_changes``, ``publications``). Their descriptions come
from the dbt model files (one ``<model>.yml`` per model) and, for the history, from this module.

Types follow the house rules for files other tools read (money in yuan as DECIMAL(18,2), counts as
integers, dates as dates) and avoid what those tools read badly: DuckDB's ``sum()`` of integers is
a HUGEINT, which Parquet stores as a DOUBLE; an INTERVAL makes Polars fail; a TIMESTAMPTZ is
stored as UTC anyway, so it is published as the UTC TIMESTAMP it is.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import duckdb
import yaml

from parkwh import config

PUBLISHED_SCHEMA = "published"
PARTITION_COLUMN = "reporting_year"
PARTITION_TYPE = "INTEGER"
MONEY_SUFFIX = "_yuan"
MONEY_TYPE = "DECIMAL(18,2)"

# The publication history parkwh keeps beside the dbt tables (views over the audit schema).
HISTORY_DOCS: dict[str, tuple[str, dict[str, str]]] = {
    "publications": (
        (
            "Every publication of a reporting year: its version, when it was made, the method "
            "version, and a digest of the submissions in force. A year is republished (a new "
            "version) when its submissions, its method or its published figures changed."
        ),
        {
            "publication_id": "The publication: <reporting year>-v<version>",
            "reporting_year": "The year the figures describe",
            "version": "1 for the year's first publication, one more for each republication",
            "published_at": "When the publication was made (UTC)",
            "method_version": "The ranking method's version the scores were computed with",
            "submissions_sha256": (
                "sha256 of the list of submissions in force (base, submission, sha256 of the "
                "submitted file) and of the expert score file: the same inputs give the same digest"
            ),
            "bases_submitted": "Bases with a submission in force",
            "bases_ranked": "Bases ranked (the others lack too many indicators)",
            "changes": "Bases whose rank or score differs from the previous version",
            "previous_publication_id": "The version this one replaces; NULL for a first publication",
            "reason": (
                "Why a new version was made: first publication, submissions corrected, method "
                "changed, published figures changed"
            ),
            "is_current": "Whether this is the year's version in force",
        },
    ),
    "park_ranking_history": (
        (
            "The ranking of every publication of every year, as it was published: the current "
            "version and every earlier one, so a ranking that was corrected stays queryable."
        ),
        {
            "publication_id": "The publication the row belongs to: <reporting year>-v<version>",
            "version": "The publication's version within its reporting year",
            "published_at": "When that version was published (UTC)",
            "is_current": "Whether the row belongs to the year's version in force",
        },
    ),
    "park_ranking_changes": (
        (
            "The changelog of republications: one row per base whose rank, score or ranked "
            "status differs from the year's previous version."
        ),
        {
            "publication_id": "The new publication",
            "reporting_year": "The year the figures describe",
            "version": "The new version",
            "previous_publication_id": "The version it replaces",
            "base_code": "The base",
            "base_name_zh": "Official Chinese name of the base",
            "base_name_en": "English name of the base",
            "previous_rank": "Rank in the previous version (NULL: not ranked or absent)",
            "rank": "Rank in the new version (NULL: not ranked or absent)",
            "rank_moved": "previous_rank - rank: positive when the base moved up",
            "previous_score": "Published score in the previous version",
            "score": "Published score in the new version",
            "score_moved": "score - previous_score",
            "previous_ranked": "Whether the base was ranked in the previous version",
            "ranked": "Whether the base is ranked in the new version",
            "change": "rank and score, rank, score, newly ranked, no longer ranked, added, removed",
        },
    ),
}


@dataclass(frozen=True)
class Column:
    """A published column: its name, the type readers get, the SQL that gives it, what it means."""

    name: str
    source_type: str
    type: str
    expression: str
    description: str


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    description: str
    columns: tuple[Column, ...]

    @property
    def relation(self) -> str:
        return f"{quote(self.schema)}.{quote(self.name)}"

    @property
    def partitioned(self) -> bool:
        return any(c.name == PARTITION_COLUMN for c in self.columns)

    def select_list(self, *, without: tuple[str, ...] = ()) -> str:
        return ", ".join(
            f"{c.expression} as {quote(c.name)}" for c in self.columns if c.name not in without
        )


class PublishTypeError(ValueError):
    """A column no reader could take as it is; the model that builds it must convert it."""


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def published_type(name: str, source_type: str) -> tuple[str, str]:
    """The type a column is published as, and the SQL expression that gives it."""
    column = quote(name)
    upper = source_type.upper()
    if name.endswith(MONEY_SUFFIX):
        return MONEY_TYPE, (column if upper == MONEY_TYPE else f"cast({column} as {MONEY_TYPE})")
    if upper in ("HUGEINT", "UHUGEINT"):
        return "BIGINT", f"cast({column} as bigint)"
    if upper == "INTERVAL":
        raise PublishTypeError(
            f"column {name} is an INTERVAL, which Polars and most BI tools cannot read: "
            "publish a number of days or seconds instead"
        )
    if upper in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"):
        return "TIMESTAMP", f"timezone('UTC', {column})"
    if upper in ("TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S"):
        return "TIMESTAMP", f"cast({column} as timestamp)"
    if upper in ("UUID", "JSON") or upper.startswith("ENUM"):
        return "VARCHAR", f"cast({column} as varchar)"
    return source_type, column


# libyaml's loader reads the model files ten times faster than the pure-Python one, to the same values.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.cache
def _dbt_docs(
    models_dir: Path, stamp: tuple[tuple[str, float], ...]
) -> dict[str, tuple[str, dict[str, str]]]:
    del stamp  # part of the cache key only: a changed file is read again
    docs: dict[str, tuple[str, dict[str, str]]] = {}
    for path in sorted(models_dir.rglob("*.yml")):
        try:
            document = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER) or {}
        except yaml.YAMLError:
            continue  # dbt itself reports a broken file; a missing description is no reason to fail
        for model in document.get("models") or ():
            if not isinstance(model, dict) or "name" not in model:
                continue
            columns = {
                str(c["name"]): " ".join(str(c.get("description") or "").split())
                for c in model.get("columns") or ()
                if isinstance(c, dict) and "name" in c
            }
            docs[str(model["name"])] = (
                " ".join(str(model.get("description") or "").split()),
                columns,
            )
    return docs


def dbt_docs() -> dict[str, tuple[str, dict[str, str]]]:
    """Each dbt model's description and column descriptions, by model name (unique in dbt)."""
    models_dir = config.dbt_project_dir() / "models"
    stamp = (
        tuple((str(p), p.stat().st_mtime) for p in sorted(models_dir.rglob("*.yml")))
        if models_dir.exists()
        else ()
    )
    return _dbt_docs(models_dir, stamp)


def describe(name: str) -> tuple[str, dict[str, str]]:
    """A table's description and its columns' descriptions (empty when none is written)."""
    if name in HISTORY_DOCS:
        table_doc, column_docs = HISTORY_DOCS[name]
        if name == "park_ranking_history":
            ranking_doc = dbt_docs().get("park_ranking", ("", {}))[1]
            column_docs = {**ranking_doc, **column_docs}
        return table_doc, column_docs
    return dbt_docs().get(name, ("", {}))


def relations(con: duckdb.DuckDBPyConnection, catalog: str, schema: str) -> list[str]:
    """The tables and views of a schema, by name."""
    rows = con.execute(
        "select table_name from duckdb_tables() where database_name = ? and schema_name = ?"
        " union select view_name from duckdb_views() where database_name = ? and schema_name = ?"
        " and not internal order by 1",
        [catalog, schema, catalog, schema],
    ).fetchall()
    return [r[0] for r in rows]


def table(con: duckdb.DuckDBPyConnection, catalog: str, schema: str, name: str) -> Table:
    """A relation as it is published: columns with published types and descriptions."""
    rows = con.execute(
        "select column_name, data_type from duckdb_columns()"
        " where database_name = ? and schema_name = ? and table_name = ? order by column_index",
        [catalog, schema, name],
    ).fetchall()
    if not rows:
        raise LookupError(f"{schema}.{name} does not exist in the warehouse")
    table_doc, column_docs = describe(name)
    columns = []
    for column_name, source_type in rows:
        try:
            out_type, expression = published_type(column_name, source_type)
        except PublishTypeError as error:
            raise PublishTypeError(f"{schema}.{name}: {error}") from None
        columns.append(
            Column(column_name, source_type, out_type, expression, column_docs.get(column_name, ""))
        )
    return Table(schema, name, table_doc, tuple(columns))


def published_tables(con: duckdb.DuckDBPyConnection, catalog: str) -> list[Table]:
    return [
        table(con, catalog, PUBLISHED_SCHEMA, name)
        for name in relations(con, catalog, PUBLISHED_SCHEMA)
    ]
