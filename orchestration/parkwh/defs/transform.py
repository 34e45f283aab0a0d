"""Dagster assets for the dbt warehouse model: staging, intermediate, marts and published tables."""

# No `from __future__ import annotations`: Dagster reads the context annotation at definition time.
from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from parkwh import transform
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


@dbt_assets(
    manifest=parkwh_dbt_project.manifest_path,
    project=parkwh_dbt_project,
    dagster_dbt_translator=ParkwhDbtTranslator(
        settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)
    ),
)
def parkwh_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """Builds and tests the dbt models on the warehouse in force, one writer at a time."""
    with transform.dbt_environment(), transform.writer_lock():
        try:
            yield from (
                dbt.cli(["build"], context=context)
                .stream()
                .fetch_row_counts()
                .fetch_column_metadata()
            )
        finally:
            transform.release_duckdb_connections()


defs = dg.Definitions(
    assets=[parkwh_dbt_models],
    resources={
        "dbt": DbtCliResource(
            project_dir=parkwh_dbt_project,
            dbt_executable=transform.dbt_executable(),
        ),
    },
)
