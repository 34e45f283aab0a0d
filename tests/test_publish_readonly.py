"""published.duckdb: what is published and nothing personal, readable by older DuckDB, never in the pipeline's way."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
from parkwh import config
from parkwh.publish import publications, readonly
from test_publish_fixture import PERSONAL_TALENT_VALUES, build, correct_submission

OLD_DUCKDB = "1.1.3"
"""The oldest DuckDB that reads storage version v1.0.0; BI tools embed builds about this old."""

FUNDING_INVESTOR = "张天使"  # the fixture's angel investor, a natural person


@pytest.fixture()
def published(warehouse_dir):
    build(warehouse_dir)
    publications.publish()
    readonly.build()
    return warehouse_dir


@pytest.fixture(scope="module")
def published_once(tmp_path_factory):
    """One publication and its copy, shared by the tests that only read them."""
    root = tmp_path_factory.mktemp("readonly") / "warehouse"
    root.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PARKWH_WAREHOUSE_DIR", str(root))
        build(root)
        publications.publish()
        readonly.build()
        yield root


def _connect() -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(config.warehouse().published_database), read_only=True)


def test_it_holds_the_published_tables_and_the_marts_they_rest_on(published_once):
    con = _connect()
    try:
        relations = {
            f"{s}.{t}"
            for s, t in con.execute(
                "select schema_name, table_name from duckdb_tables()"
            ).fetchall()
        }
        # the same query as on the warehouse: the file's catalog is called "published"
        counts = con.execute(
            "select (select count(*) from published.park_ranking), (select count(*) from park_ranking),"
            " (select count(*) from published.park_ranking_history), (select count(*) from marts.fct_base_year)"
        ).fetchone()
        comment = con.execute(
            "select comment from duckdb_columns() where table_name = 'report_summary' and column_name = 'revenue_yuan'"
        ).fetchone()[0]
    finally:
        con.close()
    source = duckdb.connect(str(config.warehouse().database), read_only=True)
    try:
        expected = source.execute(
            "select (select count(*) from published.park_ranking), (select count(*) from published.park_ranking),"
            " (select count(*) from audit.publication_rankings), (select count(*) from marts.fct_base_year)"
        ).fetchone()
    finally:
        source.close()
    assert counts == expected
    assert {
        "main.park_ranking",
        "main.park_scores",
        "main.report_summary",
        "main.park_ranking_history",
        "main.park_ranking_changes",
        "main.publications",
        "marts.dim_base",
        "marts.dim_province",
        "marts.fct_base_year",
        "marts.fct_company_year",
        "marts.fct_funding_event",
        "staging.method_indicators",
        "audit.publications",
        "audit.check_results",
    } <= relations
    assert comment and "yuan" in comment


def test_nothing_personal_is_in_it(published_once):
    con = _connect()
    try:
        relations = con.execute("select schema_name, table_name from duckdb_tables()").fetchall()
        assert ("marts", "dim_talent") not in relations
        assert ("marts", "fct_talent_year") not in relations
        columns = con.execute(
            "select schema_name, table_name, column_name, data_type from duckdb_columns()"
        ).fetchall()
        names = {c[2] for c in columns}
        assert not names & {
            "person_key",
            "person_name",
            "id_number",
            "phone",
            "investor_name",
            "sample_rows",
        }
        for schema, table, column, data_type in columns:
            if data_type != "VARCHAR":
                continue
            hits = con.execute(
                f'select count(*) from "{schema}"."{table}" where list_contains(?, "{column}")'
                f" or position(? in coalesce(\"{column}\", '')) > 0",
                [list(PERSONAL_TALENT_VALUES), FUNDING_INVESTOR],
            ).fetchone()[0]
            assert hits == 0, f"{schema}.{table}.{column} holds a personal value"
    finally:
        con.close()
    # the warehouse itself does hold them: the scan above could have found them
    source = duckdb.connect(str(config.warehouse().database), read_only=True)
    try:
        assert (
            source.execute(
                "select count(*) from marts.fct_funding_event where investor_name = ?",
                [FUNDING_INVESTOR],
            ).fetchone()[0]
            == 1
        )
    finally:
        source.close()


@pytest.fixture(scope="session")
def old_duckdb(request, tmp_path_factory) -> Path:
    """duckdb==1.1.3 installed from the package index once, kept in pytest's cache."""
    cache = getattr(request.config, "cache", None)
    folder = (
        cache.mkdir(f"parkwh-duckdb-{OLD_DUCKDB}")
        if cache
        else tmp_path_factory.mktemp("old-duckdb")
    )
    target = Path(folder) / "site"
    if not (target / "duckdb" / "__init__.py").exists():
        staging = Path(folder) / f"site.{os.getpid()}.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--only-binary=:all:",
                "--target",
                str(staging),
                f"duckdb=={OLD_DUCKDB}",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if result.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            pytest.skip(
                f"duckdb {OLD_DUCKDB} could not be installed from the package index, so the file "
                f"cannot be opened with an older DuckDB here: {result.stderr.strip()[-400:]}"
            )
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    return target


def _run_with(site: Path | None, script: str, *args: str, **kwargs) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if site is not None:
        env["PYTHONPATH"] = str(site)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        **kwargs,
    )


READ_SCRIPT = """
    import json, sys
    import duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    print(json.dumps({
        "version": duckdb.__version__,
        "ranking": con.execute("select count(*) from published.park_ranking").fetchone()[0],
        "top": con.execute("select base_code from park_ranking where reporting_year = 2023 and rank = 1").fetchall(),
        "money": str(con.execute("select typeof(revenue_yuan) from marts.fct_base_year limit 1").fetchone()[0]),
        "history": con.execute("select count(*) from published.park_ranking_history").fetchone()[0],
    }))
"""


