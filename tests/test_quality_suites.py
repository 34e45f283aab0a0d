"""The quality suites on a real DuckDB warehouse: a clean one passes, each kind of corruption fails.

The warehouse is built here directly in DuckDB, table by table, with the column types of the
dbt contracts (staging, marts) and BRIEF §6 (published). Every figure of ``fct_base_year`` and
of the report summary, every rank and every check digit is computed in Python below from a
small set of companies, returnees and funding events, following docs/figures.md, not read back
from the code under test. Each test then corrupts one thing and runs the real suite with Great
Expectations on it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from stdnum.cn import ric, uscc

from parkwh import config
from parkwh.quality import audit, report, runner, tables
from parkwh.quality.results import FAIL, PASS, WARN
from parkwh.quality.suites import SuiteError, load_suite, load_suites

YEARS = (2022, 2023)
# base code, province, name, years submitted, ranking score by year, expert score by year
BASES = [
    ("SH001", "SH", "上海漕河泾留学人员创业园", (2022, 2023), {2022: "90.125", 2023: "92.500"}),
    ("JS001", "JS", "苏州留学人员创业园", (2022, 2023), {2022: "91.000", 2023: "88.250"}),
    ("BJ001", "BJ", "中关村国际孵化器", (2022, 2023), {2022: "75.500", 2023: "80.000"}),
    # Submitted 2022 only: in 2023 it is designated but not ranked, its figures NULL.
    ("GD001", "GD", "广州留学人员创业园", (2022,), {2022: "60.000"}),
]
REGION_PREFIX = {"SH": "310000", "JS": "320000", "BJ": "110000", "GD": "440000"}


def credit_code(province: str, base_number: int, company: int) -> str:
    body = f"91{REGION_PREFIX[province]}MA{base_number:02d}{company:03d}XY"
    assert len(body) == 17
    return body + uscc.calc_check_digit(body)


def resident_id(base_number: int, person: int) -> str:
    body = f"110101{1980 + base_number}{(person % 12) + 1:02d}{10 + person:02d}0{base_number}{person}"[:17]
    # calc_check_digit reads the first 17 characters of an 18-character number.
    return body + ric.calc_check_digit(body + "0")


def md5(*parts: object) -> str:
    return hashlib.md5("|".join(map(str, parts)).encode()).hexdigest()


def money(value: float | int) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


@dataclass
class Company:
    code: str
    name: str
    founded: dt.date
    entered: dt.date
    left: dt.date | None
    returnee: bool
    high_tech_year: int | None
    little_giant_year: int | None
    listing_date: dt.date | None
    revenue: dict[int, Decimal]
    employees: int

    def status(self, year: int) -> str:
        return "moved_out" if self.left and self.left <= dt.date(year, 12, 31) else "in_park"


@dataclass
class Person:
    key: str
    id_number: str
    entered: dt.date
    left: dt.date | None
    programme: str
    employer: str | None


@dataclass
class Base:
    code: str
    province: str
    name: str
    submitted: tuple[int, ...]
    scores: dict[int, str]
    companies: list[Company] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)


def make_bases(jump_revenue: bool = False) -> list[Base]:
    """The fixture's bases, their companies and returnees. ``jump_revenue``: SH001's 2023 revenue is 6x 2022's."""
    out = []
    for number, (code, province, name, submitted, scores) in enumerate(BASES, start=1):
        base = Base(code, province, name, submitted, scores)
        for j in range(5):
            factor = Decimal(6) if (jump_revenue and code == "SH001") else Decimal("1.1")
            revenue_2022 = money(1_000_000 * number * (j + 1))
            base.companies.append(
                Company(
                    code=credit_code(province, number, j),
                    name=f"{name[:2]}企业{j}",
                    founded=dt.date(2019, 1 + j, 10),
                    # Company 4 enters in 2023: cumulative figures grow.
                    entered=dt.date(2023, 5, 1) if j == 4 else dt.date(2020, 3, 1) + dt.timedelta(days=200 * j),
                    left=dt.date(2023, 6, 30) if j == 3 else None,
                    returnee=j != 1,
                    high_tech_year={0: 2021, 2: 2023}.get(j),
                    little_giant_year=2022 if j == 0 else None,
                    listing_date=dt.date(2022, 7, 7) if j == 0 else None,
                    revenue={2022: revenue_2022, 2023: money(revenue_2022 * factor)},
                    employees=10 * (j + 1),
                )
            )
        programmes = ["national_major", "provincial", "none", "municipal"]
        for k in range(4):
            base.people.append(
                Person(
                    key=md5("person", code, k),
                    id_number=resident_id(number, k),
                    entered=dt.date(2023, 2, 1) if k == 3 else dt.date(2021, 1 + k, 5),
                    left=dt.date(2023, 9, 1) if k == 2 else None,
                    programme=programmes[k],
                    employer=base.companies[0].code if k == 0 else None,
                )
            )
        out.append(base)
    return out


def _known(certified: int | None, year: int) -> int | None:
    return certified if certified is not None and certified <= year else None


def submission_id(base: Base, year: int) -> str:
    return f"{year}-{base.code}-{md5(base.code, year)[:12]}"


def roster(base: Base, year: int) -> list[Company]:
    """The companies a base's submission of ``year`` lists: every one that entered by year end."""
    return [c for c in base.companies if c.entered <= dt.date(year, 12, 31)]


