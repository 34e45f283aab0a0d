"""``parkwh status``: what is in the inbox, what is in force, and the last publication of each year."""

from __future__ import annotations

from collections import Counter

from rich.markup import escape
from rich.table import Table

from parkwh import config
from parkwh.commands import app, console, fail

BUSY_WAIT_SECONDS = 5.0
"""How long status waits for a run that is writing the warehouse before it shows the inbox only."""


def _inbox_table() -> Table | None:
    from parkwh.defs import operations
    from parkwh.ingest import inbox

    folders = inbox.year_folders()
    if not folders:
        return None
    known = set(operations.reporting_years())
    table = Table(title=f"inbox: {escape(str(config.warehouse().inbox))}", header_style="bold")
    for column in ("year", "submissions", "expert scores", "other files", "not yet ingested"):
        table.add_column(column, justify="right")
    for year, _folder in folders:
        kinds: Counter = Counter()
        new = 0
        for entry in inbox.scan_year(year):
            kinds[entry.kind] += 1
            try:
                sha = operations.entry_sha256(entry)
            except FileNotFoundError:
                continue
            # The archive keeps every byte ingestion has seen: bytes not in it are new.
            new += not operations.is_archived(sha, entry.relative_path())
        label = str(year) if year in known else f"{year} [dim](not a reporting year yet)[/]"
        table.add_row(
            label,
            f"{kinds['submission']:,}",
            f"{kinds['expert_scores']:,}",
            f"[yellow]{kinds['stray']:,}[/]" if kinds["stray"] else "0",
            f"[bold]{new:,}[/]" if new else "0",
        )
    return table


def _tables(con) -> set[str]:
    return {
        f"{schema}.{name}"
        for schema, name in con.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
    }


def _in_force_table(con, tables: set[str]) -> Table | None:
    if "audit.submissions" not in tables:
        return None
    rows = con.execute(
        """
        select reporting_year,
               count(*) filter (where kind = 'submission' and status = 'accepted') as in_force,
               count(*) filter (where kind = 'submission' and status = 'superseded') as superseded,
               count(*) filter (where status = 'rejected') as rejected,
               count(*) filter (where kind = 'expert_scores' and status = 'accepted') as experts,
               max(loaded_at) as last_loaded
        from audit.submissions
        where reporting_year is not null
        group by reporting_year
        order by reporting_year
        """
    ).fetchall()
    if not rows:
        return None
    table = Table(title="in force: bases whose submission is loaded", header_style="bold")
    for column in (
        "year",
        "in force",
        "superseded",
        "rejected",
        "expert scores",
    ):
        table.add_column(column, justify="right")
    table.add_column("last loaded (UTC)", no_wrap=True)
    for year, in_force, superseded, rejected, experts, last in rows:
        table.add_row(
            str(year),
            f"{in_force:,}",
            f"{superseded:,}",
            f"[red]{rejected:,}[/]" if rejected else "0",
            "yes" if experts else "[yellow]none[/]",
            f"{last:%Y-%m-%d %H:%M}" if last else "",
        )
    return table


def _publications_table(con, tables: set[str]) -> Table | None:
    if "audit.publications" not in tables:
        return None
    rows = con.execute(
        """
        select reporting_year, version, published_at, bases_ranked, changes, reason
        from audit.publications
        qualify row_number() over (partition by reporting_year order by version desc) = 1
        order by reporting_year
        """
    ).fetchall()
    if not rows:
        return None
    paths = config.warehouse()
    table = Table(
        title="last publication of each year",
        caption=f"reports: {escape(str(paths.reports))}/<year>/index.html",
        header_style="bold",
    )
    table.add_column("year", justify="right")
    table.add_column("version", justify="right")
    table.add_column("published (UTC)", no_wrap=True)
    table.add_column("ranked", justify="right")
    table.add_column("moved", justify="right")
    table.add_column("why")
    table.add_column("report")
    for year, version, published_at, ranked, changes, reason in rows:
        page = paths.reports / str(year) / "index.html"
        table.add_row(
            str(year),
            str(version),
            f"{published_at:%Y-%m-%d %H:%M}",
            f"{ranked:,}",
            f"{changes:,}",
            escape(reason or ""),
            "yes" if page.exists() else "[dim]none[/]",
        )
    return table


@app.command(epilog="Example: parkwh status")
def status() -> None:
    """Show what is in the inbox, the submissions in force and the last publication of each year.

    Files in the inbox whose bytes the warehouse has not seen yet are counted as not yet
    ingested: parkwh run (or the inbox sensor of make dev) loads them.
    """
    import filelock

    from parkwh import db

    paths = config.warehouse()
    inbox_table = _inbox_table()
    if inbox_table is None:
        console.print(
            f"The inbox {escape(str(paths.inbox))} holds no year folder: put submissions in "
            "inbox/<year>/, or write the demo with parkwh demo.",
            highlight=False,
        )
    else:
        console.print(inbox_table)
    if not paths.database.exists():
        console.print("No warehouse yet: parkwh run builds it from the inbox.", highlight=False)
        return
    try:
        with db.writer_lock(timeout=BUSY_WAIT_SECONDS), db.connect(read_only=True) as con:
            tables = _tables(con)
            in_force = _in_force_table(con, tables)
            published = _publications_table(con, tables)
    except filelock.Timeout:
        raise fail(
            "a run is writing the warehouse right now; run parkwh status again when it is done"
        ) from None
    except Exception as error:  # noqa: BLE001 - a damaged or foreign file: say so in one line
        raise fail(escape(f"cannot read the warehouse {paths.database}: {error}")) from None
    console.print(in_force if in_force is not None else "No submission has been loaded yet.")
    if published is not None:
        console.print(published)
    else:
        console.print("Nothing has been published yet.", highlight=False)
    console.print(f"warehouse: {escape(str(paths.database))}", highlight=False)
