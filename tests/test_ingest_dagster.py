"""The ingest assets under Dagster: in-process materialisation of a reporting-year partition."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import dagster as dg
import pytest
from fixtures.submissions import samples
from parkwh import config, db
from parkwh.defs import ingest as ingest_defs
from parkwh.defs.partitions import reporting_year_partitions
from parkwh.submission import spec, writers

YEAR = samples.YEAR
RAW_KEYS = [
    dg.AssetKey(["raw", table])
    for table in ("submissions", "base", "companies", "talent", "funding", "expert_scores")
]
PART_SIZES = {part: len(rows) for part, rows in samples.records().items()}


@pytest.fixture(autouse=True)
def _pii_key(monkeypatch):
    monkeypatch.setenv("PARKWH_PII_KEY", "test-key")


def _records(code: str) -> dict:
    data = samples.records()
    data["base"][0]["base_code"] = code
    return {
        part: [
            {k: Decimal(str(v)) if isinstance(v, float) else v for k, v in row.items()}
            for row in rows
        ]
        for part, rows in data.items()
    }


def _materialize(instance: dg.DagsterInstance) -> dict[dg.AssetKey, dict]:
    result = dg.materialize(
        [ingest_defs.ingest_submissions], partition_key=str(YEAR), instance=instance
    )
    assert result.success
    out = {}
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        assert materialization.partition == str(YEAR)
        out[materialization.asset_key] = {
            k: getattr(v, "value", v) for k, v in materialization.metadata.items()
        }
    return out


def test_the_assets_are_declared_as_the_dbt_sources_expect():
    assets = ingest_defs.defs.resolve_all_asset_specs()
    assert sorted(s.key for s in assets) == sorted(RAW_KEYS)
    for asset in assets:
        assert asset.group_name == "ingest"
        assert asset.kinds == {"duckdb", "parquet", "python"}
        assert asset.owners == ["team:parkwh"]
        assert asset.description
        assert asset.partitions_def == reporting_year_partitions
        assert asset.metadata["dagster/table_name"] == "raw." + asset.key.path[-1]
    assert reporting_year_partitions.get_partition_keys()[0] == "2019"


def test_materializing_a_year_loads_it_and_reports_a_rejected_file(warehouse_dir):
    inbox = config.warehouse().inbox_year(YEAR)
    writers.write_submission(inbox / "SH001.xlsx", _records("SH001"))
    writers.write_submission(inbox / "SH002", _records("SH002"))
    broken = _records("SH003")
    broken["talent"][1]["birth_year"] = "nineteen ninety"
    writers.write_submission(inbox / "SH003.json", broken)
    (inbox / "expert_scores.csv").write_text(
        "base_code,expert_id,score\nSH001,E01,90\nSH002,E01,85\n", encoding="utf-8"
    )

    with dg.DagsterInstance.ephemeral() as instance:
        # A rejected file does not fail the run.
        first = _materialize(instance)
        assert set(first) == set(RAW_KEYS)
        submissions = first[dg.AssetKey(["raw", "submissions"])]
        assert submissions["files_accepted"] == 3  # two bases and the expert scores
        assert submissions["files_rejected"] == 1
        assert submissions["bases_in_force"] == 2
        assert "inbox/2023/SH003.json" in submissions["rejected_files"]
        assert "birth_year" in submissions["problems"] and "wrong_type" in submissions["problems"]
        for part in spec.PARTS:
            metadata = first[dg.AssetKey(["raw", part])]
            assert metadata["rows_loaded"] == 2 * PART_SIZES[part]
            assert metadata["dagster/row_count"] == 2 * PART_SIZES[part]
        assert first[dg.AssetKey(["raw", "expert_scores"])]["rows_loaded"] == 2

        # The same partition again: nothing new, the same rows in force.
        second = _materialize(instance)
        assert second[dg.AssetKey(["raw", "submissions"])]["files_unchanged"] == 4
        for part in spec.PARTS:
            assert second[dg.AssetKey(["raw", part])]["rows_loaded"] == 0
            assert second[dg.AssetKey(["raw", part])]["dagster/row_count"] == 2 * PART_SIZES[part]

        # The run that loaded the rows is their provenance.
        run_ids = {r.run_id for r in instance.get_runs()}
    with db.connect(read_only=True) as con:
        loaded_by = {
            row[0]
            for row in con.execute(
                "SELECT DISTINCT ingest_run_id FROM audit.submissions"
            ).fetchall()
        }
        rejected = con.execute(
            "SELECT source_row, column_name, rule FROM audit.submission_problems"
        ).fetchall()
        loaded_at = con.execute("SELECT max(loaded_at) FROM raw.talent").fetchone()[0]
    assert len(loaded_by) == 1 and loaded_by <= run_ids
    assert (2, "birth_year", "wrong_type") in rejected
    assert isinstance(loaded_at, dt.datetime)


def test_a_partition_without_an_inbox_folder_materializes_empty(warehouse_dir):
    with dg.DagsterInstance.ephemeral() as instance:
        metadata = _materialize(instance)
    assert metadata[dg.AssetKey(["raw", "submissions"])]["files_accepted"] == 0
    assert all(metadata[key]["dagster/row_count"] == 0 for key in RAW_KEYS)
