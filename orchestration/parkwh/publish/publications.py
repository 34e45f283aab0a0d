"""Versioned publications: what was published for a year, when, from which submissions, and what moved.

A *publication* of a reporting year is the act of writing its exports from the published tables.
It is recorded in ``audit.publications`` with its version, time, the method version, a digest of
the submissions in force (each listed by sha256 in ``audit.publication_submissions``) and the
checksums of the files it wrote (``audit.publication_files``). Its ranking is kept as published
(``audit.publication_rankings``), so republishing a year after a correction adds version 2 and
version 1's ranking stays queryable: ``published.park_ranking_history``. Each base whose rank,
score or ranked status moved between versions gets a changelog row (``audit.publication_changes``,
``published.park_ranking_changes``).

A year is republished only when what it would publish differs from its version in force: its
submissions, the method version, or any published figure. Running the pipeline again on the same
data makes no new version; it only restores export files that went missing.

Order of work, so a failure leaves the previous publication whole: the audit rows are inserted in
one transaction, the files are written to a staging folder while it is open (the history exports
include the new version), their checksums are recorded, the transaction commits, and only then are
the files renamed into ``exports/`` and the manifest rewritten.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import duckdb

from parkwh import config, db
from parkwh.publish import catalog, exports, files
from parkwh.publish.catalog import PUBLISHED_SCHEMA, Table

RANKING = "park_ranking"
HISTORY_VIEWS = tuple(catalog.HISTORY_DOCS)

_DDL = """
create schema if not exists audit;
create table if not exists audit.publications (
    publication_id varchar not null,
    reporting_year integer not null,
    version integer not null,
    published_at timestamp not null,
    method_version varchar not null,
    fingerprint varchar not null,
    submissions_sha256 varchar not null,
    exports_sha256 varchar,
    bases_submitted integer not null,
    bases_ranked integer not null,
    changes integer not null,
    previous_publication_id varchar,
    reason varchar not null,
    run_id varchar
);
create table if not exists audit.publication_submissions (
    publication_id varchar not null,
    reporting_year integer not null,
    kind varchar not null,
    base_code varchar,
    submission_id varchar not null,
    source_sha256 varchar
);
create table if not exists audit.publication_files (
    publication_id varchar not null,
    table_name varchar not null,
    reporting_year integer,
    path varchar not null,
    rows bigint not null,
    size_bytes bigint not null,
    sha256 varchar not null
);
create table if not exists audit.publication_changes (
    publication_id varchar not null,
    reporting_year integer not null,
    version integer not null,
    previous_publication_id varchar not null,
    base_code varchar not null,
    base_name_zh varchar,
    base_name_en varchar,
    previous_rank integer,
    rank integer,
    rank_moved integer,
    previous_score decimal(9, 3),
    score decimal(9, 3),
    score_moved decimal(9, 3),
    previous_ranked boolean,
    ranked boolean,
    change varchar not null
);
"""

_VIEWS = f"""
create or replace view {PUBLISHED_SCHEMA}.publications as
select
    publication_id, reporting_year, version, published_at, method_version, submissions_sha256,
    bases_submitted, bases_ranked, changes, previous_publication_id, reason,
    version = max(version) over (partition by reporting_year) as is_current
from audit.publications;

create or replace view {PUBLISHED_SCHEMA}.park_ranking_history as
select
    p.publication_id, p.version, p.published_at, p.is_current,
    r.* exclude (publication_id)
from audit.publication_rankings as r
inner join {PUBLISHED_SCHEMA}.publications as p on p.publication_id = r.publication_id;

