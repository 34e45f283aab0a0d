"""The suites as blocking Dagster asset checks: the gate between the warehouse and publication.

One check op runs every suite once per run (Great Expectations is imported once, and one report
covers every suite) and reports:

- ``quality_<suite>`` on each table a suite validates: failed expectations with counts and
  sample rows. Blocking when the table has an error-level expectation; a failed warning-level
  expectation alone gives a WARN result, which is shown but blocks nothing.
- ``publication_gate`` on each asset the publishing assets are built from: fails (ERROR) when
  any error-level expectation of any suite failed, whichever table it was on.

Why the second: Dagster's blocking check stops the steps that *consume the checked asset*. A
staging table's failing check cannot stop ``published.park_ranking``, which is built from marts,
not from staging. The gate sits on the publishing assets' direct inputs, so any failure anywhere
stops every publishing step, and with it everything built from them (exports, the report, the
read-only copy). A publishing asset built in the same step as its inputs (one ``dbt build`` of
everything) cannot be stopped by any check: ``ungated`` lists such assets.
"""

# No `from __future__ import annotations`: Dagster reads the context annotation at definition time.
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import dagster as dg

from parkwh.quality import tables
from parkwh.quality.results import FAIL, PASS, WARN, ExpectationResult, QualityRun
from parkwh.quality.suites import Suite

GATE_CHECK_NAME = "publication_gate"
CHECK_OP_NAME = "quality_gate"
PUBLISHING_PREFIXES = ("published", "exports", "reports")
PUBLISHING_GROUPS = ("published", "publish")
"""An asset publishes (and must not materialise when the gate closes) when its key starts with one
of these prefixes (the ``published`` schema's tables, the exports) or it is in one of these groups
(the read-only copy, the report)."""
METADATA_SAMPLE_ROWS = 5


def suite_check_name(suite: str) -> str:
    return f"quality_{suite}"


def is_publishing(key: dg.AssetKey, group: str | None = None) -> bool:
    return (bool(key.path) and key.path[0] in PUBLISHING_PREFIXES) or group in PUBLISHING_GROUPS


@dataclass(frozen=True)
class GatePlan:
    """Which asset each suite's results attach to, and which assets the gate guards."""

    table_keys: dict[str, dg.AssetKey]
    publication_inputs: tuple[dg.AssetKey, ...]
    ungated: tuple[str, ...] = field(default=())


def plan_gate(
    suites: Sequence[Suite], assets: Iterable[dg.AssetsDefinition | dg.AssetSpec]
) -> GatePlan:
    """Attach each suite table to the asset that builds it, and find the publishing assets' inputs.

    A table's asset is found through dagster-dbt (``get_asset_key_for_model``, so the dbt
    translator decides the key) and otherwise as ``[schema, name]``; the first relation of the
    table (the candidate before the published table) that some asset materialises wins.
    """
    definitions = [a for a in assets if isinstance(a, dg.AssetsDefinition)]
    materialised: set[dg.AssetKey] = {
        key for a in definitions if a.is_materializable for key in a.keys
    }
    table_keys: dict[str, dg.AssetKey] = {}
    for name in dict.fromkeys(t for s in suites for t in s.tables()):
        for relation in tables.table(name).relations:
            key = _asset_key(relation, definitions, materialised)
            if key is not None:
                table_keys[name] = key
                break
    groups = {key: a.group_names_by_key.get(key) for a in definitions for key in a.keys}
    inputs: list[dg.AssetKey] = []
    ungated: list[str] = []
    for assets_def in definitions:
        for key in assets_def.keys:
            if not is_publishing(key, groups.get(key)):
                continue
            for parent in sorted(assets_def.asset_deps.get(key, ()), key=lambda k: k.path):
                if is_publishing(parent, groups.get(parent)) or parent not in materialised:
                    continue
                if parent in assets_def.keys:
                    ungated.append(
                        f"{key.to_user_string()} is built in the same step as its input "
                        f"{parent.to_user_string()}: no check can stop it"
                    )
                if parent not in inputs:
                    inputs.append(parent)
    return GatePlan(table_keys=table_keys, publication_inputs=tuple(inputs), ungated=tuple(ungated))


