"""Drawing the report's charts fast changes nothing drawn: a label limit is dropped only where no
label reaches it, every page's charts are drawn together (in worker processes too) and kept, and a
page drawn from kept charts is byte for byte the page drawn afresh."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys

import altair as alt
import pandas as pd
import pytest
from parkwh.publish import publications, readonly, svg
from parkwh.publish import report as annual_report
from parkwh.publish.report import charts
from test_publish_fixture import build

SHORT = ["1. 上海漕河泾留学人员创业园", "2. 苏州留学人员创业园", "10. 中关村国际孵化器"]
LONG = "中国" * 20 + "留学人员创业园"


def _bars(labels: list[str], limit: int) -> dict:
    """A bar chart of ``labels`` as the report draws them, with the axis label limit ``limit``."""
    frame = pd.DataFrame({"base": labels, "value": range(1, len(labels) + 1)})
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y("base:N", sort=labels, title=None, axis=alt.Axis(labelLimit=limit)),
            x=alt.X("value:Q", title="名次 Rank"),
        )
        .properties(width=200, height=alt.Step(14))
    )
    return charts.to_spec(chart)


def _texts(drawn: str) -> list[str]:
    """The text elements of an SVG: what a reader sees written."""
    return [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", drawn)]


def test_a_limit_no_label_reaches_is_dropped_and_the_drawing_is_the_same():
    assert charts._limit(SHORT, charts.LABEL_FONT_SIZE, charts.LABEL_LIMIT) == 0
    with_limit = svg.draw(_bars(SHORT, charts.LABEL_LIMIT))
    without = svg.draw(_bars(SHORT, 0))
    assert without == with_limit
    assert set(SHORT) <= set(_texts(with_limit))


def test_a_label_that_may_reach_its_limit_keeps_it_and_is_still_cut():
    labels = [*SHORT, LONG]
    assert charts._limit(labels, charts.LABEL_FONT_SIZE, charts.LABEL_LIMIT) == charts.LABEL_LIMIT
    shown = _texts(svg.draw(_bars(labels, charts.LABEL_LIMIT)))
    assert LONG not in shown and any(t.endswith("…") and LONG.startswith(t[:-1]) for t in shown)
    assert set(SHORT) <= set(shown)


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("中" * 29, False),  # 29 em of 11 px: 319 px at most, under 330
        ("中" * 30, True),  # 330 px at most: it could reach the limit
        ("a" * 29, False),
        ("—" * 14, False),  # outside ASCII and CJK a character counts two em: 308 px
        ("—" * 15, True),  # 330 px
        ("", False),
    ],
)
def test_the_width_bound_is_generous(text, kept):
    assert charts._limit([text], 11, 330) == (330 if kept else 0)


def test_identical_charts_are_drawn_once_and_kept(tmp_path):
    cache = tmp_path / "cache"
    a, b = _bars(SHORT, 0), _bars(SHORT[:2], 0)
    drawn, keys = svg.render([a, b, a], cache)
    assert drawn[0] == drawn[2] != drawn[1]
    assert drawn[0] == svg.draw(a) and drawn[1] == svg.draw(b)
    assert {p.stem for p in cache.glob("*.svg")} == keys and len(keys) == 2

    # What is kept is what is shown: a kept chart is read back, not drawn again...
    key_a = svg.cache_key(svg.spec_text(a))
    (cache / f"{key_a}.svg").write_text('<svg role="img">kept</svg>', encoding="utf-8")
    again, _ = svg.render([a, b], cache)
    assert again == ['<svg role="img">kept</svg>', drawn[1]]
    # ...and a damaged entry (a crash half-way through writing it) is drawn again and replaced.
    (cache / f"{key_a}.svg").write_text('<svg role="img">ha', encoding="utf-8")
    repaired, _ = svg.render([a], cache)
    assert repaired == [drawn[0]]
    assert (cache / f"{key_a}.svg").read_text(encoding="utf-8") == drawn[0]

    assert svg.prune(cache, {key_a}) == 1
    assert [p.stem for p in cache.glob("*.svg")] == [key_a]


def test_a_worker_process_draws_what_this_process_would(tmp_path):
    specs = [_bars(SHORT, 0), _bars([f"{n}号基地" for n in range(5)], 0)]
    listed = tmp_path / "specs.json"
    listed.write_text("[" + ",".join(svg.spec_text(s) for s in specs) + "]", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "parkwh.publish.svg"],
        input=f"{listed}\t{tmp_path / 'svg.json'}\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "svg.json").read_text(encoding="utf-8")) == [
        svg.draw(s) for s in specs
    ]


def test_charts_shared_with_workers_come_back_in_order(monkeypatch, caplog):
    specs = [_bars(SHORT[: n % 3 + 1], 0) for n in range(4)]
    specs += [_bars([f"{n}号基地"], 0) for n in range(3)]
    alone = [svg.draw(s) for s in specs]
    assert svg.draw_many(specs, processes=3) == alone
    assert not caplog.records  # the workers drew their shares
    # A worker that fails, or cannot even start, leaves its share to this process.
    for broken in ("false", "/nonexistent/python"):
        caplog.clear()
        monkeypatch.setattr(sys, "executable", shutil.which(broken) or broken)
        assert svg.draw_many(specs, processes=2) == alone
        assert "drawing" in caplog.text and "here" in caplog.text


def test_workers_started_ahead_draw_or_end_at_once():
    specs = [_bars(SHORT[: n % 3 + 1], 0) for n in range(4)]
    with svg.Workers(2) as workers:
        assert len(workers) == 2
        assert svg.draw_many(specs, workers=workers) == [svg.draw(s) for s in specs]
        assert len(workers) == 0  # each is sent one list of specs
    with svg.Workers(2) as idle:
        processes = [w.process for w in idle._idle]
    assert all(p.returncode is not None for p in processes)


def test_pages_drawn_together_and_from_kept_charts_are_the_pages_drawn_alone(
    warehouse_dir, tmp_path, caplog
):
    build(warehouse_dir)
    publications.publish()
    readonly.build()
    written = annual_report.render_all()
    assert not caplog.records  # the processes started ahead drew the charts
    assert sorted(written) == annual_report.published_years()
    cache = annual_report.chart_cache()
    assert cache.is_dir() and not cache.is_relative_to(warehouse_dir / "reports")
    together = {year: path.read_bytes() for year, path in written.items()}

    shutil.rmtree(cache)
    for year in written:
        alone = annual_report.render(year, tmp_path / f"{year}.html").read_bytes()
        assert alone == together[year], year
    kept = set(cache.glob("*.svg"))
    assert kept
    # What a run killed while keeping a chart left behind goes with the next run.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    half = cache / f".{next(iter(kept)).name}.{dead.pid}.0badcafe.tmp"
    half.write_text("<svg", encoding="utf-8")
    annual_report.render_all()  # from the kept charts only
    assert not half.exists()
    assert {y: p.read_bytes() for y, p in written.items()} == together
    assert set(cache.glob("*.svg")) == kept