create or replace view {PUBLISHED_SCHEMA}.park_ranking_changes as
select * from audit.publication_changes;
"""


class PublishError(RuntimeError):
    """Nothing can be published as the warehouse stands; the message says why and what to do."""


@dataclass(frozen=True)
class Publication:
    publication_id: str
    reporting_year: int
    version: int
    published_at: dt.datetime
    method_version: str
    reason: str
    changes: int
    bases_ranked: int
    new: bool
    """False when the year's version in force was still current (nothing was republished)."""
    files_restored: int = 0

    def line(self) -> str:
        if self.new:
            return (
                f"{self.reporting_year}: published {self.publication_id} ({self.reason}; "
                f"{self.bases_ranked} bases ranked, {self.changes} changed since the previous version)"
            )
        restored = f", {self.files_restored} export files restored" if self.files_restored else ""
        return f"{self.reporting_year}: {self.publication_id} is current, nothing to republish{restored}"


def _sha256(value: object) -> str:
    return hashlib.sha256(json.dumps(value, default=str, ensure_ascii=False).encode()).hexdigest()


def _exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() where database_name = current_database()"
            " and schema_name = ? and table_name = ?",
            [schema, name],
        ).fetchone()[0]
        or con.execute(
            "select count(*) from duckdb_views() where database_name = current_database()"
            " and schema_name = ? and view_name = ?",
            [schema, name],
        ).fetchone()[0]
    )


def _has_column(con: duckdb.DuckDBPyConnection, schema: str, name: str, column: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from duckdb_columns() where database_name = current_database()"
            " and schema_name = ? and table_name = ? and column_name = ?",
            [schema, name, column],
        ).fetchone()[0]
    )


def submissions_in_force(con: duckdb.DuckDBPyConnection, year: int) -> list[tuple]:
    """(kind, base_code, submission_id, sha256) of what the year's published figures come from."""
    rows: list[tuple] = []
    have_audit = _exists(con, "audit", "submissions")
    if _exists(con, "marts", "fct_base_year"):
        sha = (
            "(select any_value(s.source_sha256) from audit.submissions as s"
            " where s.submission_id = f.submission_id)"
            if have_audit
            else "cast(null as varchar)"
        )
        rows += con.execute(
            f"select 'submission', f.base_code, f.submission_id, {sha}"
            " from marts.fct_base_year as f where f.reporting_year = ? and f.submitted"
            " order by f.base_code",
            [year],
        ).fetchall()
    if have_audit:
        rows += con.execute(
            "select 'expert_scores', null, submission_id, source_sha256 from audit.submissions"
            " where kind = 'expert_scores' and status = 'accepted' and reporting_year = ?"
            " order by submission_id",
            [year],
        ).fetchall()
    return rows


METHOD_TABLES = ("method_indicators", "method_parameters")
"""The method as data (dbt seeds): a year's method is their rows valid in that year."""


def method_version(con: duckdb.DuckDBPyConnection, year: int) -> str:
    """The method's version: the one the ranking names, else a digest of the method valid in ``year``.

    The digest covers the catalogue's and the parameters' rows valid in the year (first_year ..
    last_year), so changing the method from some later year on leaves earlier years' versions be.
    """
    for table in (RANKING, "park_scores"):
        if _has_column(con, PUBLISHED_SCHEMA, table, "method_version"):
            found = con.execute(
                f"select distinct cast(method_version as varchar) from {PUBLISHED_SCHEMA}.{table}"
                " where reporting_year = ? and method_version is not null order by 1",
                [year],
            ).fetchall()
            if found:
                return "+".join(r[0] for r in found)
    parts = []
    for name in METHOD_TABLES:
        found = con.execute(
            "select schema_name from duckdb_tables() where database_name = current_database()"
            " and table_name = ? order by schema_name = 'staging' desc, schema_name limit 1",
            [name],
        ).fetchone()
        if found is None:
            continue
        relation = f'"{found[0]}"."{name}"'
        select, where = "*", ""
        if _has_column(con, found[0], name, "first_year") and _has_column(
            con, found[0], name, "last_year"
        ):
            # The validity only picks the rows: closing a row from a later year on (setting its
            # last_year) leaves the method of the years it still covers as it was.
            select = "* exclude (first_year, last_year)"
            where = " where coalesce(first_year, $y) <= $y and coalesce(last_year, $y) >= $y"
        rows = con.execute(
            f"select {select} from {relation}{where} order by all", {"y": year} if where else {}
        ).fetchall()
        parts.append([name, rows])
    if not parts:
        return "unversioned"
    return f"method-{_sha256(parts)[:12]}"


