"""parkwh on Spark: the dbt project built on the ``spark`` target, read back as Arrow, compared with DuckDB.

DuckDB stays the default engine. The same dbt project also builds on Spark (dbt-spark,
``PARKWH_TARGET=spark``): this module is the Python side of that build.

- ``missing_requirements()`` says whether pyspark and dbt-spark are installed (an optional extra:
  ``make test-spark`` installs them).
- ``build()`` runs dbt on Spark in this process: the raw views over the landing Parquet files
  (``create_raw_views``), every model, seed and test that does not depend on the Monte Carlo,
  the Monte Carlo itself, then the models and tests downstream of it.
- ``read_table()`` reads a Spark table back as an Arrow table; ``compare_published()`` compares
  every ``published`` table with DuckDB's, row for row.

Why dbt runs in this process (``dbtRunner``), not in a subprocess as for DuckDB: with ``method:
session`` dbt-spark starts Spark inside the process that runs dbt, and the local table catalogue
is an embedded Derby database that one process at a time may open. One process keeps one JVM
and one catalogue for the whole build, and lets the Monte Carlo read Spark's tables from the
session dbt created.

Why the Monte Carlo runs here and not as the dbt Python model it is on DuckDB: dbt-spark submits
Python models to a Databricks cluster only, never to a ``session``. The model's inputs are read
back from Spark as Arrow and handed to the very function the model calls
(``parkwh.method.montecarlo.uncertainty_frame``), and its output is written where dbt expects
the model's table. The draws are seeded and depend on the order of their inputs only through
the orders the model fixes, so both engines publish the same ranks.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import decimal
import importlib.metadata
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parkwh.config import dbt_project_dir, warehouse
from parkwh.transform import dbt_env

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import SparkSession

TARGET = "spark"
"""The profile output parkwh.spark builds on unless ``PARKWH_TARGET`` names another ``spark…`` one."""
REQUIREMENTS = (
    "pyspark>=3.5,<4.1",
    "dbt-spark[session]>=1.9,<1.11",
    "dbt-core>=1.11,<1.12",
)
"""What ``make test-spark`` installs: dbt-core stays below 1.12 (it fetches a wheel from outside the
package index at install time)."""

MONTE_CARLO_MODEL = "int_method_rank_uncertainty"
"""The dbt Python model that Spark cannot run in a session: built here instead (see module doc)."""

PUBLISHED_SCHEMA = "published"
MONEY_TOLERANCE = decimal.Decimal("0.01")
"""Money must agree to the fen: DECIMAL(18,2) values are compared exactly, which is stricter."""
SCORE_TOLERANCE = 1e-9
"""Floating-point values (scores, weights, ranks' medians) must agree to this absolute difference."""


class SparkBuildError(RuntimeError):
    """A step of the Spark build failed: the message names the step and dbt's errors."""


# ---------------------------------------------------------------------------- installation


def missing_requirements() -> list[str]:
    """The requirements of the Spark target that are not installed (empty when all are)."""
    missing = []
    for distribution, module in (("pyspark", "pyspark"), ("dbt-spark", "dbt.adapters.spark")):
        try:
            importlib.metadata.version(distribution)
            __import__(module)
        except (importlib.metadata.PackageNotFoundError, ImportError):
            missing.append(next(r for r in REQUIREMENTS if r.startswith(distribution)))
    if java_runtime() is None:
        missing.append("a Java runtime, 17 or 21 (Debian: openjdk-17-jre-headless)")
    return missing


def java_runtime() -> str | None:
    """The Java runtime Spark will start (``JAVA_HOME`` first, then ``java`` on PATH), or None."""
    import shutil

    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return str(Path(home) / "bin" / "java")
    return shutil.which("java")


def versions() -> dict[str, str]:
    """The versions in use of the packages and the Java runtime the Spark build depends on."""
    found = {}
    for distribution in ("pyspark", "dbt-spark", "dbt-core", "dbt-duckdb", "duckdb"):
        try:
            found[distribution] = importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            found[distribution] = "not installed"
    found["java"] = java_runtime() or "not found"
    return found


# ---------------------------------------------------------------------------- locations


def target() -> str:
    """The profile output to build on: ``PARKWH_TARGET`` when it names a Spark output
    (``spark``, ``spark_thrift``…), else ``spark``."""
    chosen = os.environ.get("PARKWH_TARGET", "")
    return chosen if chosen.startswith("spark") else TARGET


def spark_dir() -> Path:
    """Spark's folder in the warehouse: managed tables (``tables/``), the Derby catalogue
    (``metastore_db/``) and dbt's artefacts for this target (``dbt_target/``, ``dbt_logs/``)."""
    return warehouse().root / "spark"


def spark_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """``dbt_env()`` for the ``spark`` target: the folders above as absolute paths, the landing
    folder Spark reads, and Spark bound to the loopback interface."""
    env = dbt_env(base)
    env["PARKWH_TARGET"] = target()
    folder = spark_dir()
    env["PARKWH_SPARK_DIR"] = folder.as_posix()
    env.setdefault("PARKWH_LANDING_URI", warehouse().landing.as_posix())
    env.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # Spark's Python workers (none are needed for SQL, but pandas conversions may start them)
    # must be this interpreter, which has pyarrow and pandas.
    env.setdefault("PYSPARK_PYTHON", sys.executable)
    env.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    env["DBT_TARGET_PATH"] = (folder / "dbt_target").as_posix()
    env["DBT_LOG_PATH"] = (folder / "dbt_logs").as_posix()
    return env


def target_method() -> str:
    """How the chosen profile output connects (``session``, ``thrift``, ``http``, ``odbc``)."""
    import yaml

    profiles = yaml.safe_load((dbt_project_dir() / "profiles.yml").read_text(encoding="utf-8"))
    output = profiles["parkwh"]["outputs"].get(target())
    if output is None:
        raise SparkBuildError(f"dbt_project/profiles.yml has no output {target()}")
    return str(output.get("method", "session"))


@contextlib.contextmanager
def _environment(wanted: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# ---------------------------------------------------------------------------- the raw layer


def raw_layer() -> dict[str, dict[str, Any]]:
    """The landing folder's layout as the ``create_raw_views`` macro wants it (its var
    ``raw_layer``): for each raw table its columns and types (``parkwh.ingest.raw.columns``, the
    same list the DuckDB views have), the columns its files hold (None when it has no file),
    and whether its rows wait for their version's ``submissions`` file."""
    import pyarrow.parquet as pq

    from parkwh.ingest import landing, raw

    layout: dict[str, dict[str, Any]] = {}
    for table in raw.TABLES:
        present: set[str] | None = None
        if landing.has_files(table):
            present = set()
            for path in landing.table_folder(table).glob("reporting_year=*/*.parquet"):
                present.update(pq.read_schema(path).names)
            # The partition column lives in the folder names, not in the files.
            present.add("reporting_year")
        layout[table] = {
            "columns": [list(column) for column in raw.columns(table)],
            "present": sorted(present) if present is not None else None,
            "committed": table in raw.PART_TABLES,
        }
    return layout


# ---------------------------------------------------------------------------- dbt on Spark


@dataclass
class StepResult:
    """One dbt invocation of the build: what it ran, whether it passed, how long it took."""

    name: str
    args: list[str]
    success: bool
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


@dataclass
class BuildResult:
    """The whole Spark build: its steps, the Monte Carlo's rows and the time it took."""

    steps: list[StepResult]
    monte_carlo_rows: int
    seconds: float

    @property
    def success(self) -> bool:
        return all(step.success for step in self.steps)


def run_dbt_spark(args: Sequence[str], *, name: str | None = None) -> StepResult:
    """Run one dbt command on the ``spark`` target in this process and report its outcome."""
    from dbt.cli.main import dbtRunner

    project = dbt_project_dir()
    spark_dir().mkdir(parents=True, exist_ok=True)
    command = [
        *args,
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        "--target",
        target(),
    ]
    started = time.monotonic()
    with _environment(spark_env()):
        outcome = dbtRunner().invoke(command)
    seconds = time.monotonic() - started
    counts: dict[str, int] = {}
    errors: list[str] = []
    results = getattr(outcome.result, "results", None) or []
    for result in results:
        status = str(getattr(result.status, "value", result.status))
        counts[status] = counts.get(status, 0) + 1
        if status in {"error", "fail"}:
            node = getattr(result, "node", None)  # a run-operation's result names no node
            errors.append(f"{node.unique_id}: {result.message}" if node else str(result.message))
    if outcome.exception is not None:
        errors.append(f"{type(outcome.exception).__name__}: {outcome.exception}")
    return StepResult(name or args[0], list(args), bool(outcome.success), seconds, counts, errors)


def _check(step: StepResult) -> StepResult:
    if not step.success:
        details = (
            "\n".join(step.errors[:20])
            or "see dbt's log in " + (spark_dir() / "dbt_logs").as_posix()
        )
        raise SparkBuildError(f"dbt {step.name} on Spark failed:\n{details}")
    return step


def session() -> SparkSession:
    """The Spark session of this process: the one dbt started (the profile's settings), or a new
    one with the same settings when dbt has not run yet."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    # dbt-spark starts the session on its first statement; a trivial command makes it do so with
    # exactly the profile's settings, which live in one place (profiles.yml).
    _check(run_dbt_spark(["run-operation", "spark_session_ready"], name="session"))
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    if "SPARK_REMOTE" in os.environ:  # a Spark Connect session, which the classic lookup misses
        return SparkSession.builder.getOrCreate()
    # dbt connected some other way (a Thrift server): a session here would be a local Spark
    # that has never seen the cluster's tables.
    raise SparkBuildError(
        f"the dbt target {target()} leaves no Spark session in this process: set SPARK_REMOTE to "
        "the cluster's Spark Connect endpoint, which the Monte Carlo and the read-back use "
        "(docs/spark.md)"
    )


def _relation(manifest_nodes: dict, model: str) -> str:
    for node in manifest_nodes.values():
        if node.get("resource_type") == "model" and node.get("name") == model:
            return f"{node['schema']}.{node.get('alias') or node['name']}"
    raise SparkBuildError(f"the dbt project has no model {model}")


def _manifest_nodes() -> dict:
    path = spark_dir() / "dbt_target" / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8"))["nodes"]


def build_monte_carlo(spark: SparkSession) -> int:
    """Compute the Monte Carlo from Spark's tables and write it where dbt expects the model.

    The inputs are those of the dbt Python model ``int_method_rank_uncertainty``, read back from
    Spark as Arrow, in the orders that model fixes; the catalogue comes from the same seed files
    dbt loaded. Returns the number of rows written.
    """
    from parkwh.method.catalogue import load_catalogue
    from parkwh.method.montecarlo import uncertainty_frame

    nodes = _manifest_nodes()

    def frame(model: str, columns: str, order: str):
        relation = _relation(nodes, model)
        table = arrow(spark.sql(f"select {columns} from {relation} order by {order}"))
        return table.to_pandas()

    imputed = frame(
        "int_method_imputed",
        "base_code, reporting_year, indicator_code, imputed_value, ranked",
        "reporting_year, base_code, indicator_code",
    )
    panel = frame(
        "int_method_expert_panel",
        "base_code, reporting_year, expert_score",
        "reporting_year, base_code, source_row",
    )
    scores = frame(
        "int_method_scores", "base_code, reporting_year, ranked, rank", "reporting_year, base_code"
    )
    result = uncertainty_frame(load_catalogue(), imputed, panel, scores)
    target = _relation(nodes, MONTE_CARLO_MODEL)
    schema = target.split(".", 1)[0]
    spark.sql(f"create database if not exists {schema}")
    import pyarrow as pa

    data = pa.Table.from_pandas(result, preserve_index=False)
    frame_out = spark_frame(spark, data)
    frame_out.write.mode("overwrite").format("parquet").saveAsTable(target)
    return data.num_rows


def spark_frame(spark: SparkSession, data: pa.Table):
    """An Arrow table as a Spark DataFrame with the same column types (INTEGER stays INTEGER,
    which a detour through pandas would widen to BIGINT)."""
    try:
        return spark.createDataFrame(data)  # pyspark 4.0 takes Arrow tables
    except TypeError:  # pyspark 3.5: rows, with the schema Arrow's types map to
        from pyspark.sql.pandas.types import from_arrow_schema

        return spark.createDataFrame(data.to_pandas(), schema=from_arrow_schema(data.schema))


def build(*, full_refresh: bool = False, select_tests: bool = True) -> BuildResult:
    """Build the whole dbt project on Spark from the landing files of the warehouse in force.

    Steps: the raw views; ``dbt build`` of everything not downstream of the Monte Carlo; the
    Monte Carlo from Spark's tables; ``dbt build`` of the rest (and the Monte Carlo's tests).
    ``select_tests`` false runs models and seeds only (``dbt run`` and ``dbt seed``).
    Raises ``SparkBuildError`` when a step fails.
    """
    missing = missing_requirements()
    if missing:
        raise SparkBuildError(
            "the Spark target needs " + ", ".join(missing) + " (make test-spark installs them)"
        )
    method = target_method()
    if method != "session" and "SPARK_REMOTE" not in os.environ:
        raise SparkBuildError(
            f"the dbt target {target()} connects by {method}: the Monte Carlo and the read-back "
            "need a Spark session as well; set SPARK_REMOTE to the cluster's Spark Connect "
            "endpoint (docs/spark.md)"
        )
    started = time.monotonic()
    layout = ["--vars", json.dumps({"raw_layer": raw_layer()})]
    refresh = ["--full-refresh"] if full_refresh else []
    steps = [
        _check(run_dbt_spark(["run-operation", "create_raw_views", *layout], name="raw views"))
    ]
    downstream = f"{MONTE_CARLO_MODEL}+"
    if select_tests:
        steps.append(
            _check(run_dbt_spark(["build", "--exclude", downstream, *refresh], name="build"))
        )
    else:
        steps.append(_check(run_dbt_spark(["seed", *refresh], name="seed")))
        steps.append(_check(run_dbt_spark(["run", "--exclude", downstream, *refresh], name="run")))
    spark = session()
    mc_started = time.monotonic()
    rows = build_monte_carlo(spark)
    steps.append(StepResult("monte carlo", [], True, time.monotonic() - mc_started, {"rows": rows}))
    rest = ["--select", downstream, "--exclude", MONTE_CARLO_MODEL]
    if select_tests:
        steps.append(
            _check(run_dbt_spark(["build", *rest, *refresh], name="build after monte carlo"))
        )
        steps.append(
            _check(run_dbt_spark(["test", "--select", MONTE_CARLO_MODEL], name="monte carlo tests"))
        )
    else:
        steps.append(_check(run_dbt_spark(["run", *rest, *refresh], name="run after monte carlo")))
    return BuildResult(steps, rows, time.monotonic() - started)


# ---------------------------------------------------------------------------- reading back


def arrow(frame) -> pa.Table:
    """A Spark DataFrame as an Arrow table (``toArrow`` from pyspark 4.0; Spark's own Arrow
    collection before it)."""
    if hasattr(frame, "toArrow"):
        return frame.toArrow()
    import pyarrow as pa

    return pa.Table.from_batches(frame._collect_as_arrow(), schema=None)  # pyspark 3.5


def read_table(spark: SparkSession, relation: str) -> pa.Table:
    """A Spark table (``schema.table``) read back as an Arrow table."""
    return arrow(spark.table(relation))


def spark_tables(spark: SparkSession, schema: str) -> list[str]:
    """The tables of a Spark database (views included), sorted."""
    return sorted(
        row.tableName
        for row in spark.sql(f"show tables in {schema}").collect()
        if not row.isTemporary
    )


def duckdb_tables(schema: str) -> dict[str, pa.Table]:
    """Every table and view of a schema of the DuckDB warehouse in force, as Arrow tables."""
    from parkwh import db

    with db.connect(read_only=True) as connection:
        names = [
            name
            for (name,) in connection.execute(
                "select table_name from information_schema.tables where table_schema = ? order by 1",
                [schema],
            ).fetchall()
        ]
        return {
            name: connection.sql(f'select * from {schema}."{name}"').to_arrow_table()
            for name in names
        }


# ---------------------------------------------------------------------------- publishing Spark's output


def output_dir() -> Path:
    """The warehouse folder of Spark's output: ``parkwh.duckdb`` with Spark's tables, and what
    the gate and publishing write from them (``quality/``, ``exports/``, ``published.duckdb``,
    ``reports/``), laid out as in any warehouse folder."""
    return spark_dir() / "output"


def _naive_utc(table: pa.Table) -> pa.Table:
    # Spark hands timestamps over in its session time zone (UTC); the warehouse keeps them as
    # TIMESTAMP without a zone, as ingestion writes them.
    import pyarrow as pa

    for index, column in enumerate(table.schema):
        if pa.types.is_timestamp(column.type) and column.type.tz is not None:
            naive = (
                table.column(index)
                .cast(pa.timestamp(column.type.unit, "UTC"))
                .cast(pa.timestamp(column.type.unit))
            )
            table = table.set_column(index, pa.field(column.name, naive.type), naive)
    return table


def mirror(spark: SparkSession) -> list[str]:
    """Copy every table dbt built on Spark into ``output/parkwh.duckdb``, through Arrow.

    The gate and publishing then run on Spark's output with the very code that runs on DuckDB's:
    they read ``parkwh.duckdb`` of the warehouse in force. The raw views are DuckDB's over
    ingestion's landing files (linked, not copied: personal data is not duplicated), and the
    audit of submissions is ingestion's. Publication history in ``output/`` is kept from one run
    to the next, so republishing the same data makes no new version there either.
    Returns the relations copied.
    """
    from parkwh import db
    from parkwh.ingest import raw

    source = warehouse()
    relations = sorted(
        {
            (node["schema"], node.get("alias") or node["name"])
            for node in _manifest_nodes().values()
            if node.get("resource_type") in {"model", "seed"}
            and node.get("config", {}).get("enabled", True)
        }
    )
    out = output_dir()
    out.mkdir(parents=True, exist_ok=True)
    landing = out / "landing"
    if not landing.is_symlink():
        landing.symlink_to(source.landing, target_is_directory=True)
    copied = []
    # The ingested warehouse's lock first (its audit tables are read), then the output's.
    with (
        db.writer_lock(),
        _environment({"PARKWH_WAREHOUSE_DIR": out.as_posix()}),
        db.connect() as connection,
    ):
        raw.ensure_schemas(connection)
        raw.refresh_views(connection)
        connection.execute(f"attach '{source.database.as_posix()}' as ingested (read_only)")
        try:
            for table in ("submissions", "submission_problems"):
                connection.execute(f"delete from audit.{table}")
                connection.execute(
                    f"insert into audit.{table} select * from ingested.audit.{table}"
                )
        finally:
            connection.execute("detach ingested")
        for schema, name in relations:
            data = _naive_utc(read_table(spark, f"{schema}.{name}"))
            connection.execute(f'create schema if not exists "{schema}"')
            connection.register("spark_output", data)
            try:
                connection.execute(
                    f'create or replace table "{schema}"."{name}" as select * from spark_output'
                )
            finally:
                connection.unregister("spark_output")
            copied.append(f"{schema}.{name}")
    return copied


@dataclass
class Publishing:
    """The gate's run and what was published from Spark's output."""

    gate_open: bool
    verdict: str
    quality_report: Path
    publications: list[str]
    reports: dict[int, Path]


def gate_and_publish(
    spark: SparkSession | None = None, *, clock: Callable[[], dt.datetime] | None = None
) -> Publishing:
    """Mirror Spark's output, run the quality gate on it, and publish it when the gate is open:
    the exports, ``published.duckdb`` and the annual reports, in ``output/``. A closed gate
    publishes nothing (``SparkBuildError`` names the failing expectations). ``clock`` stands for
    the time of publication (as in ``parkwh.publish.publications.publish``)."""
    from parkwh.publish import publications, readonly
    from parkwh.publish import report as annual_report
    from parkwh.quality import audit, report, runner
    from parkwh.quality.results import FAIL
    from parkwh.quality.suites import load_suites

    spark = spark or session()
    mirror(spark)
    run_id = "spark-" + dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    with _environment({"PARKWH_WAREHOUSE_DIR": output_dir().as_posix()}):
        run = runner.run_suites(load_suites(), run_id=run_id)
        page = report.write_report(run)
        audit.write_check_results(run)
        if not run.gate_open:
            failures = "\n".join(result.headline() for result in run.with_outcome(FAIL))
            raise SparkBuildError(f"the quality gate is closed on Spark's output:\n{failures}")
        published = publications.publish(run_id=run_id, clock=clock)
        readonly.build()
        reports = {year: annual_report.render(year) for year in annual_report.published_years()}
    return Publishing(run.gate_open, run.verdict(), page, [p.line() for p in published], reports)


# ---------------------------------------------------------------------------- comparing


@dataclass
class TableComparison:
    """One published table on both engines: rows per reporting year and the differences found."""

    table: str
    columns: list[str]
    duckdb_rows: dict[int | None, int]
    spark_rows: dict[int | None, int]
    differences: list[str]

    @property
    def agrees(self) -> bool:
        return not self.differences


def _is_float(arrow_type) -> bool:
    import pyarrow as pa

    return pa.types.is_floating(arrow_type)


def _canonical_type(arrow_type) -> str:
    """A column's type as both engines should agree on it (strings of any width are strings)."""
    import pyarrow as pa

    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "string"
    if pa.types.is_timestamp(arrow_type):
        return "timestamp"
    return str(arrow_type)


def _sort_key(row: dict[str, Any], keys: list[str]) -> tuple:
    # NULL first, then values; a tuple per column keeps mixed NULLs comparable.
    return tuple((row[k] is not None, row[k]) for k in keys)


def _values_differ(left: Any, right: Any, is_float: bool) -> bool:
    if left is None or right is None:
        return (left is None) != (right is None)
    if is_float:
        if math.isnan(left) or math.isnan(right):
            return math.isnan(left) != math.isnan(right)
        return abs(left - right) > SCORE_TOLERANCE
    if isinstance(left, decimal.Decimal) or isinstance(right, decimal.Decimal):
        return abs(decimal.Decimal(left) - decimal.Decimal(right)) >= MONEY_TOLERANCE
    if isinstance(left, dt.datetime) and isinstance(right, dt.datetime):
        return left.replace(tzinfo=None) != right.replace(tzinfo=None)
    return left != right


def compare_tables(
    name: str, duck: pa.Table, spark: pa.Table, *, limit: int = 20
) -> TableComparison:
    """Compare one table row for row: the same columns and types, the same rows per reporting
    year, every value equal (money to the fen, floating-point values to 1e-9)."""
    differences: list[str] = []
    duck_columns = duck.schema.names
    spark_columns = spark.schema.names
    if duck_columns != spark_columns:
        differences.append(f"columns differ: duckdb {duck_columns}, spark {spark_columns}")
    common = [c for c in duck_columns if c in spark_columns]
    for column in common:
        left, right = duck.schema.field(column).type, spark.schema.field(column).type
        if _canonical_type(left) != _canonical_type(right):
            differences.append(f"column {column}: duckdb {left}, spark {right}")
    floats = {
        c
        for c in common
        if _is_float(duck.schema.field(c).type) or _is_float(spark.schema.field(c).type)
    }
    keys = [c for c in common if c not in floats] + sorted(floats)
    duck_rows = sorted(duck.select(common).to_pylist(), key=lambda r: _sort_key(r, keys))
    spark_rows = sorted(spark.select(common).to_pylist(), key=lambda r: _sort_key(r, keys))

    def per_year(rows: list[dict[str, Any]]) -> dict[int | None, int]:
        counts: dict[int | None, int] = {}
        for row in rows:
            year = row.get("reporting_year")
            counts[year] = counts.get(year, 0) + 1
        return dict(sorted(counts.items(), key=lambda item: (item[0] is None, item[0] or 0)))

    duck_years, spark_years = per_year(duck_rows), per_year(spark_rows)
    if duck_years != spark_years:
        differences.append(
            f"rows per reporting_year differ: duckdb {duck_years}, spark {spark_years}"
        )
    else:
        for number, (left, right) in enumerate(zip(duck_rows, spark_rows), start=1):
            for column in common:
                if _values_differ(left[column], right[column], column in floats):
                    identity = {k: left[k] for k in keys[:3]}
                    differences.append(
                        f"row {number} {identity}: {column} duckdb {left[column]!r}, spark {right[column]!r}"
                    )
                    if len(differences) >= limit:
                        break
            if len(differences) >= limit:
                break
    return TableComparison(name, common, duck_years, spark_years, differences)


def published_models() -> list[str]:
    """The dbt models of the ``published`` schema (the publication history views that
    publishing adds beside them in DuckDB are not dbt's, and are not compared)."""
    return sorted(
        node.get("alias") or node["name"]
        for node in _manifest_nodes().values()
        if node.get("resource_type") == "model"
        and node.get("schema") == PUBLISHED_SCHEMA
        and node.get("config", {}).get("enabled", True)
    )


def compare_published(spark: SparkSession | None = None) -> list[TableComparison]:
    """Compare every published dbt model on Spark with DuckDB's table (a table missing on either
    side is a difference)."""
    spark = spark or session()
    names = published_models()
    duck = duckdb_tables(PUBLISHED_SCHEMA)
    on_spark = set(spark_tables(spark, PUBLISHED_SCHEMA))
    comparisons = []
    for name in names:
        missing = [
            engine
            for engine, found in (("DuckDB", name in duck), ("Spark", name in on_spark))
            if not found
        ]
        if missing:
            comparisons.append(
                TableComparison(
                    name,
                    [],
                    {},
                    {},
                    [f"{PUBLISHED_SCHEMA}.{name} is missing on {' and '.join(missing)}"],
                )
            )
            continue
        comparisons.append(
            compare_tables(name, duck[name], read_table(spark, f"{PUBLISHED_SCHEMA}.{name}"))
        )
    if not names:
        comparisons.append(
            TableComparison("(none)", [], {}, {}, ["the dbt project publishes no table"])
        )
    return comparisons


def comparison_report(comparisons: Sequence[TableComparison]) -> str:
    """A plain-text table: each published table and year, rows on each engine, and the verdict."""
    lines = [f"{'table':<22} {'year':>6} {'duckdb':>8} {'spark':>8}  verdict"]
    for comparison in comparisons:
        years = sorted(
            set(comparison.duckdb_rows) | set(comparison.spark_rows),
            key=lambda y: (y is None, y or 0),
        )
        verdict = "agree" if comparison.agrees else "DIFFER"
        for year in years or [None]:
            lines.append(
                f"{comparison.table:<22} {year if year is not None else '-':>6} "
                f"{comparison.duckdb_rows.get(year, 0):>8} {comparison.spark_rows.get(year, 0):>8}  {verdict}"
            )
        lines.extend(f"    {difference}" for difference in comparison.differences)
    agreed = sum(c.agrees for c in comparisons)
    lines.append(f"{agreed} of {len(comparisons)} published tables agree")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m parkwh.spark", description=__doc__.splitlines()[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check", help="say whether pyspark and dbt-spark are installed")
    build_parser = commands.add_parser(
        "build", help="build the dbt project on Spark from the landing files"
    )
    build_parser.add_argument(
        "--no-tests", action="store_true", help="models and seeds only, no dbt tests"
    )
    build_parser.add_argument(
        "--compare", action="store_true", help="then compare published tables with DuckDB"
    )
    build_parser.add_argument(
        "--publish",
        action="store_true",
        help="then gate and publish Spark's output (into warehouse/spark/output)",
    )
    commands.add_parser("compare", help="compare every published table on Spark with DuckDB's")
    options = parser.parse_args(argv)
    if options.command == "check":
        missing = missing_requirements()
        for distribution, version in versions().items():
            print(f"{distribution:<10} {version}")
        if missing:
            print("missing: " + " ".join(missing), file=sys.stderr)
            return 1
        return 0
    try:
        if options.command == "build":
            result = build(select_tests=not options.no_tests)
            for step in result.steps:
                counts = ", ".join(f"{k} {v}" for k, v in sorted(step.counts.items()))
                print(f"{step.name:<26} {step.seconds:7.1f} s  {counts}")
            print(f"Spark build: {result.seconds:.1f} s")
            if options.publish:
                published = gate_and_publish()
                print(published.verdict)
                print("\n".join(published.publications))
                for year, path in published.reports.items():
                    print(f"Report of {year}: {path}")
            if not options.compare:
                return 0
        comparisons = compare_published()
    except SparkBuildError as error:
        print(error, file=sys.stderr)
        return 1
    print(comparison_report(comparisons))
    return 0 if all(c.agrees for c in comparisons) else 1


if __name__ == "__main__":
    raise SystemExit(main())
