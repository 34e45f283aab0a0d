"""Parquet exports: every published table per year, typed, described, checksummed, and written atomically."""

from __future__ import annotations

import hashlib
import json
import threading
from decimal import Decimal

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
import yaml
from parkwh import config
from parkwh.publish import catalog, exports, publications
from test_publish_fixture import YEARS, build, correct_submission

# What each declared SQL type must be in each reader (independent of the code under test).
ARROW = {
    "INTEGER": pa.int32(),
    "BIGINT": pa.int64(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "DATE": pa.date32(),
    "TIMESTAMP": pa.timestamp("us"),
    "VARCHAR": pa.string(),
}
POLARS = {
    "INTEGER": pl.Int32,
    "BIGINT": pl.Int64,
    "DOUBLE": pl.Float64,
    "BOOLEAN": pl.Boolean,
    "DATE": pl.Date,
    "TIMESTAMP": pl.Datetime("us"),
    "VARCHAR": pl.String,
}


def _decimal(sql_type: str) -> tuple[int, int] | None:
    if sql_type.startswith("DECIMAL("):
        precision, scale = sql_type[len("DECIMAL(") : -1].split(",")
        return int(precision), int(scale)
    return None


def arrow_type(sql_type: str) -> pa.DataType:
    dec = _decimal(sql_type)
    return pa.decimal128(*dec) if dec else ARROW[sql_type]


def polars_type(sql_type: str) -> pl.DataType:
    dec = _decimal(sql_type)
    return pl.Decimal(*dec) if dec else POLARS[sql_type]


@pytest.fixture()
def published(warehouse_dir):
    build(warehouse_dir)
    publications.publish()
    return warehouse_dir


@pytest.fixture(scope="module")
def published_once(tmp_path_factory):
    """One publication shared by the tests that only read it."""
    root = tmp_path_factory.mktemp("exports") / "warehouse"
    root.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PARKWH_WAREHOUSE_DIR", str(root))
        build(root)
        publications.publish()
        yield root


def _warehouse_rows(table: str, columns: list[str]) -> list[tuple]:
    con = duckdb.connect(str(config.warehouse().database), read_only=True)
    try:
        select = ", ".join(f'"{c}"' for c in columns)
        return sorted(con.execute(f"select {select} from published.{table}").fetchall(), key=repr)
    finally:
        con.close()


def test_every_published_table_is_exported_per_year(published_once):
    published = published_once
    con = duckdb.connect(str(config.warehouse().database), read_only=True)
    try:
        relations = [
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'published'"
                " union select view_name from duckdb_views() where schema_name = 'published' and not internal"
            ).fetchall()
        ]
    finally:
        con.close()
    manifest = exports.read_manifest()
    assert sorted(manifest["tables"]) == sorted(relations)
    assert {"park_ranking", "park_scores", "report_summary", "park_ranking_history"} <= set(
        relations
    )
    for table in relations:
        for year in YEARS:
            assert (
                published / "exports" / table / f"reporting_year={year}" / "data.parquet"
            ).is_file()


def test_pyarrow_polars_and_duckdb_read_the_declared_types_and_the_rows(published_once):
    published = published_once
    manifest = exports.read_manifest()
    for name, table in manifest["tables"].items():
        folder = published / "exports" / name
        partition = table["partitioning"]["columns"][0]
        assert partition == {**partition, "name": "reporting_year", "type": "INTEGER"}
        declared = [(c["name"], c["type"]) for c in table["columns"]] + [
            ("reporting_year", "INTEGER")
        ]

        # pyarrow, told the partition's type as docs/publishing.md shows
        dataset = ds.dataset(
            folder,
            format="parquet",
            partitioning=ds.partitioning(
                pa.schema([("reporting_year", pa.int32())]), flavor="hive"
            ),
        )
        arrow_table = dataset.to_table()
        assert [(f.name, f.type) for f in arrow_table.schema] == [
            (n, arrow_type(t)) for n, t in declared
        ], name

        # Polars
        frame = pl.read_parquet(
            folder / "**" / "*.parquet", hive_schema={"reporting_year": pl.Int32}
        )
        assert list(frame.schema.items()) == [(n, polars_type(t)) for n, t in declared], name

        # DuckDB
        con = duckdb.connect()
        try:
            relation = con.sql(
                f"select * from read_parquet('{folder.as_posix()}/*/*.parquet',"
                " hive_partitioning = true, hive_types = {'reporting_year': INTEGER})"
            )
            assert [(c, str(t)) for c, t in zip(relation.columns, relation.types)] == declared, name
        finally:
            con.close()

        # the rows are the warehouse's rows
        columns = [n for n, _ in declared]
        exported = sorted((tuple(r[c] for c in columns) for r in arrow_table.to_pylist()), key=repr)
        assert exported == _warehouse_rows(name, columns), name
        assert table["rows"] == arrow_table.num_rows == frame.height


