"""``parkwh purge-pii --before YEAR``: remove returnees' personal data of old years, keep pseudonyms and figures."""

from __future__ import annotations

import datetime as dt

import typer
from rich.markup import escape

from parkwh.commands import app, console, fail
from parkwh.ingest.purge import purge_personal_data


@app.command("purge-pii")
def purge_pii(
    before: int = typer.Option(
        ...,
        "--before",
        min=1900,
        max=2100,
        help="Purge every reporting year before this one (e.g. 2021 purges 2020 and earlier).",
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Say what would be removed, and remove nothing."
    ),
) -> None:
    """Remove names, ID numbers and phones of old reporting years from raw, the archive and the inbox.

    The pseudonyms (person_key) and every figure stay: the warehouse rebuilds to the same
    tables. Rewrites the landing files of those years, removes the archived and inbox copies
    of their submissions (leaving a tombstone in the archive) and records the purge in
    audit.pii_purges. A purge that is interrupted is completed by running it again.
    """
    if before > dt.date.today().year + 1:
        raise fail(f"--before {before} is in the future: it would purge every year there is.")
    try:
        summary = purge_personal_data(before, dry_run=dry_run)
    except OSError as exc:
        raise fail(f"the purge stopped: {exc}; run it again to complete it")
    console.print(escape(summary.text()), highlight=False)
    if dry_run:
        for path in summary.landing_files + summary.archive_entries + summary.inbox_entries:
            console.print(f"  {escape(path)}", highlight=False)
