"""The report's charts: Altair (Vega-Lite) specifications, rendered to inline SVG by vl-convert.

Rendering happens here, not in the reader's browser: the page carries finished SVG, needs no
script and makes no request. Labels are bilingual (Chinese, then English). Each function gives a
chart's finished Vega-Lite spec (or None when there is nothing to show); ``parkwh.publish.svg``
draws them, all the pages' charts at once.
"""

from __future__ import annotations

from collections.abc import Callable

import altair as alt
import pandas as pd
from altair.utils import schemapi

from parkwh.publish.report.data import ReportData, as_float

Spec = dict

FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "Helvetica Neue", Arial, sans-serif'
PALETTE = ["#1f5fa8", "#d9822b", "#2e8b57", "#8e44ad", "#c0392b", "#7f8c8d", "#16a085", "#b7950b"]
ACCENT = "#1f5fa8"
WIDTH = 640

alt.data_transformers.disable_max_rows()


LABEL_FONT_SIZE = 11
TITLE_FONT_SIZE = 12
LABEL_LIMIT = 330
"""The widest a category axis's label is drawn (px); ``_label_axis`` reserves up to this much."""
OTHER_LABEL_LIMIT = 320
"""The widest any other axis's or a legend's label is drawn (px)."""
LEGEND_TITLE_LIMIT = 180
"""Vega's own limit on a legend's title (px)."""