def test_money_counts_and_dates_keep_their_types(published_once):
    published = published_once
    summary = pq.read_schema(
        published / "exports" / "report_summary" / "reporting_year=2023" / "data.parquet"
    )
    assert summary.field("revenue_yuan").type == pa.decimal128(18, 2)
    assert summary.field("enterprises_in_park").type == pa.int64()
    ranking = pq.read_table(
        published / "exports" / "park_ranking" / "reporting_year=2023" / "data.parquet"
    )
    assert ranking.schema.field("rank").type == pa.int32()
    assert ranking.schema.field("score").type == pa.decimal128(9, 3)
    values = ranking.column("score").to_pylist()
    assert all(v is None or isinstance(v, Decimal) for v in values)
    # exact values, not floats: the published score of each base as the warehouse holds it
    con = duckdb.connect(str(config.warehouse().database), read_only=True)
    try:
        expected = dict(
            con.execute(
                "select base_code, score from published.park_ranking where reporting_year = 2023"
            ).fetchall()
        )
    finally:
        con.close()
    assert dict(zip(ranking.column("base_code").to_pylist(), values)) == expected


def test_column_descriptions_travel_in_the_parquet_metadata(published_once):
    published = published_once
    schema = pq.read_schema(
        published / "exports" / "report_summary" / "reporting_year=2023" / "data.parquet"
    )
    declared = yaml.safe_load(
        (config.dbt_project_dir() / "models" / "published" / "report_summary.yml").read_text(
            encoding="utf-8"
        )
    )["models"][0]
    for column in declared["columns"]:
        if column["name"] == "reporting_year":
            continue
        assert schema.field(column["name"]).metadata[b"description"].decode() == " ".join(
            column["description"].split()
        )
    assert schema.metadata[b"parkwh.table"] == b"report_summary"
    described = json.loads(schema.metadata[b"parkwh.columns"])
    assert {c["name"] for c in described} >= {"revenue_yuan", "reporting_year"}
    # readers that only see the file's key-value metadata (DuckDB) get the descriptions too
    con = duckdb.connect()
    try:
        keys = {
            k.decode() if isinstance(k, bytes) else k
            for (k,) in con.execute(
                "select key from parquet_kv_metadata(?)",
                [
                    str(
                        published
                        / "exports"
                        / "report_summary"
                        / "reporting_year=2023"
                        / "data.parquet"
                    )
                ],
            ).fetchall()
        }
    finally:
        con.close()
    assert {"parkwh.columns", "parkwh.publication_id", "parkwh.partitioning"} <= keys


def test_manifest_checksums_rows_and_publications_match_the_files(published_once):
    published = published_once
    manifest = exports.read_manifest()
    current = {p["reporting_year"]: p["publication_id"] for p in manifest["publications"]}
    assert sorted(current) == list(YEARS)
    for table in manifest["tables"].values():
        assert len(table["files"]) == len(YEARS)
        for entry in table["files"]:
            path = published / "exports" / entry["path"]
            assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
            assert pq.ParquetFile(path).metadata.num_rows == entry["rows"]
            assert entry["publication_id"] == current[entry["reporting_year"]]
            assert (
                pq.read_schema(path).metadata[b"parkwh.publication_id"].decode()
                == entry["publication_id"]
            )
    # the audit holds the same checksums as the manifest
    con = duckdb.connect(str(config.warehouse().database), read_only=True)
    try:
        audited = {
            (r[0], r[1])
            for r in con.execute("select path, sha256 from audit.publication_files").fetchall()
        }
    finally:
        con.close()
    listed = {(e["path"], e["sha256"]) for t in manifest["tables"].values() for e in t["files"]}
    assert listed <= audited


