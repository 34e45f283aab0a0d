"""Generates the synthetic demo inbox: five years of submissions for the 68 bases, and expert scores.

Each base gets one company roster and one talent roster covering 1994–2023, built to its
2023 targets (``calibrate``); a year's submission is the roster as it stood at that year's
end (who had entered, who had left, which certifications and listings had happened), so the
cumulative figures grow year by year. Flows of the year (revenue, taxes, funding, events)
are drawn per year, the 2023 ones to the targets exactly.

Everything is seeded: the same seed and scale give the same bytes in every file. The data is
synthetic and says so (``SYNTHETIC.md``, a ``说明`` sheet, ``_note`` in JSON, ``示例`` in
company names, ``某`` in person names); only the parks' names and Orbbec's public listing are real.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import shutil
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
from stdnum.cn import ric

from parkwh.demo import calibrate
from parkwh.demo.bases import (
    LAST_YEAR, REPORTING_YEARS, SHENZHEN, TOP10, ZHONGSHAN, DemoBase, demo_bases,
)
from parkwh.submission import spec, writers

DEFAULT_SEED = 2024

NOTE = ("合成演示数据（synthetic demo data）：由 parkwh demo 生成，校准到2024年6月19日发布的孵化基地竞争力报告的汇总数字。"
        "基地名称为真实园区名称，企业、人员、证件号码、电话与金额均为虚构。")
"""The note every demo file carries (说明 sheet, ``_note`` key)."""

RESUBMITTED = "ZJ001"
"""The base whose 2023 submission comes twice: a flawed workbook, then the corrected JSON."""
INVALID = ("ZJ003", 2021)
"""The base and year whose submission fails validation (bad check digit, funding dated outside the year)."""
MOVED = ("JS007", "JS010")
"""A company graduates from the first base and moves into the second, keeping its credit code."""
ORBBEC = {
    "company_name": "深圳奥比中光科技有限公司", "founded": dt.date(2013, 1, 18), "entered": dt.date(2013, 1, 18),
    "listing_board": "star", "listing_ticker": "688322", "listing_date": dt.date(2022, 7, 7),
    "industry": "artificial_intelligence",
}
"""Orbbec, founded in the Shenzhen park and listed on the STAR Market (public facts)."""

FIRST_DATE = dt.date(1994, 1, 1)
"""The first returnee park opened in 1994: no roster entry predates it."""

INDUSTRIES = ("electronic_information", "artificial_intelligence", "biomedicine", "advanced_manufacturing",
              "new_materials", "new_energy", "environmental", "modern_services", "other")
INDUSTRY_SHARE = (0.24, 0.12, 0.18, 0.14, 0.09, 0.08, 0.05, 0.07, 0.03)
INDUSTRY_WORD = ("电子科技", "智能科技", "生物医药", "精密制造", "新材料科技", "新能源科技", "环保科技", "信息服务", "科技")
BRAND = ("澜芯", "星联", "智云", "拓瀚", "睿博", "恒微", "光量", "启明", "华创", "英科", "远航", "新源", "德泰",
         "锐思", "海川", "鼎信", "云图", "极目", "深蓝", "九章", "天衡", "微纳", "澄远", "弘毅", "领航", "凌云",
         "聚能", "和光", "百川", "青禾")
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
            "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚英华玉兰萍建红文辉力晨宇浩然欣怡思远博涵轩琪"
COUNTRIES = ("美国", "英国", "日本", "德国", "澳大利亚", "加拿大", "法国", "新加坡", "韩国", "俄罗斯", "荷兰",
             "瑞典", "中国香港")
COUNTRY_SHARE = (0.33, 0.15, 0.10, 0.08, 0.07, 0.06, 0.05, 0.05, 0.03, 0.02, 0.02, 0.01, 0.03)
DEGREES = ("bachelor", "master", "doctorate", "other")
DEGREE_SHARE = (0.12, 0.50, 0.35, 0.03)
BOARDS = ("neeq", "star", "chinext", "bse", "sse_main", "szse_main", "hkex", "overseas")
BOARD_SHARE = (0.42, 0.16, 0.15, 0.08, 0.06, 0.05, 0.05, 0.03)
BOARD_OPENED = {"neeq": dt.date(2006, 1, 23), "star": dt.date(2019, 7, 22), "chinext": dt.date(2009, 10, 30),
                "bse": dt.date(2021, 11, 15), "sse_main": dt.date(1995, 1, 1), "szse_main": dt.date(1995, 1, 1),
                "hkex": dt.date(1995, 1, 1), "overseas": dt.date(1995, 1, 1)}
LEFT_STATUS = ("graduated", "moved_out", "deregistered")
LEFT_SHARE = (0.55, 0.25, 0.20)


class DemoError(Exception):
    """The demo cannot be written (the output folder holds data and --force was not given …)."""


def _ord(d: dt.date) -> int:
    return d.toordinal()


def _year_end(year: int) -> int:
    return dt.date(year, 12, 31).toordinal()


END = _year_end(LAST_YEAR)


@cache
def _date(ordinal: int) -> dt.date:
    return dt.date.fromordinal(ordinal)


@cache
def _yyyymmdd(ordinal: int) -> str:
    return _date(ordinal).strftime("%Y%m%d")


def _years_of(ordinals: np.ndarray) -> np.ndarray:
    """Calendar years of date ordinals, vectorised (via numpy datetime64 days)."""
    days = (ordinals - _ord(dt.date(1970, 1, 1))).astype("datetime64[D]")
    return days.astype("datetime64[Y]").astype(np.int64) + 1970


# ---------------------------------------------------------------------------- identifiers


@lru_cache(maxsize=1)
def birth_regions() -> tuple[str, ...]:
    """County codes valid as a birthplace in every year (so any birth year passes the ID check)."""
    text = resources.files("stdnum").joinpath("cn/loc.dat").read_text(encoding="utf-8")
    out: list[str] = []
    province = None
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        if not line.startswith(" "):
            code = line.split()[0]
            province = code if 11 <= int(code) <= 65 else None
            continue
        if province is None:
            continue
        sub, _, rest = line.strip().partition(" ")
        name = rest.partition("=")[2].strip('"')
        if sub.endswith("00") or "[" in name or "," in name or name in ("市辖区", "县", "省直辖县级行政区划"):
            continue
        out.append(province + sub)
    return tuple(out)


def org_code_check(body: str) -> str:
    """Check character of an 8-character organisation code (GB 11714-1997)."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    values = [int(c) if c.isdigit() else ord(c) - 55 for c in body]
    check = 11 - sum(v * w for v, w in zip(values, weights)) % 11
    return {10: "X", 11: "0"}.get(check, str(check))


USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check(stem: str) -> str:
    """Check character of a 17-character credit-code stem (GB 32100-2015), as python-stdnum computes
    it, less its cleaning of the input: the demo makes twenty thousand codes per scale."""
    total = sum(USCC_VALUE[c] * w for c, w in zip(stem, USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total) % 31]


class Identifiers:
    """Hands out unique credit codes and resident ID numbers, deterministically."""

    def __init__(self) -> None:
        self.companies = 0
        self.people: set[str] = set()

    def credit_code(self, region: str) -> str:
        # An odd multiplier coprime with 10**8 walks every 8-digit body once, in scrambled order.
        self.companies += 1
        body = f"{(self.companies * 73_939_133 + 13_579_246) % 100_000_000:08d}"
        stem = "91" + region + body + org_code_check(body)
        return stem + uscc_check(stem)

    def resident_id(self, rng: np.random.Generator, region: str, birth_year: int, male: bool) -> str:
        # One draw at a time, in this order: the numbers depend on the generator's sequence.
        first = _ord(dt.date(birth_year, 1, 1))
        while True:
            day = _yyyymmdd(first + int(rng.integers(0, 365)))
            sequence = int(rng.integers(0, 500)) * 2 + (1 if male else 0)
            stem = f"{region}{day}{sequence:03d}"
            number = stem + ric.calc_check_digit(stem + "0")
            if number not in self.people:
                self.people.add(number)
                return number


def _ticker(rng: np.random.Generator, board: str) -> str:
    n = int(rng.integers(0, 1000))
    return {
        "neeq": f"{int(rng.choice([43, 83, 87]))}{int(rng.integers(0, 10000)):04d}",
        "star": f"688{n:03d}", "chinext": f"30{int(rng.integers(0, 2))}{n:03d}",
        "bse": f"{int(rng.choice([83, 87]))}{int(rng.integers(0, 10000)):04d}",
        "sse_main": f"60{int(rng.choice([1, 3, 5]))}{n:03d}", "szse_main": f"00{int(rng.choice([1, 2]))}{n:03d}",
        "hkex": f"0{int(rng.integers(1000, 10000))}", "overseas": f"NASDAQ:{''.join(rng.choice(list('BCDFGHKMPRTVXZ'), 4))}",
    }[board]


def _city_short(city: str) -> str:
    return city.removesuffix("市").removesuffix("示范区")


# ---------------------------------------------------------------------------- rosters


def _entry_dates(rng: np.random.Generator, n: int, start: int, growth: float = 2.0) -> np.ndarray:
    """Entry dates from ``start`` to the end of 2023, denser in later years, sorted."""
    u = rng.random(n)
    x = np.log1p(u * np.expm1(growth)) / growth
    return np.sort(start + np.floor(x * (END - start + 1)).astype(np.int64).clip(0, END - start))


def _leave_dates(rng: np.random.Generator, entered: np.ndarray, stays: np.ndarray,
                 low_years: float, high_years: float) -> np.ndarray:
    """0 for whoever is still there at the end of 2023, else a date after entry and within 2023."""
    left = entered + np.floor(rng.uniform(low_years, high_years, len(entered)) * 365.25).astype(np.int64)
    late = left > END
    left[late] = entered[late] + np.floor(rng.random(late.sum()) * (END - entered[late] + 1)).astype(np.int64)
    return np.where(stays, 0, np.minimum(left, END))


def _stayers(rng: np.random.Generator, entered: np.ndarray, candidates: np.ndarray, count: int) -> np.ndarray:
    """Mask of ``count`` of the candidates still there at the end of 2023: mostly the latest to enter."""
    score = entered[candidates] + rng.normal(0.0, 250.0, len(candidates))
    chosen = candidates[np.argsort(-score, kind="stable")[:count]]
    mask = np.zeros(len(entered), dtype=bool)
    mask[chosen] = True
    return mask


def _pick(rng: np.random.Generator, candidates: np.ndarray, count: int, weights: np.ndarray) -> np.ndarray:
    if count > len(candidates):
        raise ValueError(f"cannot pick {count} of {len(candidates)}")
    if count == 0:
        return candidates[:0]
    p = weights / weights.sum()
    return np.sort(rng.choice(candidates, count, replace=False, p=p))


@dataclass
class CompanyRoster:
    """Every company a base ever hosted, in order of entry (arrays over companies)."""

    credit_code: list[str]
    name: list[str]
    industry: list[str]
    founded: np.ndarray
    entered: np.ndarray
    left: np.ndarray          # 0: still in the base at the end of 2023
    final_status: list[str]
    returnee: np.ndarray
    high_tech_year: np.ndarray    # 0: never
    little_giant_year: np.ndarray
    listing_board: list[str | None]
    listing_ticker: list[str | None]
    listing_date: np.ndarray      # 0: never
    size: np.ndarray              # relative revenue weight
    tax_rate: np.ndarray

    def __len__(self) -> int:
        return len(self.entered)

    def resort(self) -> None:
        order = np.argsort(self.entered, kind="stable")
        for name, value in vars(self).items():
            setattr(self, name, value[order] if isinstance(value, np.ndarray) else [value[i] for i in order])


@dataclass
class TalentRoster:
    """Every returnee a base ever hosted, in order of entry."""

    person_name: list[str]
    id_type: list[str]
    id_number: list[str]
    phone: list[str | None]
    male: np.ndarray
    birth_year: np.ndarray
    study_country: list[str]
    degree: list[str]
    return_year: np.ndarray
    entered: np.ndarray
    left: np.ndarray
    employer: list[str | None]
    programme: list[str]
    programme_year: np.ndarray


