"""The demo data set, read back with the project's reader: the report's figures, its facts, validity, determinism.

The expected values are typed from the report (BRIEF §4); the actual values are computed here
from the files, with the reader and the definitions of ``docs/figures.md``, by code that
shares nothing with the generator.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import os
import re
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from parkwh.demo import DEFAULT_SEED, generate_demo
from parkwh.demo import calibrate
from parkwh.demo.bases import demo_bases
from parkwh.submission import spec, values
from parkwh.submission.reader import read_expert_scores_table
from parkwh.submission.validate import check_file

YEARS = (2019, 2020, 2021, 2022, 2023)
YEAR = 2023

# ---- the report of 2024-06-19, as published ----------------------------------------------

TOP10_NAMES = (
    "上海漕河泾留学人员创业园", "苏州留学人员创业园", "上海张江留学人员创业园", "厦门留学人员创业园",
    "西安留学人员创业园", "中国北京（望京）留学人员创业园", "中关村国际孵化器", "江苏昆山留学人员创业园",
    "武汉留学生创业园", "无锡留学人员创业园",
)
TOP10_EXPECTED = {
    "incubated_cum": 9_940, "high_tech_cum": 2_303, "little_giants_cum": 94, "listed_cum": 143,
    "returnees_cum": 41_583, "talent_national": 447, "talent_provincial": 618, "service_events": 1_813,
}
TOP10_EXPECTED_YI = {"revenue_yuan": 450.88, "tax_yuan": 15.09, "vc_yuan": 115.71, "fiscal_yuan": 4.23}
"""Money figures of the top 10, in 亿元 to two decimals."""

COUNT_FIGURES = ("enterprises_in_park", "incubated_cum", "high_tech_cum", "little_giants_cum", "listed_cum",
                 "returnees_in_park", "returnees_cum", "talent_national", "talent_provincial", "service_events")
MONEY_FIGURES = ("revenue_yuan", "tax_yuan", "vc_yuan", "fiscal_yuan")


# ---- reading the files back ----------------------------------------------------------------


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "inbox"
    generate_demo(out, seed=DEFAULT_SEED)
    return out


def _entries(root: Path) -> list[Path]:
    return [e for y in sorted(p for p in root.iterdir() if p.is_dir()) for e in sorted(y.iterdir())]


@pytest.fixture(scope="session")
def checked(demo_dir):
    """Every file of the inbox with what ``check_file`` finds in it."""
    return {entry: check_file(entry) for entry in _entries(demo_dir)}


@pytest.fixture(scope="session")
def in_force(checked) -> dict[tuple[int, str], object]:
    """(year, base_code) -> the submission in force: the accepted one received last (by mtime)."""
    chosen: dict[tuple[int, str], tuple[float, object]] = {}
    for path, (sub, problems) in checked.items():
        if sub is None or any(p.is_error for p in problems):
            continue
        key = (int(path.parent.name), sub.base_code)
        received = path.stat().st_mtime
        if key not in chosen or received > chosen[key][0]:
            chosen[key] = (received, sub)
    return {key: sub for key, (_, sub) in chosen.items()}


def _text(row, key):
    value = row.values.get(key)
    return value if value not in (None, "") else None


def _date(text):
    return values.parse_date(text) if text else None


def _money(part, row, key) -> Decimal:
    text = _text(row, key)
    if text is None:
        return Decimal(0)
    return values.parse_number(text) * spec.MONEY_UNITS[part.units.get(key, "元")]


def _enum(name, text):
    return values.parse_enum(name, text) if text else None


def figures_of(sub, year: int) -> dict[str, object]:
    """One base's figures for one year, exactly as docs/figures.md defines them."""
    end = dt.date(year, 12, 31)
    companies, talent, funding = sub.parts["companies"], sub.parts["talent"], sub.parts["funding"]
    out = {k: 0 for k in COUNT_FIGURES}
    out.update({k: Decimal(0) for k in MONEY_FIGURES})
    returnee_codes = set()
    for row in companies.rows:
        if not values.parse_bool(_text(row, "returnee_founded")):
            continue
        returnee_codes.add(values.parse_credit_code(_text(row, "credit_code")))
        entered, left = _date(_text(row, "entered_date")), _date(_text(row, "left_date"))
        if entered > end:
            continue
        out["incubated_cum"] += 1
        out["enterprises_in_park"] += left is None or left > end
        hty, lgy = _text(row, "high_tech_year"), _text(row, "little_giant_year")
        out["high_tech_cum"] += hty is not None and values.parse_year(hty) <= year
        out["little_giants_cum"] += lgy is not None and values.parse_year(lgy) <= year
        listed = _date(_text(row, "listing_date"))
        out["listed_cum"] += listed is not None and listed <= end
        out["revenue_yuan"] += _money(companies, row, "revenue")
        out["tax_yuan"] += _money(companies, row, "tax_paid")
    for row in talent.rows:
        entered, left = _date(_text(row, "entered_date")), _date(_text(row, "left_date"))
        if entered > end:
            continue
        out["returnees_cum"] += 1
        out["returnees_in_park"] += left is None or left > end
        programme = _enum("talent_programme", _text(row, "talent_programme"))
        out["talent_national"] += programme == "national_major"
        out["talent_provincial"] += programme == "provincial"
    for row in funding.rows:
        day = _date(_text(row, "funding_date"))
        if day.year != year or values.parse_credit_code(_text(row, "credit_code")) not in returnee_codes:
            continue
        kind = _enum("funding_kind", _text(row, "funding_kind"))
        if kind in ("angel", "venture_capital"):
            out["vc_yuan"] += _money(funding, row, "amount")
        elif kind == "government_grant":
            out["fiscal_yuan"] += _money(funding, row, "amount")
    out["service_events"] = values.parse_integer(_text(sub.parts["base"].rows[0], "service_events"))
    return out