def people_on_roster(base: Base, year: int) -> list[Person]:
    return [p for p in base.people if p.entered <= dt.date(year, 12, 31)]


def funding(base: Base, year: int) -> list[dict]:
    companies = roster(base, year)
    return [
        dict(code=companies[0].code, date=dt.date(year, 3, 15), kind="angel", round="angel",
             amount=money(500_000), row=2),
        dict(code=companies[2].code, date=dt.date(year, 6, 1), kind="government_grant",
             round="not_applicable", amount=money(200_000), row=3),
        # To the non-returnee company: counts in neither figure.
        dict(code=companies[1].code, date=dt.date(year, 8, 1), kind="venture_capital",
             round="series_a", amount=money(3_000_000), row=4),
    ]


def figures(base: Base, year: int) -> dict[str, object]:
    """One base's figures for one year, as docs/figures.md defines them."""
    year_end = dt.date(year, 12, 31)
    companies = [c for c in roster(base, year) if c.returnee]
    incubated = [c for c in companies if c.entered <= year_end]
    people = people_on_roster(base, year)
    events = funding(base, year)
    returnee_codes = {c.code for c in companies}
    return {
        "enterprises_in_park": sum(1 for c in incubated if c.left is None or c.left > year_end),
        "returnees_in_park": sum(1 for p in people if p.left is None or p.left > year_end),
        "incubated_cum": len(incubated),
        "high_tech_cum": sum(1 for c in incubated if c.high_tech_year and c.high_tech_year <= year),
        "little_giants_cum": sum(1 for c in incubated if c.little_giant_year and c.little_giant_year <= year),
        "listed_cum": sum(1 for c in incubated if c.listing_date and c.listing_date <= year_end),
        "returnees_cum": len(people),
        "talent_national": sum(1 for p in people if p.programme == "national_major"),
        "talent_provincial": sum(1 for p in people if p.programme == "provincial"),
        "revenue_yuan": sum((c.revenue[year] for c in companies), Decimal("0.00")),
        "tax_yuan": sum((money(c.revenue[year] * Decimal("0.05")) for c in companies), Decimal("0.00")),
        "service_events": 10 * (len(base.code) + BASES_INDEX[base.code]) + (year - 2022) * 2,
        "vc_yuan": sum((e["amount"] for e in events if e["kind"] in ("angel", "venture_capital")
                        and e["code"] in returnee_codes), Decimal("0.00")),
        "fiscal_yuan": sum((e["amount"] for e in events if e["kind"] == "government_grant"
                            and e["code"] in returnee_codes), Decimal("0.00")),
    }


BASES_INDEX = {code: n for n, (code, *_rest) in enumerate(BASES)}
FIGURES = ("enterprises_in_park", "returnees_in_park", "incubated_cum", "high_tech_cum",
           "little_giants_cum", "listed_cum", "returnees_cum", "talent_national",
           "talent_provincial", "revenue_yuan", "tax_yuan", "service_events", "vc_yuan", "fiscal_yuan")


def competition_ranks(scores: dict[str, Decimal]) -> dict[str, int]:
    """"1224" ranking: one more than the number of strictly higher scores."""
    return {b: 1 + sum(1 for other in scores.values() if other > s) for b, s in scores.items()}


def create(con, relation: str, columns: list[tuple[str, str]], rows: list[dict]) -> None:
    """A table with exactly the given column types, filled with ``rows`` (missing keys are NULL)."""
    import pandas as pd

    schema = relation.split(".")[0]
    con.execute(f"create schema if not exists {schema}")
    con.execute(f"create or replace table {relation} ({', '.join(f'{n} {t}' for n, t in columns)})")
    if not rows:
        return
    names = [n for n, _ in columns]
    # Decimals travel as text, so DuckDB casts them to DECIMAL exactly (never through a float).
    frame = pd.DataFrame(
        [[str(v) if isinstance(v, Decimal) else v for v in (row.get(n) for n in names)] for row in rows],
        columns=names, dtype=object,
    )
    con.register("fixture_rows", frame)
    try:
        casts = ", ".join(f"cast({n} as {t}) as {n}" for n, t in columns)
        con.execute(f"insert into {relation} select {casts} from fixture_rows")
    finally:
        con.unregister("fixture_rows")


def build_warehouse(database: Path, *, jump_revenue: bool = False) -> list[Base]:
    """Write every table the suites read, consistent with each other; return the bases."""
    bases = make_bases(jump_revenue)
    con = duckdb.connect(str(database))
    try:
        _write_staging_and_raw(con, bases)
        _write_marts(con, bases)
        _write_candidates(con, bases)
    finally:
        con.close()
    return bases


