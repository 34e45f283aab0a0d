"""Dagster assets for ingestion: a reporting year's inbox into the raw tables, with the audit trail."""

import dagster as dg

from parkwh.defs.partitions import reporting_year_partitions
from parkwh.ingest import raw
from parkwh.ingest.run import LANDED_TABLES, IngestSummary, ingest_year
from parkwh.submission import spec
from parkwh.submission.reader import EXPERT_SCORE_FIELDS

GROUP = "ingest"
OWNERS = ["team:parkwh"]
KINDS = {"duckdb", "parquet", "python"}

DESCRIPTIONS = {
    "submissions": (
        "One row per accepted submission version: base, reporting year, form, source file, its "
        "sha256, when it was received (the file's modification time) and loaded. The version in "
        "force for a base and year is the accepted one received last. Rejected and superseded "
        "versions, and every problem found, are in audit.submissions and audit.submission_problems."
    ),
    "base": "The base part of each accepted submission version, exactly as submitted, with provenance.",
    "companies": "The company roster of each accepted submission version, as submitted, with provenance.",
    "talent": (
        "The returnee roster of each accepted submission version, as submitted, with provenance. "
        "Holds personal data (names, ID numbers, phones) that never leaves the raw schema; "
        "person_key is the keyed pseudonym of the ID number."
    ),
    "funding": "The funding events of each accepted submission version, as submitted, with provenance.",
    "expert_scores": (
        "The committee's expert scores (expert_id, scored base_code, score) of each accepted "
        "expert score file version, as submitted, with provenance."
    ),
}

_PROVENANCE_DESCRIPTIONS = {
    "submission_id": "The submission version: <year>-<base_code>-<first 12 hex of sha256>",
    "base_code": "The base, from the file name",
    "reporting_year": "The year the figures describe, from the inbox folder",
    "source_path": "The submitted file, relative to the warehouse folder",
    "source_sha256": "sha256 of the submitted bytes; the archive keeps them under this name",
    "source_row": "The row a person sees: sheet row, CSV line, JSON array index + 1",
    "loaded_at": "When ingestion landed the version (UTC)",
    "received_at": "When the file arrived in the inbox: its modification time (UTC)",
    "form": "xlsx, json or csv (a folder of CSV files)",
    "person_key": "Keyed pseudonym (HMAC-SHA256) of the person's ID number",
    "expert_id": "The expert, by the committee's identifier",
    "score": "The expert's score of the base, as submitted",
}


def _column_description(table: str, name: str) -> str:
    if table == "expert_scores" and name == "base_code":
        return "The scored base, as the committee typed it"
    if name in _PROVENANCE_DESCRIPTIONS:
        return _PROVENANCE_DESCRIPTIONS[name]
    fields = EXPERT_SCORE_FIELDS if table == "expert_scores" else spec.part_fields(table)
    by_key = {f.key: f for f in fields}
    if name.endswith("_unit") and name[: -len("_unit")] in by_key:
        return f"Unit of {name[: -len('_unit')]} as the header named it: 元, 万元 or 亿元"
    field = by_key.get(name)
    return f"{field.label_zh} / {field.label_en}: {field.description}" if field else ""


def _column_schema(table: str) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name, sql_type.lower(), description=_column_description(table, name))
            for name, sql_type in raw.columns(table)
        ]
    )


def _spec(table: str) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=["raw", table],
        description=DESCRIPTIONS[table],
        group_name=GROUP,
        kinds=KINDS,
        owners=OWNERS,
        metadata={
            "dagster/table_name": f"raw.{table}",
            "dagster/column_schema": _column_schema(table),
        },
    )


def _submissions_metadata(summary: IngestSummary) -> dict:
    rejected = [f"- `{f.source_path}`: {f.reason()}" for f in summary.rejected]
    return {
        "files_accepted": len(summary.accepted),
        "files_rejected": len(summary.rejected),
        "files_unchanged": len(summary.unchanged),
        "files_skipped": len(summary.skipped),
        "bases_in_force": summary.rows_in_force.get("submissions", 0),
        "versions_in_force": summary.status_counts.get("accepted", 0),
        "versions_superseded": summary.status_counts.get("superseded", 0),
        "versions_rejected": summary.status_counts.get("rejected", 0),
        "rejected_files": dg.MetadataValue.md("\n".join(rejected) or "None."),
        "problems": dg.MetadataValue.md(summary.problems_markdown()),
        "summary": dg.MetadataValue.text(summary.text()),
        "ingest_run_id": summary.run_id,
    }


@dg.multi_asset(
    name="ingest_submissions",
    specs=[_spec(table) for table in raw.TABLES],
    partitions_def=reporting_year_partitions,
    description=(
        "Archives every file of the year's inbox by sha256, validates it as parkwh validate does, "
        "lands each accepted part as Parquet and records every version and problem in the audit "
        "tables. A rejected file does not fail the run: the other bases' data flows on."
    ),
)
def ingest_submissions(context: dg.AssetExecutionContext):
    """Ingest ``inbox/<year>/`` for the partition's reporting year."""
    summary = ingest_year(int(context.partition_key), run_id=context.run.run_id)
    if summary.rejected or summary.skipped:
        context.log.warning(summary.text())
    else:
        context.log.info(summary.text())
    yield dg.MaterializeResult(
        asset_key=["raw", "submissions"],
        metadata={
            **_submissions_metadata(summary),
            "dagster/row_count": summary.rows_in_force.get("submissions", 0),
        },
    )
    loaded = summary.rows_loaded
    for table in LANDED_TABLES:
        yield dg.MaterializeResult(
            asset_key=["raw", table],
            metadata={
                "rows_loaded": loaded.get(table, 0),
                "dagster/row_count": summary.rows_in_force.get(table, 0),
            },
        )


defs = dg.Definitions(assets=[ingest_submissions])