def content_digest(
    con: duckdb.DuckDBPyConnection, tables: Iterable[Table], year: int
) -> dict[str, str]:
    """sha256 of each dbt-built published table's rows for the year, in a canonical order."""
    digests = {}
    for table in tables:
        if table.name in HISTORY_VIEWS:
            continue
        rows = con.execute(
            f"select {table.select_list()} from {table.relation} where reporting_year = ? order by all",
            [year],
        ).fetchall()
        digests[table.name] = _sha256([[c.name for c in table.columns], rows])
    return digests


def _ensure_ranking_snapshot(con: duckdb.DuckDBPyConnection, ranking: Table) -> None:
    if not _exists(con, "audit", "publication_rankings"):
        con.execute(
            "create table audit.publication_rankings as"
            f" select cast(null as varchar) as publication_id, {ranking.select_list()}"
            f" from {ranking.relation} limit 0"
        )
        return
    have = {
        r[0]
        for r in con.execute(
            "select column_name from duckdb_columns() where database_name = current_database()"
            " and schema_name = 'audit' and table_name = 'publication_rankings'"
        ).fetchall()
    }
    for column in ranking.columns:
        if column.name not in have:  # the ranking gained a column: earlier versions hold NULL
            con.execute(
                f"alter table audit.publication_rankings add column {catalog.quote(column.name)} {column.type}"
            )


def _latest(con: duckdb.DuckDBPyConnection, year: int) -> dict | None:
    found = con.execute(
        "select * from audit.publications where reporting_year = ? order by version desc limit 1",
        [year],
    )
    row = found.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in found.description], row))


_CHANGES_SQL = """
insert into audit.publication_changes
with now_ranked as (
    select base_code, base_name_zh, base_name_en, rank, score, ranked
    from audit.publication_rankings where publication_id = $new
),
before as (
    select base_code, base_name_zh, base_name_en, rank, score, ranked
    from audit.publication_rankings where publication_id = $previous
),
compared as (
    select
        coalesce(n.base_code, b.base_code) as base_code,
        coalesce(n.base_name_zh, b.base_name_zh) as base_name_zh,
        coalesce(n.base_name_en, b.base_name_en) as base_name_en,
        b.rank as previous_rank, n.rank as rank,
        b.score as previous_score, n.score as score,
        b.ranked as previous_ranked, n.ranked as ranked,
        n.base_code is null as removed, b.base_code is null as added
    from now_ranked as n
    full outer join before as b on b.base_code = n.base_code
)
select
    $new, $year, $version, $previous, base_code, base_name_zh, base_name_en,
    previous_rank, rank, previous_rank - rank,
    previous_score, score, score - previous_score,
    previous_ranked, ranked,
    case
        when added then 'added'
        when removed then 'removed'
        when ranked and not coalesce(previous_ranked, false) then 'newly ranked'
        when previous_ranked and not coalesce(ranked, false) then 'no longer ranked'
        when rank is distinct from previous_rank and score is distinct from previous_score then 'rank and score'
        when rank is distinct from previous_rank then 'rank'
        else 'score'
    end
from compared
where added or removed
    or rank is distinct from previous_rank
    or score is distinct from previous_score
    or ranked is distinct from previous_ranked
order by base_code
"""


def _reason(latest: dict | None, submissions_sha: str, method: str) -> str:
    if latest is None:
        return "first publication"
    reasons = []
    if latest["submissions_sha256"] != submissions_sha:
        reasons.append("submissions corrected")
    if latest["method_version"] != method:
        reasons.append("method changed")
    return ", ".join(reasons) or "published figures changed"


