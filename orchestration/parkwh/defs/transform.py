"""Dagster assets for the dbt warehouse model: staging, intermediate, marts and published tables."""

# No `from __future__ import annotations`: Dagster reads the context annotation at definition time.
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from parkwh import config, transform
from parkwh.config import dbt_project_dir

DBT_GROUPS = ("staging", "intermediate", "marts", "method", "published")
"""Dagster groups follow the dbt folders, so the UI shows the layers as dbt has them."""

OWNERS = ["team:parkwh"]


class ParkwhDbtTranslator(DagsterDbtTranslator):
    """Groups by dbt folder and one owner; sources keep the raw asset keys ingestion produces.

    Asset keys come from dagster-dbt's defaults: a source's ``meta.dagster.asset_key``
    (``["raw", "<table>"]``), and ``[<schema>, <name>]`` for models and seeds, which is exactly
    where each lives in the warehouse (``marts/fct_base_year`` is ``marts.fct_base_year``).
    """

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            # Seeds are loaded into the staging schema, beside the models that read them.
            return "staging"
        fqn: Sequence[str] = dbt_resource_props.get("fqn", ())
        for part in fqn[1:-1]:
            if part in DBT_GROUPS:
                return part
        return super().get_group_name(dbt_resource_props)

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> Sequence[str] | None:
        return OWNERS


# The manifest is parsed at install time (python -m parkwh.transform prepare) and again only when
# a project file changed since; under `dagster dev` dagster-dbt re-parses it at each load, with
# this install's dbt first on PATH.
transform.prepare_manifest()
parkwh_dbt_project = DbtProject(
    project_dir=dbt_project_dir(),
    profiles_dir=dbt_project_dir(),
    target=transform.target_name(),
)
with transform.dbt_environment():
    parkwh_dbt_project.prepare_if_dev()


PUBLISHED_SELECTION = "config.schema:published"
"""The dbt models that publish: built in a step of their own, so the quality gate's blocking
checks on their inputs (the candidates in ``marts``) can stop them."""


