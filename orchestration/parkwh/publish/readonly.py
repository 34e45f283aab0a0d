"""``warehouse/published.duckdb``: a read-only copy of what is published, for SQL users and BI tools.

DuckDB lets one process write a file, and a reader in another process (a BI tool, an analyst's
notebook) makes every writer fail at once. So people never open ``parkwh.duckdb``: after each
publication this module writes a new ``published.duckdb`` beside it and renames it into place in
one step. A reader that holds the old file keeps reading the old publication; the next connection
opens the new one; the pipeline never waits for either.

What it holds: the ``published`` schema whole (the ranking, the score decomposition, the report
summary, the publication history); the dimensions and facts they rest on (``marts``), minus
anything personal; the method catalogue (``staging.method_*``); and the audit of publications and
data-quality checks (``audit``). Table and column descriptions are kept as comments.

The published tables sit in the file's ``main`` schema. DuckDB names a file's catalog after the
file, so in ``published.duckdb`` a schema called ``published`` would make every
``published.park_ranking`` ambiguous (an error); in ``main``, that same query names the catalog
and finds the table, and so does plain ``park_ranking``. Every other schema keeps its name.

It is written with storage version v1.0.0: a file written by duckdb 2.x with default settings
opens in no DuckDB 1.x client, and BI tools embed older DuckDB builds; v1.0.0 opens in 1.1 on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from parkwh import config, db
from parkwh.publish import catalog, files

STORAGE_VERSION = "v1.0.0"
SCHEMA_IN_COPY = {catalog.PUBLISHED_SCHEMA: "main"}

MART_TABLES = (
    "dim_base",
    "dim_province",
    "dim_company",
    "dim_date",
    "dim_talent_programme",
    "fct_base_year",
    "fct_company_year",
    "fct_funding_event",
    "base_year_reconciliation",
)
"""The marts shared, by name: a new mart is not shared until someone has looked at what it holds."""

WITHHELD_TABLES = {
    "marts.dim_talent": "one row per person: a pseudonymous key with birth year, gender, study "
    "country and career, which together can identify someone",
    "marts.fct_talent_year": "one row per person and year, keyed by the person's pseudonym",
}
WITHHELD_COLUMNS = {
    "investor_name": "an angel investor is often a natural person",
    "person_key": "a person's pseudonym",
    "person_name": "personal data",
    "id_number": "personal data",
    "phone": "personal data",
    "sample_rows": "rows of submissions quoted by the quality checks",
}

AUDIT_TABLES = (
    "publications",
    "publication_submissions",
    "publication_files",
    "publication_rankings",
    "publication_changes",
    "check_results",
)

METHOD_TABLE_PREFIX = "method_"
"""The method's catalogue tables (dbt seeds in ``staging``) are shared: the method is public."""


@dataclass
class Built:
    path: Path
    tables: dict[str, int] = field(default_factory=dict)
    withheld: dict[str, str] = field(default_factory=dict)

    @property
    def size_bytes(self) -> int:
        return self.path.stat().st_size


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _plan(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(schema, table) of every relation to copy, in the order they are written."""
    present = {
        (schema, name)
        for schema, name in con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = 'wh'"
            " union select schema_name, view_name from duckdb_views() where database_name = 'wh'"
            " and not internal"
        ).fetchall()
    }
    wanted = [
        (catalog.PUBLISHED_SCHEMA, n)
        for n in catalog.relations(con, "wh", catalog.PUBLISHED_SCHEMA)
    ]
    wanted += [("marts", n) for n in MART_TABLES]
    wanted += sorted(
        (s, n) for s, n in present if s == "staging" and n.startswith(METHOD_TABLE_PREFIX)
    )
    wanted += [("audit", n) for n in AUDIT_TABLES]
    return [w for w in wanted if w in present and f"{w[0]}.{w[1]}" not in WITHHELD_TABLES]


def build() -> Built:
    """Write ``published.duckdb`` from the warehouse and put it in place atomically."""
    paths = config.warehouse()
    if not paths.database.exists():
        raise FileNotFoundError(
            f"the warehouse {paths.database} does not exist yet: nothing to publish"
        )
    target = paths.published_database
    temporary = files.temporary_sibling(target)
    built = Built(path=target, withheld=dict(WITHHELD_TABLES))
    con = duckdb.connect()
    try:
        # Reading the warehouse holds its writer lock like any reader; writing the copy does not
        # need it, and nobody else writes the temporary file.
        with db.writer_lock():
            con.execute(f"attach {_sql_text(str(paths.database))} as wh (read_only)")
            con.execute(
                f"attach {_sql_text(str(temporary))} as out (storage_version '{STORAGE_VERSION}')"
            )
            # One transaction: each statement outside one is a commit of its own, written and
            # synced to the copy's log (a table, then a comment on each of its columns...).
            con.execute("begin transaction")
            for schema, name in _plan(con):
                table = catalog.table(con, "wh", schema, name)
                columns = [c for c in table.columns if c.name not in WITHHELD_COLUMNS]
                for column in table.columns:
                    if column.name in WITHHELD_COLUMNS:
                        built.withheld[f"{schema}.{name}.{column.name}"] = WITHHELD_COLUMNS[
                            column.name
                        ]
                select = ", ".join(f"{c.expression} as {catalog.quote(c.name)}" for c in columns)
                copy_schema = SCHEMA_IN_COPY.get(schema, schema)
                con.execute(f"create schema if not exists out.{catalog.quote(copy_schema)}")
                relation = f"{catalog.quote(copy_schema)}.{catalog.quote(name)}"
                source = f"wh.{catalog.quote(schema)}.{catalog.quote(name)}"
                con.execute(f"create table out.{relation} as select {select} from {source}")
                if table.description:
                    con.execute(
                        f"comment on table out.{relation} is {_sql_text(table.description)}"
                    )
                for column in columns:
                    if column.description:
                        con.execute(
                            f"comment on column out.{relation}.{catalog.quote(column.name)}"
                            f" is {_sql_text(column.description)}"
                        )
                built.tables[f"{copy_schema}.{name}"] = con.execute(
                    f"select count(*) from out.{relation}"
                ).fetchone()[0]
            con.execute("commit")
            con.execute("detach wh")
        con.execute(
            "detach out"
        )  # checkpoints: the file is whole, with no write-ahead log beside it
    except BaseException:
        con.close()
        temporary.unlink(missing_ok=True)
        Path(f"{temporary}.wal").unlink(missing_ok=True)
        raise
    con.close()
    files.fsync(temporary)
    # A log left by someone who opened the old file for writing must not be replayed on the new one.
    Path(f"{target}.wal").unlink(missing_ok=True)
    os.replace(temporary, target)
    return built


def connect() -> duckdb.DuckDBPyConnection:
    """A read-only connection to ``published.duckdb`` (the caller closes it)."""
    path = config.warehouse().published_database
    if not path.exists():
        raise FileNotFoundError(
            f"{path} does not exist yet: nothing has been published (run the pipeline first)"
        )
    return duckdb.connect(str(path), read_only=True)
