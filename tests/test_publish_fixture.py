"""A small warehouse shaped like the real one (BRIEF §6, the dbt contracts), for the publishing tests.

The publishing code reads what dbt and the method build; these tests build those tables directly
in DuckDB so they run in a second, and ``test_fixture_follows_the_dbt_contracts`` keeps the
fixture honest: each table it makes has the columns and types the dbt model files declare.
Figures here are random (seeded); every expected value in the tests is computed from the rows,
never typed in.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
import yaml
from parkwh import config

YEARS = (2021, 2022, 2023)

PROVINCES = [
    # code, name_zh, short, name_en, region code, region en, region zh
    ("SH", "上海市", "上海", "Shanghai", "east", "East", "东部"),
    ("JS", "江苏省", "江苏", "Jiangsu", "east", "East", "东部"),
    ("BJ", "北京市", "北京", "Beijing", "east", "East", "东部"),
    ("HB", "湖北省", "湖北", "Hubei", "central", "Central", "中部"),
    ("SN", "陕西省", "陕西", "Shaanxi", "west", "West", "西部"),
    ("JL", "吉林省", "吉林", "Jilin", "northeast", "Northeast", "东北"),
]

BASES = [
    ("SH001", "上海漕河泾留学人员创业园", "Shanghai Caohejing Overseas Returnee Park", "SH"),
    ("JS001", "苏州留学人员创业园", "Suzhou Overseas Returnee Park", "JS"),
    ("SH002", "上海张江留学人员创业园", "Shanghai Zhangjiang Overseas Returnee Park", "SH"),
    ("SN001", "西安留学人员创业园", "Xi'an Overseas Returnee Park", "SN"),
    ("BJ001", "中国北京（望京）留学人员创业园", "China Beijing (Wangjing) Returnee Park", "BJ"),
    ("BJ002", "中关村国际孵化器", "Zhongguancun International Incubator", "BJ"),
    ("JS002", "江苏昆山留学人员创业园", "Jiangsu Kunshan Overseas Returnee Park", "JS"),
    ("HB001", "武汉留学生创业园", "Wuhan Overseas Students Park", "HB"),
    ("JS003", "无锡留学人员创业园", "Wuxi Overseas Returnee Park", "JS"),
    ("JL001", "长春留学人员创业园", "Changchun Overseas Returnee Park", "JL"),
    ("HB002", "襄阳留学人员创业园", "Xiangyang Overseas Returnee Park", "HB"),
    ("SN002", "杨凌留学人员创业园", "Yangling Overseas Returnee Park", "SN"),
]
NOT_SUBMITTING = {2023: {"SN002"}, 2022: set(), 2021: {"HB002"}}
NOT_RANKED = {2023: {"HB002"}}  # submitted, but too few indicators

DIMENSIONS = [
    # dimension code, zh, en, indicators (code, zh, en, unit, weight)
    (
        "incubation",
        "孵化成效",
        "Incubation results",
        [
            ("enterprises_in_park", "在园企业数", "Enterprises in the base", "家", 0.5),
            ("listed_cum", "上市挂牌企业数", "Listed or quoted enterprises", "家", 0.5),
        ],
    ),
    (
        "talent",
        "人才集聚",
        "Talent",
        [
            ("returnees_in_park", "在园留学人员数", "Returnees in the base", "人", 0.6),
            ("talent_national", "国家级人才", "National talent programme members", "人", 0.4),
        ],
    ),
    (
        "economy",
        "经济贡献",
        "Economic contribution",
        [
            ("revenue_yuan", "企业营业收入", "Revenue", "元", 0.5),
            ("tax_yuan", "企业纳税", "Taxes paid", "元", 0.5),
        ],
    ),
]
DIMENSION_WEIGHT = 1 / 3

PERSONAL_TALENT_VALUES = ("pk-0001", "pk-0002")  # person keys that must not leave the warehouse


@dataclass
class Fixture:
    root: Path
    database: Path


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _ddl_from_contract(name: str) -> dict[str, str]:
    """The columns and types a dbt model file declares (for the contract test)."""
    for path in (config.dbt_project_dir() / "models").rglob(f"{name}.yml"):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        for model in document.get("models", []):
            if model["name"] == name:
                return {c["name"]: c.get("data_type", "") for c in model.get("columns", [])}
    return {}


def build(root: Path, *, seed: int = 7) -> Fixture:
    """Write the fixture warehouse at ``config.warehouse().database`` (under ``root``)."""
    database = config.warehouse().database
    database.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    con = duckdb.connect(str(database))
    try:
        for schema in ("marts", "published", "staging", "audit", "raw"):
            con.execute(f"create schema if not exists {schema}")
        _dimensions(con)
        _facts(con, rng)
        _method_catalogue(con)
        for year in YEARS:
            _rank(con, year, rng)
        _summary(con)
        _check_results(con)
    finally:
        con.close()
    return Fixture(root=root, database=database)


def _dimensions(con) -> None:
    con.execute(
        "create table marts.dim_province (province_code varchar, province_name_zh varchar,"
        " province_short_zh varchar, province_name_en varchar, region_code varchar,"
        " region_name_en varchar, region_name_zh varchar)"
    )
    con.executemany("insert into marts.dim_province values (?, ?, ?, ?, ?, ?, ?)", PROVINCES)
    con.execute(
        "create table marts.dim_base (base_version_id varchar, base_code varchar, base_name_zh varchar,"
        " base_name_en varchar, province_code varchar, city_name varchar, operator_name varchar,"
        " designated_year integer, established_date date, version_number integer,"
        " valid_from_year integer, valid_to_year integer, is_current boolean)"
    )
    con.executemany(
        "insert into marts.dim_base values (?, ?, ?, ?, ?, ?, ?, 2010, date '2000-01-01', 1, 2021, null, true)",
        [
            (_sha(code)[:32], code, zh, en, prov, zh[:2], f"{zh}管理中心")
            for code, zh, en, prov in BASES
        ],
    )
    con.execute(
        "create table marts.dim_talent_programme (talent_programme_code varchar,"
        " talent_programme_name_zh varchar, talent_programme_name_en varchar,"
        " programme_level integer, report_figure varchar)"
    )
    con.execute(
        "insert into marts.dim_talent_programme values"
        " ('national_major', '国家重大人才工程', 'National major talent programme', 1, 'talent_national'),"
        " ('provincial', '省级人才计划', 'Provincial talent programme', 2, 'talent_provincial')"
    )
    con.execute(
        "create table marts.dim_date as select d::date as date_day, year(d)::integer as calendar_year,"
        " quarter(d)::integer as quarter_of_year, month(d)::integer as month_of_year,"
        " day(d)::integer as day_of_month, isodow(d)::integer as day_of_week_iso,"
        " isodow(d) >= 6 as is_weekend, (month(d) = 12 and day(d) = 31) as is_year_end"
        " from range(date '2021-01-01', date '2024-01-01', interval 1 day) as t(d)"
    )


def _facts(con, rng: random.Random) -> None:
    con.execute(
        "create table marts.fct_base_year (base_code varchar, reporting_year integer,"
        " base_version_id varchar, base_name_zh varchar, province_code varchar, submitted boolean,"
        " submission_id varchar, enterprises_in_park bigint, returnees_in_park bigint,"
        " incubated_cum bigint, high_tech_cum bigint, little_giants_cum bigint, listed_cum bigint,"
        " returnees_cum bigint, talent_national bigint, talent_provincial bigint,"
        " revenue_yuan decimal(18,2), tax_yuan decimal(18,2), service_events bigint,"
        " vc_yuan decimal(18,2), fiscal_yuan decimal(18,2))"
    )
    con.execute(
        "create table audit.submissions (submission_id varchar, kind varchar, base_code varchar,"
        " reporting_year integer, source_sha256 varchar, status varchar)"
    )
    for year in YEARS:
        for index, (code, zh, _en, prov) in enumerate(BASES):
            if code in NOT_SUBMITTING[year]:
                con.execute(
                    "insert into marts.fct_base_year (base_code, reporting_year, base_version_id,"
                    " base_name_zh, province_code, submitted) values (?, ?, ?, ?, ?, false)",
                    [code, year, _sha(code)[:32], zh, prov],
                )
                continue
            size = 12 - index + rng.randint(0, 3)
            sha = _sha(f"{code}-{year}-v1")
            submission_id = f"{year}-{code}-{sha[:12]}"
            incubated = size * 6 + (year - 2021) * 3
            con.execute(
                "insert into marts.fct_base_year values (?, ?, ?, ?, ?, true, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    code,
                    year,
                    _sha(code)[:32],
                    zh,
                    prov,
                    submission_id,
                    size * 4,
                    size * 13,
                    incubated,
                    incubated // 4,
                    incubated // 30,
                    incubated // 20,
                    size * 40,
                    size // 2,
                    size,
                    f"{size * 123456.78:.2f}",
                    f"{size * 4567.89:.2f}",
                    size * 3,
                    f"{size * 50000:.2f}",
                    f"{size * 7000.5:.2f}",
                ],
            )
            con.execute(
                "insert into audit.submissions values (?, 'submission', ?, ?, ?, 'accepted')",
                [submission_id, code, year, sha],
            )
        sha = _sha(f"experts-{year}")
        con.execute(
            "insert into audit.submissions values (?, 'expert_scores', null, ?, ?, 'accepted')",
            [f"{year}-expert_scores-{sha[:12]}", year, sha],
        )
    con.execute(
        "create table marts.dim_company (credit_code varchar, company_name varchar, founded_date date,"
        " industry_code varchar, is_returnee_enterprise boolean, latest_status_code varchar,"
        " first_base_code varchar, latest_base_code varchar, first_reporting_year integer,"
        " last_reporting_year integer, years_reported integer, bases_count integer,"
        " high_tech_year integer, little_giant_year integer, listing_board_code varchar,"
        " listing_ticker varchar, listing_date date)"
    )
    con.execute(
        "insert into marts.dim_company values ('91320500MA1X00001A', '示例奥比科技有限公司', date '2013-01-18',"
        " 'electronic_information', true, 'in_park', 'JS001', 'JS001', 2021, 2023, 3, 1, 2018, null,"
        " 'star', '688322', date '2022-07-07')"
    )
    con.execute(
        "create table marts.fct_company_year (company_year_id varchar, reporting_year integer,"
        " base_code varchar, credit_code varchar, submission_id varchar, entered_date date,"
        " left_date date, status_code varchar, industry_code varchar, is_returnee_enterprise boolean,"
        " is_incubated boolean, is_in_park boolean, is_high_tech boolean, is_little_giant boolean,"
        " is_listed boolean, revenue_yuan decimal(18,2), tax_yuan decimal(18,2), employees bigint)"
    )
    con.execute(
        "insert into marts.fct_company_year select md5(reporting_year::varchar), reporting_year, 'JS001',"
        " '91320500MA1X00001A', submission_id, date '2014-03-01', null, 'in_park',"
        " 'electronic_information', true, true, true, true, false, reporting_year >= 2022,"
        " 1234567.89, 12345.67, 120 from marts.fct_base_year where base_code = 'JS001'"
    )
    con.execute(
        "create table marts.fct_funding_event (funding_event_id varchar, reporting_year integer,"
        " base_code varchar, credit_code varchar, submission_id varchar, source_row integer,"
        " funding_date date, funding_kind_code varchar, funding_round_code varchar,"
        " investor_name varchar, amount_yuan decimal(18,2), is_to_returnee_enterprise boolean,"
        " is_in_reporting_year boolean, is_venture_capital boolean, is_fiscal boolean)"
    )
    con.execute(
        "insert into marts.fct_funding_event values ('f1', 2023, 'JS001', '91320500MA1X00001A',"
        " null, 2, date '2023-05-01', 'angel', 'angel', '张天使', 5000000.00, true, true, true, false)"
    )
    con.execute(
        "create table marts.dim_talent (person_key varchar, gender_code varchar, birth_year integer,"
        " study_country varchar, degree_code varchar, return_year integer, talent_programme_code varchar,"
        " programme_year integer, latest_base_code varchar, first_entered_date date,"
        " first_reporting_year integer, last_reporting_year integer, years_reported integer,"
        " bases_count integer)"
    )
    con.executemany(
        "insert into marts.dim_talent values (?, 'female', 1980, '英国', 'phd', 2010, 'national_major',"
        " 2015, 'SH001', date '2011-01-01', 2021, 2023, 3, 1)",
        [[k] for k in PERSONAL_TALENT_VALUES],
    )
    con.execute(
        "create table marts.fct_talent_year (talent_year_id varchar, reporting_year integer,"
        " base_code varchar, person_key varchar, submission_id varchar, employer_credit_code varchar,"
        " talent_programme_code varchar, programme_year integer, degree_code varchar,"
        " entered_date date, left_date date, is_absorbed boolean, is_in_park boolean)"
    )
    con.execute(
        f"insert into marts.fct_talent_year values ('t1', 2023, 'SH001', '{PERSONAL_TALENT_VALUES[0]}',"
        " null, null, 'national_major', 2015, 'phd', date '2011-01-01', null, true, true)"
    )
    con.execute(
        "create table marts.base_year_reconciliation as select base_code, reporting_year,"
        " submission_id, 'enterprises_in_park' as figure_name, enterprises_in_park as reported_value,"
        " enterprises_in_park as computed_value, 0::bigint as difference,"
        " 0::decimal(18,4) as relative_difference, true as is_consistent"
        " from marts.fct_base_year where submitted"
    )


def _method_catalogue(con) -> None:
    """The method's seeds, with the columns of ``seeds/method_*.csv``."""
    con.execute(
        "create table staging.method_indicators (indicator_code varchar, indicator_name_zh varchar,"
        " indicator_name_en varchar, unit varchar, dimension_code varchar, dimension_name_zh varchar,"
        " dimension_name_en varchar, dimension_weight double, indicator_weight double,"
        " direction integer, normalisation varchar, score_low double, score_high double,"
        " goal_low double, goal_high double, numerator varchar, denominator varchar,"
        " first_year integer, last_year integer, definition varchar)"
    )
    for dim, dim_zh, dim_en, indicators in DIMENSIONS:
        for code, zh, en, unit, weight in indicators:
            con.execute(
                "insert into staging.method_indicators values (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 'min_max',"
                " 0, 100, null, null, ?, null, 2019, null, ?)",
                [
                    code,
                    zh,
                    en,
                    unit,
                    dim,
                    dim_zh,
                    dim_en,
                    DIMENSION_WEIGHT * 100,
                    weight * 10,
                    code,
                    en,
                ],
            )
    con.execute(
        "create table staging.method_parameters (first_year integer, last_year integer,"
        " expert_share double, mc_draws integer, mc_seed bigint)"
    )
    con.execute("insert into staging.method_parameters values (2019, null, 0.3, 1000, 20240619)")


