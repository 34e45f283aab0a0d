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
            invocation = dbt.cli(["build"], context=context, raise_on_error=False)
            try:
                yield from invocation.stream().fetch_row_counts().fetch_column_metadata()
            finally:
                transform.release_duckdb_connections()
            # Killed by a signal, dbt may have stopped anywhere: keep the warehouse as it was.
            build.keep = invocation.process.wait() >= 0
        # Failed tests fail the step as before, once the models dbt built are in place.
        error = invocation.get_error()
        if error is not None:
            raise error


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
