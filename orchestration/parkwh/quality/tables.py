"""The one place that knows where each table a suite names lives in the warehouse.

Suites name tables by a short logical name (``fct_base_year``, ``park_ranking``); this module
maps each to the relations that may hold it, in order of preference. A published table is
checked in its *candidate* form (built in ``marts`` before publication), so that a failing suite
stops the ``published`` copy from being rebuilt; while a candidate model does not exist yet, the
published table itself is checked, which can then only stop what is built from it (exports,
report). Change a name here and every suite, check and report follows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Table:
    """A table a suite validates: its logical name and the relations that may hold it."""

    name: str
    relations: tuple[str, ...]
    layer: str

    @property
    def preferred(self) -> str:
        return self.relations[0]


def _table(name: str, layer: str, *relations: str) -> Table:
    return Table(name=name, relations=relations or (f"{layer}.{name}",), layer=layer)


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        # Ingestion's raw layer, read to find what staging could not map; ID numbers are read in
        # memory only and never shown unmasked.
        _table("raw_base", "raw", "raw.base"),
        _table("raw_companies", "raw", "raw.companies"),
        _table("raw_talent", "raw", "raw.talent"),
        _table("raw_funding", "raw", "raw.funding"),
        _table("stg_submissions", "staging"),
        _table("stg_base", "staging"),
        _table("stg_companies", "staging"),
        _table("stg_talent", "staging"),
        _table("stg_funding", "staging"),
        _table("stg_expert_scores", "staging"),
        _table("dim_base", "marts"),
        _table("dim_province", "marts"),
        _table("dim_company", "marts"),
        _table("dim_talent", "marts"),
        _table("dim_talent_programme", "marts"),
        _table("dim_date", "marts"),
        _table("fct_company_year", "marts"),
        _table("fct_talent_year", "marts"),
        _table("fct_funding_event", "marts"),
        _table("fct_base_year", "marts"),
        _table("base_year_reconciliation", "marts"),
        # What is published: the candidate in marts first, the published table while no candidate exists.
        _table("park_ranking", "published", "marts.candidate_park_ranking", "published.park_ranking"),
        _table("park_scores", "published", "marts.candidate_park_scores", "published.park_scores"),
        _table("report_summary", "published", "marts.candidate_report_summary", "published.report_summary"),
    )
}

PUBLISHED_SCHEMA = "published"


def table(name: str) -> Table:
    try:
        return TABLES[name]
    except KeyError:
        known = ", ".join(sorted(TABLES))
        raise KeyError(f"unknown table {name!r}: parkwh.quality.tables knows {known}") from None


def resolve(existing: Iterable[str]) -> dict[str, str | None]:
    """Each logical table's relation in a warehouse holding ``existing`` relations (``schema.name``).

    The first listed relation that exists wins; None when none does.
    """
    present = {r.lower() for r in existing}
    return {
        name: next((r for r in t.relations if r.lower() in present), None)
        for name, t in TABLES.items()
    }


def split(relation: str) -> tuple[str, str]:
    schema, _, name = relation.partition(".")
    return schema, name


def render_sql(sql: str, relations: Mapping[str, str | None]) -> str:
    """Replace each ``{table}`` in a suite's query by the table's relation.

    Raises ``LookupError`` naming the table when it does not exist in the warehouse.
    """
    needed = referenced_tables(sql)
    missing = [name for name in needed if relations.get(name) is None]
    if missing:
        where = "; ".join(f"{name}: none of {', '.join(table(name).relations)}" for name in missing)
        raise LookupError(f"the query reads a table that does not exist ({where})")
    out = sql
    for name in needed:
        out = out.replace("{" + name + "}", relations[name])  # type: ignore[arg-type]
    return out


def referenced_tables(sql: str) -> list[str]:
    """The logical tables a query names as ``{table}``, in order of first mention."""
    found: list[str] = []
    for match in re.finditer(r"\{([a-z_][a-z0-9_]*)\}", sql):
        name = match.group(1)
        table(name)  # an unknown name is a mistake in the suite file
        if name not in found:
            found.append(name)
    return found