@pytest.fixture(scope="session")
def figures(in_force) -> dict[tuple[int, str], dict]:
    return {key: figures_of(sub, key[0]) for key, sub in in_force.items()}


@pytest.fixture(scope="session")
def names(in_force) -> dict[str, str]:
    """Base name (Chinese) -> base code, from the base parts in force in 2023."""
    out = {}
    for (year, code), sub in in_force.items():
        if year == YEAR:
            out[_text(sub.parts["base"].rows[0], "base_name_zh")] = code
    return out


def _sum(figures, codes, figure):
    return sum(figures[(YEAR, c)][figure] for c in codes)


# ---- the bases ---------------------------------------------------------------------------


def test_68_bases_in_21_provinces_66_submitted_in_2023(checked, in_force):
    designated = {}
    for path, (sub, _) in checked.items():
        if sub is not None:
            base = sub.parts["base"].rows[0]
            designated[sub.base_code] = values.parse_year(_text(base, "designated_year"))
            assert values.parse_province(_text(base, "province")) == sub.base_code[:2]
    assert len(designated) == 68
    assert all(year <= YEAR for year in designated.values())
    assert len({code[:2] for code in designated}) == 21
    submitted_2023 = [code for (year, code) in in_force if year == YEAR]
    assert len(submitted_2023) == 66
    missing = set(designated) - set(submitted_2023)
    assert len(missing) == 2
    assert not any((Path(p).parent.name == str(YEAR) and Path(p).name.startswith(tuple(missing)))
                   for p in checked), "the two bases that did not submit have no 2023 file"


def test_fewer_bases_in_earlier_years(in_force):
    counts = [sum(1 for (y, _) in in_force if y == year) for year in YEARS]
    assert 45 <= counts[0] <= 55, counts
    assert counts == sorted(counts), counts


# ---- the report's figures ------------------------------------------------------------------


def test_all_66_bases_reproduce_the_report(figures):
    codes = [c for (y, c) in figures if y == YEAR]
    assert len(codes) == 66
    total = {f: _sum(figures, codes, f) for f in COUNT_FIGURES}
    assert total["enterprises_in_park"] == 4_900
    assert 16_200 <= total["returnees_in_park"] < 16_300
    assert 20_500 < total["incubated_cum"] < 20_600
    assert total["high_tech_cum"] == 3_990
    assert total["little_giants_cum"] == 437
    assert total["listed_cum"] == 322
    assert 59_300 <= total["returnees_cum"] < 59_400
    assert total["talent_national"] + total["talent_provincial"] == 2_499


def test_top10_by_name_reproduce_the_report(figures, names):
    assert all(name in names for name in TOP10_NAMES)
    codes = [names[n] for n in TOP10_NAMES]
    for figure, expected in TOP10_EXPECTED.items():
        assert _sum(figures, codes, figure) == expected, figure
    for figure, expected in TOP10_EXPECTED_YI.items():
        total = _sum(figures, codes, figure)
        assert round(float(total) / 1e8, 2) == expected, (figure, total)


