"""The data-quality report of a run: one self-contained HTML page, readable offline.

Great Expectations' own Data Docs load their styles and scripts from CDNs and read badly without
a network; this page carries its styles inline and needs no script. Each run gets a folder
``warehouse/quality/<run>/`` with ``index.html`` and ``results.json`` (the same findings as data);
``warehouse/quality/index.html`` lists the runs and ``latest.html`` is the newest run's page.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from parkwh import config
from parkwh.quality.results import FAIL, PASS, WARN, ExpectationResult, QualityRun

_STYLE = """
:root { --pass: #1a7f37; --warn: #9a6700; --fail: #cf222e; --line: #d0d7de; --soft: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans", "PingFang SC", "Microsoft YaHei",
       Helvetica, Arial, sans-serif; color: #1f2328; margin: 0 auto; max-width: 1200px; padding: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 20px 0 6px; }
p.meta { color: #59636e; margin: 0 0 16px; }
.verdict { padding: 12px 16px; border-radius: 6px; font-weight: 600; margin: 16px 0; }
.verdict.open { background: #dafbe1; border: 1px solid var(--pass); }
.verdict.closed { background: #ffebe9; border: 1px solid var(--fail); }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; min-width: 44px; text-align: center; padding: 0 6px;
         border-radius: 10px; color: #fff; font-size: 12px; font-weight: 600; }
.badge.pass { background: var(--pass); } .badge.warn { background: var(--warn); }
.badge.fail { background: var(--fail); }
tr.fail td { background: #fff5f5; } tr.warn td { background: #fff8e5; }
code { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
       background: var(--soft); padding: 1px 4px; border-radius: 4px; }
details { margin: 4px 0; } summary { cursor: pointer; color: #0969da; }
.samples td, .samples th { font-size: 12px; padding: 2px 6px; }
.scroll { overflow-x: auto; max-width: 100%; }
.fix { color: #1f2328; } .muted { color: #59636e; }
@media print { details { display: block; } summary { display: none; } }
"""


def run_folder(run_id: str) -> Path:
    """Where a run's report lives: ``warehouse/quality/<run id>/``."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", run_id).strip("._") or "run"
    return config.warehouse().quality / safe


def write_report(run: QualityRun) -> Path:
    """Write the run's ``index.html`` and ``results.json``, refresh the run list; return the page."""
    folder = run_folder(run.run_id)
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / "results.json", run.to_json())
    page = render(run)
    _write(folder / "index.html", page)
    root = config.warehouse().quality
    _write(root / "latest.html", page)
    _write(root / "index.html", render_index(root))
    return folder / "index.html"


def _write(path: Path, text: str) -> None:
    # Readers (a browser, a BI tool) never see a half-written page.
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _e(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = f"{value:,.4f}".rstrip("0").rstrip(".")
        return html.escape(text)
    if isinstance(value, (dict, list)):
        return html.escape(json.dumps(value, ensure_ascii=False))
    return html.escape(str(value))


def _badge(outcome: str) -> str:
    return f'<span class="badge {outcome}">{outcome}</span>'


def render(run: QualityRun) -> str:
    """The run's page."""
    counts = run.counts()
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>parkwh data quality · {_e(run.run_id)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>parkwh data quality</h1>",
        f'<p class="meta">Run <code>{_e(run.run_id)}</code> · started {_e(run.started_at.isoformat(timespec="seconds"))} UTC'
        f" · finished {_e(run.finished_at.isoformat(timespec='seconds'))} UTC · "
        f"{len(run.results)} expectations in {len(run.suites)} suite{'s' if len(run.suites) != 1 else ''}</p>",
        f'<div class="verdict {"open" if run.gate_open else "closed"}">{_e(run.verdict())}</div>',
        _summary_table(run),
    ]
    problems = [r for r in run.results if r.outcome != PASS]
    if problems:
        parts.append(_what_to_fix(problems))
        parts.append(_by_base(problems))
    for suite in run.suites:
        parts.append(_suite_section(run, suite.name))
    parts.append(_relations(run))
    parts.append(
        f'<p class="muted">{counts[PASS]} passed · {counts[WARN]} warnings · {counts[FAIL]} failed. '
        "Validated with Great Expectations 1.x on data read from the warehouse. "
        "This page needs no network.</p></body></html>"
    )
    return "\n".join(parts)


def _summary_table(run: QualityRun) -> str:
    rows = []
    for suite in run.suites:
        results = run.of_suite(suite.name)
        counts = run.counts(results)
        tables = sorted({r.relation or r.table for r in results})
        rows.append(
            f'<tr><td><a href="#suite-{_e(suite.name)}">{_e(suite.title)}</a><br>'
            f'<span class="muted"><code>{_e(suite.file)}</code></span></td>'
            f"<td>{_e(suite.layer)}</td><td>{'<br>'.join(_e(t) for t in tables)}</td>"
            f'<td class="num">{counts[PASS]}</td><td class="num">{counts[WARN]}</td>'
            f'<td class="num">{counts[FAIL]}</td></tr>'
        )
    return (
        "<h2>Suites</h2><table><tr><th>suite</th><th>layer</th><th>tables</th>"
        '<th class="num">pass</th><th class="num">warn</th><th class="num">fail</th></tr>'
        + "".join(rows)
        + "</table>"
    )


def _what_to_fix(problems: list[ExpectationResult]) -> str:
    ordered = sorted(problems, key=lambda r: (r.outcome != FAIL, r.suite, r.expectation_id))
    items = []
    for result in ordered:
        where = result.where()
        amount = (
            f"{result.unexpected_count:,} of {result.element_count:,} rows"
            if result.unexpected_count is not None and result.element_count is not None
            else ("not evaluated" if result.exception else "")
        )
        fix = (
            f"Not evaluated: {result.exception}. Build or repair what is missing, then re-run."
            if result.exception
            else result.fix
        )
        items.append(
            f'<tr class="{result.outcome}"><td>{_badge(result.outcome)}</td>'
            f'<td><a href="#{_anchor(result)}"><code>{_e(result.key)}</code></a><br>'
            f'<span class="muted">{_e(result.relation or result.table)}</span></td>'
            f"<td>{_e(amount)}</td><td>{_e(where)}</td><td>{_e(result.description)}</td>"
            f'<td class="fix">{_e(fix)}</td></tr>'
        )
    return (
        "<h2>What to fix</h2><p>Failures (error level) stop publication; warnings are shown "
        "and recorded but do not.</p><table><tr><th></th><th>expectation</th><th>found</th>"
        "<th>where</th><th>expected</th><th>what to do</th></tr>" + "".join(items) + "</table>"
    )


def _by_base(problems: list[ExpectationResult]) -> str:
    per_base: dict[str, list[ExpectationResult]] = defaultdict(list)
    for result in problems:
        for base in result.base_codes:
            per_base[base].append(result)
    if not per_base:
        return ""
    rows = []
    for base in sorted(per_base):
        found = per_base[base]
        worst = FAIL if any(r.outcome == FAIL for r in found) else WARN
        names = ", ".join(f"<code>{_e(r.key)}</code>" for r in found)
        rows.append(f'<tr class="{worst}"><td>{_badge(worst)}</td><td>{_e(base)}</td><td>{names}</td></tr>')
    return (
        "<h2>By base</h2><table><tr><th></th><th>base</th><th>expectations not met</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _anchor(result: ExpectationResult) -> str:
    return f"x-{result.suite}-{result.expectation_id}"


def _suite_section(run: QualityRun, suite_name: str) -> str:
    suite = next(s for s in run.suites if s.name == suite_name)
    results = run.of_suite(suite_name)
    rows = []
    for result in results:
        counted = ""
        if result.unexpected_count is not None:
            counted = f"{result.unexpected_count:,} / {result.element_count:,}"
        elif result.observed_value is not None:
            counted = f"observed {_e(result.observed_value)}"
        detail = _detail(result)
        rows.append(
            f'<tr class="{result.outcome}" id="{_anchor(result)}"><td>{_badge(result.outcome)}</td>'
            f"<td><code>{_e(result.expectation_id)}</code></td>"
            f"<td>{_e(result.relation or result.table)}</td><td>{_e(result.severity)}</td>"
            f'<td>{_e(result.description)}{detail}</td><td class="num">{counted}</td>'
            f"<td>{_e(', '.join(result.base_codes[:20]))}"
            f"{' …' if len(result.base_codes) > 20 else ''}</td></tr>"
        )
    return (
        f'<h2 id="suite-{_e(suite.name)}">{_e(suite.title)}</h2>'
        f"<p>{_e(suite.description)} <span class=\"muted\">({_e(suite.file)}, layer {_e(suite.layer)})</span></p>"
        "<table><tr><th></th><th>expectation</th><th>table</th><th>severity</th><th>expected</th>"
        '<th class="num">unexpected / rows</th><th>bases</th></tr>'
        + "".join(rows)
        + "</table>"
    )


def _detail(result: ExpectationResult) -> str:
    inner = [
        f'<div class="muted"><code>{_e(result.expectation_type)}</code> <code>{_e(result.kwargs)}</code>'
        f" on {_e(result.dataset)}</div>"
    ]
    if result.outcome != PASS:
        if result.exception:
            inner.append(f"<div><strong>Not evaluated:</strong> {_e(result.exception)}</div>")
        else:
            inner.append(f'<div class="fix"><strong>What to do:</strong> {_e(result.fix)}</div>')
    if result.sample_rows:
        columns = list(dict.fromkeys(k for row in result.sample_rows for k in row))
        head = "".join(f"<th>{_e(c)}</th>" for c in columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{_e(row.get(c))}</td>" for c in columns) + "</tr>"
            for row in result.sample_rows
        )
        shown = len(result.sample_rows)
        inner.append(
            f'<div class="scroll"><table class="samples"><caption class="muted">{shown} sample rows</caption>'
            f"<tr>{head}</tr>{body}</table></div>"
        )
    opened = " open" if result.outcome != PASS else ""
    return f"<details{opened}><summary>details</summary>{''.join(inner)}</details>"


def _relations(run: QualityRun) -> str:
    rows = "".join(
        f"<tr><td>{_e(name)}</td><td>{_e(relation) if relation else '<em>missing</em>'}</td></tr>"
        for name, relation in sorted(run.relations.items())
    )
    return (
        "<h2>Tables read</h2><p class=\"muted\">Each table a suite names, and the relation it was "
        "read from (a published table is checked in its candidate form when one exists).</p>"
        f"<table><tr><th>table</th><th>relation</th></tr>{rows}</table>"
    )


def render_index(root: Path) -> str:
    """The list of runs under ``warehouse/quality/``, newest first."""
    runs = []
    for path in root.glob("*/results.json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        outcomes = [r.get("outcome") for r in data.get("results", [])]
        runs.append(
            (
                data.get("finished_at", ""),
                path.parent.name,
                data.get("run_id", path.parent.name),
                bool(data.get("gate_open")),
                {o: outcomes.count(o) for o in (PASS, WARN, FAIL)},
            )
        )
    runs.sort(reverse=True)
    rows = "".join(
        f'<tr class="{"pass" if gate else "fail"}"><td>{_e(finished)}</td>'
        f'<td><a href="{_e(folder)}/index.html"><code>{_e(run_id)}</code></a></td>'
        f"<td>{_badge(PASS if gate else FAIL)} {'published' if gate else 'not published'}</td>"
        f'<td class="num">{counts[PASS]}</td><td class="num">{counts[WARN]}</td>'
        f'<td class="num">{counts[FAIL]}</td></tr>'
        for finished, folder, run_id, gate, counts in runs
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>parkwh data quality · runs</title><style>{_STYLE}</style></head><body>"
        "<h1>parkwh data quality · runs</h1>"
        '<p class="meta">Every run of the quality gate, newest first. <a href="latest.html">Latest run</a>.</p>'
        "<table><tr><th>finished (UTC)</th><th>run</th><th>gate</th>"
        '<th class="num">pass</th><th class="num">warn</th><th class="num">fail</th></tr>'
        f"{rows}</table></body></html>"
    )
