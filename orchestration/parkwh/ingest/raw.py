"""The ``raw`` schema (views over the landing Parquet files) and the ``audit`` tables.

``raw`` holds no data of its own: each table is a view over ``landing/<table>/reporting_year=*/``,
so the Parquet files are the truth and any engine can read them. A part's file lands before its
version's ``submissions`` file, which is written last and is the commit mark: the part views
show only versions that have one, so a load interrupted half-way is never half visible.

``audit.submissions`` and ``audit.submission_problems`` are ordinary DuckDB tables: every
version ingestion has seen, accepted, rejected or superseded, and every problem found.
"""

from __future__ import annotations

import duckdb

from parkwh.ingest import landing
from parkwh.submission import spec

PROVENANCE: tuple[tuple[str, str], ...] = (
    ("submission_id", "VARCHAR"),
    ("base_code", "VARCHAR"),
    ("reporting_year", "INTEGER"),
    ("source_path", "VARCHAR"),
    ("source_sha256", "VARCHAR"),
    ("source_row", "INTEGER"),
    ("loaded_at", "TIMESTAMP"),
)
"""Provenance columns every raw part table starts with (docs/architecture.md)."""

SUBMISSION_COLUMNS: tuple[tuple[str, str], ...] = (
    ("submission_id", "VARCHAR"),
    ("base_code", "VARCHAR"),
    ("reporting_year", "INTEGER"),
    ("form", "VARCHAR"),
    ("source_path", "VARCHAR"),
    ("source_sha256", "VARCHAR"),
    ("received_at", "TIMESTAMP"),
    ("loaded_at", "TIMESTAMP"),
)

EXPERT_SCORE_VALUES = ("expert_id", "score")

# The base part's own base_code and reporting_year fields are the provenance columns of the
# same name: validation rejects a file whose values differ from its name and folder.
_PROVENANCE_NAMES = {name for name, _ in PROVENANCE}

PART_TABLES = spec.PARTS
TABLES: tuple[str, ...] = ("submissions", *spec.PARTS, "expert_scores")


def value_columns(table: str) -> list[str]:
    """The VARCHAR columns after the provenance columns, in the order the raw view gives them."""
    if table == "submissions":
        return []
    if table == "expert_scores":
        return [*EXPERT_SCORE_VALUES, "received_at"]
    fields = [f for f in spec.part_fields(table) if f.key not in _PROVENANCE_NAMES]
    columns = [f.key for f in fields] + [f"{f.key}_unit" for f in fields if f.is_money]
    if table == "talent":
        # The keyed pseudonym of the person's ID number, for everything downstream of raw.
        columns.insert(0, "person_key")
    return columns


def columns(table: str) -> list[tuple[str, str]]:
    """Every column of a raw table with its SQL type, in order."""
    if table == "submissions":
        return list(SUBMISSION_COLUMNS)
    out = list(PROVENANCE)
    for name in value_columns(table):
        out.append((name, "TIMESTAMP" if name == "received_at" else "VARCHAR"))
    return out


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _scan(table: str) -> str:
    return (
        f"read_parquet({_literal(landing.glob(table))}, hive_partitioning = true, "
        "union_by_name = true, hive_types = {'reporting_year': INTEGER})"
    )


def _view_sql(con: duckdb.DuckDBPyConnection, table: str) -> str:
    wanted = columns(table)
    if not landing.has_files(table):
        # No file yet (a glob that matches nothing is an error): an empty view of the right shape.
        select = ", ".join(f"CAST(NULL AS {sql_type}) AS {_quote(n)}" for n, sql_type in wanted)
        return f"SELECT {select} WHERE false"
    present = {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {_scan(table)}").fetchall()}
    # A field added to the format later is NULL in the files landed before it existed.
    select = ", ".join(
        f"CAST({_quote(n)} AS {sql_type}) AS {_quote(n)}"
        if n in present
        else f"CAST(NULL AS {sql_type}) AS {_quote(n)}"
        for n, sql_type in wanted
    )
    sql = f"SELECT {select} FROM {_scan(table)}"
    if table in PART_TABLES:
        # A part counts once its version's submissions file (written last) exists.
        sql += " WHERE submission_id IN (SELECT submission_id FROM raw.submissions)"
    return sql


def refresh_views(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)create every raw view over the landing files in force (absolute paths: dbt's cwd differs)."""
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    for table in TABLES:
        con.execute(f"CREATE OR REPLACE VIEW raw.{table} AS {_view_sql(con, table)}")


AUDIT_DDL = (
    "CREATE SCHEMA IF NOT EXISTS audit",
    """
    CREATE TABLE IF NOT EXISTS audit.submissions (
        submission_id   VARCHAR PRIMARY KEY,
        kind            VARCHAR NOT NULL,
        base_code       VARCHAR,
        reporting_year  INTEGER,
        form            VARCHAR,
        source_path     VARCHAR NOT NULL,
        source_sha256   VARCHAR NOT NULL,
        archive_path    VARCHAR NOT NULL,
        size_bytes      BIGINT NOT NULL,
        received_at     TIMESTAMP NOT NULL,
        status          VARCHAR NOT NULL,
        error_count     INTEGER NOT NULL,
        warning_count   INTEGER NOT NULL,
        problem_count   INTEGER NOT NULL,
        row_count       INTEGER,
        first_seen_at   TIMESTAMP NOT NULL,
        loaded_at       TIMESTAMP,
        ingest_run_id   VARCHAR NOT NULL,
        CHECK (kind IN ('submission', 'expert_scores', 'stray')),
        CHECK (status IN ('accepted', 'rejected', 'superseded'))
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS audit.submission_problems (
        submission_id   VARCHAR NOT NULL,
        problem_number  INTEGER NOT NULL,
        source_path     VARCHAR NOT NULL,
        part            VARCHAR,
        source_row      INTEGER,
        column_name     VARCHAR,
        column_label    VARCHAR,
        value           VARCHAR,
        rule            VARCHAR NOT NULL,
        severity        VARCHAR NOT NULL,
        message         VARCHAR NOT NULL
    )
    """,
)

AUDIT_COMMENTS = {
    "audit.submissions": (
        "Every version of every inbox entry ingestion has seen: accepted (in force), superseded "
        "(an accepted version received earlier than the one in force) or rejected"
    ),
    "audit.submission_problems": "Every problem found in a version, by part, row and column",
}


def ensure_schemas(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw and audit schemas and the audit tables if they are not there yet."""
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    for statement in AUDIT_DDL:
        con.execute(statement)
    for table, comment in AUDIT_COMMENTS.items():
        con.execute(f"COMMENT ON TABLE {table} IS {_literal(comment)}")


def settle_statuses(con: duckdb.DuckDBPyConnection) -> None:
    """Of the accepted versions of each base (or expert score file) and year, the one received
    last is ``accepted`` (in force) and the others ``superseded``.

    Ties on ``received_at`` fall back to the later load, then the larger id, as dbt's staging
    orders them, so exactly one version is in force and both sides agree which.
    """
    con.execute(
        """
        UPDATE audit.submissions AS s
        SET status = ranked.new_status
        FROM (
            SELECT
                submission_id,
                CASE WHEN row_number() OVER (
                    PARTITION BY kind, reporting_year, base_code
                    ORDER BY received_at DESC, loaded_at DESC, submission_id DESC
                ) = 1 THEN 'accepted' ELSE 'superseded' END AS new_status
            FROM audit.submissions
            WHERE status IN ('accepted', 'superseded')
        ) AS ranked
        WHERE s.submission_id = ranked.submission_id AND s.status <> ranked.new_status
        """
    )