def _rank(con, year: int, rng: random.Random, *, replace: bool = False) -> None:
    """Score and rank a year from fct_base_year, the way the method's published tables look."""
    if not _table_exists(con, "published", "park_scores"):
        con.execute(
            "create table published.park_scores (reporting_year integer, base_code varchar,"
            " base_name_zh varchar, dimension_code varchar, dimension_name_zh varchar,"
            " dimension_name_en varchar, indicator_code varchar, indicator_name_zh varchar,"
            " indicator_name_en varchar, unit varchar, submission_id varchar, numerator_value double,"
            " denominator_value double, raw_value double, imputed boolean, imputation_rule varchar,"
            " imputed_value double, treatment varchar, treated_value double, normalisation varchar,"
            " normalised_value double, indicator_weight double, dimension_weight double,"
            " effective_indicator_weight double, effective_dimension_weight double, weight double,"
            " contribution double, dimension_score double, indicator_score double,"
            " expert_score double, score decimal(9,3), ranked boolean)"
        )
        con.execute(
            "create table published.park_ranking (reporting_year integer, rank integer,"
            " base_code varchar, base_name_zh varchar, base_name_en varchar, province varchar,"
            " score decimal(9,3), indicator_score decimal(9,3), expert_score decimal(9,3),"
            " rank_change integer, rank_median double, rank_p05 integer, rank_p95 integer,"
            " ranked boolean)"
        )
    if replace:
        con.execute("delete from published.park_scores where reporting_year = ?", [year])
        con.execute("delete from published.park_ranking where reporting_year = ?", [year])
    for dim, dim_zh, dim_en, indicators in DIMENSIONS:
        for code, zh, en, unit, weight in indicators:
            # min-max normalisation of the submitted bases' values, 0..100
            con.execute(
                f"""
                insert into published.park_scores by name
                with v as (
                    select base_code, base_name_zh, submission_id, cast({code} as double) as raw_value
                    from marts.fct_base_year where reporting_year = $year and submitted
                ), s as (
                    select *, 100 * (raw_value - min(raw_value) over ())
                        / nullif(max(raw_value) over () - min(raw_value) over (), 0) as n
                    from v
                )
                select $year as reporting_year, base_code, base_name_zh, $dim as dimension_code,
                       $dim_zh as dimension_name_zh, $dim_en as dimension_name_en,
                       $code as indicator_code, $zh as indicator_name_zh, $en as indicator_name_en,
                       $unit as unit, submission_id, raw_value as numerator_value,
                       raw_value, false as imputed, 'none' as treatment, raw_value as treated_value,
                       'min_max' as normalisation, coalesce(n, 50) as normalised_value,
                       $w as indicator_weight, $dw as dimension_weight,
                       $w as effective_indicator_weight, $dw as effective_dimension_weight,
                       $w * $dw as weight, coalesce(n, 50) * $w * $dw as contribution
                from s
                """,
                {
                    "year": year,
                    "dim": dim,
                    "dim_zh": dim_zh,
                    "dim_en": dim_en,
                    "dw": DIMENSION_WEIGHT,
                    "code": code,
                    "zh": zh,
                    "en": en,
                    "unit": unit,
                    "w": weight,
                },
            )
    con.execute(
        "update published.park_scores as p set dimension_score = d.score from ("
        " select base_code, dimension_code, round(sum(normalised_value * indicator_weight), 3) as score"
        " from published.park_scores where reporting_year = $year group by all) as d"
        " where p.reporting_year = $year and p.base_code = d.base_code and p.dimension_code = d.dimension_code",
        {"year": year},
    )
    # The committee's scores are drawn once per year and kept, so a re-scoring moves only what
    # the corrected figures move.
    con.execute(
        "create table if not exists staging.fixture_expert_scores"
        " (reporting_year integer, base_code varchar, expert_score decimal(9,3))"
    )
    if not con.execute(
        "select count(*) from staging.fixture_expert_scores where reporting_year = ?", [year]
    ).fetchone()[0]:
        con.executemany(
            "insert into staging.fixture_expert_scores values (?, ?, ?)",
            [[year, code, round(rng.uniform(80, 98), 3)] for code, *_ in BASES],
        )
    con.execute(
        "create or replace temp table experts as select base_code, expert_score"
        f" from staging.fixture_expert_scores where reporting_year = {int(year)}"
    )
    not_ranked = sorted(NOT_RANKED.get(year, ()))
    con.execute(
        """
        insert into published.park_ranking
        with indicator as (
            select base_code, round(sum(contribution), 3) as indicator_score
            from published.park_scores where reporting_year = $year group by base_code
        ), scored as (
            select f.base_code, f.base_name_zh, b.base_name_en, p.province_name_zh as province,
                   i.indicator_score, e.expert_score,
                   round(0.7 * i.indicator_score + 0.3 * e.expert_score, 3) as score,
                   not list_contains($not_ranked, f.base_code) as ranked
            from marts.fct_base_year as f
            join indicator as i using (base_code)
            join experts as e using (base_code)
            join marts.dim_base as b using (base_code)
            join marts.dim_province as p on p.province_code = f.province_code
            where f.reporting_year = $year and f.submitted
        ), ranked as (
            select *, case when ranked then rank() over (partition by ranked order by score desc) end as rank
            from scored
        )
        select $year, r.rank, r.base_code, r.base_name_zh, r.base_name_en, r.province,
               case when r.ranked then r.score end, r.indicator_score, r.expert_score,
               prev.rank - r.rank, r.rank, case when r.ranked then greatest(r.rank - 2, 1) end,
               r.rank + 2, r.ranked
        from ranked as r
        left join published.park_ranking as prev
            on prev.reporting_year = $year - 1 and prev.base_code = r.base_code
        """,
        {"year": year, "not_ranked": not_ranked},
    )
    con.execute(
        "update published.park_scores as s set indicator_score = r.indicator_score,"
        " expert_score = r.expert_score, score = r.score, ranked = r.ranked"
        " from published.park_ranking as r"
        " where r.reporting_year = s.reporting_year and r.base_code = s.base_code and s.reporting_year = ?",
        [year],
    )


