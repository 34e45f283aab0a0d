"""The annual report as one self-contained HTML page: styles inline, charts inline SVG, no script.

The page's Content-Security-Policy forbids every request (``default-src 'none'``), so nothing it
holds can reach the network: a stray external reference shows up as a blocked load and a console
error, which the browser test catches.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import jinja2
from markupsafe import Markup

from parkwh.publish.report.data import ReportData, as_float

CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

HEADLINE_FIGURES = [
    # key, Chinese, English, kind
    ("bases", "纳入统计的孵化基地", "Bases with data", "count"),
    ("enterprises_in_park", "在园留学人员企业", "Returnee enterprises in the bases", "count"),
    ("returnees_in_park", "在园留学人员", "Returnees in the bases", "count"),
    (
        "incubated_cum",
        "累计孵化留学人员企业",
        "Returnee enterprises incubated, cumulative",
        "count",
    ),
    ("high_tech_cum", "其中：国家高新技术企业", "… national high-tech enterprises", "count"),
    ("little_giants_cum", "其中：专精特新“小巨人”企业", "… national little giants", "count"),
    ("listed_cum", "其中：上市挂牌企业", "… listed or quoted", "count"),
    ("returnees_cum", "累计吸纳留学人员", "Returnees absorbed, cumulative", "count"),
    ("talent_national", "其中：国家重大人才项目", "… in national major talent programmes", "count"),
    ("talent_provincial", "其中：省级人才计划", "… in provincial talent programmes", "count"),
    (
        "revenue_yuan",
        "留学人员企业当年营业收入",
        "Returnee enterprises' revenue in the year",
        "money",
    ),
    ("tax_yuan", "上缴利税", "Taxes paid in the year", "money"),
    ("service_events", "创业创新服务活动（场次）", "Entrepreneurship service events", "count"),
    ("vc_yuan", "获得风险投资", "Venture capital raised in the year", "money"),
    ("fiscal_yuan", "各级财政资助", "Fiscal funding received, all levels", "money"),
    ("avg_score", "平均综合得分", "Average published score", "score"),
]

METHOD_STEPS = [
    (
        "筛选",
        "Screen",
        "指标覆盖不足三分之二的基地不参与排名。",
        "A base with under two thirds of its indicators is not ranked.",
    ),
    (
        "插补",
        "Impute",
        "缺失值按文档规定的规则插补并标记。",
        "Missing values are imputed by a documented rule and flagged.",
    ),
    (
        "异常值处理",
        "Treat outliers",
        "偏度绝对值不小于2且超额峰度不小于3.5的指标逐点缩尾，最多5点。",
        "An indicator with |skew| ≥ 2 and excess kurtosis ≥ 3.5 is winsorised one point at a time, up to 5.",
    ),
    ("标准化", "Normalise", "各指标标准化为0–100分。", "Each indicator is normalised to 0–100."),
    (
        "加权汇总",
        "Aggregate",
        "维度内和维度间按权重算术平均。",
        "Weighted arithmetic mean within and across dimensions.",
    ),
    (
        "专家评分",
        "Expert panel",
        "与专家评分（去极值后的平均）合成，保留三位小数。",
        "Combined with the expert panel's trimmed mean, rounded to 3 decimals.",
    ),
    (
        "排名",
        "Rank",
        "同分同名次（“1224”式）。",
        "Ties share the lower rank number (“1224” style).",
    ),
    (
        "不确定性",
        "Uncertainty",
        "对方法选择做蒙特卡洛模拟，公布中位名次及5%–95%名次区间。",
        "A seeded Monte Carlo over the method's choices gives each base's median rank and 5–95 % interval.",
    ),
]


def count(value: Any) -> str:
    if value is None:
        return "—"
    return f"{int(value):,}"


def yi(value: Any) -> str:
    """Yuan as 亿元 (100 million yuan), two decimals, as the committee's report writes them."""
    number = as_float(value)
    return "—" if number is None else f"{number / 1e8:,.2f}亿元"


def billion(value: Any) -> str:
    number = as_float(value)
    return "—" if number is None else f"{number / 1e9:,.3f} bn yuan"