def _write_staging_and_raw(con, bases: list[Base]) -> None:
    submissions, base_rows, companies, talent, funds = [], [], [], [], []
    raw_companies, raw_talent, raw_funding = [], [], []
    for base in bases:
        for year in base.submitted:
            sid = submission_id(base, year)
            common = dict(submission_id=sid, base_code=base.code, reporting_year=year)
            submissions.append(dict(common, submission_form="xlsx", received_at=dt.datetime(year + 1, 3, 1),
                                    loaded_at=dt.datetime(year + 1, 3, 2), version_number=1,
                                    versions_received=1, is_in_force=True))
            fig = figures(base, year)
            base_rows.append(dict(common, source_row=2, base_name_zh=base.name, province_code=base.province,
                                  city_name="城市", operator_name="运营单位", established_date=dt.date(2000, 1, 1),
                                  designated_year=2005, service_events=fig["service_events"],
                                  incubator_grade_code="A",
                                  reported_enterprises_in_park=fig["enterprises_in_park"],
                                  reported_returnees_in_park=fig["returnees_in_park"],
                                  reported_incubated_cum=fig["incubated_cum"],
                                  reported_returnees_cum=fig["returnees_cum"]))
            for row, c in enumerate(roster(base, year), start=2):
                companies.append(dict(common, source_row=row, credit_code=c.code, company_name=c.name,
                                      founded_date=c.founded, entered_date=c.entered,
                                      left_date=c.left if c.left and c.left <= dt.date(year, 12, 31) else None,
                                      status_code=c.status(year), industry_code="biomedicine",
                                      is_returnee_founded=c.returnee,
                                      # A certification after the reporting year is not known yet.
                                      high_tech_year=_known(c.high_tech_year, year),
                                      little_giant_year=_known(c.little_giant_year, year),
                                      listing_board_code="star" if c.listing_date else None,
                                      listing_date=c.listing_date, revenue_yuan=c.revenue[year],
                                      tax_yuan=money(c.revenue[year] * Decimal("0.05")),
                                      employees=c.employees))
                raw_companies.append(dict(common, source_row=row, credit_code=c.code,
                                          status="在园" if c.status(year) == "in_park" else "迁出",
                                          industry="生物医药", listing_board="科创板" if c.listing_date else None))
            for row, p in enumerate(people_on_roster(base, year), start=2):
                talent.append(dict(common, source_row=row, person_key=p.key, id_type_code="resident_id",
                                   gender_code="female", birth_year=1985, degree_code="doctorate",
                                   return_year=2015, entered_date=p.entered,
                                   left_date=p.left if p.left and p.left <= dt.date(year, 12, 31) else None,
                                   employer_credit_code=p.employer, talent_programme_code=p.programme,
                                   programme_year=2020 if p.programme != "none" else None))
                raw_talent.append(dict(common, source_row=row, id_type="居民身份证", id_number=p.id_number,
                                       gender="女", degree="博士", talent_programme=p.programme,
                                       person_key=p.key))
            for event in funding(base, year):
                funds.append(dict(common, source_row=event["row"], funding_event_id=md5(sid, event["row"]),
                                  credit_code=event["code"], funding_date=event["date"],
                                  funding_kind_code=event["kind"], funding_round_code=event["round"],
                                  amount_yuan=event["amount"], investor_name="投资方"))
                raw_funding.append(dict(common, source_row=event["row"], credit_code=event["code"],
                                        funding_kind=event["kind"], funding_round=event["round"]))
    provenance = [("submission_id", "VARCHAR"), ("base_code", "VARCHAR"), ("reporting_year", "INTEGER")]
    create(con, "staging.stg_submissions", provenance + [
        ("submission_form", "VARCHAR"), ("received_at", "TIMESTAMP"), ("loaded_at", "TIMESTAMP"),
        ("version_number", "INTEGER"), ("versions_received", "INTEGER"), ("is_in_force", "BOOLEAN")],
        submissions)
    create(con, "staging.stg_base", provenance + [
        ("source_row", "INTEGER"), ("base_name_zh", "VARCHAR"), ("base_name_en", "VARCHAR"),
        ("province_code", "VARCHAR"), ("city_name", "VARCHAR"), ("operator_name", "VARCHAR"),
        ("established_date", "DATE"), ("designated_year", "INTEGER"), ("floor_area_m2", "DECIMAL(18,2)"),
        ("staff_count", "BIGINT"), ("service_events", "BIGINT"), ("incubator_grade_code", "VARCHAR"),
        ("reported_enterprises_in_park", "BIGINT"), ("reported_returnees_in_park", "BIGINT"),
        ("reported_incubated_cum", "BIGINT"), ("reported_returnees_cum", "BIGINT")], base_rows)
    create(con, "staging.stg_companies", provenance + [
        ("source_row", "INTEGER"), ("credit_code", "VARCHAR"), ("company_name", "VARCHAR"),
        ("founded_date", "DATE"), ("entered_date", "DATE"), ("left_date", "DATE"),
        ("status_code", "VARCHAR"), ("industry_code", "VARCHAR"), ("is_returnee_founded", "BOOLEAN"),
        ("high_tech_year", "INTEGER"), ("little_giant_year", "INTEGER"), ("listing_board_code", "VARCHAR"),
        ("listing_ticker", "VARCHAR"), ("listing_date", "DATE"), ("revenue_yuan", "DECIMAL(18,2)"),
        ("tax_yuan", "DECIMAL(18,2)"), ("employees", "BIGINT")], companies)
    create(con, "staging.stg_talent", provenance + [
        ("source_row", "INTEGER"), ("person_key", "VARCHAR"), ("id_type_code", "VARCHAR"),
        ("gender_code", "VARCHAR"), ("birth_year", "INTEGER"), ("study_country", "VARCHAR"),
        ("degree_code", "VARCHAR"), ("return_year", "INTEGER"), ("entered_date", "DATE"),
        ("left_date", "DATE"), ("employer_credit_code", "VARCHAR"), ("talent_programme_code", "VARCHAR"),
        ("programme_year", "INTEGER")], talent)
    create(con, "staging.stg_funding", [("funding_event_id", "VARCHAR")] + provenance + [
        ("source_row", "INTEGER"), ("credit_code", "VARCHAR"), ("funding_date", "DATE"),
        ("funding_kind_code", "VARCHAR"), ("funding_round_code", "VARCHAR"),
        ("amount_yuan", "DECIMAL(18,2)"), ("investor_name", "VARCHAR")], funds)
    raw_provenance = provenance + [("source_row", "INTEGER")]
    create(con, "raw.companies", raw_provenance + [
        ("credit_code", "VARCHAR"), ("status", "VARCHAR"), ("industry", "VARCHAR"),
        ("listing_board", "VARCHAR")], raw_companies)
    create(con, "raw.talent", raw_provenance + [
        ("id_type", "VARCHAR"), ("id_number", "VARCHAR"), ("gender", "VARCHAR"), ("degree", "VARCHAR"),
        ("talent_programme", "VARCHAR"), ("person_key", "VARCHAR")], raw_talent)
    create(con, "raw.funding", raw_provenance + [
        ("credit_code", "VARCHAR"), ("funding_kind", "VARCHAR"), ("funding_round", "VARCHAR")], raw_funding)