def _asset_key(
    relation: str, definitions: Sequence[dg.AssetsDefinition], materialised: set[dg.AssetKey]
) -> dg.AssetKey | None:
    schema, name = tables.split(relation)
    candidates = [dg.AssetKey([schema, name])]
    try:
        from dagster_dbt import get_asset_key_for_model
    except ImportError:  # pragma: no cover - dagster-dbt is a dependency
        get_asset_key_for_model = None
    if get_asset_key_for_model is not None:
        for assets_def in definitions:
            try:
                candidates.insert(0, get_asset_key_for_model([assets_def], name))
                break
            except Exception:  # noqa: BLE001 - not a dbt asset, or no such model in it
                continue
    return next((key for key in candidates if key in materialised), None)


def build_quality_gate(
    suites: Sequence[Suite], plan: GatePlan, *, name: str = CHECK_OP_NAME
) -> dg.AssetChecksDefinition | None:
    """The check op that runs ``suites`` and reports on ``plan``'s assets (None if nothing to attach)."""
    specs: list[dg.AssetCheckSpec] = []
    attached: list[tuple[str, str, dg.AssetKey]] = []
    for suite in suites:
        for table_name in suite.tables():
            key = plan.table_keys.get(table_name)
            if key is None:
                continue
            expectations = [e for e in suite.expectations if e.table == table_name]
            errors = sum(1 for e in expectations if e.severity == "error")
            specs.append(
                dg.AssetCheckSpec(
                    suite_check_name(suite.name),
                    asset=key,
                    blocking=errors > 0,
                    description=(
                        f"{suite.title}: {len(expectations)} expectations on {table_name} "
                        f"({errors} error-level, {len(expectations) - errors} warning-level), "
                        f"from expectations/{suite.path.name}."
                    ),
                )
            )
            attached.append((suite.name, table_name, key))
    for key in plan.publication_inputs:
        specs.append(
            dg.AssetCheckSpec(
                GATE_CHECK_NAME,
                asset=key,
                blocking=True,
                description=(
                    "Stops every publishing asset (published tables, exports, report) when any "
                    "error-level expectation of any suite fails; the previous publication stays."
                ),
            )
        )
    if not specs:
        return None
    suites = list(suites)

    @dg.multi_asset_check(
        specs=specs,
        name=name,
        description=(
            "Runs every data-quality suite (expectations/*.yml) with Great Expectations and "
            "writes the run's report under warehouse/quality/ and its results to audit.check_results."
        ),
    )
    def quality_gate(context: dg.AssetCheckExecutionContext):
        from parkwh.quality import audit, report, runner

        run = runner.run_suites(suites, run_id=context.run.run_id)
        page = report.write_report(run)
        audit.write_check_results(run)
        _log(context, run, page, plan)
        for suite_name, table_name, key in attached:
            yield table_result(run, suite_name, table_name, key, page)
        for key in plan.publication_inputs:
            yield gate_result(run, key, page, plan)

    return quality_gate


def gate_definitions(suites: Sequence[Suite], assets: Iterable[dg.AssetsDefinition | dg.AssetSpec]) -> dg.Definitions:
    """The quality gate for a code location holding ``assets``."""
    plan = plan_gate(suites, list(assets))
    check = build_quality_gate(suites, plan)
    return dg.Definitions(asset_checks=[check] if check is not None else [])


# ---------------------------------------------------------------------------- results


def table_result(
    run: QualityRun, suite: str, table_name: str, key: dg.AssetKey, page
) -> dg.AssetCheckResult:
    results = [r for r in run.results if r.suite == suite and r.table == table_name]
    failed = [r for r in results if r.outcome == FAIL]
    warned = [r for r in results if r.outcome == WARN]
    relation = next((r.relation for r in results if r.relation), None) or run.relations.get(table_name)
    metadata: dict[str, object] = {
        "outcome": FAIL if failed else (WARN if warned else PASS),
        "relation": relation or "missing",
        "expectations": len(results),
        "passed": len(results) - len(failed) - len(warned),
        "failed": len(failed),
        "warnings": len(warned),
        "quality_report": dg.MetadataValue.path(str(page)),
    }
    problems = failed + warned
    if problems:
        metadata["failed_expectations"] = dg.MetadataValue.md(expectations_markdown(problems))
        metadata["sample_rows"] = dg.MetadataValue.md(samples_markdown(problems))
        bases = sorted({b for r in problems for b in r.base_codes})
        metadata["bases"] = ", ".join(bases) if bases else "none named"
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=suite_check_name(suite),
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR if failed else dg.AssetCheckSeverity.WARN,
        metadata=metadata,
        description=_first_line(problems) if problems else f"All {len(results)} expectations met.",
    )