def _stage_year(
    con, tables: list[Table], year: int, publication: dict, staging
) -> list[exports.ExportFile]:
    return [exports.stage_table(con, t, year, publication, staging) for t in tables]


def _exports_digest(staged: list[exports.ExportFile]) -> str:
    return _sha256(sorted([f.relative_path, f.sha256] for f in staged))


def _record_files(con, publication_id: str, staged: list[exports.ExportFile]) -> None:
    con.executemany(
        "insert into audit.publication_files values (?, ?, ?, ?, ?, ?, ?)",
        [
            [
                publication_id,
                f.table,
                f.reporting_year,
                f.relative_path,
                f.rows,
                f.size_bytes,
                f.sha256,
            ]
            for f in staged
        ],
    )


def _restore(con, tables: list[Table], year: int, latest: dict) -> int:
    """Rewrite the export files of a publication in force that are missing or altered."""
    recorded = dict(
        con.execute(
            "select path, sha256 from audit.publication_files where publication_id = ?",
            [latest["publication_id"]],
        ).fetchall()
    )
    expected = {exports.relative_path(t.name, year) for t in tables}
    if expected <= recorded.keys() and all(exports.in_place(p, s) for p, s in recorded.items()):
        return 0
    staging = exports.new_staging_folder()
    try:
        staged = _stage_year(con, tables, year, latest, staging)
        changed = [f for f in staged if not exports.in_place(f.relative_path, f.sha256)]
        # The same rows give the same bytes, so a restored file matches its record; the record
        # follows the files only when a table was published since, or a newer writer encodes
        # the same rows differently.
        con.execute("begin transaction")
        try:
            con.execute(
                "delete from audit.publication_files where publication_id = ?",
                [latest["publication_id"]],
            )
            _record_files(con, latest["publication_id"], staged)
            con.execute(
                "update audit.publications set exports_sha256 = ? where publication_id = ?",
                [_exports_digest(staged), latest["publication_id"]],
            )
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        exports.put_in_place(changed)
        return len(changed)
    finally:
        exports.discard(staging)


