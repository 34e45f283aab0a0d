"""Dagster assets for publishing: the Parquet exports, published.duckdb and the annual reports.

They run after the published dbt tables, and only when those were built in the same run or before:
the quality gate's blocking checks on the published tables' inputs stop them, so a failing suite
leaves the previous publication in place. Each asset is a few seconds of work.
"""

# No `from __future__ import annotations`: Dagster reads the context annotation at definition time.
import dagster as dg

from parkwh.publish import exports as export_files
from parkwh.publish import publications, readonly
from parkwh.publish import report as annual_report

GROUP = "publish"
OWNERS = ["team:parkwh"]

PUBLISHED_TABLES = ("park_ranking", "park_scores", "report_summary")
PUBLISHED_KEYS = [dg.AssetKey(["published", name]) for name in PUBLISHED_TABLES]
# The submissions in force that a publication records come from fct_base_year.
SUBMISSIONS_KEY = dg.AssetKey(["marts", "fct_base_year"])
MART_KEYS = [dg.AssetKey(["marts", name]) for name in readonly.MART_TABLES]


def _publications_markdown(results: list[publications.Publication]) -> str:
    lines = [
        "| year | publication | new | reason | ranked | changed | files restored |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in results:
        lines.append(
            f"| {p.reporting_year} | {p.publication_id} | {'yes' if p.new else 'no'} | {p.reason} "
            f"| {p.bases_ranked} | {p.changes} | {p.files_restored} |"
        )
    return "\n".join(lines)


@dg.asset(
    key=["exports"],
    deps=[*PUBLISHED_KEYS, SUBMISSIONS_KEY],
    group_name=GROUP,
    owners=OWNERS,
    kinds={"parquet", "python"},
    description=(
        "Publishes each reporting year whose published tables, submissions or method changed "
        "(a new version in audit.publications, with a changelog row per base that moved), and "
        "writes every published table as hive-partitioned Parquet: exports/<table>/reporting_year="
        "<year>/data.parquet, plus exports/manifest.json (columns, types, rows, sha256)."
    ),
)
def exports(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    results = publications.publish(run_id=context.run.run_id)
    for publication in results:
        context.log.info(publication.line())
    manifest = export_files.read_manifest()
    tables = manifest["tables"]
    return dg.MaterializeResult(
        metadata={
            "publications": dg.MetadataValue.md(_publications_markdown(results)),
            "new_versions": sum(1 for p in results if p.new),
            "tables": len(tables),
            "files": sum(len(t["files"]) for t in tables.values()),
            "dagster/row_count": sum(t["rows"] for t in tables.values()),
            "manifest": dg.MetadataValue.path(str(export_files.manifest_path())),
        }
    )


@dg.asset(
    key=["published_database"],
    deps=[exports, *MART_KEYS],
    group_name=GROUP,
    owners=OWNERS,
    kinds={"duckdb"},
    description=(
        "warehouse/published.duckdb: what is published, with the dimensions and facts it rests on "
        "(nothing personal), for SQL users and BI tools. Replaced atomically, written with storage "
        "version v1.0.0 so that DuckDB 1.1 and later open it; a reader never blocks the pipeline."
    ),
)
def published_database(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    built = readonly.build()
    rows = "\n".join(f"| {name} | {count} |" for name, count in built.tables.items())
    withheld = "\n".join(f"- `{name}`: {why}" for name, why in built.withheld.items())
    context.log.info(
        f"Wrote {built.path} ({len(built.tables)} tables, {built.size_bytes:,} bytes)."
    )
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(built.path)),
            "tables": dg.MetadataValue.md("| table | rows |\n|---|---|\n" + rows),
            "withheld": dg.MetadataValue.md(withheld or "Nothing."),
            "size_bytes": built.size_bytes,
            "storage_version": readonly.STORAGE_VERSION,
        }
    )


@dg.asset(
    key=["annual_report"],
    deps=[published_database],
    group_name=GROUP,
    owners=OWNERS,
    kinds={"html"},
    description=(
        "warehouse/reports/<year>/index.html for every published year: the annual competitiveness "
        "report in Chinese and English, one self-contained page (charts inline as SVG)."
    ),
)
def annual_report_pages(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    written = annual_report.render_all()
    for year, path in written.items():
        context.log.info(f"Report of {year}: {path}")
    latest = max(written) if written else None
    metadata: dict[str, object] = {
        "years": ", ".join(map(str, written)) or "none",
        "pages": dg.MetadataValue.md(
            "\n".join(f"- {y}: `{p}`" for y, p in written.items()) or "None."
        ),
    }
    if latest is not None:
        metadata["latest"] = dg.MetadataValue.path(str(written[latest]))
    return dg.MaterializeResult(metadata=metadata)


defs = dg.Definitions(assets=[exports, published_database, annual_report_pages])