def _write_marts(con, bases: list[Base]) -> None:
    from parkwh.submission import spec

    create(con, "marts.dim_province", [
        ("province_code", "VARCHAR"), ("province_name_zh", "VARCHAR"), ("province_short_zh", "VARCHAR"),
        ("province_name_en", "VARCHAR"), ("region_code", "VARCHAR")],
        [dict(province_code=p.code, province_name_zh=p.name_zh, province_short_zh=p.short_zh,
              province_name_en=p.name_en, region_code=p.region) for p in spec.provinces()])
    create(con, "marts.dim_base", [
        ("base_version_id", "VARCHAR"), ("base_code", "VARCHAR"), ("base_name_zh", "VARCHAR"),
        ("province_code", "VARCHAR"), ("version_number", "INTEGER"), ("valid_from_year", "INTEGER"),
        ("valid_to_year", "INTEGER"), ("is_current", "BOOLEAN")],
        [dict(base_version_id=md5(b.code, 2022), base_code=b.code, base_name_zh=b.name,
              province_code=b.province, version_number=1, valid_from_year=2022, is_current=True)
         for b in bases])
    dim_company, fct_company, fct_talent, fct_funding, dim_talent, base_years, reconciliation = \
        {}, [], [], [], {}, [], []
    for base in bases:
        for year in YEARS:
            year_end = dt.date(year, 12, 31)
            submitted = year in base.submitted
            row = dict(base_code=base.code, reporting_year=year, base_version_id=md5(base.code, 2022),
                       base_name_zh=base.name, province_code=base.province, submitted=submitted,
                       submission_id=submission_id(base, year) if submitted else None)
            if submitted:
                fig = figures(base, year)
                row.update(fig)
                for figure_name in ("enterprises_in_park", "returnees_in_park", "incubated_cum", "returnees_cum"):
                    reconciliation.append(dict(base_code=base.code, reporting_year=year,
                                               submission_id=row["submission_id"], figure_name=figure_name,
                                               reported_value=fig[figure_name], computed_value=fig[figure_name],
                                               difference=0, relative_difference=Decimal("0"),
                                               is_consistent=True))
            base_years.append(row)
            if not submitted:
                continue
            sid = submission_id(base, year)
            for c in roster(base, year):
                dim_company[c.code] = dict(credit_code=c.code, company_name=c.name, founded_date=c.founded,
                                           is_returnee_enterprise=c.returnee, first_base_code=base.code,
                                           latest_base_code=base.code)
                fct_company.append(dict(
                    company_year_id=md5(base.code, year, c.code), reporting_year=year, base_code=base.code,
                    credit_code=c.code, submission_id=sid, entered_date=c.entered,
                    left_date=c.left if c.left and c.left <= year_end else None, status_code=c.status(year),
                    industry_code="biomedicine", is_returnee_enterprise=c.returnee, is_incubated=True,
                    is_in_park=c.left is None or c.left > year_end,
                    is_high_tech=bool(c.high_tech_year and c.high_tech_year <= year),
                    is_little_giant=bool(c.little_giant_year and c.little_giant_year <= year),
                    is_listed=bool(c.listing_date and c.listing_date <= year_end),
                    revenue_yuan=c.revenue[year], tax_yuan=money(c.revenue[year] * Decimal("0.05")),
                    employees=c.employees))
            for p in people_on_roster(base, year):
                dim_talent[p.key] = dict(person_key=p.key, latest_base_code=base.code,
                                         talent_programme_code=p.programme)
                fct_talent.append(dict(
                    talent_year_id=md5(base.code, year, p.key), reporting_year=year, base_code=base.code,
                    person_key=p.key, submission_id=sid, employer_credit_code=p.employer,
                    talent_programme_code=p.programme, entered_date=p.entered,
                    left_date=p.left if p.left and p.left <= year_end else None, is_absorbed=True,
                    is_in_park=p.left is None or p.left > year_end))
            for event in funding(base, year):
                fct_funding.append(dict(
                    funding_event_id=md5(sid, event["row"]), reporting_year=year, base_code=base.code,
                    credit_code=event["code"], submission_id=sid, source_row=event["row"],
                    funding_date=event["date"], funding_kind_code=event["kind"],
                    amount_yuan=event["amount"]))
    create(con, "marts.dim_company", [
        ("credit_code", "VARCHAR"), ("company_name", "VARCHAR"), ("founded_date", "DATE"),
        ("is_returnee_enterprise", "BOOLEAN"), ("first_base_code", "VARCHAR"), ("latest_base_code", "VARCHAR")],
        list(dim_company.values()))
    create(con, "marts.dim_talent", [
        ("person_key", "VARCHAR"), ("latest_base_code", "VARCHAR"), ("talent_programme_code", "VARCHAR")],
        list(dim_talent.values()))
    create(con, "marts.fct_company_year", [
        ("company_year_id", "VARCHAR"), ("reporting_year", "INTEGER"), ("base_code", "VARCHAR"),
        ("credit_code", "VARCHAR"), ("submission_id", "VARCHAR"), ("entered_date", "DATE"),
        ("left_date", "DATE"), ("status_code", "VARCHAR"), ("industry_code", "VARCHAR"),
        ("is_returnee_enterprise", "BOOLEAN"), ("is_incubated", "BOOLEAN"), ("is_in_park", "BOOLEAN"),
        ("is_high_tech", "BOOLEAN"), ("is_little_giant", "BOOLEAN"), ("is_listed", "BOOLEAN"),
        ("revenue_yuan", "DECIMAL(18,2)"), ("tax_yuan", "DECIMAL(18,2)"), ("employees", "BIGINT")],
        fct_company)
    create(con, "marts.fct_talent_year", [
        ("talent_year_id", "VARCHAR"), ("reporting_year", "INTEGER"), ("base_code", "VARCHAR"),
        ("person_key", "VARCHAR"), ("submission_id", "VARCHAR"), ("employer_credit_code", "VARCHAR"),
        ("talent_programme_code", "VARCHAR"), ("entered_date", "DATE"), ("left_date", "DATE"),
        ("is_absorbed", "BOOLEAN"), ("is_in_park", "BOOLEAN")], fct_talent)
    create(con, "marts.fct_funding_event", [
        ("funding_event_id", "VARCHAR"), ("reporting_year", "INTEGER"), ("base_code", "VARCHAR"),
        ("credit_code", "VARCHAR"), ("submission_id", "VARCHAR"), ("source_row", "INTEGER"),
        ("funding_date", "DATE"), ("funding_kind_code", "VARCHAR"), ("amount_yuan", "DECIMAL(18,2)")],
        fct_funding)
    money_columns = {"revenue_yuan", "tax_yuan", "vc_yuan", "fiscal_yuan"}
    create(con, "marts.fct_base_year", [
        ("base_code", "VARCHAR"), ("reporting_year", "INTEGER"), ("base_version_id", "VARCHAR"),
        ("base_name_zh", "VARCHAR"), ("province_code", "VARCHAR"), ("submitted", "BOOLEAN"),
        ("submission_id", "VARCHAR")]
        + [(f, "DECIMAL(18,2)" if f in money_columns else "BIGINT") for f in FIGURES], base_years)
    create(con, "marts.base_year_reconciliation", [
        ("base_code", "VARCHAR"), ("reporting_year", "INTEGER"), ("submission_id", "VARCHAR"),
        ("figure_name", "VARCHAR"), ("reported_value", "BIGINT"), ("computed_value", "BIGINT"),
        ("difference", "BIGINT"), ("relative_difference", "DECIMAL(18,4)"), ("is_consistent", "BOOLEAN")],
        reconciliation)


