"""``parkwh explain BASE --year Y``: a base's score, rank and interval, what makes them, and why its rank moved."""

from __future__ import annotations

import duckdb
import typer
from rich.markup import escape
from rich.table import Table

from parkwh.commands import app, console, fail
from parkwh.method.explain import ExplainError, Explanation
from parkwh.method.explain import explain as explain_base

REASONS = {
    "not_submitted": "it has no accepted submission for the year",
    "low_coverage": "it has values for fewer than two thirds of the indicators",
}


def _number(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _signed(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:+,.{digits}f}"


def _places(n: int) -> str:
    if n == 0:
        return "no change"
    return f"{'up' if n > 0 else 'down'} {abs(n)} place{'s' if abs(n) != 1 else ''}"


def _header(e: Explanation) -> None:
    names = " / ".join(escape(n) for n in (e.base_name_zh, e.base_name_en) if n)
    console.print(f"[bold]{e.base_code}[/] {names}" + (f" · {escape(e.province)}" if e.province else ""),
                  highlight=False)
    if not e.ranked:
        reason = REASONS.get(e.not_ranked_reason or "", e.not_ranked_reason or "")
        coverage = (f" ({e.indicators_available} of {e.indicators_expected} indicators)"
                    if e.indicators_expected else "")
        console.print(f"{e.year}: [yellow]not ranked[/]: {reason}{coverage}.", highlight=False)
        return
    console.print(
        f"{e.year}: score [bold]{_number(e.score)}[/], rank [bold]{e.rank}[/] of {e.ranked_bases}"
        f" (indicator score {_number(e.indicator_score)}, expert score {_number(e.expert_score)},"
        f" expert share {e.expert_share:g})", highlight=False)
    if e.rank_p05 is not None:
        console.print(
            f"Uncertainty: median rank {e.rank_median:g}, 90 % of draws between {e.rank_p05} and {e.rank_p95}, "
            f"mean shift {_number(e.mean_abs_rank_shift, 2)} places ({e.mc_draws:,} draws, seed {e.mc_seed}).",
            highlight=False)


def _dimensions(e: Explanation) -> Table:
    table = Table(title="Dimensions against the median base", header_style="bold")
    for column, justify in (("dimension", "left"), ("weight", "right"), ("score", "right"),
                            ("contribution", "right"), ("median base", "right"), ("difference", "right")):
        table.add_column(column, justify=justify)
    for d in e.dimensions:
        difference = None if d.contribution is None or d.median_contribution is None \
            else d.contribution - d.median_contribution
        table.add_row(f"{escape(d.name_zh)} {escape(d.name_en)}", _number(d.weight), _number(d.score),
                      _number(d.contribution), _number(d.median_contribution), _signed(difference))
    return table


def _compact(value: float | None) -> str:
    """A raw value short enough for a narrow terminal: 3.86 bn, 34.8 m, 4.52, 882."""
    if value is None:
        return "–"
    size = abs(value)
    if size >= 1e9:
        return f"{value / 1e9:,.2f} bn"
    if size >= 1e6:
        return f"{value / 1e6:,.1f} m"
    if size >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:.4g}"


def _indicators(e: Explanation) -> Table:
    table = Table(title="Indicators against the median base (contribution = weight × normalised score)",
                  header_style="bold")
    for column, justify in (("indicator", "left"), ("raw value", "right"), ("normalised", "right"),
                            ("weight", "right"), ("contribution", "right"), ("median base", "right"),
                            ("difference", "right")):
        table.add_column(column, justify=justify)
    notes: list[str] = []
    for i in e.indicators:
        marks = ""
        if i.imputation_rule:
            marks += "*"
            notes.append(f"* {i.code}: missing, imputed ({i.imputation_rule})")
        if i.treatment and i.treatment != "none":
            marks += "†"
            notes.append(f"† {i.code}: the indicator is {i.treatment} this year (outliers)")
        difference = None if i.contribution is None or i.median_contribution is None \
            else i.contribution - i.median_contribution
        table.add_row(escape(i.code), _compact(i.raw_value), _number(i.normalised_value, 2) + marks,
                      "–" if i.weight is None else f"{100 * i.weight:.1f} %", _number(i.contribution),
                      _number(i.median_contribution), _signed(difference))
    if notes:
        table.caption = escape("; ".join(notes))
    return table


def _change(e: Explanation) -> None:
    if e.change is None:
        if e.change_note:
            console.print(f"Rank change: {escape(e.change_note)}.", highlight=False)
        return
    c = e.change
    console.print(f"Rank change since {e.year - 1}: {c.previous_rank} → {c.rank}, {_places(c.total)}.",
                  highlight=False)
    console.print(f"  the method's changes:      {_places(c.method)}", highlight=False)
    console.print(f"  the other bases' data:     {_places(c.others)}", highlight=False)
    console.print(f"  its own data:              {_places(c.own)}", highlight=False)
    if c.own_changes:
        own = Table(title="Its own raw values", header_style="bold")
        own.add_column("indicator")
        own.add_column(str(e.year - 1), justify="right")
        own.add_column(str(e.year), justify="right")
        for code, before, now in c.own_changes:
            own.add_row(escape(code), _compact(before), _compact(now))
        if c.expert_before is not None or c.expert_now is not None:
            own.add_row("expert score", _number(c.expert_before), _number(c.expert_now))
        console.print(own)


@app.command()
def explain(
    base: str = typer.Argument(..., help="The base's code, e.g. SH001."),
    year: int = typer.Option(..., "--year", help="The reporting year."),
) -> None:
    """Explain a base's score, rank and rank interval, and why its rank changed since last year."""
    from parkwh import db

    try:
        with db.connect(read_only=True) as con:
            explanation = explain_base(con, base, year)
    except (ExplainError, FileNotFoundError) as exc:
        raise fail(str(exc))
    except duckdb.Error as exc:
        raise fail(f"cannot read the warehouse: {str(exc).splitlines()[0]}")
    _header(explanation)
    if explanation.indicators:
        console.print(_dimensions(explanation))
        console.print(_indicators(explanation))
    _change(explanation)