def _summary(con) -> None:
    con.execute("drop table if exists published.report_summary")
    con.execute(
        """
        create table published.report_summary as
        with scoped as (
            select 'all' as scope, f.*, r.score from marts.fct_base_year as f
            left join published.park_ranking as r using (reporting_year, base_code)
            where f.submitted
            union all
            select 'top10', f.*, r.score from marts.fct_base_year as f
            join published.park_ranking as r using (reporting_year, base_code)
            where r.rank <= 10
        )
        select reporting_year, scope, count(*)::bigint as bases,
            sum(enterprises_in_park)::bigint as enterprises_in_park,
            sum(returnees_in_park)::bigint as returnees_in_park,
            sum(incubated_cum)::bigint as incubated_cum, sum(high_tech_cum)::bigint as high_tech_cum,
            sum(little_giants_cum)::bigint as little_giants_cum, sum(listed_cum)::bigint as listed_cum,
            sum(returnees_cum)::bigint as returnees_cum, sum(talent_national)::bigint as talent_national,
            sum(talent_provincial)::bigint as talent_provincial,
            sum(revenue_yuan)::decimal(18,2) as revenue_yuan, sum(tax_yuan)::decimal(18,2) as tax_yuan,
            sum(service_events)::bigint as service_events, sum(vc_yuan)::decimal(18,2) as vc_yuan,
            sum(fiscal_yuan)::decimal(18,2) as fiscal_yuan, avg(score)::decimal(9,3) as avg_score
        from scoped group by all order by all
        """
    )