def _publish_year(
    con: duckdb.DuckDBPyConnection,
    tables: list[Table],
    ranking: Table,
    year: int,
    now: dt.datetime,
    run_id: str | None,
) -> Publication:
    submissions = submissions_in_force(con, year)
    submissions_sha = _sha256(submissions)
    method = method_version(con, year)
    content = content_digest(con, tables, year)
    fingerprint = _sha256({"submissions": submissions_sha, "method": method, "content": content})
    latest = _latest(con, year)
    bases_ranked = con.execute(
        f"select count(*) from {ranking.relation} where reporting_year = ? and ranked", [year]
    ).fetchone()[0]
    if latest is not None and latest["fingerprint"] == fingerprint:
        restored = _restore(con, tables, year, latest)
        return Publication(
            latest["publication_id"],
            year,
            latest["version"],
            latest["published_at"],
            latest["method_version"],
            latest["reason"],
            latest["changes"],
            latest["bases_ranked"],
            new=False,
            files_restored=restored,
        )

    version = 1 if latest is None else latest["version"] + 1
    publication_id = f"{year}-v{version}"
    previous_id = None if latest is None else latest["publication_id"]
    reason = _reason(latest, submissions_sha, method)
    record = {"publication_id": publication_id, "published_at": now}
    staging = exports.new_staging_folder()
    con.execute("begin transaction")
    try:
        con.execute(
            "insert into audit.publications values (?, ?, ?, ?, ?, ?, ?, null, ?, ?, 0, ?, ?, ?)",
            [
                publication_id,
                year,
                version,
                now,
                method,
                fingerprint,
                submissions_sha,
                sum(1 for s in submissions if s[0] == "submission"),
                bases_ranked,
                previous_id,
                reason,
                run_id,
            ],
        )
        con.executemany(
            "insert into audit.publication_submissions values (?, ?, ?, ?, ?, ?)",
            [[publication_id, year, *s] for s in submissions],
        )
        snapshot_columns = ", ".join(catalog.quote(c.name) for c in ranking.columns)
        con.execute(
            f"insert into audit.publication_rankings (publication_id, {snapshot_columns})"
            f" select ?, {ranking.select_list()} from {ranking.relation}"
            " where reporting_year = ? order by rank nulls last, base_code",
            [publication_id, year],
        )
        changes = 0
        if previous_id is not None:
            con.execute(
                _CHANGES_SQL,
                {"new": publication_id, "previous": previous_id, "year": year, "version": version},
            )
            changes = con.execute(
                "select count(*) from audit.publication_changes where publication_id = ?",
                [publication_id],
            ).fetchone()[0]
            con.execute(
                "update audit.publications set changes = ? where publication_id = ?",
                [changes, publication_id],
            )
        staged = _stage_year(con, tables, year, record, staging)
        _record_files(con, publication_id, staged)
        con.execute(
            "update audit.publications set exports_sha256 = ? where publication_id = ?",
            [_exports_digest(staged), publication_id],
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        exports.discard(staging)
        raise
    try:
        exports.put_in_place(staged)
    finally:
        exports.discard(staging)
    return Publication(
        publication_id, year, version, now, method, reason, changes, bases_ranked, new=True
    )


def publish(
    years: Iterable[int] | None = None,
    *,
    run_id: str | None = None,
    clock: Callable[[], dt.datetime] | None = None,
) -> list[Publication]:
    """Publish each reporting year of the ranking (or ``years``) whose published data changed.

    Returns one ``Publication`` per year: the new version, or the version still in force.
    Holds the warehouse's writer lock throughout, so the tables cannot change while they are read.
    """
    now = (clock or (lambda: dt.datetime.now(dt.UTC)))().astimezone(dt.UTC).replace(tzinfo=None)
    with db.writer_lock(), db.connect() as con:
        # A publication killed half-way left its staging folder or temporary files: never used.
        files.remove_leftovers(config.warehouse().root)
        if not _exists(con, PUBLISHED_SCHEMA, RANKING):
            raise PublishError(
                f"{PUBLISHED_SCHEMA}.{RANKING} does not exist in the warehouse: build the models "
                "(dbt build, or the pipeline) before publishing"
            )
        con.execute(_DDL)
        database = con.execute("select current_database()").fetchone()[0]
        ranking = catalog.table(con, database, PUBLISHED_SCHEMA, RANKING)
        _ensure_ranking_snapshot(con, ranking)
        con.execute(_VIEWS)
        tables = [t for t in catalog.published_tables(con, database) if t.partitioned]
        not_exported = {
            t.name: f"no {catalog.PARTITION_COLUMN} column: the exports are partitioned by year"
            for t in catalog.published_tables(con, database)
            if not t.partitioned
        }
        ranked_years = [
            r[0]
            for r in con.execute(
                f"select distinct reporting_year from {ranking.relation} order by 1"
            ).fetchall()
        ]
        chosen = sorted(set(years)) if years is not None else ranked_years
        missing = [y for y in chosen if y not in ranked_years]
        if missing:
            raise PublishError(
                f"no ranking for {', '.join(map(str, missing))} in {PUBLISHED_SCHEMA}.{RANKING}"
                f" (it holds {', '.join(map(str, ranked_years)) or 'no year'})"
            )
        results = [_publish_year(con, tables, ranking, year, now, run_id) for year in chosen]
        exports.write_manifest(con, tables, not_exported)
    return results


def current_publications(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """The version in force of each published year."""
    found = con.execute(
        "select * from audit.publications"
        " qualify version = max(version) over (partition by reporting_year) order by reporting_year"
    )
    names = [d[0] for d in found.description]
    return [dict(zip(names, row)) for row in found.fetchall()]