def build_companies(base: DemoBase, target: calibrate.Targets, rng: np.random.Generator,
                    ids: Identifiers, non_returnee: int) -> CompanyRoster:
    """A base's company roster meeting its 2023 targets exactly (returnee enterprises only count)."""
    n_ret = target.incubated_cum
    n = n_ret + non_returnee
    start = max(_ord(base.established), _ord(FIRST_DATE))
    entered = _entry_dates(rng, n, start)
    returnee = np.ones(n, dtype=bool)
    returnee[rng.choice(n, non_returnee, replace=False)] = False
    ret_idx = np.flatnonzero(returnee)

    stays = _stayers(rng, entered, ret_idx, target.enterprises_in_park)
    stays[~returnee] = rng.random(non_returnee) < 0.5
    left = _leave_dates(rng, entered, stays, 1.0, 6.0)
    in_park_founded = rng.random(n) < 0.35
    founded = entered - np.where(in_park_founded, rng.integers(0, 90, n), rng.integers(0, 5 * 365, n))
    founded = np.maximum(founded, _ord(dt.date(1985, 1, 1)))
    founded_year = _years_of(founded)

    # Certifications and listings, counted so that 2023 meets the targets.
    ht_w = np.where(founded_year >= LAST_YEAR, 0.05, 1.0 + stays * 0.5 + (founded_year <= 2020) * 1.0)
    high_tech = _pick(rng, ret_idx, target.high_tech_cum, ht_w[ret_idx])
    ht_year = np.zeros(n, dtype=np.int64)
    low = np.minimum(np.maximum(founded_year[high_tech] + 1, 2008), LAST_YEAR)
    ht_year[high_tech] = rng.integers(low, LAST_YEAR + 1)
    little = _pick(rng, high_tech, target.little_giants_cum, np.ones(len(high_tech)))
    lg_year = np.zeros(n, dtype=np.int64)
    lg_year[little] = rng.integers(np.maximum(2019, ht_year[little]), LAST_YEAR + 1)

    candidates = ret_idx[founded_year[ret_idx] <= 2019]
    if len(candidates) < target.listed_cum:
        candidates = ret_idx
    listed = _pick(rng, candidates, target.listed_cum, 1.0 + 3.0 * (ht_year[candidates] > 0))
    boards: list[str | None] = [None] * n
    tickers: list[str | None] = [None] * n
    listing_date = np.zeros(n, dtype=np.int64)
    for i in listed:
        board = str(rng.choice(BOARDS, p=BOARD_SHARE))
        opened = _ord(BOARD_OPENED[board])
        low_date = max(int(founded[i]) + 3 * 365, opened)
        if low_date > END:
            low_date = max(int(founded[i]), opened)
        boards[i] = board
        tickers[i] = _ticker(rng, board)
        listing_date[i] = low_date + int(rng.integers(0, END - low_date + 1))

    industry = [INDUSTRIES[k] for k in rng.choice(len(INDUSTRIES), n, p=INDUSTRY_SHARE)]
    city = _city_short(base.city)
    brands = rng.integers(0, len(BRAND), (n, 2))
    names = [f"示例{BRAND[a]}{BRAND[b]}{INDUSTRY_WORD[INDUSTRIES.index(ind)]}（{city}）有限公司"
             for (a, b), ind in zip(brands.tolist(), industry)]
    codes = [ids.credit_code(base.region_code) for _ in range(n)]
    final_status = [None if stays[i] else str(s) for i, s in
                    enumerate(rng.choice(LEFT_STATUS, n, p=LEFT_SHARE))]
    for i in listed:
        if not stays[i]:
            final_status[i] = "graduated"
    size = rng.lognormal(0.0, 1.0, n) * np.where(listing_date > 0, 4.0, 1.0) * np.where(ht_year > 0, 1.5, 1.0)
    return CompanyRoster(
        credit_code=codes, name=names, industry=industry, founded=founded, entered=entered, left=left,
        final_status=final_status, returnee=returnee, high_tech_year=ht_year, little_giant_year=lg_year,
        listing_board=boards, listing_ticker=tickers, listing_date=listing_date, size=size,
        tax_rate=rng.uniform(0.015, 0.055, n),
    )


def place_orbbec(roster: CompanyRoster) -> None:
    """Make one listed company of the Shenzhen park Orbbec: founded and entered 2013-01-18, STAR 2022-07-07."""
    listed = [i for i in range(len(roster)) if roster.listing_board[i] and roster.returnee[i]]
    if not listed:
        raise ValueError("the Shenzhen park needs a listed company to stand for Orbbec")
    # Prefer a high-tech company still in the base (the report speaks of it as the park's), and
    # give it the size of a listed company: it is the park's largest.
    staying = [i for i in listed if roster.left[i] == 0]
    certified = [i for i in staying if roster.high_tech_year[i]]
    i = (certified or staying or listed)[0]
    roster.size[i] = roster.size.max() * 1.5
    if not roster.high_tech_year[i]:
        # Trade certifications with an unlisted high-tech company: the base's counts stay the same.
        donors = [j for j in range(len(roster)) if roster.high_tech_year[j] and not roster.listing_board[j]]
        if donors:
            j = donors[0]
            for years in (roster.high_tech_year, roster.little_giant_year):
                years[i], years[j] = years[j], years[i]
    roster.name[i] = ORBBEC["company_name"]
    roster.industry[i] = ORBBEC["industry"]
    roster.founded[i] = _ord(ORBBEC["founded"])
    roster.entered[i] = _ord(ORBBEC["entered"])
    roster.listing_board[i] = ORBBEC["listing_board"]
    roster.listing_ticker[i] = ORBBEC["listing_ticker"]
    roster.listing_date[i] = _ord(ORBBEC["listing_date"])
    if roster.left[i] and roster.left[i] < roster.entered[i]:
        roster.left[i] = _ord(dt.date(2023, 6, 30))
    if roster.high_tech_year[i]:
        roster.high_tech_year[i] = max(int(roster.high_tech_year[i]), 2014)
    if roster.little_giant_year[i]:
        roster.little_giant_year[i] = max(int(roster.little_giant_year[i]), int(roster.high_tech_year[i]))
    roster.resort()


def move_company(source: CompanyRoster, target: CompanyRoster) -> str | None:
    """A company that moved out of ``source`` enters ``target`` later, keeping its credit code."""
    for i in range(len(source)):
        if (source.final_status[i] == "moved_out" and source.returnee[i] and source.left[i]
                and source.left[i] <= _year_end(2021) and not source.listing_board[i]):
            break
    else:
        return None
    after = [j for j in range(len(target)) if target.returnee[j] and target.entered[j] > source.left[i]
             and not target.listing_board[j] and not target.high_tech_year[j]]
    if not after:
        return None
    j = after[0]
    target.credit_code[j] = source.credit_code[i]
    target.name[j] = source.name[i]
    target.industry[j] = source.industry[i]
    target.founded[j] = source.founded[i]
    return source.credit_code[i]