def score(value: Any, places: int = 3) -> str:
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        return f"{value:.{places}f}"
    return f"{float(value):.{places}f}"


def rank_text(value: Any) -> str:
    if value is None:
        return "—"
    number = float(value)
    return f"{int(number)}" if number.is_integer() else f"{number:.1f}"


def signed(value: Any) -> str:
    if value is None:
        return "—"
    number = int(value)
    return f"▲{number}" if number > 0 else (f"▼{-number}" if number < 0 else "0")


def figure(row: dict | None, key: str, kind: str) -> str:
    if not row:
        return "—"
    value = row.get(key)
    if kind == "money":
        return f"{yi(value)}<br><span class=en>{billion(value)}</span>"
    if kind == "score":
        return score(value)
    return count(value)


REASONS_ZH = {
    "first publication": "首次发布",
    "submissions corrected": "提交数据更正",
    "method changed": "评价方法更新",
    "published figures changed": "公布数据变化",
}
CHANGES_ZH = {
    "rank and score": "名次和得分",
    "rank": "名次",
    "score": "得分",
    "newly ranked": "新进入排名",
    "no longer ranked": "退出排名",
    "added": "新增",
    "removed": "移除",
}


def bilingual(value: str | None, table: dict[str, str]) -> str:
    """``中文 (English)`` for a code-like English phrase parkwh records, item by item."""
    if not value:
        return ""
    parts = [part.strip() for part in value.split(",")]
    zh = "、".join(table.get(part, part) for part in parts)
    return f"{zh} ({value})"


def plain(value: Any) -> str:
    """A number as written in the catalogue: no trailing zeros."""
    if value is None:
        return ""
    if not isinstance(value, (int, float, Decimal)):
        return str(value)
    number = float(value)
    return f"{int(number)}" if number.is_integer() else f"{number:g}"


def direction(value: Any) -> str:
    if value is None:
        return ""
    text = str(value).strip().lower()
    if text in ("1", "1.0", "+1", "positive", "higher is better"):
        return "正向 ↑"
    if text in ("-1", "-1.0", "negative", "lower is better"):
        return "逆向 ↓"
    return str(value)


def utc(value: dt.datetime | None) -> str:
    return "—" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


_ENV = jinja2.Environment(
    autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True
)
_ENV.filters.update(
    count=count,
    yi=yi,
    billion=billion,
    score=score,
    rank=rank_text,
    signed=signed,
    utc=utc,
    plain=plain,
    direction=direction,
    reason=lambda v: bilingual(v, REASONS_ZH),
    change=lambda v: bilingual(v, CHANGES_ZH),
)
_ENV.globals.update(figure=lambda *a: Markup(figure(*a)))

STYLE = """
:root { --ink: #1f2328; --muted: #59636e; --line: #d0d7de; --soft: #f6f8fa; --accent: #1f5fa8; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0 auto; max-width: 1080px; padding: 24px 28px 64px; color: var(--ink);
  font: 15px/1.6 "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei",
  -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; }
header.title { border-bottom: 3px solid var(--accent); padding-bottom: 12px; margin-bottom: 8px; }
h1 { font-size: 26px; line-height: 1.3; margin: 0; }
h1 .en { display: block; font-size: 17px; font-weight: 500; color: var(--muted); margin-top: 4px; }
h2 { font-size: 20px; margin: 40px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h2 .en, h3 .en, th .en { font-weight: 500; color: var(--muted); }
h2 .en { font-size: 15px; margin-left: 8px; }
h3 { font-size: 16px; margin: 24px 0 8px; }
p { margin: 8px 0; }
p.en, span.en, div.en { color: var(--muted); }
span.en { font-size: 12px; }
.meta { color: var(--muted); font-size: 13px; }
nav { font-size: 13px; margin: 12px 0 0; line-height: 2; }
nav a { color: var(--accent); text-decoration: none; margin-right: 14px; white-space: nowrap; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: 13.5px; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; position: sticky; top: 0; }
th .en { display: block; font-size: 11px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:nth-child(even) td { background: #fbfcfd; }
tr.top10 td:first-child { border-left: 3px solid var(--accent); }
tr.unranked td { color: var(--muted); }
.up { color: #2e8b57; } .down { color: #c0392b; }
figure.chart { margin: 12px 0 20px; overflow-x: auto; }
figure.chart svg { max-width: 100%; height: auto; }
figure.chart figcaption { font-size: 12.5px; color: var(--muted); }
.cards { display: grid; grid-template-columns: 1fr 1fr; gap: 18px; }
.callout { background: var(--soft); border-left: 4px solid var(--accent); padding: 10px 14px; margin: 12px 0; }
.callout.warn { border-left-color: #9a6700; background: #fff8e5; }
.callout.fail { border-left-color: #cf222e; background: #ffebe9; }
ol.steps li { margin: 4px 0; }
code { font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--soft);
  padding: 1px 4px; border-radius: 4px; }
footer { margin-top: 48px; font-size: 12.5px; color: var(--muted); border-top: 1px solid var(--line); padding-top: 10px; }
@media (max-width: 760px) { .cards { grid-template-columns: 1fr; } body { padding: 16px; } }
@media print { nav { display: none; } th { position: static; } h2 { break-after: avoid; } figure { break-inside: avoid; } }
"""