RANKING_COLUMNS = [
    ("reporting_year", "INTEGER"), ("rank", "INTEGER"), ("base_code", "VARCHAR"), ("base_name_zh", "VARCHAR"),
    ("base_name_en", "VARCHAR"), ("province", "VARCHAR"), ("score", "DECIMAL(9,3)"),
    ("indicator_score", "DECIMAL(9,3)"), ("expert_score", "DECIMAL(9,3)"), ("rank_change", "INTEGER"),
    ("rank_median", "DOUBLE"), ("rank_p05", "INTEGER"), ("rank_p95", "INTEGER"), ("ranked", "BOOLEAN"),
]


def ranking_rows(bases: list[Base]) -> list[dict]:
    rows = []
    previous: dict[str, int] = {}
    for year in YEARS:
        scores = {b.code: Decimal(b.scores[year]) for b in bases if year in b.scores}
        ranks = competition_ranks(scores)
        for base in bases:
            ranked = base.code in scores
            rank = ranks.get(base.code)
            rows.append(dict(
                reporting_year=year, rank=rank, base_code=base.code, base_name_zh=base.name,
                base_name_en=None, province=base.province, score=scores.get(base.code),
                indicator_score=scores[base.code] - 1 if ranked else None,
                expert_score=scores[base.code] + 1 if ranked else None,
                rank_change=(previous[base.code] - rank) if ranked and base.code in previous else None,
                rank_median=float(rank) if ranked else None,
                rank_p05=max(1, rank - 1) if ranked else None,
                rank_p95=rank + 1 if ranked else None, ranked=ranked))
        previous = ranks
    return rows