def _check_results(con) -> None:
    con.execute(
        "create table audit.check_results (run_id varchar, checked_at timestamp, suite varchar,"
        " expectation_id varchar, table_name varchar, relation varchar, expectation_type varchar,"
        " severity varchar, outcome varchar, gate_open boolean, element_count bigint,"
        " unexpected_count bigint, unexpected_percent double, base_codes varchar,"
        " reporting_years varchar, sample_rows varchar, observed_value varchar,"
        " exception_message varchar, description varchar, fix varchar)"
    )
    rows = [
        ("facts", "revenue_not_negative", "fct_base_year", "error", "pass", 0),
        ("facts", "returnees_reconcile", "base_year_reconciliation", "warning", "warn", 2),
        ("published", "ranks_1224", "park_ranking", "error", "pass", 0),
    ]
    con.executemany(
        "insert into audit.check_results values ('run-1', timestamp '2024-06-01 08:00:00', ?, ?, ?,"
        " null, 'expect_x', ?, ?, true, 100, ?, 0, '[]', '[2023]', '[{\"person_name\": \"***\"}]',"
        " null, null, 'described', 'fix it')",
        [list(r) for r in rows],
    )


def _table_exists(con, schema: str, name: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
            [schema, name],
        ).fetchone()[0]
    )


