"""Run the quality suites on the warehouse in force, outside Dagster: ``python -m parkwh.quality``.

Writes the report under ``warehouse/quality/<run>/`` and the results to ``audit.check_results``
exactly as the Dagster gate does; the exit status is 1 when the gate is closed, so a script can
stop before publishing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence

from parkwh.quality.suites import SuiteError, load_suites


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m parkwh.quality", description=__doc__.splitlines()[0])
    parser.add_argument("--suite", action="append", help="run only this suite (repeatable)")
    parser.add_argument("--run-id", help="the run's name in the report and audit table")
    parser.add_argument("--no-audit", action="store_true", help="do not write audit.check_results")
    options = parser.parse_args(argv)
    try:
        suites = load_suites()
    except SuiteError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if options.suite:
        unknown = sorted(set(options.suite) - {s.name for s in suites})
        if unknown:
            print(f"error: no suite named {', '.join(unknown)}; suites: "
                  f"{', '.join(s.name for s in suites)}", file=sys.stderr)
            return 2
        suites = [s for s in suites if s.name in options.suite]

    from parkwh.quality import audit, report, runner
    from parkwh.quality.results import FAIL, WARN

    run_id = options.run_id or "manual-" + dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    try:
        run = runner.run_suites(suites, run_id=run_id)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    page = report.write_report(run)
    if not options.no_audit:
        audit.write_check_results(run)
    for result in run.with_outcome(FAIL) + run.with_outcome(WARN):
        print(result.headline())
    print(run.verdict())
    print(f"Report: {page}")
    return 0 if run.gate_open else 1


if __name__ == "__main__":
    raise SystemExit(main())