def summary_rows(bases: list[Base], ranking: list[dict]) -> list[dict]:
    rows = []
    for year in YEARS:
        ranked = {r["base_code"]: r for r in ranking if r["reporting_year"] == year and r["ranked"]}
        for scope in ("all", "top10"):
            members = [b for b in bases if year in b.submitted
                       and (scope == "all" or (b.code in ranked and ranked[b.code]["rank"] <= 10))]
            row = dict(reporting_year=year, scope=scope, bases=len(members))
            for f in FIGURES:
                row[f] = sum((figures(b, year)[f] for b in members), Decimal(0) if f.endswith("yuan") else 0)
            scores = [ranked[b.code]["score"] for b in members if b.code in ranked]
            row["avg_score"] = (sum(scores) / len(scores)).quantize(Decimal("0.001")) if scores else None
            rows.append(row)
    return rows


def _write_candidates(con, bases: list[Base]) -> None:
    ranking = ranking_rows(bases)
    create(con, "marts.candidate_park_ranking", RANKING_COLUMNS, ranking)
    # Two indicators per ranked base, weighted 0.6 and 0.4, each normalised to the indicator score:
    # the contributions add up to it.
    create(con, "marts.candidate_park_scores", [
        ("reporting_year", "INTEGER"), ("base_code", "VARCHAR"), ("dimension_code", "VARCHAR"),
        ("indicator_code", "VARCHAR"), ("normalised_value", "DOUBLE"), ("weight", "DOUBLE"),
        ("contribution", "DOUBLE"), ("dimension_score", "DOUBLE"), ("indicator_score", "DOUBLE"),
        ("score", "DECIMAL(9,3)"), ("ranked", "BOOLEAN")],
        [dict(reporting_year=r["reporting_year"], base_code=r["base_code"], dimension_code="scale",
              indicator_code=code, normalised_value=float(r["indicator_score"]), weight=weight,
              contribution=weight * float(r["indicator_score"]), dimension_score=float(r["indicator_score"]),
              indicator_score=float(r["indicator_score"]), score=r["score"], ranked=True)
         for r in ranking if r["ranked"] for code, weight in (("incubated_cum", 0.6), ("returnees_cum", 0.4))])
    money_columns = {"revenue_yuan", "tax_yuan", "vc_yuan", "fiscal_yuan"}
    create(con, "marts.candidate_report_summary", [("reporting_year", "INTEGER"), ("scope", "VARCHAR"),
                                                   ("bases", "BIGINT")]
           + [(f, "DECIMAL(18,2)" if f in money_columns else "BIGINT") for f in FIGURES]
           + [("avg_score", "DECIMAL(9,3)")], summary_rows(bases, ranking))


# ------------------------------------------------------------------ running the suites


@pytest.fixture()
def warehouse(warehouse_dir):
    """A clean warehouse in the test's own folder."""
    build_warehouse(config.warehouse().database)
    return config.warehouse().database


def run(*suite_names: str):
    suites = [s for s in load_suites() if not suite_names or s.name in suite_names]
    return runner.run_suites(suites, run_id="test")


def sql(statement: str, *params) -> None:
    con = duckdb.connect(str(config.warehouse().database))
    try:
        con.execute(statement, list(params))
    finally:
        con.close()


def outcome(quality_run, key: str):
    return next(r for r in quality_run.results if r.key == key)


def test_every_suite_file_loads_and_every_expectation_is_a_real_gx_expectation():
    suites = load_suites()
    assert [s.name for s in suites] == ["submissions", "facts", "published"]
    for suite in suites:
        for expectation in suite.expectations:
            assert expectation.severity in ("error", "warning")
            assert expectation.description and expectation.fix
            assert expectation.table in tables.TABLES
            built = runner.build_expectation(expectation)
            assert type(built).__name__ == expectation.gx_class_name


def test_a_suite_file_with_a_mistake_is_refused_with_its_name(tmp_path):
    path = tmp_path / "broken.yml"
    path.write_text(
        "suite: broken\nlayer: marts\nexpectations:\n"
        "  - {id: a, table: fct_base_year, severity: fatal, description: d, fix: f,"
        " expect: expect_column_values_to_not_be_null, kwargs: {column: x}}\n",
        encoding="utf-8",
    )
    with pytest.raises(SuiteError, match=r"broken.yml: expectation 1 \(a\): severity must be error or warning"):
        load_suite(path)
    path.write_text(path.read_text().replace("fatal", "error").replace("fct_base_year", "fct_nothing"))
    with pytest.raises(SuiteError, match="unknown table 'fct_nothing'"):
        load_suite(path)


def test_a_clean_warehouse_passes_every_expectation(warehouse):
    quality_run = run()
    problems = [r.headline() for r in quality_run.results if r.outcome != PASS]
    assert problems == []
    assert quality_run.gate_open
    # The published suite validated the candidates, not the (absent) published tables.
    assert quality_run.relations["park_ranking"] == "marts.candidate_park_ranking"