def correct_submission(base_code: str, year: int, *, enterprises_in_park: int) -> str:
    """A corrected submission of one base and year: new file, new figures, the year re-scored."""
    con = duckdb.connect(str(config.warehouse().database))
    try:
        sha = _sha(f"{base_code}-{year}-corrected-{enterprises_in_park}")
        submission_id = f"{year}-{base_code}-{sha[:12]}"
        old = con.execute(
            "select submission_id from marts.fct_base_year where base_code = ? and reporting_year = ?",
            [base_code, year],
        ).fetchone()[0]
        con.execute(
            "update audit.submissions set status = 'superseded' where submission_id = ?", [old]
        )
        con.execute(
            "insert into audit.submissions values (?, 'submission', ?, ?, ?, 'accepted')",
            [submission_id, base_code, year, sha],
        )
        con.execute(
            "update marts.fct_base_year set submission_id = ?, enterprises_in_park = ?"
            " where base_code = ? and reporting_year = ?",
            [submission_id, enterprises_in_park, base_code, year],
        )
        _rank(con, year, random.Random(0), replace=True)
        _summary(con)
        return submission_id
    finally:
        con.close()


@pytest.fixture()
def fixture_warehouse(warehouse_dir) -> Fixture:
    return build(warehouse_dir)


def test_fixture_follows_the_dbt_contracts(fixture_warehouse):
    """Each fixture table has the columns (and, where declared, the types) of its dbt model."""
    con = duckdb.connect(str(fixture_warehouse.database), read_only=True)
    try:
        checked = 0
        for schema, name in con.execute(
            "select schema_name, table_name from duckdb_tables() where schema_name in ('marts', 'published')"
        ).fetchall():
            declared = _ddl_from_contract(name)
            if not declared:
                continue  # the model is not written yet: BRIEF §6 is the contract the fixture follows
            actual = dict(
                con.execute(
                    "select column_name, data_type from duckdb_columns() where schema_name = ? and table_name = ?",
                    [schema, name],
                ).fetchall()
            )
            assert list(actual) == list(declared), (
                f"{schema}.{name}: columns differ from its dbt model"
            )
            for column, declared_type in declared.items():
                wanted = {
                    "string": "VARCHAR",
                    "integer": "INTEGER",
                    "bigint": "BIGINT",
                    "boolean": "BOOLEAN",
                    "date": "DATE",
                    "timestamp": "TIMESTAMP",
                }.get(declared_type, declared_type.upper().replace(" ", ""))
                assert actual[column].replace(" ", "") == wanted, f"{schema}.{name}.{column}"
            checked += 1
        assert checked >= 5
    finally:
        con.close()