TEMPLATE = _ENV.from_string(
    """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{ csp }}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="parkwh">
<meta name="parkwh-publication" content="{{ p.publication_id }}">
<link rel="icon" href="data:,">
<title>{{ d.year }}年度中国留学人员创业园区孵化基地竞争力报告 · Incubation bases competitiveness report {{ d.year }}</title>
<style>{{ style }}</style>
</head>
<body>
<header class="title">
<h1>{{ d.year }}年度中国留学人员创业园区孵化基地竞争力报告
<span class="en">Competitiveness of China's overseas-returnee entrepreneurship incubation bases, reporting year {{ d.year }}</span></h1>
<p class="meta">第{{ p.version }}版 · Version {{ p.version }} ({{ p.publication_id }}) ·
发布时间 published {{ p.published_at | utc }} · 评价方法 method {{ p.method_version }}
{% if p.version > 1 %} · 更正版本 corrected version: {{ p.reason | reason }}；{{ p.changes }}家基地的名次或得分有变化 ({{ p.changes }} bases changed since {{ p.previous_publication_id }}){% endif %}</p>
<nav>
<a href="#overview">概况 Overview</a><a href="#ranking">综合排名 Ranking</a><a href="#dimensions">维度得分 Dimensions</a>
<a href="#intervals">名次区间 Rank intervals</a><a href="#changes">名次变化 Rank changes</a>
<a href="#geography">省份与地区 Provinces and regions</a><a href="#trends">趋势 Trends</a>
<a href="#method">评价方法 Method</a><a href="#quality">数据质量 Data quality</a><a href="#publication">版本 Versions</a>
</nav>
</header>

<section id="overview">
<h2>概况<span class="en">Overview</span></h2>
{% set a = d.summary.get('all') %}{% set t = d.summary.get('top10') %}
{% if a %}
<p>截至{{ d.year }}年年底，已入选的{{ d.designated.bases | count }}家孵化基地分布在{{ d.designated.provinces | count }}个省、自治区、直辖市和特别行政区；纳入数据统计的{{ a.bases | count }}家孵化基地共有在园留学人员企业{{ a.enterprises_in_park | count }}家、留学人员{{ a.returnees_in_park | count }}名；累计孵化留学人员企业{{ a.incubated_cum | count }}家，其中国家高新技术企业{{ a.high_tech_cum | count }}家、国家级专精特新“小巨人”企业{{ a.little_giants_cum | count }}家、上市挂牌企业{{ a.listed_cum | count }}家；累计吸纳留学人员{{ a.returnees_cum | count }}名，其中{{ (a.talent_national or 0) + (a.talent_provincial or 0) }}人纳入国家和省级人才计划项目。</p>
<p class="en">By the end of {{ d.year }}, {{ d.designated.bases | count }} designated bases were spread over {{ d.designated.provinces | count }} provinces, autonomous regions, municipalities and special administrative regions. The {{ a.bases | count }} bases with data hosted {{ a.enterprises_in_park | count }} returnee enterprises and {{ a.returnees_in_park | count }} returnees; they had incubated {{ a.incubated_cum | count }} returnee enterprises in all, of which {{ a.high_tech_cum | count }} national high-tech enterprises, {{ a.little_giants_cum | count }} national “little giants” and {{ a.listed_cum | count }} listed or quoted, and absorbed {{ a.returnees_cum | count }} returnees, {{ (a.talent_national or 0) + (a.talent_provincial or 0) }} of them in national or provincial talent programmes.</p>
{% endif %}
{% if d.top10 %}
<p>综合评价得分排名前十的孵化基地是：{{ d.top10 | map(attribute='base_name_zh') | join('、') }}{% if t and t.avg_score is not none %}，平均分为{{ t.avg_score | score }}分{% endif %}。{% if t %}10家基地累计孵化留学人员企业{{ t.incubated_cum | count }}家，其中国家高新技术企业{{ t.high_tech_cum | count }}家，国家级专精特新“小巨人”企业{{ t.little_giants_cum | count }}家，上市挂牌企业{{ t.listed_cum | count }}家；累计吸纳留学人员{{ t.returnees_cum | count }}人，其中{{ t.talent_national | count }}人纳入国家重大人才项目，{{ t.talent_provincial | count }}人入选省级人才计划。留学人员企业当年营业收入总额{{ t.revenue_yuan | yi }}，上缴利税{{ t.tax_yuan | yi }}；年内开展创业创新服务活动{{ t.service_events | count }}场次，留学人员企业获得风险投资额{{ t.vc_yuan | yi }}、各级财政资助额{{ t.fiscal_yuan | yi }}。{% endif %}</p>
<p class="en">The ten bases with the highest comprehensive scores are {{ d.top10 | map(attribute='base_name_en') | join('; ') }}{% if t and t.avg_score is not none %}, with an average score of {{ t.avg_score | score }}{% endif %}.{% if t %} Together they had incubated {{ t.incubated_cum | count }} returnee enterprises ({{ t.high_tech_cum | count }} high-tech, {{ t.little_giants_cum | count }} little giants, {{ t.listed_cum | count }} listed or quoted) and absorbed {{ t.returnees_cum | count }} returnees ({{ t.talent_national | count }} in national major talent programmes, {{ t.talent_provincial | count }} in provincial ones). In {{ d.year }} their returnee enterprises earned {{ t.revenue_yuan | billion }} and paid {{ t.tax_yuan | billion }} in taxes; the bases held {{ t.service_events | count }} service events; the enterprises raised {{ t.vc_yuan | billion }} of venture capital and received {{ t.fiscal_yuan | billion }} of fiscal funding.{% endif %}</p>
{% endif %}
<table id="headline-table">
<thead><tr><th>指标<span class="en">Figure</span></th><th class="num">全部基地<span class="en">All bases</span></th><th class="num">前十名<span class="en">Top 10</span></th></tr></thead>
<tbody>
{% for key, zh, en, kind in headline %}
<tr><td>{{ zh }}<br><span class="en">{{ en }}</span></td><td class="num">{{ figure(a, key, kind) }}</td><td class="num">{{ figure(t, key, kind) }}</td></tr>
{% endfor %}
</tbody>
</table>
</section>

<section id="ranking">
<h2>综合排名<span class="en">Ranking</span></h2>
<p>综合得分由指标得分与专家评分合成；名次区间为蒙特卡洛模拟下的5%–95%名次。<span class="en">The score combines the indicator score with the expert panel's score; the interval is the 5–95 % range of ranks under the Monte Carlo simulation of the method's choices.</span></p>
<table id="ranking-table">
<thead><tr>
<th class="num">名次<span class="en">Rank</span></th><th>孵化基地<span class="en">Base</span></th><th>省份<span class="en">Province</span></th>
<th class="num">综合得分<span class="en">Score</span></th><th class="num">指标得分<span class="en">Indicators</span></th><th class="num">专家评分<span class="en">Experts</span></th>
<th class="num">中位名次<span class="en">Median rank</span></th><th class="num">名次区间<span class="en">5–95 % interval</span></th><th class="num">较上年<span class="en">Change</span></th>
</tr></thead>
<tbody>
{% for r in d.ranking %}
<tr class="{{ 'top10' if r.ranked and r.rank is not none and r.rank <= 10 else '' }}{{ ' unranked' if not r.ranked else '' }}" data-base="{{ r.base_code }}">
<td class="num">{{ r.rank | rank if r.ranked else '未排名' }}</td>
<td>{{ r.base_name_zh }}<br><span class="en">{{ r.base_name_en or '' }}</span></td>
<td>{{ r.province or '' }}</td>
<td class="num">{{ r.score | score }}</td><td class="num">{{ r.indicator_score | score }}</td><td class="num">{{ r.expert_score | score }}</td>
<td class="num">{{ r.rank_median | rank }}</td>
<td class="num">{% if r.rank_p05 is not none and r.rank_p95 is not none %}{{ r.rank_p05 | rank }}–{{ r.rank_p95 | rank }}{% else %}—{% endif %}</td>
<td class="num {{ 'up' if r.rank_change and r.rank_change > 0 else ('down' if r.rank_change and r.rank_change < 0 else '') }}">{{ r.rank_change | signed }}</td>
</tr>
{% endfor %}
</tbody>
</table>
{% if d.ranking | rejectattr('ranked') | list %}
<p class="meta">未排名：指标覆盖不足三分之二。<span class="en">Not ranked: under two thirds of the indicators available.</span></p>
{% endif %}
</section>

<section id="dimensions">
<h2>维度得分<span class="en">Dimension scores of the top 10</span></h2>
{% if charts.dimensions %}<figure class="chart" id="chart-dimensions">{{ charts.dimensions }}<figcaption>各维度得分为该维度内指标标准化值的加权平均（0–100）。Each dimension score is the weighted mean of its indicators' normalised values (0–100).</figcaption></figure>
{% else %}<p class="meta">本年度未公布维度得分。No dimension scores are published for this year.</p>{% endif %}
</section>

<section id="intervals">
<h2>名次的不确定性<span class="en">Rank intervals</span></h2>
{% if charts.intervals %}<figure class="chart" id="chart-intervals">{{ charts.intervals }}<figcaption>参照欧盟联合研究中心（JRC）对综合指数的审计方法。After the JRC's audits of composite indices: a short bar means the rank hardly depends on the method's choices.</figcaption></figure>
{% else %}<p class="meta">本年度未公布名次区间。No rank intervals are published for this year.</p>{% endif %}
</section>

<section id="changes">
<h2>名次变化<span class="en">Rank changes</span></h2>
{% if charts.changes %}<figure class="chart" id="chart-changes">{{ charts.changes }}</figure>
{% else %}<p class="meta">没有上一年度的排名可比较。There is no previous year's ranking to compare with.</p>{% endif %}
{% if d.changes %}
<h3>本版相对于上一版的变化 <span class="en">Changed since the previous version ({{ p.previous_publication_id }})</span></h3>
<table id="changelog-table">
<thead><tr><th>孵化基地<span class="en">Base</span></th><th class="num">原名次<span class="en">Was</span></th><th class="num">现名次<span class="en">Now</span></th><th class="num">原得分<span class="en">Score was</span></th><th class="num">现得分<span class="en">Score now</span></th><th>变化<span class="en">Change</span></th></tr></thead>
<tbody>
{% for c in d.changes %}
<tr><td>{{ c.base_name_zh }}<br><span class="en">{{ c.base_name_en or '' }}</span></td><td class="num">{{ c.previous_rank | rank }}</td><td class="num">{{ c.rank | rank }}</td><td class="num">{{ c.previous_score | score }}</td><td class="num">{{ c.score | score }}</td><td>{{ c.change | change }}</td></tr>
{% endfor %}
</tbody>
</table>
{% endif %}
</section>

<section id="geography">
<h2>省份与地区<span class="en">Provinces and regions</span></h2>
{% if charts.provinces %}<figure class="chart" id="chart-provinces">{{ charts.provinces }}</figure>{% endif %}
{% if d.regions %}
<table id="region-table">
<thead><tr><th>地区<span class="en">Region</span></th><th class="num">省份<span class="en">Provinces</span></th><th class="num">基地<span class="en">Bases</span></th><th class="num">提交数据<span class="en">With data</span></th><th class="num">前十名<span class="en">In top 10</span></th><th class="num">在园企业<span class="en">Enterprises</span></th><th class="num">累计孵化<span class="en">Incubated</span></th><th class="num">累计吸纳留学人员<span class="en">Returnees</span></th><th class="num">营业收入<span class="en">Revenue</span></th><th class="num">平均得分<span class="en">Avg score</span></th></tr></thead>
<tbody>
{% for r in d.regions %}
<tr><td>{{ r.region_name_zh or '' }}<br><span class="en">{{ r.region_name_en or r.region_code or '' }}</span></td><td class="num">{{ r.provinces | count }}</td><td class="num">{{ r.bases_designated | count }}</td><td class="num">{{ r.bases_submitted | count }}</td><td class="num">{{ r.bases_in_top10 | count }}</td><td class="num">{{ r.enterprises_in_park | count }}</td><td class="num">{{ r.incubated_cum | count }}</td><td class="num">{{ r.returnees_cum | count }}</td><td class="num">{{ r.revenue_yuan | yi }}</td><td class="num">{{ r.avg_score | score }}</td></tr>
{% endfor %}
</tbody>
</table>
<table id="province-table">
<thead><tr><th>省份<span class="en">Province</span></th><th class="num">基地<span class="en">Bases</span></th><th class="num">提交数据<span class="en">With data</span></th><th class="num">前十名<span class="en">In top 10</span></th><th class="num">在园企业<span class="en">Enterprises</span></th><th class="num">累计孵化<span class="en">Incubated</span></th><th class="num">上市挂牌<span class="en">Listed</span></th><th class="num">累计吸纳留学人员<span class="en">Returnees</span></th><th class="num">营业收入<span class="en">Revenue</span></th><th class="num">平均得分<span class="en">Avg score</span></th></tr></thead>
<tbody>
{% for r in d.provinces %}
<tr><td>{{ r.province_name_zh or r.province_code }}<br><span class="en">{{ r.province_name_en or '' }}</span></td><td class="num">{{ r.bases_designated | count }}</td><td class="num">{{ r.bases_submitted | count }}</td><td class="num">{{ r.bases_in_top10 | count }}</td><td class="num">{{ r.enterprises_in_park | count }}</td><td class="num">{{ r.incubated_cum | count }}</td><td class="num">{{ r.listed_cum | count }}</td><td class="num">{{ r.returnees_cum | count }}</td><td class="num">{{ r.revenue_yuan | yi }}</td><td class="num">{{ r.avg_score | score }}</td></tr>
{% endfor %}
</tbody>
</table>
{% endif %}
</section>

<section id="trends">
<h2>{{ d.trends[0].reporting_year if d.trends else d.year }}年以来的趋势<span class="en">Trends since {{ d.trends[0].reporting_year if d.trends else d.year }}</span></h2>
{% if charts.trends %}<figure class="chart" id="chart-trends">{{ charts.trends }}</figure>{% endif %}
<table id="trend-table">
<thead><tr><th>年度<span class="en">Year</span></th><th class="num">基地<span class="en">Bases</span></th><th class="num">在园企业<span class="en">Enterprises</span></th><th class="num">累计孵化<span class="en">Incubated</span></th><th class="num">上市挂牌<span class="en">Listed</span></th><th class="num">累计吸纳留学人员<span class="en">Returnees</span></th><th class="num">营业收入<span class="en">Revenue</span></th><th class="num">风险投资<span class="en">Venture capital</span></th><th class="num">前十名平均分<span class="en">Top 10 avg score</span></th></tr></thead>
<tbody>
{% for year, rows in d.trends | groupby('reporting_year') %}{% set all = rows | selectattr('scope', 'equalto', 'all') | first %}{% set top = rows | selectattr('scope', 'equalto', 'top10') | list %}
<tr><td>{{ year }}</td><td class="num">{{ all.bases | count }}</td><td class="num">{{ all.enterprises_in_park | count }}</td><td class="num">{{ all.incubated_cum | count }}</td><td class="num">{{ all.listed_cum | count }}</td><td class="num">{{ all.returnees_cum | count }}</td><td class="num">{{ all.revenue_yuan | yi }}</td><td class="num">{{ all.vc_yuan | yi }}</td><td class="num">{{ (top[0].avg_score if top else none) | score }}</td></tr>
{% endfor %}
</tbody>
</table>
</section>

<section id="method">
<h2>评价方法<span class="en">The method</span></h2>
<p>评价依照《中国留学人员创业园区孵化基地评价指标体系》，方法参照经济合作与发展组织和欧盟联合研究中心的《综合指数构建手册》（2008）。每一步的结果都保存为数据表，任何得分都可追溯到基地提交的原始数据。<span class="en">The evaluation follows the index system for the incubation bases and the OECD/JRC Handbook on Constructing Composite Indicators (2008). Every step's output is kept as a table, so any score can be traced back to the submitted rows. Method version: <code>{{ p.method_version }}</code>.</span></p>
<ol class="steps">
{% for zh, en, text_zh, text_en in steps %}<li><b>{{ zh }}</b> {{ text_zh }} <span class="en"><b>{{ en }}.</b> {{ text_en }}</span></li>
{% endfor %}
</ol>
{% if d.parameters %}
<h3>方法参数 <span class="en">Parameters of the method valid in {{ d.year }}</span></h3>
<table id="parameters-table">
<thead><tr><th>参数<span class="en">Parameter</span></th><th class="num">取值<span class="en">Value</span></th></tr></thead>
<tbody>
{% for name, value in d.parameters.items() %}<tr><td><code>{{ name }}</code></td><td class="num">{{ value | plain }}</td></tr>
{% endfor %}
</tbody>
</table>
{% endif %}
{% if d.catalogue %}
<h3>指标目录 <span class="en">Indicator catalogue ({{ d.catalogue | length }} indicators valid in {{ d.year }})</span></h3>
<table id="catalogue-table">
{% if 'indicator_name_zh' in d.catalogue_columns and 'dimension_code' in d.catalogue_columns %}
{% set c = d.catalogue_columns %}
<thead><tr><th>维度<span class="en">Dimension</span></th><th>指标<span class="en">Indicator</span></th><th>单位<span class="en">Unit</span></th>
{% if 'dimension_weight' in c %}<th class="num">维度权重<span class="en">Dimension weight</span></th>{% endif %}
{% if 'indicator_weight' in c %}<th class="num">指标权重<span class="en">Indicator weight</span></th>{% endif %}
{% if 'direction' in c %}<th>方向<span class="en">Direction (↑ higher is better)</span></th>{% endif %}
{% if 'normalisation' in c %}<th>标准化<span class="en">Normalisation</span></th>{% endif %}
{% if 'definition' in c %}<th>定义<span class="en">Definition</span></th>{% endif %}</tr></thead>
<tbody>
{% for row in d.catalogue %}<tr>
<td>{{ row.dimension_name_zh or row.dimension_code }}<br><span class="en">{{ row.get('dimension_name_en') or '' }}</span></td>
<td>{{ row.indicator_name_zh }}<br><span class="en">{{ row.get('indicator_name_en') or '' }} · <code>{{ row.indicator_code }}</code></span></td>
<td>{{ row.get('unit') or '' }}</td>
{% if 'dimension_weight' in c %}<td class="num">{{ row.dimension_weight | plain }}</td>{% endif %}
{% if 'indicator_weight' in c %}<td class="num">{{ row.indicator_weight | plain }}</td>{% endif %}
{% if 'direction' in c %}<td>{{ row.direction | direction }}</td>{% endif %}
{% if 'normalisation' in c %}<td>{{ row.normalisation or '' }}</td>{% endif %}
{% if 'definition' in c %}<td>{{ row.definition or '' }}</td>{% endif %}
</tr>
{% endfor %}
</tbody>
{% else %}
<thead><tr>{% for c in d.catalogue_columns %}<th>{{ c }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in d.catalogue %}<tr>{% for c in d.catalogue_columns %}<td>{{ '' if row[c] is none else row[c] }}</td>{% endfor %}</tr>
{% endfor %}
</tbody>
{% endif %}
</table>
{% endif %}
</section>

<section id="quality">
<h2>数据质量<span class="en">Data quality</span></h2>
{% if d.quality_run %}
<div class="callout {{ '' if d.quality_run.gate_open else 'fail' }}">
{% if d.quality_run.gate_open %}质量检查通过，准予发布。<span class="en">The quality gate was open: no error-level expectation failed.</span>
{% else %}质量检查未通过。<span class="en">The quality gate was closed.</span>{% endif %}
<span class="meta">（检查 run {{ d.quality_run.run_id }}，{{ d.quality_run.checked_at | utc }}）</span>
</div>
<table id="quality-table">
<thead><tr><th>检查套件<span class="en">Suite</span></th><th class="num">期望<span class="en">Expectations</span></th><th class="num">通过<span class="en">Passed</span></th><th class="num">警告<span class="en">Warnings</span></th><th class="num">未通过<span class="en">Failed</span></th></tr></thead>
<tbody>
{% for s in d.quality_by_suite %}<tr><td>{{ s.suite }}</td><td class="num">{{ s.expectations | count }}</td><td class="num">{{ s.passed | count }}</td><td class="num">{{ s.warned | count }}</td><td class="num">{{ s.failed | count }}</td></tr>
{% endfor %}
</tbody>
</table>
{% if d.quality_findings %}
<h3>需要关注的问题 <span class="en">Findings</span></h3>
<table id="findings-table">
<thead><tr><th>结果<span class="en">Outcome</span></th><th>表<span class="en">Table</span></th><th>期望<span class="en">Expectation</span></th><th class="num">不符合<span class="en">Unexpected</span></th><th>处理建议<span class="en">What to do</span></th></tr></thead>
<tbody>
{% for f in d.quality_findings %}<tr><td>{{ f.outcome }}</td><td>{{ f.table_name }}</td><td>{{ f.description }}</td><td class="num">{{ f.unexpected_count | count }} / {{ f.element_count | count }}</td><td>{{ f.fix }}</td></tr>
{% endfor %}
</tbody>
</table>
{% endif %}
{% else %}
<p class="meta">没有发布数据质量检查结果。No data-quality results are published.</p>
{% endif %}
</section>

<section id="publication">
<h2>版本<span class="en">Versions of this publication</span></h2>
<table id="versions-table">
<thead><tr><th>版本<span class="en">Publication</span></th><th>发布时间<span class="en">Published</span></th><th>原因<span class="en">Reason</span></th><th class="num">排名基地<span class="en">Ranked</span></th><th class="num">变化<span class="en">Changed</span></th><th>评价方法<span class="en">Method</span></th></tr></thead>
<tbody>
{% for v in d.versions %}<tr><td>{{ v.publication_id }}{% if v.is_current %} （现行 current）{% endif %}</td><td>{{ v.published_at | utc }}</td><td>{{ v.reason | reason }}</td><td class="num">{{ v.bases_ranked | count }}</td><td class="num">{{ v.changes | count }}</td><td><code>{{ v.method_version }}</code></td></tr>
{% endfor %}
</tbody>
</table>
<p>数据下载：<code>exports/&lt;table&gt;/reporting_year={{ d.year }}/data.parquet</code>（Parquet），只读数据库 <code>published.duckdb</code>。<span class="en">The data behind this report: the Parquet exports and the read-only DuckDB file <code>published.duckdb</code>; earlier versions' rankings are in <code>park_ranking_history</code>.</span></p>
</section>

<footer>parkwh · {{ p.publication_id }} · 提交数据摘要 submissions sha256 <code>{{ p.submissions_sha256[:16] }}…</code></footer>
</body>
</html>
"""
)


def render(data: ReportData, charts: dict[str, str | None]) -> str:
    return TEMPLATE.render(
        d=data,
        p=data.publication,
        charts={k: (Markup(v) if v else None) for k, v in charts.items()},
        headline=HEADLINE_FIGURES,
        steps=METHOD_STEPS,
        csp=CONTENT_SECURITY_POLICY,
        style=Markup(STYLE),
    )
