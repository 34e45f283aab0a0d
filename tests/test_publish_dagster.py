"""The publishing assets in Dagster: where they sit in the graph, and a real materialization."""

from __future__ import annotations

import dagster as dg
import duckdb
from parkwh import config
from test_publish_fixture import YEARS, build

PUBLISHING = [
    dg.AssetKey(["exports"]),
    dg.AssetKey(["published_database"]),
    dg.AssetKey(["annual_report"]),
]


def test_the_publishing_assets_follow_the_published_tables():
    from parkwh.definitions import defs

    graph = defs.resolve_asset_graph()
    for key in PUBLISHING:
        node = graph.get(key)
        assert node.group_name == "publish"
    exports_parents = graph.get(PUBLISHING[0]).parent_keys
    assert {
        dg.AssetKey(["published", "park_ranking"]),
        dg.AssetKey(["published", "park_scores"]),
        dg.AssetKey(["published", "report_summary"]),
        dg.AssetKey(["marts", "fct_base_year"]),
    } <= exports_parents
    database_parents = graph.get(PUBLISHING[1]).parent_keys
    assert PUBLISHING[0] in database_parents
    assert dg.AssetKey(["marts", "dim_base"]) in database_parents
    assert dg.AssetKey(["marts", "dim_talent"]) not in database_parents  # personal: never copied
    assert graph.get(PUBLISHING[2]).parent_keys == {PUBLISHING[1]}
    # the published tables the exports read are built by the dbt assets of the same code location
    for key in exports_parents:
        assert graph.get(key).is_materializable, key


def test_materializing_them_publishes_every_year(warehouse_dir):
    from parkwh.defs.publish import annual_report_pages, exports, published_database

    build(warehouse_dir)
    result = dg.materialize([exports, published_database, annual_report_pages])
    assert result.success
    materialized = {
        event.asset_key: event.event_specific_data.materialization.metadata
        for event in result.get_asset_materialization_events()
    }
    assert set(materialized) == set(PUBLISHING)
    assert materialized[PUBLISHING[0]]["new_versions"].value == len(YEARS)
    for year in YEARS:
        assert (warehouse_dir / "reports" / str(year) / "index.html").is_file()
    con = duckdb.connect(str(config.warehouse().published_database), read_only=True)
    try:
        run_ids = {
            r[0] for r in con.execute("select distinct run_id from audit.publications").fetchall()
        }
    finally:
        con.close()
    assert run_ids == {result.run_id}

    again = dg.materialize([exports])
    assert again.success
    metadata = again.get_asset_materialization_events()[
        0
    ].event_specific_data.materialization.metadata
    assert metadata["new_versions"].value == 0