def gate_result(run: QualityRun, key: dg.AssetKey, page, plan: GatePlan) -> dg.AssetCheckResult:
    failed = run.with_outcome(FAIL)
    metadata: dict[str, object] = {
        "gate": "open" if run.gate_open else "closed",
        "verdict": run.verdict(),
        "failed": len(failed),
        "warnings": len(run.with_outcome(WARN)),
        "expectations": len(run.results),
        "quality_report": dg.MetadataValue.path(str(page)),
    }
    if failed:
        metadata["failed_expectations"] = dg.MetadataValue.md(expectations_markdown(failed))
        metadata["bases"] = ", ".join(sorted({b for r in failed for b in r.base_codes})) or "none named"
    if plan.ungated:
        metadata["not_gated"] = dg.MetadataValue.md("\n".join(f"- {line}" for line in plan.ungated))
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=GATE_CHECK_NAME,
        passed=run.gate_open,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata=metadata,
        description=run.verdict(),
    )


def _first_line(problems: list[ExpectationResult]) -> str:
    first = sorted(problems, key=lambda r: r.outcome != FAIL)[0]
    more = len(problems) - 1
    return first.headline() + (f" (and {more} more)" if more else "")


def _md(value: object) -> str:
    text = "" if value is None else str(value)
    return " ".join(text.split()).replace("|", "\\|")


def expectations_markdown(results: list[ExpectationResult]) -> str:
    """A markdown table of expectations not met: what, where, how many, what to do."""
    lines = [
        "| outcome | expectation | table | unexpected | bases | years | expected | what to do |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        counted = (
            f"{r.unexpected_count} of {r.element_count}"
            if r.unexpected_count is not None
            else ("not evaluated" if r.exception else _md(r.observed_value))
        )
        fix = f"Not evaluated: {r.exception}" if r.exception else r.fix
        lines.append(
            f"| {r.outcome} | `{r.key}` | {_md(r.relation or r.table)} | {counted} "
            f"| {_md(', '.join(r.base_codes[:10]))} | {_md(', '.join(map(str, r.reporting_years)))} "
            f"| {_md(r.description)} | {_md(fix)} |"
        )
    return "\n".join(lines)


def samples_markdown(results: list[ExpectationResult]) -> str:
    """For each expectation not met, a few of its failing rows."""
    blocks = []
    for r in results:
        if not r.sample_rows:
            continue
        rows = r.sample_rows[:METADATA_SAMPLE_ROWS]
        columns = list(dict.fromkeys(k for row in rows for k in row))
        block = [
            f"**{r.key}** ({r.outcome}, {r.unexpected_count} rows)",
            "",
            "| " + " | ".join(columns) + " |",
            "|" + "---|" * len(columns),
        ]
        block += ["| " + " | ".join(_md(row.get(c)) for c in columns) + " |" for row in rows]
        blocks.append("\n".join(block))
    return "\n\n".join(blocks) or "No row-level samples (the failing expectations measure whole tables)."


def _log(context, run: QualityRun, page, plan: GatePlan) -> None:
    for line in plan.ungated:
        context.log.warning(f"Publication not gated: {line}.")
    for result in run.with_outcome(WARN):
        context.log.warning(result.headline())
    failed = run.with_outcome(FAIL)
    if failed:
        lines = "\n".join(f"- {r.headline()}" for r in failed)
        context.log.error(f"{run.verdict()}\n{lines}\nReport: {page}")
    else:
        context.log.info(f"{run.verdict()} Report: {page}")