def test_top10_are_the_strongest_bases(figures, names):
    codes = [c for (y, c) in figures if y == YEAR]
    top = [names[n] for n in TOP10_NAMES]
    others = [c for c in codes if c not in top]
    indicators = COUNT_FIGURES + MONEY_FIGURES
    leading = [f for f in indicators
               if min(figures[(YEAR, c)][f] for c in top) > max(figures[(YEAR, c)][f] for c in others)]
    assert len(leading) >= len(indicators) - 3, f"the top 10 lead only on {leading}"
    # A composite of min-max normalised indicators ranks exactly these ten first, roughly in order.
    matrix = np.array([[float(figures[(YEAR, c)][f]) for f in indicators] for c in codes])
    spread = matrix.max(axis=0) - matrix.min(axis=0)
    composite = ((matrix - matrix.min(axis=0)) / spread).mean(axis=1)
    ranked = [codes[i] for i in np.argsort(-composite, kind="stable")]
    assert set(ranked[:10]) == set(top)
    positions = [ranked.index(c) for c in top]
    rho = np.corrcoef(np.arange(10), positions)[0, 1]
    assert rho > 0.6, positions
    # Sizes are skewed: a few mid-size bases, many small ones.
    incubated = sorted((figures[(YEAR, c)]["incubated_cum"] for c in others), reverse=True)
    assert incubated[0] > 4 * incubated[len(incubated) // 2] > 0


def test_particular_facts(figures, names, in_force):
    suzhou, changchun = names["苏州留学人员创业园"], names["长春海外学人创业园"]
    assert TOP10_NAMES.index("苏州留学人员创业园") == 1
    assert figures[(YEAR, suzhou)]["listed_cum"] == 11
    assert figures[(YEAR, changchun)]["returnees_in_park"] == 363
    assert figures[(YEAR, changchun)]["enterprises_in_park"] == 265
    assert changchun.startswith("JL")
    assert "金陵海外学子科技工业园" in names and names["金陵海外学子科技工业园"].startswith("JS")

    zhongshan = in_force[(YEAR, names["中国中山留学人员创业园"])]
    assert _enum("incubator_grade", _text(zhongshan.parts["base"].rows[0], "incubator_grade")) == "B"
    assert names["中国中山留学人员创业园"].startswith("GD")

    shenzhen = in_force[(YEAR, names["深圳留学人员创业园"])]
    assert names["深圳留学人员创业园"].startswith("GD")
    orbbec = [r for r in shenzhen.parts["companies"].rows if _text(r, "company_name") == "深圳奥比中光科技有限公司"]
    assert len(orbbec) == 1
    row = orbbec[0]
    assert _date(_text(row, "founded_date")) == dt.date(2013, 1, 18)
    entered = _date(_text(row, "entered_date"))
    assert (entered.year, entered.month) == (2013, 1)
    assert _enum("listing_board", _text(row, "listing_board")) == "star"
    assert _date(_text(row, "listing_date")) == dt.date(2022, 7, 7)
    assert _text(row, "listing_ticker") == "688322"
    assert values.parse_bool(_text(row, "returnee_founded"))
    # Before 2022 the listing had not happened: the 2021 roster shows none.
    earlier = [r for r in in_force[(2021, names["深圳留学人员创业园"])].parts["companies"].rows
               if _text(r, "company_name") == "深圳奥比中光科技有限公司"]
    assert earlier and _text(earlier[0], "listing_date") is None


# ---- consistency over the years --------------------------------------------------------------


def test_cumulative_figures_grow_and_rosters_move(figures, in_force):
    cumulative = ("incubated_cum", "high_tech_cum", "little_giants_cum", "listed_cum", "returnees_cum")
    grew = 0
    for (year, code), values_now in figures.items():
        before = figures.get((year - 1, code))
        if before is None:
            continue
        for f in cumulative:
            assert values_now[f] >= before[f], (code, year, f)
        grew += values_now["incubated_cum"] > before["incubated_cum"]
    assert grew > 0.9 * sum(1 for (y, c) in figures if (y - 1, c) in figures)
    for (year, code), sub in in_force.items():
        f = figures[(year, code)]
        if year == YEAR:
            assert f["enterprises_in_park"] < f["incubated_cum"], code
            assert f["returnees_in_park"] < f["returnees_cum"], code
            statuses = {_enum("company_status", _text(r, "status")) for r in sub.parts["companies"].rows}
            assert "in_park" in statuses and statuses - {"in_park"}, code


def test_a_company_moves_between_bases_and_some_are_not_returnee_founded(in_force, figures):
    seen: dict[str, list[str]] = {}
    non_returnee = 0
    for (year, code), sub in in_force.items():
        if year != YEAR:
            continue
        for row in sub.parts["companies"].rows:
            seen.setdefault(_text(row, "credit_code"), []).append(code)
            non_returnee += not values.parse_bool(_text(row, "returnee_founded"))
    moved = {k: v for k, v in seen.items() if len(v) > 1}
    assert moved, "one company (one credit code) appears in two bases"
    assert 3 <= non_returnee <= 30
    # The figures leave the non-returnee companies out: counting them would change the total.
    companies = sum(len(sub.parts["companies"].rows) for (y, _), sub in in_force.items() if y == YEAR)
    assert companies == sum(f["incubated_cum"] for (y, _), f in figures.items() if y == YEAR) + non_returnee


# ---- validity ------------------------------------------------------------------------------


def test_every_file_but_the_invalid_one_validates(checked, demo_dir):
    invalid = demo_dir / "2021" / "ZJ003"
    for path, (_, problems) in checked.items():
        if path == invalid:
            continue
        assert not problems, f"{path}: {[str(p) for p in problems[:3]]}"
    _, problems = checked[invalid]
    rules = {p.rule for p in problems if p.is_error}
    assert "credit_code_check_digit" in rules
    assert "funding_date_outside_year" in rules
    for year in (2019, 2020, 2022, 2023):
        _, others = checked[demo_dir / str(year) / "ZJ003"]
        assert not others


def test_resubmission_the_later_file_is_in_force(checked, in_force, demo_dir, figures):
    original, corrected = demo_dir / "2023" / "ZJ001.xlsx", demo_dir / "2023" / "ZJ001.json"
    assert original.stat().st_mtime < corrected.stat().st_mtime
    first, second = checked[original][0], checked[corrected][0]
    assert not checked[original][1] and not checked[corrected][1], "both versions are valid"
    assert in_force[(YEAR, "ZJ001")].path == corrected
    wrong, right = figures_of(first, YEAR)["revenue_yuan"], figures_of(second, YEAR)["revenue_yuan"]
    assert wrong > 100 * right, "the first file has one revenue typed in 元 under a 万元 header"


def test_expert_scores(checked, in_force, demo_dir):
    for year in YEARS:
        path = demo_dir / str(year) / "expert_scores.csv"
        sub, problems = checked[path]
        assert sub is None and not problems
        part, _ = read_expert_scores_table(path)
        by_base: dict[str, list[str]] = {}
        experts: dict[str, set[str]] = {}
        for row in part.rows:
            by_base.setdefault(row.values["base_code"], []).append(row.values["score"])
            experts.setdefault(row.values["base_code"], set()).add(row.values["expert_id"])
        assert set(by_base) == {c for (y, c) in in_force if y == year}
        assert all(len(s) == 7 and len(experts[b]) == 7 for b, s in by_base.items())
        assert all(re.fullmatch(r"\d{1,3}\.\d{1,2}", s) for scores in by_base.values() for s in scores)


@pytest.mark.parametrize("target", [95.154, 93.5, 99.98, 60.02, 0.5, 87.333, 100.0, 100 / 3])
def test_expert_scores_hit_their_target(target):
    rows = calibrate.expert_scores({"SH001": target}, np.random.default_rng(7))
    scores = sorted(Decimal(str(r["score"])) for r in rows)
    assert len(scores) == 7 and all(0 <= s <= 100 for s in scores)
    trimmed = float(sum(scores[1:-1]) / 5)
    reachable = abs(5 * target * 10**4 - round(5 * target * 10**4)) < 1e-6
    if reachable:
        assert abs(trimmed - target) < 1e-9
    else:
        # No scores of up to four decimals reach 100/3: the nearest mean they can make.
        assert abs(trimmed - target) < 1e-4
    decimals = max(-s.as_tuple().exponent for s in scores)
    assert decimals <= (1 if abs(target * 50 - round(target * 50)) < 1e-9 else 4)
    if target == 95.154:
        assert decimals == 2


def test_identifiers_and_labels(in_force, demo_dir):
    phone = re.compile(r"1[3-9]\d{9}")
    for (year, code), sub in in_force.items():
        if year != YEAR:
            continue
        for row in sub.parts["talent"].rows:
            assert "某" in _text(row, "person_name")
            if _text(row, "phone"):
                assert phone.fullmatch(values.normalize(_text(row, "phone")))
            if _enum("id_type", _text(row, "id_type")) == "resident_id":
                number = values.parse_resident_id(_text(row, "id_number"))
                assert int(number[6:10]) == values.parse_year(_text(row, "birth_year"))
        for row in sub.parts["companies"].rows:
            name = _text(row, "company_name")
            assert "示例" in name or name == "深圳奥比中光科技有限公司"
            assert _text(row, "credit_code").startswith("91")
        if sub.form == "json":
            assert b'"_note"' in sub.path.read_bytes()
            assert "_note" in sub.ignored
        if sub.form == "xlsx":
            assert sub.ignored[:1] == ["说明"]
    assert "synthetic" in (demo_dir / "SYNTHETIC.md").read_text(encoding="utf-8").lower()


def test_messy_but_valid_files(in_force, demo_dir):
    subs = list(in_force.values())
    units = {u for s in subs for p in s.parts.values() for u in p.units.values()}
    assert {"元", "万元", "亿元"} <= units
    headers = [h for s in subs for p in s.parts.values() for h in p.headers.values()]
    assert any(re.search(r"[\u4e00-\u9fff]", h) and "/" not in h for h in headers), "Chinese headers"
    assert any(" / " in h for h in headers), "bilingual headers"
    assert {"xlsx", "json", "csv"} == {s.form for s in subs}
    csv_bytes = [f.read_bytes() for s in subs if s.form == "csv" for f in sorted(s.path.glob("*.csv"))]

    def utf8(data: bytes) -> bool:
        try:
            data.decode("utf-8")
            return True
        except UnicodeDecodeError:
            return False

    assert any(not utf8(b) and b.decode("gb18030") for b in csv_bytes), "a GB18030 CSV folder"
    assert any(b.startswith(b"\xef\xbb\xbf") for b in csv_bytes), "a UTF-8 CSV folder with BOM"
    assert any(re.search(rb'"\d{1,3}(,\d{3})+(\.\d+)?"', b) for b in csv_bytes), "thousands separators"
    texts = [v for s in subs for p in s.parts.values() for r in p.rows for v in r.values.values() if v]
    assert any(re.search(r"[０-９]", v) for v in texts), "full-width digits"


# ---- determinism and the command -----------------------------------------------------------


def _digests(root: Path) -> dict[str, tuple[str, int]]:
    return {p.relative_to(root).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), int(p.stat().st_mtime))
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_command_writes_the_same_bytes_and_says_synthetic(demo_dir, tmp_path):
    import parkwh.commands.demo  # noqa: F401 - registers the command
    import parkwh.commands.validate  # noqa: F401 - a second command, so ``demo`` is a subcommand
    from parkwh.commands import app

    out = tmp_path / "again"
    result = CliRunner().invoke(app, ["demo", "--out", str(out), "--seed", str(DEFAULT_SEED)])
    assert result.exit_code == 0, result.output
    assert "SYNTHETIC" in result.output and "2023" in result.output
    first, second = _digests(demo_dir), _digests(out)
    assert first.keys() == second.keys()
    assert [k for k in first if first[k] != second[k]] == []

    refused = CliRunner().invoke(app, ["demo", "--out", str(out)])
    assert refused.exit_code == 1
    assert "--force" in refused.output