def build_talent(base: DemoBase, target: calibrate.Targets, rng: np.random.Generator, ids: Identifiers,
                 companies: CompanyRoster) -> TalentRoster:
    """A base's talent roster meeting its 2023 targets (every row is a returnee)."""
    m = target.returnees_cum
    start = max(_ord(base.established), _ord(FIRST_DATE))
    entered = _entry_dates(rng, m, start, growth=2.2)
    stays = _stayers(rng, entered, np.arange(m), target.returnees_in_park)
    left = _leave_dates(rng, entered, stays, 0.5, 6.0)
    entered_year = _years_of(entered)
    birth_year = entered_year - rng.integers(25, 49, m)
    return_year = np.minimum(entered_year, birth_year + rng.integers(24, 34, m))
    male = rng.random(m) < 0.62

    programme = np.full(m, "none", dtype=object)
    programme_year = np.zeros(m, dtype=np.int64)
    degree_idx = rng.choice(len(DEGREES), m, p=DEGREE_SHARE)
    weight = np.where(degree_idx == 2, 3.0, 1.0)
    free = np.arange(m)
    for level, count, first in (("national_major", target.talent_national, 2008),
                                ("provincial", target.talent_provincial, 2005),
                                ("municipal", int(round(m * 0.05)), 2005)):
        chosen = _pick(rng, free, min(count, len(free)), weight[free])
        programme[chosen] = level
        low = np.minimum(np.maximum(np.maximum(entered_year[chosen], return_year[chosen]), first), LAST_YEAR)
        programme_year[chosen] = rng.integers(low, LAST_YEAR + 1)
        free = np.setdiff1d(free, chosen)

    regions = birth_regions()
    local = [r for r in regions if r[:2] == base.region_code[:2]] or list(regions)
    from_here = rng.random(m) < 0.6
    region_pick = np.where(from_here, rng.integers(0, len(local), m), rng.integers(0, len(regions), m))
    passport = rng.random(m) < 0.02
    id_numbers, id_types = [], []
    for k in range(m):
        if passport[k]:
            id_types.append("passport")
            number = f"E{int(rng.integers(10_000_000, 100_000_000))}"
            while number in ids.people:
                number = f"E{int(rng.integers(10_000_000, 100_000_000))}"
            ids.people.add(number)
            id_numbers.append(number)
        else:
            region = local[region_pick[k]] if from_here[k] else regions[region_pick[k]]
            id_types.append("resident_id")
            id_numbers.append(ids.resident_id(rng, region, int(birth_year[k]), bool(male[k])))
    surnames = rng.integers(0, len(SURNAMES), m)
    given = rng.integers(0, len(GIVEN), m)
    names = [f"{SURNAMES[a]}某{GIVEN[b]}" for a, b in zip(surnames.tolist(), given.tolist())]
    phones_on = rng.random(m) < 0.85
    phone_numbers = rng.integers(3, 10, m) * 1_000_000_000 + rng.integers(0, 1_000_000_000, m)
    phones = [f"1{p:010d}" if on else None for p, on in zip(phone_numbers.tolist(), phones_on.tolist())]

    # Employers: a returnee company of the base that had entered by the day the person did.
    ret = np.flatnonzero(companies.returnee)
    ret_entered = companies.entered[ret]
    known = np.searchsorted(ret_entered, entered, side="right")
    back = np.floor(np.minimum(known, 200) * rng.random(m) ** 2).astype(np.int64)
    employer = [companies.credit_code[ret[k - 1 - b]] if k > 0 and on else None
                for k, b, on in zip(known.tolist(), back.tolist(), (rng.random(m) < 0.9).tolist())]
    return TalentRoster(
        person_name=names, id_type=id_types, id_number=id_numbers, phone=phones, male=male,
        birth_year=birth_year, study_country=[COUNTRIES[k] for k in rng.choice(len(COUNTRIES), m, p=COUNTRY_SHARE)],
        degree=[DEGREES[k] for k in degree_idx], return_year=return_year, entered=entered, left=left,
        employer=employer, programme=programme.tolist(), programme_year=programme_year,
    )


# ---------------------------------------------------------------------------- one year's submission


@dataclass
class YearFlows:
    """What happened in one year at one base: money, events (yuan, whole units)."""

    revenue: int
    tax: int
    vc: int
    fiscal: int
    events: int