# Each corruption: SQL on the clean warehouse, the suite to run, the expectation that must fail,
# and the base it must name.
CORRUPTIONS = {
    "duplicated company": (
        "insert into marts.fct_company_year select * from marts.fct_company_year "
        "where base_code = 'JS001' and reporting_year = 2023 limit 1",
        "facts", "facts.company_once_per_base_year", "JS001"),
    "negative revenue": (
        "update marts.fct_company_year set revenue_yuan = -5 "
        "where base_code = 'BJ001' and reporting_year = 2023 and company_year_id = "
        "(select min(company_year_id) from marts.fct_company_year where base_code = 'BJ001' and reporting_year = 2023)",
        "facts", "facts.company_revenue_not_negative", "BJ001"),
    "rank gap": (
        "update marts.candidate_park_ranking set rank = 4 "
        "where reporting_year = 2023 and base_code = 'BJ001'",
        "published", "published.ranks_follow_scores", "BJ001"),
    "shrinking cumulative figure": (
        "update marts.fct_base_year set returnees_cum = 1, returnees_in_park = 1, talent_national = 0, "
        "talent_provincial = 0 where base_code = 'SH001' and reporting_year = 2023",
        "facts", "facts.cumulative_figures_never_shrink", "SH001"),
    "bad credit code check digit": (
        "update staging.stg_companies set credit_code = left(credit_code, 17) || "
        "case when right(credit_code, 1) = '0' then '1' else '0' end "
        "where base_code = 'SH001' and reporting_year = 2023 and source_row = 3",
        "submissions", "submissions.companies_credit_code_check_digit", "SH001"),
    "bad ID number check digit": (
        "update raw.talent set id_number = left(id_number, 17) || "
        "case when right(id_number, 1) = '0' then '1' else '0' end "
        "where base_code = 'JS001' and reporting_year = 2023 and source_row = 2",
        "submissions", "submissions.talent_id_number_check_digit", "JS001"),
    "unknown enumeration code": (
        "update staging.stg_companies set status_code = 'sold' where base_code = 'BJ001' and source_row = 2",
        "submissions", "submissions.companies_status_valid", "BJ001"),
    "label staging could not map": (
        "update staging.stg_talent set degree_code = null where base_code = 'SH001' and source_row = 2",
        "submissions", "submissions.talent_enum_labels_mapped", "SH001"),
    "date after the reporting year": (
        "update staging.stg_companies set entered_date = date '2024-01-02' "
        "where base_code = 'JS001' and reporting_year = 2023 and source_row = 2",
        "submissions", "submissions.company_dates_not_after_year_end", "JS001"),
    "person twice in a submission": (
        "insert into staging.stg_talent select * from staging.stg_talent "
        "where base_code = 'GD001' and source_row = 2",
        "submissions", "submissions.talent_once_per_submission", "GD001"),
    "taxes above revenue": (
        "update staging.stg_companies set tax_yuan = revenue_yuan + 1 where base_code = 'SH001' and source_row = 4",
        "submissions", "submissions.taxes_within_revenue", "SH001"),
    "programme talent above returnees": (
        "update marts.fct_base_year set talent_national = returnees_cum + 1 "
        "where base_code = 'JS001' and reporting_year = 2022",
        "facts", "facts.base_year_subsets_within_totals", "JS001"),
    "company missing from its dimension": (
        "delete from marts.dim_company where credit_code = "
        "(select min(credit_code) from marts.fct_company_year where base_code = 'GD001')",
        "facts", "facts.company_year_company_exists", "GD001"),
    "score above 100": (
        "update marts.candidate_park_ranking set score = 100.5 where reporting_year = 2022 and base_code = 'JS001'",
        "published", "published.score_in_range", "JS001"),
    "contributions that do not add up": (
        "update marts.candidate_park_scores set contribution = contribution + 1 "
        "where reporting_year = 2023 and base_code = 'SH001' and indicator_code = 'returnees_cum'",
        "published", "published.scores_contributions_add_up", "SH001"),
    "summary that is not the sum of its facts": (
        "update marts.candidate_report_summary set revenue_yuan = revenue_yuan + 1 "
        "where reporting_year = 2023 and scope = 'all'",
        "published", "published.summary_equals_sum_of_facts", None),
    "summary without its mean score": (
        "update marts.candidate_report_summary set avg_score = null where reporting_year = 2022",
        "published", "published.summary_equals_sum_of_facts", None),
    "self-reported total far from the roster": (
        "update marts.base_year_reconciliation set reported_value = computed_value * 2 + 10, "
        "is_consistent = false where base_code = 'BJ001' and reporting_year = 2023 and figure_name = 'incubated_cum'",
        "published", "published.reconciliation_within_tolerance", "BJ001"),
}


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_each_corruption_fails_its_expectation_and_names_the_base(warehouse, name):
    statement, suite, key, base = CORRUPTIONS[name]
    sql(statement)
    quality_run = run(suite)
    result = outcome(quality_run, key)
    assert result.outcome == FAIL, result.headline()
    assert result.exception is None
    assert not quality_run.gate_open
    assert result.unexpected_count and result.unexpected_count >= 1
    assert result.sample_rows, "a failure shows the rows that fail"
    if base is not None:
        assert base in result.base_codes
        assert base in result.headline()
        assert all(row.get("base_code", base) == base for row in result.sample_rows)


def test_a_duplicated_company_names_the_company_in_its_rows(warehouse):
    sql(CORRUPTIONS["duplicated company"][0])
    result = outcome(run("facts"), "facts.company_once_per_base_year")
    codes = {row["credit_code"] for row in result.sample_rows}
    assert len(codes) == 1 and result.unexpected_count == 2  # both copies of the one company
    assert result.reporting_years == [2023]