def _roster_rows_as_of(c, t, year: int) -> tuple[list[dict], list[dict]]:
    """A base's company and talent rows as of ``year``'s end, field by field from its rosters
    (money and staff left out: they are drawn per year, and checked apart)."""
    end = dt.date(year, 12, 31)
    day = dt.date.fromordinal
    companies = []
    for i in range(len(c)):
        if c.entered[i] > end.toordinal():
            break
        gone = 0 < c.left[i] <= end.toordinal()
        hty, lgy, listed = int(c.high_tech_year[i]), int(c.little_giant_year[i]), int(c.listing_date[i])
        shown = 0 < listed <= end.toordinal()
        companies.append({
            "credit_code": c.credit_code[i], "company_name": c.name[i], "founded_date": day(int(c.founded[i])),
            "entered_date": day(int(c.entered[i])), "left_date": day(int(c.left[i])) if gone else None,
            "status": c.final_status[i] if gone else "in_park", "industry": c.industry[i],
            "returnee_founded": bool(c.returnee[i]), "high_tech_year": hty if 0 < hty <= year else None,
            "little_giant_year": lgy if 0 < lgy <= year else None,
            "listing_board": c.listing_board[i] if shown else None,
            "listing_ticker": c.listing_ticker[i] if shown else None,
            "listing_date": day(listed) if shown else None,
        })
    talent = []
    for i in range(len(t.entered)):
        if t.entered[i] > end.toordinal():
            break
        left, py = int(t.left[i]), int(t.programme_year[i])
        selected = t.programme[i] != "none" and py <= year
        talent.append({
            "person_name": t.person_name[i], "id_type": t.id_type[i], "id_number": t.id_number[i],
            "phone": t.phone[i], "gender": "male" if t.male[i] else "female", "birth_year": int(t.birth_year[i]),
            "study_country": t.study_country[i], "degree": t.degree[i], "return_year": int(t.return_year[i]),
            "entered_date": day(int(t.entered[i])), "left_date": day(left) if 0 < left <= end.toordinal() else None,
            "employer_credit_code": t.employer[i], "talent_programme": t.programme[i] if selected else "none",
            "programme_year": py if selected else None,
        })
    return companies, talent