def year_flows(target: calibrate.Targets, year: int, rng: np.random.Generator) -> YearFlows:
    """The year's flows: the 2023 targets exactly, earlier years smaller (the bases grew)."""
    if year == LAST_YEAR:
        return YearFlows(target.revenue_yuan, target.tax_yuan, target.vc_yuan, target.fiscal_yuan,
                         target.service_events)
    back = LAST_YEAR - year

    def shrink(value: int, rate: float, step: int) -> int:
        return int(value * rate**back * np.exp(rng.normal(0.0, 0.08)) // step * step)

    steps = calibrate.MONEY_STEP
    return YearFlows(
        revenue=shrink(target.revenue_yuan, 0.9, steps["revenue_yuan"]),
        tax=shrink(target.tax_yuan, 0.9, steps["tax_yuan"]),
        vc=shrink(target.vc_yuan, 0.85, steps["vc_yuan"]),
        fiscal=shrink(target.fiscal_yuan, 0.93, steps["fiscal_yuan"]),
        events=max(1, int(round(target.service_events * 0.92**back * np.exp(rng.normal(0.0, 0.1))))),
    )


class CompanyRows:
    """A company's row as of a year's end, made once per state and shared by the years it holds for.

    A company's row changes with the year through a few flags only (gone, certified, little
    giant, listed) and, while it is in the base, its revenue, taxes and staff: rows of
    companies that have left are kept by their flags; no year's rows are changed in place
    (the demo's deliberate mistakes edit copies).
    """

    def __init__(self, c: CompanyRoster) -> None:
        def dates(ordinals: np.ndarray) -> list[dt.date | None]:
            return [_date(d) if d else None for d in ordinals.tolist()]

        self.code, self.name, self.industry = c.credit_code, c.name, c.industry
        self.founded, self.entered, self.left = dates(c.founded), dates(c.entered), dates(c.left)
        self.final_status = c.final_status
        self.returnee = c.returnee.tolist()
        self.high_tech_year, self.little_giant_year = c.high_tech_year.tolist(), c.little_giant_year.tolist()
        self.board, self.ticker, self.listing_date = c.listing_board, c.listing_ticker, dates(c.listing_date)
        self.gone: dict[tuple[int, int], dict] = {}

    def row(self, i: int, state: int, revenue: int | None = None, tax: int | None = None,
            employees: int | None = None) -> dict:
        """Row ``i`` in ``state`` (bits: 1 gone, 2 certified, 4 little giant, 8 listed)."""
        gone, listed = state & 1, state & 8
        return {
            "credit_code": self.code[i], "company_name": self.name[i],
            "founded_date": self.founded[i], "entered_date": self.entered[i],
            "left_date": self.left[i] if gone else None,
            "status": self.final_status[i] if gone else "in_park",
            "industry": self.industry[i], "returnee_founded": self.returnee[i],
            "high_tech_year": self.high_tech_year[i] if state & 2 else None,
            "little_giant_year": self.little_giant_year[i] if state & 4 else None,
            "listing_board": self.board[i] if listed else None,
            "listing_ticker": self.ticker[i] if listed else None,
            "listing_date": self.listing_date[i] if listed else None,
            "revenue": revenue, "tax_paid": tax, "employees": employees,
        }

    def gone_row(self, i: int, state: int) -> dict:
        row = self.gone.get((i, state))
        if row is None:
            row = self.gone[(i, state)] = self.row(i, state)
        return row


def _company_part(c: CompanyRoster, rows_of: CompanyRows, year: int, flows: YearFlows,
                  rng: np.random.Generator) -> tuple[list[dict], np.ndarray]:
    end = _year_end(year)
    k = int(np.searchsorted(c.entered, end, side="right"))
    here = (c.left[:k] == 0) | (c.left[:k] > end)
    age = year - _years_of(c.founded[:k]) + 1
    listed_by_now = (c.listing_date[:k] > 0) & (c.listing_date[:k] <= end)
    weight = c.size[:k] * np.minimum(1.0, age / 4.0) * np.where(listed_by_now, 2.0, 1.0)

    revenue = np.zeros(k, dtype=np.int64)
    tax = np.zeros(k, dtype=np.int64)
    ret_here = np.flatnonzero(here & c.returnee[:k])
    step = calibrate.MONEY_STEP["revenue_yuan"]
    if len(ret_here):
        revenue[ret_here] = calibrate.apportion(flows.revenue // step, weight[ret_here], 1) * step
        caps = revenue[ret_here] // 5
        if flows.tax > caps.sum():
            raise ValueError(f"taxes of {flows.tax} yuan exceed a fifth of the revenue of {year}")
        tax[ret_here] = calibrate.apportion(flows.tax, revenue[ret_here] * c.tax_rate[:k][ret_here], 0, caps)
    other_here = np.flatnonzero(here & ~c.returnee[:k])
    revenue[other_here] = (weight[other_here] * 3_000_000).astype(np.int64) // step * step
    tax[other_here] = (revenue[other_here] * c.tax_rate[:k][other_here]).astype(np.int64)
    employees = np.maximum(3, np.round(revenue / 600_000 * rng.uniform(0.6, 1.4, k))).astype(np.int64)

    hty, lgy = c.high_tech_year[:k], c.little_giant_year[:k]
    state = (~here * 1 + ((hty > 0) & (hty <= year)) * 2 + ((lgy > 0) & (lgy <= year)) * 4
             + listed_by_now * 8).tolist()
    money = zip(revenue.tolist(), tax.tolist(), employees.tolist())
    rows = [rows_of.gone_row(i, s) if s & 1 else rows_of.row(i, s, *m) for i, (s, m) in enumerate(zip(state, money))]
    return rows, here


class TalentRows:
    """A returnee's row as of a year's end, made once per state and shared by the years it holds for.

    A row changes with the year only when the person leaves or is selected by a programme
    (bits 1 and 2 of the state): each of the at most four rows is made once. No year's rows
    are changed in place.
    """

    def __init__(self, t: TalentRoster) -> None:
        self.t = t
        self.birth_year, self.return_year = t.birth_year.tolist(), t.return_year.tolist()
        self.entered = [_date(d) for d in t.entered.tolist()]
        self.left = [_date(d) if d else None for d in t.left.tolist()]
        self.programme_year = t.programme_year.tolist()
        self.in_programme = np.array([p != "none" for p in t.programme], dtype=bool)
        self.made: list[list[dict | None]] = [[None] * len(t.entered) for _ in range(4)]

    def row(self, i: int, state: int) -> dict:
        t = self.t
        selected = state & 2
        return {
            "person_name": t.person_name[i], "id_type": t.id_type[i], "id_number": t.id_number[i],
            "phone": t.phone[i], "gender": "male" if t.male[i] else "female",
            "birth_year": self.birth_year[i], "study_country": t.study_country[i], "degree": t.degree[i],
            "return_year": self.return_year[i], "entered_date": self.entered[i],
            "left_date": self.left[i] if state & 1 else None,
            "employer_credit_code": t.employer[i],
            "talent_programme": t.programme[i] if selected else "none",
            "programme_year": self.programme_year[i] if selected else None,
        }


def _talent_part(t: TalentRoster, rows_of: TalentRows, year: int) -> list[dict]:
    end = _year_end(year)
    k = int(np.searchsorted(t.entered, end, side="right"))
    left = t.left[:k]
    selected = rows_of.in_programme[:k] & (t.programme_year[:k] <= year)
    state = ((left > 0) & (left <= end)) * 1 + selected * 2
    made = rows_of.made
    rows = []
    for i, s in enumerate(state.tolist()):
        row = made[s][i]
        if row is None:
            row = made[s][i] = rows_of.row(i, s)
        rows.append(row)
    return rows


def _funding_part(c: CompanyRoster, here: np.ndarray, year: int, flows: YearFlows, base: DemoBase,
                  rng: np.random.Generator) -> list[dict]:
    start, end = _ord(dt.date(year, 1, 1)), _year_end(year)
    k = len(here)
    ret_here = np.flatnonzero(here & c.returnee[:k])
    other_here = np.flatnonzero(here & ~c.returnee[:k])
    if not len(ret_here):
        return []
    city = _city_short(base.city)
    events: list[tuple[int, int, str, str | None, int, str]] = []   # (date, company, kind, round, amount, investor)

    def day_for(i: int) -> int:
        first = max(start, int(c.entered[i]))
        return first + int(rng.integers(0, end - first + 1))

    def investor() -> str:
        a, b = rng.integers(0, len(BRAND), 2)
        return f"示例{BRAND[a]}{BRAND[b]}创业投资基金"

    def round_for(age: int) -> str:
        ladder = ("seed", "angel", "pre_a", "series_a", "series_a", "series_b", "series_b", "series_c")
        return ladder[min(age, len(ladder) - 1)] if age < 12 else "series_d_plus"

    size = c.size[ret_here]
    vc_step, grant_step = calibrate.MONEY_STEP["vc_yuan"], calibrate.MONEY_STEP["fiscal_yuan"]
    n_vc = min(max(1, int(round(len(ret_here) * rng.uniform(0.08, 0.16)))), flows.vc // vc_step)
    if n_vc:
        amounts = calibrate.apportion(flows.vc // vc_step, rng.lognormal(0.0, 0.9, n_vc), 1) * vc_step
        takers = rng.choice(ret_here, n_vc, replace=True, p=size / size.sum())
        for i, amount in zip(takers.tolist(), amounts.tolist()):
            age = year - _date(int(c.founded[i])).year
            kind = "angel" if age <= 2 and amount <= 10_000_000 else "venture_capital"
            events.append((day_for(i), i, kind, round_for(age) if kind == "venture_capital" else "angel",
                           amount, investor()))
    n_grant = min(max(1, int(round(len(ret_here) * rng.uniform(0.15, 0.3)))), flows.fiscal // (10 * grant_step))
    if n_grant:
        amounts = calibrate.apportion(flows.fiscal // grant_step, rng.lognormal(0.0, 0.7, n_grant), 10) * grant_step
        for i, amount in zip(rng.choice(ret_here, n_grant, replace=True).tolist(), amounts.tolist()):
            events.append((day_for(i), i, "government_grant", "not_applicable", amount, f"{city}科技创新专项资金"))
    # Kinds the figures leave out: private equity, bank loans; and money to non-returnee companies.
    for i in rng.choice(ret_here, int(rng.binomial(len(ret_here), 0.04)), replace=True).tolist():
        if rng.random() < 0.5:
            events.append((day_for(i), i, "private_equity", "strategic", int(rng.integers(500, 8000)) * 10_000,
                           f"示例{BRAND[int(rng.integers(0, len(BRAND)))]}股权投资合伙企业"))
        else:
            events.append((day_for(i), i, "bank_loan", None, int(rng.integers(100, 3000)) * 10_000,
                           f"示例银行{city}分行"))
    for i in other_here.tolist():
        kind = "government_grant" if rng.random() < 0.5 else "venture_capital"
        events.append((day_for(i), i, kind, "not_applicable" if kind == "government_grant" else "series_a",
                       int(rng.integers(20, 500)) * 10_000,
                       f"{city}科技创新专项资金" if kind == "government_grant" else investor()))
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    return [{"credit_code": c.credit_code[i], "funding_date": _date(d), "funding_kind": kind,
             "funding_round": rnd, "amount": amount, "investor": who}
            for d, i, kind, rnd, amount, who in events]


def _base_part(base: DemoBase, year: int, flows: YearFlows, companies: list[dict], here: np.ndarray,
               c: CompanyRoster, talent: list[dict], grade: str | None, province_style: str) -> dict:
    k = len(companies)
    returnees_in = sum(1 for r in talent if r["left_date"] is None)
    enterprises_in = int((here & c.returnee[:k]).sum())
    province = next(p for p in spec.provinces() if p.code == base.province)
    return {
        "base_code": base.code, "reporting_year": year, "base_name_zh": base.name_zh,
        "base_name_en": base.name_en,
        "province": {"zh": province.name_zh, "short": province.short_zh, "code": province.code}[province_style],
        "city": base.city, "operator": f"{_city_short(base.city)}留学人员创业园管理服务中心（示例）",
        "established_date": base.established, "designated_year": base.designated_year,
        "floor_area_m2": Decimal(20_000 + 150 * enterprises_in) + Decimal("0.5"),
        "staff": 8 + enterprises_in // 12, "service_events": flows.events, "incubator_grade": grade,
        "reported_enterprises_in_park": enterprises_in, "reported_returnees_in_park": returnees_in,
        "reported_incubated_cum": int(c.returnee[:k].sum()), "reported_returnees_cum": len(talent),
    }


# ---------------------------------------------------------------------------- forms


@dataclass
class FileStyle:
    """How one base writes its files: the form and its options (a base keeps its habits every year)."""

    form: str
    options: dict = field(default_factory=dict)
    province: str = "zh"

    @property
    def suffix(self) -> str:
        return {"xlsx": ".xlsx", "json": ".json", "csv": ""}[self.form]


def choose_styles(bases: list[DemoBase], targets: dict[str, calibrate.Targets],
                  rng: np.random.Generator) -> dict[str, FileStyle]:
    """A form per base (seeded), with the messy habits real submissions have.

    Large rosters go to JSON or CSV: Excel is the slowest to write and read. Among the CSV
    folders one is GB18030 (Excel's "CSV" on Chinese Windows), one UTF-8 with BOM, one uses
    thousands separators; the workbooks use Chinese headers and 万元, one of them 亿元.
    """
    styles: dict[str, FileStyle] = {}
    csv_count = xlsx_count = 0
    for base in bases:
        large = targets[base.code].returnees_cum > 1500
        form = str(rng.choice(["json", "csv"])) if large else str(rng.choice(["xlsx", "json", "csv"], p=[0.45, 0.25, 0.3]))
        if base.code == RESUBMITTED:
            form = "json"
        if form == "xlsx":
            xlsx_count += 1
            units = {"revenue": "万元", "tax_paid": "万元", "amount": "亿元" if xlsx_count == 2 else "万元"}
            styles[base.code] = FileStyle("xlsx", {
                "headers": "bilingual" if xlsx_count % 3 == 0 else "zh", "units": units, "enum_labels": "zh",
                "sheet_names": "zh", "note": NOTE}, "zh")
        elif form == "json":
            units = {"revenue": "万元", "tax_paid": "万元"} if rng.random() < 0.5 else {}
            styles[base.code] = FileStyle("json", {"headers": "en", "units": units, "enum_labels": "code",
                                                   "note": NOTE}, "code")
        else:
            csv_count += 1
            headers = str(rng.choice(["en", "zh", "bilingual"]))
            encoding = {1: "gb18030", 2: "utf-8-sig"}.get(csv_count, "utf-8")
            units = {"revenue": "万元", "tax_paid": "万元", "amount": "万元"} if headers != "en" else {}
            styles[base.code] = FileStyle("csv", {
                "headers": headers, "units": units, "encoding": encoding,
                "enum_labels": "code" if headers == "en" else "zh", "thousands": csv_count == 3}, "short")
    return styles


# ---------------------------------------------------------------------------- the whole data set


@dataclass
class DemoResult:
    """What ``generate_demo`` wrote, for the command to report and for tests."""

    out: Path
    seed: int
    scale: int
    files: dict[int, list[Path]] = field(default_factory=dict)
    forms: dict[int, dict[str, int]] = field(default_factory=dict)
    rows: dict[int, dict[str, int]] = field(default_factory=dict)
    expert_scores: dict[int, Path] = field(default_factory=dict)
    invalid: list[Path] = field(default_factory=list)
    superseded: list[Path] = field(default_factory=list)
    moved_credit_code: str | None = None


def _prepare(out: Path, force: bool) -> None:
    existing = [out / str(y) for y in REPORTING_YEARS if (out / str(y)).exists() and any((out / str(y)).iterdir())]
    if existing and not force:
        names = ", ".join(p.name for p in existing)
        raise DemoError(f"{out} already holds submissions for {names}; use --force to replace them "
                        "with the demo data set")
    for year in REPORTING_YEARS:
        if (out / str(year)).exists():
            shutil.rmtree(out / str(year))
    out.mkdir(parents=True, exist_ok=True)


def _received_at(year: int, index: int) -> float:
    """When a file 'arrived': spring after its reporting year, a few minutes apart (fixed, for determinism)."""
    moment = dt.datetime(year + 1, 3, 20, 9, 0, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=7 * index)
    return moment.timestamp()


def _set_mtime(path: Path, when: float) -> None:
    if path.is_dir():
        for member in sorted(path.iterdir()):
            os.utime(member, (when, when))
    os.utime(path, (when, when))


@dataclass
class BaseJob:
    """What one base's files are made from: its rosters, its habits, each year's place in the arrival order."""

    out: Path
    seed: int
    index: int
    base: DemoBase
    target: calibrate.Targets
    style: FileStyle
    grade: str | None
    companies: CompanyRoster
    talent: TalentRoster
    fullwidth: bool
    slots: dict[int, int]
    """Year -> the place of the base's (first) file among that year's files."""


@dataclass
class Written:
    """One base's submission of one year, as written."""

    year: int
    paths: list[Path]
    forms: dict[str, int]
    rows: dict[str, int]
    invalid: Path | None = None
    superseded: Path | None = None


def write_base(job: BaseJob) -> list[Written]:
    """Write one base's submissions, every year it submits.

    A base's rows are made once and shared by the years they hold for (``CompanyRows``,
    ``TalentRows``), and let go with the job. Every draw comes from a generator of the base
    and the year, and a file's time from its place in the year: the bases' files depend on
    nothing written before them.
    """
    base, style, c, t = job.base, job.style, job.companies, job.talent
    company_cache, talent_cache = CompanyRows(c), TalentRows(t)
    out = []
    for year, slot in job.slots.items():
        folder = job.out / str(year)
        rng = np.random.default_rng([job.seed, 12, job.index, year])
        flows = year_flows(job.target, year, rng)
        company_rows, here = _company_part(c, company_cache, year, flows, rng)
        talent_rows = _talent_part(t, talent_cache, year)
        funding_rows = _funding_part(c, here, year, flows, base, rng)
        base_row = _base_part(base, year, flows, company_rows, here, c, talent_rows, job.grade, style.province)
        parts = {"base": [base_row], "companies": company_rows, "talent": talent_rows, "funding": funding_rows}
        path = folder / f"{base.code}{style.suffix}"
        written = Written(year, [], {"xlsx": 0, "json": 0, "csv": 0}, {})
        when = _received_at(year, slot)
        if (base.code, year) == INVALID:
            parts = _spoil(parts, year)
            written.invalid = path
        if base.code == RESUBMITTED and year == LAST_YEAR:
            original = folder / f"{base.code}.xlsx"
            writers.write_xlsx(original, _mistaken(parts), headers="zh",
                               units={"revenue": "万元", "tax_paid": "万元", "amount": "万元"},
                               enum_labels="zh", note=NOTE)
            _set_mtime(original, when)
            written.paths.append(original)
            written.forms["xlsx"] += 1
            written.superseded = original
            when += 14 * 86_400  # the corrected file arrives two weeks later
        if year == 2022 and job.fullwidth:
            parts = _fullwidth(parts)
        writers.write_submission(path, parts, **style.options)
        _set_mtime(path, when)
        written.paths.append(path)
        written.forms[style.form] += 1
        written.rows = {part: len(part_rows) for part, part_rows in parts.items()}
        out.append(written)
    return out


def generate_demo(out: Path, *, seed: int = DEFAULT_SEED, scale: int = 1, force: bool = False) -> DemoResult:
    """Write the demo inbox under ``out``: ``<year>/<base_code>.{xlsx,json}`` or ``<year>/<base_code>/``,
    ``<year>/expert_scores.csv`` and ``SYNTHETIC.md``. Returns what was written."""
    out = Path(out)
    _prepare(out, force)
    bases = demo_bases(scale)
    targets = calibrate.base_targets(bases, np.random.default_rng([seed, 1]))
    styles = choose_styles(bases, targets, np.random.default_rng([seed, 2]))
    grade_rng = np.random.default_rng([seed, 3])
    grades = {}
    for base in bases:
        grade = "A" if base.template_code in TOP10 else str(grade_rng.choice(["A", "B", "C", ""], p=[0.3, 0.4, 0.2, 0.1]))
        grades[base.code] = "B" if base.code == ZHONGSHAN else (grade or None)
    non_returnee_rng = np.random.default_rng([seed, 4])
    non_returnee = {b.code: int(non_returnee_rng.integers(1, 3)) if non_returnee_rng.random() < 0.12 else 0
                    for b in bases}

    ids = Identifiers()
    companies: dict[str, CompanyRoster] = {}
    for index, base in enumerate(bases):
        rng = np.random.default_rng([seed, 10, index])
        companies[base.code] = build_companies(base, targets[base.code], rng, ids, non_returnee[base.code])
    place_orbbec(companies[SHENZHEN])
    moved = move_company(companies[MOVED[0]], companies[MOVED[1]])
    talent: dict[str, TalentRoster] = {}
    for index, base in enumerate(bases):
        rng = np.random.default_rng([seed, 11, index])
        talent[base.code] = build_talent(base, targets[base.code], rng, ids, companies[base.code])

    result = DemoResult(out=out, seed=seed, scale=scale, moved_credit_code=moved)
    for year in REPORTING_YEARS:
        (out / str(year)).mkdir(parents=True, exist_ok=True)
        result.files[year] = []
        result.forms[year] = {"xlsx": 0, "json": 0, "csv": 0}
        result.rows[year] = {part: 0 for part in spec.PARTS}
    fullwidth = _fullwidth_base(bases, styles)
    accepted: dict[int, list[DemoBase]] = {year: [] for year in REPORTING_YEARS}
    for index, base in enumerate(bases):
        # A file's time is its place in its year's arrival order: after the files of the bases before it.
        slots = {year: len(result.files[year]) for year in REPORTING_YEARS if base.submits(year)}
        job = BaseJob(out, seed, index, base, targets[base.code], styles[base.code], grades[base.code],
                      companies[base.code], talent[base.code], base.code == fullwidth, slots)
        for w in write_base(job):
            result.files[w.year].extend(w.paths)
            for form, count in w.forms.items():
                result.forms[w.year][form] += count
            for part, count in w.rows.items():
                result.rows[w.year][part] += count
            if w.invalid:
                result.invalid.append(w.invalid)
            else:
                accepted[w.year].append(base)
            if w.superseded:
                result.superseded.append(w.superseded)

    expert_rng = np.random.default_rng([seed, 5])
    for year in REPORTING_YEARS:
        wanted = calibrate.expert_targets(accepted[year], expert_rng)
        if year == LAST_YEAR and scale == 1:
            wanted = _calibrated_to_the_report(bases, accepted[year], targets, wanted, year)
        scores = calibrate.expert_scores(wanted, expert_rng)
        scores_path = out / str(year) / "expert_scores.csv"
        _write_expert_scores(scores_path, scores)
        _set_mtime(scores_path, _received_at(year, len(result.files[year]) + 60))
        result.expert_scores[year] = scores_path
    readme = out / "SYNTHETIC.md"
    readme.write_text(_synthetic_readme(result), encoding="utf-8")
    _set_mtime(readme, _received_at(LAST_YEAR, 0))
    return result


def _fullwidth_base(bases: list[DemoBase], styles: dict[str, FileStyle]) -> str | None:
    """The JSON base whose 2022 file has a few full-width digits, as typed with a Chinese input method."""
    for base in bases:
        if styles[base.code].form == "json" and base.template_code not in TOP10 and base.submits(2022) \
                and base.code != RESUBMITTED:
            return base.code
    return None


def _fullwidth(parts: dict) -> dict:
    wide = str.maketrans("0123456789", "０１２３４５６７８９")
    companies = [dict(r) for r in parts["companies"]]
    changed = 0
    for row in companies:
        if row.get("employees") is not None and changed < 5:
            row["employees"] = str(row["employees"]).translate(wide)
            changed += 1
    base = dict(parts["base"][0])
    base["service_events"] = str(base["service_events"]).translate(wide)
    return {**parts, "base": [base], "companies": companies}


def _mistaken(parts: dict) -> dict:
    """The first 2023 file of the resubmitting base: one revenue typed in 元 under a 万元 header."""
    companies = [dict(r) for r in parts["companies"]]
    largest = max((i for i, r in enumerate(companies) if r.get("revenue")), key=lambda i: companies[i]["revenue"])
    companies[largest]["revenue"] = companies[largest]["revenue"] * 10_000
    return {**parts, "companies": companies}


def _spoil(parts: dict, year: int) -> dict:
    """The invalid file: a credit code with a wrong check digit, and funding dated in the year before."""
    companies = [dict(r) for r in parts["companies"]]
    row = companies[len(companies) // 2]
    code = row["credit_code"]
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    row["credit_code"] = code[:-1] + alphabet[(alphabet.index(code[-1]) + 1) % len(alphabet)]
    funding = [dict(r) for r in parts["funding"]]
    if funding:
        funding[-1]["funding_date"] = dt.date(year - 1, 12, 15)
    return {**parts, "companies": companies, "funding": funding}


def _calibrated_to_the_report(bases: list[DemoBase], accepted: list[DemoBase],
                              targets: dict[str, calibrate.Targets], preferred: dict[str, float],
                              year: int) -> dict[str, float]:
    """Expert targets that make the default method publish the report's top 10, in its order and
    with its average score: the calibration goes through the data the committee would see (the
    experts' marks), never through the method."""
    from parkwh.method.calibrate import expert_targets as method_targets

    figures = {b.code: (targets[b.code].as_dict() if b in accepted else None)
               for b in bases if b.designated_year <= year}
    return method_targets(figures, TOP10, year=year, preferred=preferred).targets


def _write_expert_scores(path: Path, rows: list[dict]) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["base_code", "expert_id", "score"])
    for row in rows:
        writer.writerow([row["base_code"], row["expert_id"], writers.decimal_text(row["score"])])
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")


def _synthetic_readme(result: DemoResult) -> str:
    years = ", ".join(str(y) for y in REPORTING_YEARS)
    return f"""# Synthetic demo data — 合成演示数据

Everything in this folder was generated by `parkwh demo` (seed {result.seed}, scale {result.scale}).
It is **synthetic**: the incubation bases carry the names of real returnee entrepreneurship
parks, but every company, person, ID number, phone number and amount is invented (company
names start with 示例, person names contain 某). The one real company is Orbbec
(深圳奥比中光科技有限公司), with its public founding and STAR Market listing dates.

The data set is calibrated so that the warehouse, computing from the row-level rosters,
reproduces the figures of the incubation bases' competitiveness report of 2024-06-19
(reporting year 2023): 68 bases in 21 provinces, 66 of which submitted.

- Reporting years: {years}; one submission per base and year, as `.xlsx`, `.json` or a folder of CSV files.
- `<year>/expert_scores.csv`: seven expert scores per submitting base.
- `{LAST_YEAR}/{RESUBMITTED}.xlsx` was superseded by `{LAST_YEAR}/{RESUBMITTED}.json` (received later;
  the workbook has one revenue typed in 元 under a 万元 header).
- `{INVALID[1]}/{INVALID[0]}` fails validation on purpose (a credit code's check digit, a funding date).
"""