def test_fixture_ranking_follows_brief_section_6(fixture_warehouse):
    con = duckdb.connect(str(fixture_warehouse.database), read_only=True)
    try:
        columns = [r[0] for r in con.execute("describe published.park_ranking").fetchall()]
        assert columns == [
            "reporting_year",
            "rank",
            "base_code",
            "base_name_zh",
            "base_name_en",
            "province",
            "score",
            "indicator_score",
            "expert_score",
            "rank_change",
            "rank_median",
            "rank_p05",
            "rank_p95",
            "ranked",
        ]
        summary = [r[0] for r in con.execute("describe published.report_summary").fetchall()]
        assert summary == [
            "reporting_year",
            "scope",
            "bases",
            "enterprises_in_park",
            "returnees_in_park",
            "incubated_cum",
            "high_tech_cum",
            "little_giants_cum",
            "listed_cum",
            "returnees_cum",
            "talent_national",
            "talent_provincial",
            "revenue_yuan",
            "tax_yuan",
            "service_events",
            "vc_yuan",
            "fiscal_yuan",
            "avg_score",
        ]
        # ranks "1224" style among the ranked, none for the unranked
        assert (
            con.execute(
                "select count(*) from published.park_ranking where ranked <> (rank is not null)"
            ).fetchone()[0]
            == 0
        )
    finally:
        con.close()