def _config(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    return (
        chart.configure(font=FONT, background="white")
        .configure_axis(
            labelFontSize=LABEL_FONT_SIZE,
            titleFontSize=TITLE_FONT_SIZE,
            labelLimit=OTHER_LABEL_LIMIT,
        )
        # A number's label is a dozen characters at most, far below any limit (see _limit).
        .configure_axisQuantitative(labelLimit=0)
        .configure_legend(
            labelFontSize=LABEL_FONT_SIZE,
            titleFontSize=TITLE_FONT_SIZE,
            orient="bottom",
            direction="vertical",
            labelLimit=OTHER_LABEL_LIMIT,
        )
        .configure_title(fontSize=14, anchor="start")
        .configure_view(strokeWidth=0)
    )


def to_spec(chart: alt.TopLevelMixin) -> Spec:
    """The chart's Vega-Lite spec, configured as every chart of the report is."""
    # Altair checks each part against the Vega-Lite schema as it is made and the whole again
    # here; the charts are fixed code that the tests draw, so the checks only cost time.
    with schemapi.debug_mode(False):
        return _config(chart).to_dict(validate=False)


def _limit(texts: list[str], font_size: float, limit: int) -> int:
    """``limit``, or 0 (none) when no text can reach it: the chart is the same, drawn faster.

    Vega measures a text once more wherever it has a limit, and vl-convert measures text slowly
    (it opens the font file again for every glyph), so most of a chart's rendering time is spent
    checking labels against limits they are far below. The bound is generous: an ASCII or a CJK
    character is at most one em wide, any other counts as two.
    """
    widest = max(
        (sum(1 if ord(ch) < 0x80 or 0x2E80 <= ord(ch) <= 0xFFEF else 2 for ch in t) for t in texts),
        default=0,
    )
    return 0 if widest * font_size < limit else limit


def _label_axis(labels: list[str], **kwargs) -> alt.Axis:
    """A category axis wide enough for its labels whatever fonts the renderer has.

    vl-convert measures text with the fonts it finds; where no CJK font is installed it measures
    Chinese as narrow and the labels would be cut, so the width is reserved from the characters.
    """
    width = max((sum(2 if ord(ch) > 0x2E80 else 1 for ch in label) for label in labels), default=4)
    return alt.Axis(
        minExtent=min(6 * width + 12, LABEL_LIMIT),
        labelLimit=_limit(labels, LABEL_FONT_SIZE, LABEL_LIMIT),
        **kwargs,
    )


def _legend(labels: list[str], title: str | None) -> alt.Legend:
    """A legend whose limits are left out where its labels and title cannot reach them."""
    return alt.Legend(
        labelLimit=_limit(labels, LABEL_FONT_SIZE, OTHER_LABEL_LIMIT),
        titleLimit=_limit([title] if title else [], TITLE_FONT_SIZE, LEGEND_TITLE_LIMIT),
    )


def _label(row: dict) -> str:
    return f"{row['rank'] if row.get('rank') is not None else '–'}. {row['base_name_zh']}"


def dimension_scores(data: ReportData) -> Spec | None:
    """Each top-10 base's score in each dimension: grouped bars, bases in rank order."""
    if not data.dimension_scores:
        return None
    top = {r["base_code"]: r for r in data.top10}
    frame = pd.DataFrame(
        [
            {
                "base": _label(top[r["base_code"]]),
                "order": top[r["base_code"]]["rank"],
                "dimension": f"{r['dimension_name_zh']} {r['dimension_name_en']}",
                "score": as_float(r["dimension_score"]),
            }
            for r in data.dimension_scores
            if r["base_code"] in top
        ]
    )
    order = [_label(r) for r in sorted(data.top10, key=lambda r: (r["rank"], r["base_code"]))]
    # Dots, not bars: the top bases score close together, and only a scale that does not start
    # at zero shows how they differ (a bar would have to start at zero).
    low = max(0.0, float(frame["score"].min()) - 2)
    scale = alt.Scale(domain=[low, 100], zero=False, nice=False)
    x = alt.X("score:Q", title="维度得分 Dimension score (0–100)", scale=scale)
    y = alt.Y("base:N", sort=order, title=None, axis=_label_axis(order))
    spread = (
        alt.Chart(frame)
        .mark_rule(color="#d0d7de", strokeWidth=2)
        .encode(y=y, x=alt.X("min(score):Q", scale=scale), x2="max(score):Q")
    )
    title = "维度 Dimension"
    legend = _legend(list(frame["dimension"].unique()), title)
    dots = (
        alt.Chart(frame)
        .mark_point(filled=True, size=70, opacity=0.9)
        .encode(
            y=y,
            x=x,
            color=alt.Color(
                "dimension:N", title=title, scale=alt.Scale(range=PALETTE), legend=legend
            ),
            shape=alt.Shape("dimension:N", title=title, legend=legend),
            tooltip=["base", "dimension", alt.Tooltip("score:Q", format=".2f")],
        )
    )
    chart = alt.layer(spread, dots).properties(
        width=WIDTH - 260,
        height=alt.Step(24),
        title="前十名基地的维度得分 Dimension scores of the top 10",
    )
    return to_spec(chart)


def rank_intervals(data: ReportData) -> Spec | None:
    """Each ranked base's published rank, median rank and 5–95 % interval (as the JRC shows them)."""
    rows = [
        r for r in data.ranked if r.get("rank_p05") is not None and r.get("rank_p95") is not None
    ]
    if not rows:
        return None
    order = [_label(r) for r in rows]
    frame = pd.DataFrame(
        [
            {
                "base": _label(r),
                "rank": as_float(r["rank"]),
                "median": as_float(r.get("rank_median")),
                "p05": as_float(r["rank_p05"]),
                "p95": as_float(r["rank_p95"]),
            }
            for r in rows
        ]
    )
    base = alt.Chart(frame, width=WIDTH - 300).encode(
        y=alt.Y("base:N", sort=order, title=None, axis=_label_axis(order))
    )
    top = max(frame["p95"].max(), frame["rank"].max())
    x_scale = alt.Scale(domain=[1, float(top)], nice=False)
    interval = base.mark_rule(strokeWidth=3, color="#9bb7d4").encode(
        x=alt.X("p05:Q", title="名次 Rank (1 = best)", scale=x_scale),
        x2="p95:Q",
        tooltip=["base", "rank", "median", "p05", "p95"],
    )
    median = base.mark_point(filled=True, size=45, color=ACCENT).encode(
        x=alt.X("median:Q", scale=x_scale)
    )
    published = base.mark_tick(color="#c0392b", thickness=2, size=12).encode(
        x=alt.X("rank:Q", scale=x_scale)
    )
    chart = alt.layer(interval, median, published).properties(
        title=alt.Title(
            "名次的不确定性区间 Rank uncertainty",
            subtitle="线段：5%–95% 区间 · 圆点：中位名次 · 红色刻度：公布名次 "
            "(bar: 5–95 % interval · dot: median rank · red tick: published rank)",
        ),
        height=alt.Step(14),
    )
    return to_spec(chart)


DIRECTIONS = ["上升 up", "持平 same", "下降 down"]


def rank_changes(data: ReportData) -> Spec | None:
    """How many places each ranked base moved since the previous year."""
    rows = [r for r in data.ranked if r.get("rank_change") is not None]
    if not rows:
        return None
    order = [_label(r) for r in rows]
    frame = pd.DataFrame(
        [
            {
                "base": _label(r),
                "change": as_float(r["rank_change"]),
                "direction": "上升 up"
                if r["rank_change"] > 0
                else ("下降 down" if r["rank_change"] < 0 else "持平 same"),
            }
            for r in rows
        ]
    )
    chart = (
        alt.Chart(
            frame,
            width=WIDTH - 300,
            title=alt.Title(
                "名次变化 Rank change since the previous year",
                subtitle="正值为上升的位次 (positive: places gained)",
            ),
        )
        .mark_bar()
        .encode(
            y=alt.Y("base:N", sort=order, title=None, axis=_label_axis(order)),
            x=alt.X("change:Q", title="位次变化 Places moved"),
            color=alt.Color(
                "direction:N",
                title=None,
                scale=alt.Scale(domain=DIRECTIONS, range=["#2e8b57", "#7f8c8d", "#c0392b"]),
                legend=_legend(DIRECTIONS, None),
            ),
            tooltip=["base", "change"],
        )
        .properties(height=alt.Step(14))
    )
    return to_spec(chart)


def provinces(data: ReportData) -> Spec | None:
    """Bases and returnee enterprises by province, coloured by region."""
    if not data.provinces:
        return None
    frame = pd.DataFrame(
        [
            {
                "province": f"{r['province_name_zh']} {r['province_name_en']}",
                "region": r["region_code"],
                "bases": r["bases_designated"],
                "enterprises": as_float(r["enterprises_in_park"]) or 0.0,
            }
            for r in data.provinces
        ]
    )
    order = list(frame["province"])
    regions = {
        r["region_code"]: f"{r['region_name_zh']} {r['region_name_en']}" for r in data.regions
    }
    frame["region"] = frame["region"].map(lambda c: regions.get(c, c or "—"))
    base = alt.Chart(frame).encode(
        y=alt.Y("province:N", sort=order, title=None, axis=_label_axis(order)),
        color=alt.Color(
            "region:N",
            title="地区 Region",
            scale=alt.Scale(range=PALETTE),
            legend=_legend(list(frame["region"].unique()), "地区 Region"),
        ),
    )
    bases = (
        base.mark_bar()
        .encode(
            x=alt.X("bases:Q", title="基地数 Bases", axis=alt.Axis(tickMinStep=1)),
            tooltip=["province", "bases"],
        )
        .properties(width=170, height=alt.Step(14), title="基地数 Bases")
    )
    enterprises = (
        base.mark_bar()
        .encode(
            x=alt.X("enterprises:Q", title="在园留学人员企业 Returnee enterprises in the bases"),
            tooltip=["province", "enterprises"],
        )
        .properties(width=220, height=alt.Step(14), title="在园企业 Enterprises")
    )
    chart = alt.hconcat(
        bases, enterprises.encode(y=alt.Y("province:N", sort=order, title=None, axis=None))
    )
    return to_spec(chart)


TREND_FIGURES = [
    ("enterprises_in_park", "在园留学人员企业", "Returnee enterprises in the bases", 1),
    ("incubated_cum", "累计孵化企业", "Enterprises incubated, cumulative", 1),
    ("returnees_cum", "累计吸纳留学人员", "Returnees absorbed, cumulative", 1),
    ("listed_cum", "上市挂牌企业", "Listed or quoted enterprises", 1),
    ("revenue_yuan", "营业收入（亿元）", "Revenue (100 million yuan)", 1e8),
    ("vc_yuan", "风险投资（亿元）", "Venture capital (100 million yuan)", 1e8),
]


def trends(data: ReportData) -> Spec | None:
    """The headline figures of all bases and of the top 10, year by year."""
    rows = []
    for r in data.trends:
        for key, zh, en, unit in TREND_FIGURES:
            value = as_float(r.get(key))
            if value is None:
                continue
            rows.append(
                {
                    "year": str(r["reporting_year"]),
                    "figure": f"{zh} {en}",
                    "scope": "全部基地 All bases" if r["scope"] == "all" else "前十名 Top 10",
                    "value": value / unit,
                }
            )
    if len({r["year"] for r in rows}) < 2:
        return None
    frame = pd.DataFrame(rows)
    years = sorted({r["year"] for r in rows})
    chart = (
        alt.Chart(frame, width=250, height=130)
        .mark_line(point=True)
        .encode(
            x=alt.X(
                "year:O",
                title=None,
                axis=alt.Axis(labelLimit=_limit(years, LABEL_FONT_SIZE, OTHER_LABEL_LIMIT)),
            ),
            y=alt.Y("value:Q", title=None),
            color=alt.Color(
                "scope:N",
                title=None,
                scale=alt.Scale(range=[ACCENT, "#d9822b"]),
                legend=_legend(sorted({r["scope"] for r in rows}), None),
            ),
            tooltip=["year", "scope", alt.Tooltip("value:Q", format=",.2f")],
        )
        .facet(
            facet=alt.Facet(
                "figure:N", title=None, sort=[f"{zh} {en}" for _, zh, en, _ in TREND_FIGURES]
            ),
            columns=2,
        )
        .resolve_scale(y="independent")
    )
    return to_spec(chart)


CHARTS: dict[str, Callable[[ReportData], Spec | None]] = {
    "dimensions": dimension_scores,
    "intervals": rank_intervals,
    "changes": rank_changes,
    "provinces": provinces,
    "trends": trends,
}
"""The page's charts by the name the page template gives them."""


def specs(data: ReportData) -> dict[str, Spec | None]:
    """Every chart of a year's page, as Vega-Lite specs (None: nothing to show)."""
    with schemapi.debug_mode(False):
        return {name: make(data) for name, make in CHARTS.items()}