@pytest.mark.parametrize("code", ["SH001", "JS007", "GD003"])
def test_rows_shared_between_years_are_each_years_own(code):
    # The generator makes a base's rows once and shares them between the years they hold for;
    # every year must still get the rows of that year alone, and no later year may change them.
    from parkwh.demo import generate as g

    bases = demo_bases(1)
    index = next(i for i, b in enumerate(bases) if b.code == code)
    base = bases[index]
    target = calibrate.base_targets(bases, np.random.default_rng([DEFAULT_SEED, 1]))[code]
    ids = g.Identifiers()
    c = g.build_companies(base, target, np.random.default_rng([7, index]), ids, 1)
    t = g.build_talent(base, target, np.random.default_rng([8, index]), ids, c)
    company_cache, talent_cache = g.CompanyRows(c), g.TalentRows(t)
    made = {}
    for year in YEARS:
        if not base.submits(year):
            continue
        rng = np.random.default_rng([9, year])
        flows = g.year_flows(target, year, rng)
        company_rows, here = g._company_part(c, company_cache, year, flows, rng)
        talent_rows = g._talent_part(t, talent_cache, year)
        companies, talent = _roster_rows_as_of(c, t, year)
        money = ("revenue", "tax_paid", "employees")
        assert [{k: v for k, v in r.items() if k not in money} for r in company_rows] == companies
        assert talent_rows == talent
        for row, in_park in zip(company_rows, here):
            assert all((row[k] is None) != bool(in_park) for k in money)
            assert in_park or row["left_date"] is not None
        assert sum(r["revenue"] for r in company_rows if r["revenue"] and r["returnee_founded"]) == flows.revenue
        made[year] = (copy.deepcopy(company_rows), copy.deepcopy(talent_rows), company_rows, talent_rows)
    assert len(made) >= 2
    for year, (companies, talent, company_rows, talent_rows) in made.items():
        assert company_rows == companies and talent_rows == talent, f"the rows of {year} changed later"


def test_scale_clones_bases_with_valid_codes():
    bases = demo_bases(3)
    codes = [b.code for b in bases]
    assert len(codes) == 3 * 68 == len(set(codes))
    assert all(re.fullmatch(r"[A-Z]{2}\d{3}", c) and values.parse_base_code(c) for c in codes)
    with pytest.raises(ValueError):
        demo_bases(0)


def test_the_default_inbox_is_the_warehouse_one(warehouse_dir, monkeypatch):
    # The command's default output is the configured warehouse's inbox; refusing to overwrite
    # proves it looked there without writing the whole data set.
    import parkwh.commands.demo  # noqa: F401
    import parkwh.commands.validate  # noqa: F401
    from parkwh.commands import app

    (warehouse_dir / "inbox" / "2023").mkdir(parents=True)
    (warehouse_dir / "inbox" / "2023" / "SH001.json").write_text("{}", encoding="utf-8")
    result = CliRunner().invoke(app, ["demo"])
    assert result.exit_code == 1
    assert "inbox" in result.output and "--force" in result.output
    assert os.listdir(warehouse_dir / "inbox" / "2023") == ["SH001.json"]
