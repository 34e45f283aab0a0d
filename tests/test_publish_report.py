"""The annual report page: self-contained, bilingual, and showing exactly what is published."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest
from parkwh import config
from parkwh.publish import publications, readonly
from parkwh.publish import report as annual_report
from test_publish_fixture import build, correct_submission

PARKWH = Path(sys.executable).parent / "parkwh"


@pytest.fixture()
def published(warehouse_dir):
    build(warehouse_dir)
    publications.publish()
    readonly.build()
    return warehouse_dir


@pytest.fixture(scope="module")
def page_2023(tmp_path_factory):
    """One publication and its 2023 page, shared by the tests that only read them."""
    root = tmp_path_factory.mktemp("report") / "warehouse"
    root.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PARKWH_WAREHOUSE_DIR", str(root))
        build(root)
        publications.publish()
        readonly.build()
        path = annual_report.render(2023)
        yield (root, path, *_parse(path))


class _Page(HTMLParser):
    """The parts of the page the tests look at: tags with their attributes, table cells by table id."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self.svg_text: dict[str, list[str]] = {}
        self._figure: str | None = None
        self._in_text = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "table":
            self._table = attributes.get("id")
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "figure":
            self._figure = attributes.get("id")
            self.svg_text[self._figure] = []
        elif tag == "text" and self._figure:
            self._in_text = True
        if tag in ("br", "span") and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag == "figure":
            self._figure = None
        elif tag == "text":
            self._in_text = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._in_text and self._figure:
            self.svg_text[self._figure].append(data)


def _parse(path: Path) -> tuple[str, _Page]:
    text = path.read_text(encoding="utf-8")
    page = _Page()
    page.feed(text)
    return text, page