def test_ties_share_the_lower_rank_and_leave_a_gap(warehouse):
    # JS001 and SH001 tied for first in 2023: ranks 1, 1, then 3 ("1224" style) pass.
    sql("update marts.candidate_park_ranking set score = 92.500, rank = 1 "
        "where reporting_year = 2023 and base_code = 'JS001'")
    sql("update marts.candidate_park_ranking set rank = 3 where reporting_year = 2023 and base_code = 'BJ001'")
    sql("update marts.candidate_report_summary set avg_score = "
        "(select round(avg(score), 3) from marts.candidate_park_ranking where reporting_year = 2023 and ranked) "
        "where reporting_year = 2023")
    assert outcome(run("published"), "published.ranks_follow_scores").outcome == PASS
    # Tied scores with different ranks fail.
    sql("update marts.candidate_park_ranking set rank = 2 where reporting_year = 2023 and base_code = 'JS001'")
    assert outcome(run("published"), "published.ranks_follow_scores").outcome == FAIL


def test_a_fivefold_jump_is_only_a_warning(warehouse_dir):
    build_warehouse(config.warehouse().database, jump_revenue=True)
    quality_run = run()
    result = outcome(quality_run, "facts.no_fivefold_jump")
    assert result.outcome == WARN
    assert result.base_codes == ["SH001"]
    assert {row["figure_name"] for row in result.sample_rows} >= {"revenue_yuan"}
    assert quality_run.gate_open, [r.headline() for r in quality_run.with_outcome(FAIL)]


def test_a_small_reconciliation_difference_is_only_a_warning(warehouse):
    sql("update marts.base_year_reconciliation set reported_value = computed_value + 1, difference = 1, "
        "is_consistent = false where base_code = 'SH001' and reporting_year = 2023 "
        "and figure_name = 'returnees_cum'")
    quality_run = run("published")
    assert outcome(quality_run, "published.reconciliation_exact").outcome == WARN
    assert outcome(quality_run, "published.reconciliation_within_tolerance").outcome == PASS
    assert quality_run.gate_open


def test_a_missing_table_fails_closed(warehouse):
    sql("drop table marts.candidate_park_scores")
    quality_run = run("published")
    result = outcome(quality_run, "published.scores_keys_present")
    assert result.outcome == FAIL and "park_scores" in (result.exception or "")
    assert not quality_run.gate_open


def test_a_column_of_the_wrong_type_fails_typed(warehouse):
    sql("alter table staging.stg_companies alter revenue_yuan type double")
    result = outcome(run("submissions"), "submissions.companies_columns_typed")
    assert result.outcome == FAIL
    assert result.sample_rows == [{"column_name": "revenue_yuan", "expected_type": "DECIMAL(18,2)",
                                   "actual_type": "DOUBLE", "type_matches": False}]


def test_id_numbers_never_appear_unmasked_in_results(warehouse):
    sql(CORRUPTIONS["bad ID number check digit"][0])
    quality_run = run("submissions")
    con = duckdb.connect(str(config.warehouse().database), read_only=True)
    try:
        numbers = [n for (n,) in con.execute("select id_number from raw.talent").fetchall()]
    finally:
        con.close()
    text = quality_run.to_json()
    assert numbers and not any(n in text for n in numbers)
    result = outcome(quality_run, "submissions.talent_id_number_check_digit")
    assert "*" in result.sample_rows[0]["id_number_masked"]


def test_the_report_lists_every_suite_and_expectation_and_needs_no_network(warehouse):
    sql(CORRUPTIONS["negative revenue"][0])
    quality_run = run()
    page = report.write_report(quality_run)
    text = page.read_text(encoding="utf-8")
    for suite in load_suites():
        assert suite.title in text
        for expectation in suite.expectations:
            assert expectation.id in text
    assert "Gate closed" in text and "BJ001" in text
    assert "company_revenue_not_negative" in text
    for needs_network in ("http://", "https://", "<script", "<link", "@import", "url("):
        assert needs_network not in text
    assert page.parent.parent == config.warehouse().quality
    assert (config.warehouse().quality / "index.html").read_text(encoding="utf-8").count("index.html") == 1
    again = type(quality_run).from_json((page.parent / "results.json").read_text(encoding="utf-8"))
    assert [r.to_dict() for r in again.results] == [r.to_dict() for r in quality_run.results]


def test_audit_keeps_every_expectation_of_every_run(warehouse):
    first = run("facts")
    first.run_id = "run-1"
    audit.write_check_results(first)
    sql(CORRUPTIONS["negative revenue"][0])
    second = run("facts")
    second.run_id = "run-2"
    audit.write_check_results(second)
    audit.write_check_results(second)  # written again: replaced, not doubled
    con = duckdb.connect(str(config.warehouse().database), read_only=True)
    try:
        rows = con.execute(
            "select run_id, count(*), count(*) filter (where outcome = 'fail'), bool_and(gate_open) "
            "from audit.check_results group by run_id order by run_id").fetchall()
        bases = con.execute(
            "select base_codes, sample_rows from audit.check_results "
            "where run_id = 'run-2' and expectation_id = 'company_revenue_not_negative'").fetchone()
    finally:
        con.close()
    expectations = len(next(s for s in load_suites() if s.name == "facts").expectations)
    assert rows[0] == ("run-1", expectations, 0, True)
    assert rows[1][0] == "run-2" and rows[1][1] == expectations and rows[1][2] >= 1 and rows[1][3] is False
    assert json.loads(bases[0]) == ["BJ001"]
    assert json.loads(bases[1])[0]["revenue_yuan"] == -5