def test_sums_intervals_and_time_zones_are_made_readable_or_refused(warehouse_dir):
    build(warehouse_dir)
    con = duckdb.connect(str(config.warehouse().database))
    try:
        con.execute(
            "create table published.extra as select reporting_year, sum(enterprises_in_park) as total,"
            " sum(revenue_yuan::double) as revenue_yuan, timestamptz '2024-06-19 10:00:00+08' as at"
            " from marts.fct_base_year group by reporting_year"
        )
        assert (
            dict(
                con.execute(
                    "select column_name, data_type from duckdb_columns() where table_name = 'extra'"
                ).fetchall()
            )["total"]
            == "HUGEINT"
        )
    finally:
        con.close()
    publications.publish()
    path = warehouse_dir / "exports" / "extra" / "reporting_year=2023" / "data.parquet"
    schema = pq.read_schema(path)
    assert schema.field("total").type == pa.int64()  # not a DOUBLE
    assert schema.field("revenue_yuan").type == pa.decimal128(18, 2)
    assert schema.field("at").type == pa.timestamp("us")
    assert pq.read_table(path).column("at")[0].as_py().hour == 2  # 10:00 in Beijing is 02:00 UTC
    pl.read_parquet(path)  # Polars reads it

    con = duckdb.connect(str(config.warehouse().database))
    try:
        con.execute(
            "create table published.bad as select 2023 as reporting_year, interval 3 day as wait"
        )
    finally:
        con.close()
    with pytest.raises(catalog.PublishTypeError, match="published.bad: column wait is an INTERVAL"):
        publications.publish()


def test_a_failed_publication_leaves_the_previous_one_whole(published, monkeypatch):
    manifest_before = exports.manifest_path().read_bytes()
    files_before = {p: p.read_bytes() for p in (published / "exports").rglob("*.parquet")}
    correct_submission("JS003", 2023, enterprises_in_park=77)

    calls = {"n": 0}
    real_write = exports._write

    def failing_write(data, path):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        real_write(data, path)

    monkeypatch.setattr(exports, "_write", failing_write)
    with pytest.raises(OSError, match="disk full"):
        publications.publish()
    assert calls["n"] == 3
    assert exports.manifest_path().read_bytes() == manifest_before
    assert {p: p.read_bytes() for p in (published / "exports").rglob("*.parquet")} == files_before
    assert not list(published.glob(".exports-staging-*"))
    con = duckdb.connect(str(config.warehouse().database), read_only=True)
    try:
        assert (
            con.execute(
                "select max(version) from audit.publications where reporting_year = 2023"
            ).fetchone()[0]
            == 1
        )
        assert (
            con.execute(
                "select count(*) from audit.publication_rankings where publication_id = '2023-v2'"
            ).fetchone()[0]
            == 0
        )
    finally:
        con.close()

    monkeypatch.setattr(exports, "_write", real_write)
    (result,) = [p for p in publications.publish() if p.reporting_year == 2023]
    assert result.publication_id == "2023-v2" and result.new


def test_a_reader_sees_a_whole_partition_while_years_are_republished(published):
    path = published / "exports" / "park_ranking" / "reporting_year=2023" / "data.parquet"
    stop = threading.Event()
    problems: list[BaseException] = []
    reads = {"n": 0}

    def read_continuously():
        while not stop.is_set():
            try:
                # One open, as a reader holding the file does: pyarrow given a path may look
                # the file up more than once (its size, then its bytes), and a rename between
                # the two lookups would mix two files whatever the writer does.
                with path.open("rb") as handle:
                    rows = pq.read_table(handle).num_rows
                assert rows > 0
                reads["n"] += 1
            except BaseException as error:  # noqa: BLE001 - any failed read is the finding
                problems.append(error)
                return

    reader = threading.Thread(target=read_continuously)
    reader.start()
    try:
        for value in (61, 62, 63, 64):
            correct_submission("JS003", 2023, enterprises_in_park=value)
            publications.publish([2023])
    finally:
        stop.set()
        reader.join()
    assert not problems, problems[0]
    assert reads["n"] > 0
    assert pq.read_schema(path).metadata[b"parkwh.publication_id"] == b"2023-v5"


def test_no_staging_file_is_left_in_a_table_folder(published_once):
    published = published_once
    leftovers = [
        p
        for p in (published / "exports").rglob("*")
        if p.is_file() and p.suffix not in (".parquet", ".json")
    ]
    assert leftovers == []
    assert [p.name for p in (published / "exports").rglob("*.parquet")] == ["data.parquet"] * len(
        list((published / "exports").rglob("*.parquet"))
    )