def test_an_older_duckdb_opens_it(published_once, old_duckdb):
    result = _run_with(old_duckdb, READ_SCRIPT, str(config.warehouse().published_database))
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["version"] == OLD_DUCKDB
    con = _connect()
    try:
        assert seen["ranking"] == con.execute("select count(*) from park_ranking").fetchone()[0]
        assert (
            seen["history"]
            == con.execute("select count(*) from park_ranking_history").fetchone()[0]
        )
        assert [tuple(r) for r in seen["top"]] == con.execute(
            "select base_code from park_ranking where reporting_year = 2023 and rank = 1"
        ).fetchall()
    finally:
        con.close()
    assert seen["money"] == "DECIMAL(18,2)"


def test_an_older_duckdb_cannot_open_a_default_2x_file(warehouse_dir, old_duckdb):
    """Why the storage version matters: the same tables in a file with default settings."""
    path = warehouse_dir / "default.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create table park_ranking as select 1 as rank")
    con.close()
    result = _run_with(
        old_duckdb, "import duckdb, sys; duckdb.connect(sys.argv[1], read_only=True)", str(path)
    )
    if duckdb.__version__.startswith("1."):
        pytest.skip("the installed DuckDB writes the old storage format by default")
    assert result.returncode != 0


HOLD_SCRIPT = """
    import sys
    import duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    query = "select count(*) from " + sys.argv[2]
    print(con.execute(query).fetchone()[0], flush=True)
    sys.stdin.readline()
    print(con.execute(query).fetchone()[0], flush=True)
    sys.stdin.readline()
"""


def _hold_open(path: Path, relation: str) -> tuple[subprocess.Popen, int]:
    env = dict(os.environ)
    reader = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(HOLD_SCRIPT), str(path), relation],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    first = reader.stdout.readline()
    assert first, reader.stderr.read()
    return reader, int(first)


def _release(reader: subprocess.Popen) -> int:
    reader.stdin.write("\n")
    reader.stdin.flush()
    again = int(reader.stdout.readline())
    reader.stdin.write("\n")
    reader.stdin.flush()
    reader.wait(timeout=30)
    return again


def test_a_reader_holding_it_open_does_not_stop_a_pipeline_run(published):
    reader, before = _hold_open(
        config.warehouse().published_database, "published.park_ranking_history"
    )
    try:
        # a pipeline run while the reader holds the file: new data, a new publication, a new copy
        correct_submission("JS003", 2023, enterprises_in_park=60)
        results = {p.reporting_year: p for p in publications.publish()}
        assert results[2023].new
        readonly.build()
    finally:
        still = _release(reader)
    assert reader.returncode == 0, reader.stderr.read()
    assert still == before  # the reader kept its consistent view of the previous publication
    con = _connect()
    try:
        now = con.execute("select count(*) from published.park_ranking_history").fetchone()[0]
        versions = con.execute(
            "select max(version) from publications where reporting_year = 2023"
        ).fetchone()[0]
    finally:
        con.close()
    added = sum(1 for _ in _ranking_rows_2023())
    assert now == before + added and versions == 2


def _ranking_rows_2023():
    con = duckdb.connect(str(config.warehouse().database), read_only=True)
    try:
        return con.execute(
            "select * from published.park_ranking where reporting_year = 2023"
        ).fetchall()
    finally:
        con.close()


def test_a_reader_of_the_warehouse_itself_would_stop_it(published_once):
    """The trap published.duckdb avoids: the same reader on parkwh.duckdb makes every writer fail."""
    reader, _ = _hold_open(config.warehouse().database, "published.park_ranking")
    try:
        with pytest.raises(duckdb.IOException, match="lock"):
            duckdb.connect(str(config.warehouse().database))
    finally:
        _release(reader)


def test_a_failed_build_keeps_the_previous_file(published, monkeypatch):
    path = config.warehouse().published_database
    original = path.read_bytes()

    def failing_plan(con):
        raise RuntimeError("interrupted")

    monkeypatch.setattr(readonly, "_plan", failing_plan)
    with pytest.raises(RuntimeError, match="interrupted"):
        readonly.build()
    assert path.read_bytes() == original
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".published")] == []


def test_a_bi_tool_on_a_null_pool_sees_each_new_publication(published):
    """Superset and other SQLAlchemy clients (duckdb-engine): a pooled connection keeps the old file."""
    sa = pytest.importorskip("sqlalchemy")
    pytest.importorskip(
        "duckdb_engine", reason="duckdb-engine is the SQLAlchemy dialect BI tools use"
    )
    from sqlalchemy.pool import NullPool

    url = f"duckdb:///{config.warehouse().published_database}"
    fresh = sa.create_engine(url, connect_args={"read_only": True}, poolclass=NullPool)
    pooled = sa.create_engine(url, connect_args={"read_only": True})
    query = sa.text("select max(version) from publications where reporting_year = 2023")

    def version(engine) -> int:
        with engine.connect() as connection:
            return connection.execute(query).scalar_one()

    try:
        assert version(fresh) == 1
        assert version(pooled) == 1
        correct_submission("JS003", 2023, enterprises_in_park=60)
        publications.publish()
        readonly.build()  # the pooled connection holding the old file does not stop this
        assert (
            version(pooled) == 1
        )  # still the file it opened: why docs/publishing.md says NullPool
        # DuckDB keeps one instance per file in a process while any connection to it is open, so
        # the null pool sees the new file once nothing in the process holds the old one.
        pooled.dispose()
        assert version(fresh) == 2
    finally:
        fresh.dispose()
        pooled.dispose()