def _published(sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(config.warehouse().database), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_the_page_loads_nothing_from_anywhere(page_2023):
    root, path, text, page = page_2023
    assert path == root / "reports" / "2023" / "index.html"
    assert not [
        t
        for t, _ in page.tags
        if t in ("script", "iframe", "img", "object", "embed", "audio", "video")
    ]
    for tag, attributes in page.tags:
        for name in ("src", "href", "srcset", "data", "poster"):
            value = attributes.get(name)
            if value is None:
                continue
            assert value.startswith(("#", "data:")), f"<{tag} {name}={value!r}> would be a request"
    assert "@import" not in text and not re.search(r"url\((?!['\"]?(data:|#))", text)
    csp = [
        a["content"]
        for t, a in page.tags
        if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"
    ]
    assert csp and "default-src 'none'" in csp[0]
    # the only URLs are the SVG namespaces, which are names, not requests
    assert set(re.findall(r"https?://[^\s\"'<>)]+", text)) <= {
        "http://www.w3.org/2000/svg",
        "http://www.w3.org/1999/xlink",
    }


def test_the_ranking_table_is_the_published_ranking(page_2023):
    *_, page = page_2023
    rows = page.tables["ranking-table"][1:]
    expected = _published(
        "select rank, base_name_zh, score, rank_p05, rank_p95, ranked from published.park_ranking"
        " where reporting_year = 2023 order by ranked desc, rank nulls last, base_code"
    )
    assert len(rows) == len(expected)
    for row, (rank, name, score, p05, p95, ranked) in zip(rows, expected):
        assert row[0] == (str(rank) if ranked else "未排名")
        assert row[1].startswith(name)
        assert row[3] == (f"{score:.3f}" if score is not None else "—")
        if ranked:
            assert row[7] == f"{p05}–{p95}"


def test_the_headline_figures_are_the_report_summary(page_2023):
    _, _, text, page = page_2023
    summary = {
        r[0]: r[1:]
        for r in _published(
            "select scope, bases, enterprises_in_park, incubated_cum, returnees_cum, revenue_yuan, avg_score"
            " from published.report_summary where reporting_year = 2023"
        )
    }
    headline = {row[0].split(" ")[0]: row[1:] for row in page.tables["headline-table"][1:]}
    assert headline["在园留学人员企业"] == [f"{summary['all'][1]:,}", f"{summary['top10'][1]:,}"]
    assert headline["累计孵化留学人员企业"] == [
        f"{summary['all'][2]:,}",
        f"{summary['top10'][2]:,}",
    ]
    assert headline["留学人员企业当年营业收入"][1].startswith(
        f"{float(summary['top10'][4]) / 1e8:,.2f}亿元"
    )
    assert headline["平均综合得分"][1] == f"{summary['top10'][5]:.3f}"
    top10 = [
        r[0]
        for r in _published(
            "select base_name_zh from published.park_ranking where reporting_year = 2023 and rank <= 10 order by rank"
        )
    ]
    assert "综合评价得分排名前十的孵化基地是：" + "、".join(top10) in html.unescape(text)
    assert 'lang="zh-CN"' in text and "Competitiveness of China" in text


def test_the_charts_are_inline_svg_of_the_published_figures(page_2023):
    *_, page = page_2023
    figures = {k for k in page.svg_text}
    assert {
        "chart-dimensions",
        "chart-intervals",
        "chart-changes",
        "chart-provinces",
        "chart-trends",
    } <= figures
    dimension_text = " ".join(page.svg_text["chart-dimensions"])
    for (name,) in _published(
        "select base_name_zh from published.park_ranking where reporting_year = 2023 and rank <= 10"
    ):
        assert name in dimension_text
    for (dimension,) in _published("select distinct dimension_name_zh from published.park_scores"):
        assert dimension in dimension_text
    interval_text = " ".join(page.svg_text["chart-intervals"])
    ranked = _published(
        "select count(*) from published.park_ranking where reporting_year = 2023 and ranked"
    )[0][0]
    assert (
        sum(
            1
            for (name,) in _published(
                "select base_name_zh from published.park_ranking where reporting_year = 2023 and ranked"
            )
            if name in interval_text
        )
        == ranked
    )
    province_text = " ".join(page.svg_text["chart-provinces"])
    for (province,) in _published(
        "select distinct p.province_name_zh from marts.fct_base_year f join marts.dim_province p using (province_code)"
        " where f.reporting_year = 2023"
    ):
        assert province in province_text


def test_provinces_regions_trends_method_and_quality_are_shown(page_2023):
    *_, page = page_2023
    provinces = {row[0].split(" ")[0]: row[1:] for row in page.tables["province-table"][1:]}
    expected = _published(
        "select p.province_name_zh, count(*), count(*) filter (where f.submitted), sum(f.enterprises_in_park)"
        " from marts.fct_base_year f join marts.dim_province p using (province_code)"
        " where f.reporting_year = 2023 group by all"
    )
    assert {name: [str(b), str(s), f"{e:,}"] for name, b, s, e in expected} == {
        k: [v[0], v[1], v[3]] for k, v in provinces.items()
    }
    assert [r[0] for r in page.tables["trend-table"][1:]] == ["2021", "2022", "2023"]
    catalogue = _published("select count(*) from staging.method_indicators")[0][0]
    assert len(page.tables["catalogue-table"]) == catalogue + 1
    suites = {row[0]: row[1:] for row in page.tables["quality-table"][1:]}
    for suite, total, passed, warned, failed in _published(
        "select suite, count(*), count(*) filter (where outcome = 'pass'), count(*) filter (where outcome = 'warn'),"
        " count(*) filter (where outcome = 'fail') from audit.check_results group by suite"
    ):
        assert suites[suite] == [str(total), str(passed), str(warned), str(failed)]
    assert (
        len(page.tables["findings-table"]) - 1
        == _published("select count(*) from audit.check_results where outcome <> 'pass'")[0][0]
    )


def test_a_republished_year_shows_its_version_and_changelog(published):
    correct_submission("JS003", 2023, enterprises_in_park=60)
    publications.publish()
    readonly.build()
    text, page = _parse(annual_report.render(2023))
    changes = _published(
        "select count(*) from audit.publication_changes where publication_id = '2023-v2'"
    )[0][0]
    assert changes > 0
    assert len(page.tables["changelog-table"]) - 1 == changes
    assert [row[0].split(" ")[0] for row in page.tables["versions-table"][1:]] == [
        "2023-v1",
        "2023-v2",
    ]
    assert 'content="2023-v2"' in text and "Version 2" in text


def test_the_page_is_a_function_of_the_publication(page_2023):
    _, path, _, _ = page_2023
    first = path.read_bytes()
    again = annual_report.render(2023, path.with_name("again.html")).read_bytes()
    assert again == first


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(PARKWH), "report", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**__import__("os").environ, "COLUMNS": "200"},
    )


def test_the_command_writes_the_report_and_says_where(published):
    result = _cli("--year", "2022")
    assert result.returncode == 0, result.stderr
    assert str(published / "reports" / "2022" / "index.html") in result.stdout
    assert (published / "reports" / "2022" / "index.html").is_file()


def test_the_command_explains_what_is_missing(warehouse_dir):
    result = _cli("--year", "2023")
    assert result.returncode == 1
    assert "nothing has been published" in result.stderr and "Traceback" not in result.stderr
    build(warehouse_dir)
    result = _cli("--year", "2030", "--publish")
    assert result.returncode == 1
    assert "no ranking for 2030" in result.stderr and "Traceback" not in result.stderr
    result = _cli("--publish")
    assert result.returncode == 0, result.stderr
    assert "2023: published 2023-v1" in result.stdout
    assert (warehouse_dir / "reports" / "2023" / "index.html").is_file()