def _build(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """Builds and tests the selected dbt models on the warehouse in force, one writer at a time.

    dbt builds a copy of the warehouse file that replaces it once dbt has run to its end
    (``transform.building_aside``): a run killed half-way leaves the previous warehouse whole.
    """
    with transform.writer_lock():
        with transform.building_aside() as build, transform.dbt_environment():
            invocation = dbt.cli(
                ["build"], context=context, raise_on_error=False, target_path=_target_path(context)
            )
            try:
                if transform.target_name() == transform.DEFAULT_TARGET:
                    yield from _with_table_metadata(invocation, build.path)
                else:
                    yield from invocation.stream().fetch_row_counts().fetch_column_metadata(
                        with_column_lineage=False
                    )
            finally:
                transform.release_duckdb_connections()
                _tidy(invocation)
            # Killed by a signal, dbt may have stopped anywhere: keep the warehouse as it was.
            build.keep = invocation.process.wait() >= 0
        # Failed tests fail the step as before, once the models dbt built are in place.
        error = invocation.get_error()
        if error is not None:
            raise error


RUN_ARTEFACTS_KEPT = 10
"""dbt's artefacts (run_results.json, compiled SQL, logs) of this many recent dbt steps are kept."""


def _target_path(context: dg.AssetExecutionContext) -> Path:
    """Where a dbt step writes its artefacts: a folder of its own under the warehouse.

    dagster-dbt gives every invocation a new folder; inside the dbt project these would pile up
    (megabytes per run) and be copied along whenever Dagster runs dbt from a copy of the project.
    """
    runs = config.warehouse().root / "dbt" / "runs"
    return runs / f"{context.op_execution_context.op.name}-{context.run_id[:8]}"


def _tidy(invocation) -> None:
    """Keep the artefacts of the last few dbt steps, and no temporary copy of the project.

    To run a subset of more than 200 dbt resources (the check job: every dbt test, no model),
    dagster-dbt runs dbt in a temporary copy of the project with a generated selector and
    leaves the copy behind; it is removed here once dbt is done with it.
    """
    project = Path(invocation.project_dir)
    temporary = Path(tempfile.gettempdir())
    if project.resolve() != dbt_project_dir().resolve() and temporary in project.resolve().parents:
        shutil.rmtree(project, ignore_errors=True)
    runs = Path(invocation.target_path).parent
    if runs != config.warehouse().root / "dbt" / "runs":
        return  # a caller's own target folder: theirs to keep
    kept = sorted((p for p in runs.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    for stale in kept[:-RUN_ARTEFACTS_KEPT]:
        shutil.rmtree(stale, ignore_errors=True)


def _with_table_metadata(invocation, database: Path) -> Iterator[Any]:
    """dbt's events, each model's with its row count and columns, read in one connection.

    dagster-dbt's own fetch opens a dbt adapter connection per model, after dbt has ended
    (DuckDB allows no reader beside dbt's writer), and parses every model's SQL for column
    lineage: on this project that took longer than the dbt build itself. Here dbt's events wait
    for dbt to end as they did, and then one read-only connection to the file dbt wrote counts
    every table and reads every column type in a fraction of a second.
    """
    events = list(invocation.stream())
    if invocation.process.wait() < 0:  # killed: the file may be half-written, read nothing
        yield from events
        return
    nodes = invocation.manifest["nodes"]
    built = {}
    for event in events:
        if isinstance(event, (dg.Output, dg.AssetMaterialization)) and "unique_id" in event.metadata:
            node = nodes.get(event.metadata["unique_id"].value)
            if node and node["config"].get("materialized") != "ephemeral":
                built[node["unique_id"]] = (node["schema"], node["alias"])
    counts, columns = _table_metadata(database, set(built.values()))
    for event in events:
        unique_id = getattr(event, "metadata", {}).get("unique_id")
        relation = built.get(unique_id.value) if unique_id is not None else None
        if relation is None or relation not in counts:
            yield event
            continue
        # Dagster's documented table metadata keys: the UI shows them, parkwh run counts rows.
        metadata = {
            "dagster/row_count": dg.MetadataValue.int(counts[relation]),
            "dagster/column_schema": dg.TableSchema(
                columns=[dg.TableColumn(name, kind) for name, kind in columns[relation]]
            ),
        }
        yield event.with_metadata({**event.metadata, **metadata})


def _table_metadata(
    database: Path, relations: set[tuple[str, str]]
) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], list[tuple[str, str]]]]:
    """Row counts and (column, type) lists of ``relations`` (schema, name) in ``database``."""
    counts: dict[tuple[str, str], int] = {}
    columns: dict[tuple[str, str], list[tuple[str, str]]] = {}
    if not relations:
        return counts, columns
    with duckdb.connect(str(database), read_only=True) as connection:
        for schema, name, column, kind in connection.execute(
            "select table_schema, table_name, column_name, data_type "
            "from information_schema.columns order by table_schema, table_name, ordinal_position"
        ).fetchall():
            if (schema, name) in relations:
                columns.setdefault((schema, name), []).append((column, kind))
        for schema, name in sorted(columns):
            counts[(schema, name)] = connection.execute(
                f'select count(*) from "{schema}"."{name}"'
            ).fetchone()[0]
    return counts, columns


_TRANSLATOR = ParkwhDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@dbt_assets(
    manifest=parkwh_dbt_project.manifest_path,
    project=parkwh_dbt_project,
    dagster_dbt_translator=_TRANSLATOR,
    exclude=PUBLISHED_SELECTION,
    name="parkwh_dbt_models",
)
def parkwh_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """Staging, intermediate, marts and the method's candidates."""
    yield from _build(context, dbt)


@dbt_assets(
    manifest=parkwh_dbt_project.manifest_path,
    project=parkwh_dbt_project,
    dagster_dbt_translator=_TRANSLATOR,
    select=PUBLISHED_SELECTION,
    name="parkwh_dbt_published",
)
def parkwh_dbt_published(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """The published tables: copies of the candidates that passed the quality gate."""
    yield from _build(context, dbt)


defs = dg.Definitions(
    assets=[parkwh_dbt_models, parkwh_dbt_published],
    resources={
        "dbt": DbtCliResource(
            project_dir=parkwh_dbt_project,
            dbt_executable=transform.dbt_executable(),
        ),
    },
)
