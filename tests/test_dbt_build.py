"""dbt builds the warehouse on a fresh DuckDB and computes each figure as docs/figures.md says.

The raw layer is written here directly, per the contract in docs/architecture.md (every part
value VARCHAR as submitted, provenance columns, ``<money>_unit`` columns), with spellings a
base might use: full-width digits, thousands separators, 万/亿 suffixes, Chinese labels. The
expected figures below were worked out by hand from these rows (see the comments on each row).
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest
from parkwh import config, transform
from parkwh.submission import spec

PROVENANCE = (
    "submission_id",
    "base_code",
    "reporting_year",
    "source_path",
    "source_sha256",
    "source_row",
    "loaded_at",
)
PROVENANCE_TYPES = {"reporting_year": "INTEGER", "source_row": "INTEGER", "loaded_at": "TIMESTAMP"}


def _part_columns(part: str) -> list[str]:
    fields = [f for f in spec.part_fields(part) if f.key not in PROVENANCE]
    columns = [f.key for f in fields] + [f"{f.key}_unit" for f in fields if f.is_money]
    if part == "talent":
        columns.append("person_key")
    return columns


# ------------------------------------------------------------------ the raw fixture

SUBMISSIONS = [
    # submission_id, base_code, year, received_at
    ("2022-SH001-aaaaaaaaaaaa", "SH001", 2022, "2023-03-01 09:00:00"),
    ("2023-SH001-0ld000000000", "SH001", 2023, "2024-03-01 09:00:00"),  # superseded below
    ("2023-SH001-new000000000", "SH001", 2023, "2024-03-10 09:00:00"),  # in force
    ("2022-GD001-gggggggggggg", "GD001", 2022, "2023-03-02 09:00:00"),  # GD001 skips 2023
    ("2023-JS001-jjjjjjjjjjjj", "JS001", 2023, "2024-03-05 09:00:00"),
]

SH_NAME = "上海漕河泾留学人员创业园"  # in the provisional top 10 of 2023
JS_NAME = "南京留学人员创业园"  # not in it

BASE_ROWS = {
    "2022-SH001-aaaaaaaaaaaa": {
        "base_name_zh": SH_NAME,
        "province": "上海",
        "city": "上海",
        "operator": "运营甲",
        "designated_year": "2000",
        "service_events": "12",
        "reported_incubated_cum": "2",
    },
    "2023-SH001-0ld000000000": {
        "base_name_zh": SH_NAME,
        "province": "上海",
        "city": "上海",
        "operator": "运营甲",
        "designated_year": "2000",
        "service_events": "99",
    },
    # Operator changes in 2023: dim_base keeps two versions.
    "2023-SH001-new000000000": {
        "base_name_zh": SH_NAME,
        "province": "SH",
        "city": "上海",
        "operator": "运营乙",
        "designated_year": "2000",
        "service_events": "２０",
        "reported_enterprises_in_park": "2",
        "reported_incubated_cum": "5",
        "reported_returnees_cum": "3",
    },
    "2022-GD001-gggggggggggg": {
        "base_name_zh": "广州留学人员创业园",
        "province": "Guangdong",
        "city": "广州",
        "operator": "运营丙",
        "designated_year": "2018年",
        "service_events": "7",
    },
    "2023-JS001-jjjjjjjjjjjj": {
        "base_name_zh": JS_NAME,
        "province": "江苏省",
        "city": "南京",
        "operator": "运营丁",
        "designated_year": "2021",
        "service_events": "30",
        "incubator_grade": "良好",
    },
}

C1 = "91310000MA1FL00001"
C2 = "91310000MA1FL00002"
C3 = "91310000MA1FL00003"
C4 = "91310000MA1FL00004"
C5 = "91310000MA1FL00005"
J1 = "91320000MA1FL00009"
G1 = "91440000MA1FL00007"

COMPANY_ROWS = {
    "2022-SH001-aaaaaaaaaaaa": [
        {
            "credit_code": C1,
            "returnee_founded": "是",
            "entered_date": "2019-05-01",
            "high_tech_year": "2021",
            "revenue": "1000",
            "revenue_unit": "万元",
        },
        {
            "credit_code": C3,
            "returnee_founded": "Y",
            "entered_date": "20200101",
            "high_tech_year": "2020",
        },
    ],
    "2023-SH001-0ld000000000": [
        {
            "credit_code": C1,
            "returnee_founded": "是",
            "entered_date": "2019-05-01",
            "revenue": "999",
            "revenue_unit": "亿元",
        },
    ],
    "2023-SH001-new000000000": [
        # incubated, in park, high-tech; 1,234.5万元 = 12,345,000; tax １２３万元 = 1,230,000
        {
            "credit_code": " 91310000ma1fl00001 ",
            "returnee_founded": "是",
            "entered_date": "2019-05-01",
            "high_tech_year": "2021",
            "revenue": "1,234.5",
            "revenue_unit": "万元",
            "tax_paid": "１２３",
            "tax_paid_unit": "万元",
            "status": "在园",
            "industry": "Artificial intelligence",
        },
        # entered on year end: incubated and in park; high-tech only from 2024; little giant and
        # listed in 2023; revenue 1.2亿 in a 元 column = 120,000,000
        {
            "credit_code": C2,
            "returnee_founded": "yes",
            "entered_date": "2023/12/31",
            "high_tech_year": "2024",
            "little_giant_year": "2023年",
            "listing_date": "2023年6月1日",
            "listing_board": "科创板",
            "revenue": "1.2亿",
            "revenue_unit": "元",
            "tax_paid": "",
            "tax_paid_unit": "元",
        },
        # left on year end: incubated, not in park; high-tech; 0.5亿元 = 50,000,000; tax 100亿元
        {
            "credit_code": C3,
            "returnee_founded": "Y",
            "entered_date": "20200101",
            "left_date": "2023-12-31",
            "high_tech_year": "2020",
            "revenue": "0.5",
            "revenue_unit": "亿元",
            "tax_paid": "100",
            "tax_paid_unit": "亿元",
            "status": "moved_out",
        },
        # not founded by a returnee: counted nowhere
        {
            "credit_code": C4,
            "returnee_founded": "否",
            "entered_date": "2018-01-01",
            "high_tech_year": "2019",
            "revenue": "999",
            "revenue_unit": "元",
        },
        # enters after year end: not incubated, no revenue
        {
            "credit_code": C5,
            "returnee_founded": "true",
            "entered_date": "2024-01-02",
            "high_tech_year": "2020",
        },
    ],
    "2022-GD001-gggggggggggg": [
        {
            "credit_code": G1,
            "returnee_founded": "1",
            "entered_date": "2015-06-01",
            "revenue": "5",
            "revenue_unit": "亿元",
        },
        # C3 was in Guangzhou before it moved to Shanghai: one company, two bases.
        {
            "credit_code": C3,
            "returnee_founded": "1",
            "entered_date": "2016-01-01",
            "left_date": "2019-12-31",
        },
    ],
    "2023-JS001-jjjjjjjjjjjj": [
        # incubated, in park, high-tech, listed; 2,000万元 = 20,000,000; tax 50万元 = 500,000
        {
            "credit_code": J1,
            "returnee_founded": "是",
            "entered_date": "2010-01-01",
            "high_tech_year": "2012",
            "listing_date": "2015-03-03",
            "revenue": "2,000",
            "revenue_unit": "万元",
            "tax_paid": "50",
            "tax_paid_unit": "万元",
        },
    ],
}

PERSON = {  # what the rosters hold about each person; the values are personal and stay in raw
    "k1": ("张三", "110101199003070011", "13800000001"),
    "k2": ("李四", "110101199003070022", "13800000002"),
    "k3": ("王五", "110101199003070033", "13800000003"),
    "k4": ("赵六", "110101199003070044", "13800000004"),
    "k5": ("钱七", "110101199003070055", "13800000005"),
    "k6": ("孙八", "110101199003070066", "13800000006"),
    "k7": ("周九", "110101199003070077", "13800000007"),
}

TALENT_ROWS = {
    "2022-SH001-aaaaaaaaaaaa": [
        {"person": "k1", "entered_date": "2019-01-01", "talent_programme": "national_major"},
        {
            "person": "k3",
            "entered_date": "2020-01-01",
            "left_date": "2022-06-30",
            "talent_programme": "无",
        },
    ],
    "2023-SH001-0ld000000000": [
        {"person": "k1", "entered_date": "2019-01-01", "talent_programme": "national_major"},
    ],
    "2023-SH001-new000000000": [
        {
            "person": "k1",
            "entered_date": "2019-01-01",
            "talent_programme": "国家重大人才工程",
            "employer_credit_code": C1,
        },
        {"person": "k2", "entered_date": "2023-12-31", "talent_programme": "provincial"},
        {
            "person": "k3",
            "entered_date": "2020-01-01",
            "left_date": "2022-06-30",
            "talent_programme": "None",
        },
        {"person": "k4", "entered_date": "2024-02-01", "talent_programme": "national_major"},
    ],
    "2022-GD001-gggggggggggg": [
        {"person": "k7", "entered_date": "2016-01-01", "talent_programme": "municipal"},
    ],
    "2023-JS001-jjjjjjjjjjjj": [
        {
            "person": "k5",
            "entered_date": "2015-01-01",
            "talent_programme": "Provincial talent programme",
        },
        {
            "person": "k6",
            "entered_date": "2016-01-01",
            "left_date": "2020-01-01",
            "talent_programme": "市级人才计划",
        },
    ],
}

FUNDING_ROWS = {
    "2023-SH001-0ld000000000": [
        {
            "credit_code": C1,
            "funding_date": "2023-03-01",
            "funding_kind": "angel",
            "amount": "9",
            "amount_unit": "亿元",
        },
    ],
    "2023-SH001-new000000000": [
        # angel, 100万元 = 1,000,000 (the code written full-width and lower-case)
        {
            "credit_code": "９１３１００００ma１fl０００01",
            "funding_date": "2023-03-01",
            "funding_kind": "天使投资",
            "amount": "100",
            "amount_unit": "万元",
        },
        # VC, 0.2亿元 = 20,000,000
        {
            "credit_code": C2,
            "funding_date": "2023-06-01",
            "funding_kind": "venture_capital",
            "amount": "0.2",
            "amount_unit": "亿元",
            "funding_round": "A轮",
        },
        # dated in 2022: not counted
        {
            "credit_code": C1,
            "funding_date": "2022-12-31",
            "funding_kind": "Venture capital",
            "amount": "5000000",
            "amount_unit": "元",
        },
        # to a company not founded by a returnee: not counted
        {
            "credit_code": C4,
            "funding_date": "2023-05-05",
            "funding_kind": "angel",
            "amount": "300",
            "amount_unit": "万元",
        },
        # grant, 50万元 = 500,000
        {
            "credit_code": C3,
            "funding_date": "2023-08-08",
            "funding_kind": "财政资助",
            "amount": "50",
            "amount_unit": "万元",
        },
        # a loan counts in neither figure
        {
            "credit_code": C2,
            "funding_date": "2023-09-09",
            "funding_kind": "bank_loan",
            "amount": "1000",
            "amount_unit": "万元",
        },
    ],
    "2023-JS001-jjjjjjjjjjjj": [
        # grant, 1,000,000 元
        {
            "credit_code": J1,
            "funding_date": "2023-01-15",
            "funding_kind": "Government grant",
            "amount": "1,000,000",
            "amount_unit": "元",
        },
        {
            "credit_code": J1,
            "funding_date": "2023-02-15",
            "funding_kind": "private_equity",
            "amount": "7",
            "amount_unit": "亿元",
        },
    ],
}

EXPERT_ROWS = [
    ("2023-expert_scores-eeeeeeeeeeee", 2023, "SH001", "E01", "91.5"),
    ("2023-expert_scores-eeeeeeeeeeee", 2023, "JS001", "E01", "８８"),
]


def _submission(submission_id: str) -> tuple[str, int]:
    for sid, base, year, _ in SUBMISSIONS:
        if sid == submission_id:
            return base, year
    raise KeyError(submission_id)


def write_raw_fixture(database: Path) -> None:
    """The raw schema of a warehouse holding the rows above, as ingestion would land them."""
    database.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(database))
    try:
        con.execute("create schema if not exists raw")
        con.execute(
            "create table raw.submissions (submission_id varchar, base_code varchar, reporting_year integer,"
            " form varchar, source_path varchar, source_sha256 varchar, received_at timestamp,"
            " loaded_at timestamp)"
        )
        for sid, base, year, received in SUBMISSIONS:
            con.execute(
                "insert into raw.submissions values (?, ?, ?, 'xlsx', ?, ?, ?, ?)",
                [sid, base, year, f"archive/{year}/{sid}.xlsx", sid[-12:] * 5, received, received],
            )

        def create_part(part: str, rows_by_submission: dict[str, list[dict]]) -> None:
            columns = _part_columns(part)
            ddl = ", ".join(
                [f"{c} {PROVENANCE_TYPES.get(c, 'VARCHAR')}" for c in PROVENANCE]
                + [f"{c} VARCHAR" for c in columns]
            )
            con.execute(f"create table raw.{part} ({ddl})")
            for sid, rows in rows_by_submission.items():
                base, year = _submission(sid)
                for number, row in enumerate(rows, start=2):
                    row = dict(row)
                    if part == "talent":
                        key = row.pop("person")
                        name, id_number, phone = PERSON[key]
                        row.update(
                            person_key=f"pk-{key}",
                            person_name=name,
                            id_number=id_number,
                            phone=phone,
                            id_type="居民身份证",
                            gender="男",
                            degree="博士",
                            birth_year="1990",
                            study_country="德国",
                            return_year="2018",
                        )
                    if part == "companies":
                        row.setdefault("company_name", f"企业{row['credit_code'].strip()[-2:]}")
                        row.setdefault("founded_date", "2010-01-01")
                        row.setdefault("industry", "其他")
                        row.setdefault("status", "在园")
                    for money in ("revenue", "tax_paid", "amount"):
                        if money in columns:
                            row.setdefault(f"{money}_unit", "元")
                    unknown = set(row) - set(columns)
                    assert not unknown, f"fixture names columns the contract lacks: {unknown}"
                    values = [
                        sid,
                        base,
                        year,
                        f"archive/{year}/{sid}.xlsx",
                        sid[-12:] * 5,
                        number,
                        dt.datetime(2024, 4, 1),
                    ]
                    values += [row.get(c) for c in columns]
                    con.execute(
                        f"insert into raw.{part} values ({', '.join('?' * len(values))})", values
                    )

        create_part("base", {sid: [row] for sid, row in BASE_ROWS.items()})
        create_part("companies", COMPANY_ROWS)
        create_part("talent", TALENT_ROWS)
        create_part("funding", FUNDING_ROWS)

        con.execute(
            "create table raw.expert_scores (submission_id varchar, base_code varchar,"
            " reporting_year integer, source_path varchar, source_sha256 varchar, source_row integer,"
            " loaded_at timestamp, expert_id varchar, score varchar, received_at timestamp)"
        )
        for number, (sid, year, base, expert, score) in enumerate(EXPERT_ROWS, start=2):
            con.execute(
                "insert into raw.expert_scores values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    sid,
                    base,
                    year,
                    f"archive/{year}/expert_scores.csv",
                    "e" * 64,
                    number,
                    dt.datetime(2024, 4, 1),
                    expert,
                    score,
                    dt.datetime(2024, 3, 20),
                ],
            )
    finally:
        con.close()


def build_fixture_warehouse(tmp_root: Path) -> Path:
    """A warehouse folder with the raw fixture and a full ``dbt build``; returns the database."""
    database = config.warehouse().database
    write_raw_fixture(database)
    result = transform.run_dbt(
        ["build"],
        target_path=tmp_root / "dbt_target",
        log_path=tmp_root / "dbt_logs",
    )
    assert result.returncode == 0, result.stdout[-6000:]
    return database


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One dbt build of the fixture, shared by the tests of this module (a build takes a while)."""
    root = tmp_path_factory.mktemp("dbt_build")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PARKWH_WAREHOUSE_DIR", str(root / "warehouse"))
        (root / "warehouse").mkdir()
        database = build_fixture_warehouse(root)
    con = duckdb.connect(str(database), read_only=True)
    yield con
    con.close()


def _rows(con, sql: str) -> list[dict]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


# ------------------------------------------------------------------ tests


def test_schemas_are_named_exactly(built):
    schemas = {
        r[0]
        for r in built.execute("select schema_name from information_schema.schemata").fetchall()
    }
    assert {"raw", "staging", "intermediate", "marts", "published"} <= schemas
    assert not any(s.startswith("main_") for s in schemas)


def test_report_summary_2023_all_bases(built):
    row = _rows(
        built,
        "select * from published.report_summary where reporting_year = 2023 and scope = 'all'",
    )
    assert len(row) == 1
    row = row[0]
    assert row["bases"] == 2  # SH001 and JS001; GD001 is designated but did not submit
    assert row["enterprises_in_park"] == 2 + 1
    assert row["incubated_cum"] == 3 + 1
    assert row["high_tech_cum"] == 2 + 1
    assert row["little_giants_cum"] == 1 + 0
    assert row["listed_cum"] == 1 + 1
    assert row["revenue_yuan"] == Decimal(12345000) + Decimal(120000000) + Decimal(
        50000000
    ) + Decimal(20000000)
    assert row["tax_yuan"] == Decimal(1230000) + Decimal(10000000000) + Decimal(500000)
    assert row["returnees_in_park"] == 2 + 1
    assert row["returnees_cum"] == 3 + 2
    assert row["talent_national"] == 1 + 0
    assert row["talent_provincial"] == 1 + 1
    assert row["service_events"] == 20 + 30  # the superseded version's 99 is gone
    assert row["vc_yuan"] == Decimal(21000000)
    assert row["fiscal_yuan"] == Decimal(500000) + Decimal(1000000)
    ranked = _rows(
        built,
        "select score from published.park_ranking where reporting_year = 2023 and ranked",
    )
    assert len(ranked) == 2
    expected = (sum(r["score"] for r in ranked) / 2).quantize(Decimal("0.001"), ROUND_HALF_UP)
    assert row["avg_score"] == expected


def test_report_summary_top10_is_the_ten_best_ranked(built):
    ranking = _rows(
        built,
        "select base_code, rank from published.park_ranking where reporting_year = 2023 and ranked",
    )
    # Two bases submitted in 2023, so both are in the top 10 and the scope equals all bases.
    assert sorted(r["base_code"] for r in ranking) == ["JS001", "SH001"]
    assert all(r["rank"] <= 10 for r in ranking)
    top10, everyone = (
        _rows(
            built,
            "select * from published.report_summary where reporting_year = 2023 "
            f"and scope = '{scope}'",
        )[0]
        for scope in ("top10", "all")
    )
    assert top10["bases"] == 2
    assert {k: v for k, v in top10.items() if k != "scope"} == {
        k: v for k, v in everyone.items() if k != "scope"
    }


def test_report_summary_has_every_year_and_scope(built):
    rows = _rows(
        built,
        "select reporting_year, scope, bases, incubated_cum from published.report_summary"
        " order by reporting_year, scope",
    )
    assert [(r["reporting_year"], r["scope"]) for r in rows] == [
        (2022, "all"),
        (2022, "top10"),
        (2023, "all"),
        (2023, "top10"),
    ]
    # 2022: SH001 (C1, C3) and GD001 (G1, and C3 which it incubated before it moved).
    assert rows[0]["bases"] == 2 and rows[0]["incubated_cum"] == 2 + 2
    # 2022's top 10 are its ranked bases (fewer than ten here).
    ranked_2022 = _rows(
        built, "select count(*) as n from published.park_ranking where reporting_year = 2022 and ranked"
    )[0]["n"]
    assert rows[1]["bases"] == ranked_2022


def test_report_summary_columns_are_the_contract(built):
    columns = [
        r[0]
        for r in built.execute(
            "select column_name from information_schema.columns where table_schema = 'published'"
            " and table_name = 'report_summary' order by ordinal_position"
        ).fetchall()
    ]
    assert columns == [
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
    types = dict(
        built.execute(
            "select column_name, data_type from information_schema.columns where table_schema = 'published'"
            " and table_name = 'report_summary'"
        ).fetchall()
    )
    assert types["revenue_yuan"] == "DECIMAL(18,2)" and types["incubated_cum"] == "BIGINT"


def test_fct_base_year_has_designated_non_submitters(built):
    rows = _rows(
        built,
        "select base_code, submitted, submission_id, incubated_cum from marts.fct_base_year"
        " where reporting_year = 2023 order by base_code",
    )
    assert [(r["base_code"], r["submitted"]) for r in rows] == [
        ("GD001", False),
        ("JS001", True),
        ("SH001", True),
    ]
    assert rows[0]["submission_id"] is None and rows[0]["incubated_cum"] is None
    assert rows[2]["submission_id"] == "2023-SH001-new000000000"


def test_staging_drops_superseded_versions(built):
    ids = {
        r[0]
        for r in built.execute(
            "select distinct submission_id from staging.stg_companies"
        ).fetchall()
    }
    assert "2023-SH001-0ld000000000" not in ids
    flags = dict(
        built.execute(
            "select submission_id, is_in_force from staging.stg_submissions where base_code = 'SH001'"
            " and reporting_year = 2023"
        ).fetchall()
    )
    assert flags == {"2023-SH001-0ld000000000": False, "2023-SH001-new000000000": True}


def test_staging_parses_and_maps(built):
    base = _rows(built, "select * from staging.stg_base order by submission_id")
    by_id = {r["submission_id"]: r for r in base}
    assert by_id["2022-GD001-gggggggggggg"]["province_code"] == "GD"
    assert by_id["2023-JS001-jjjjjjjjjjjj"]["province_code"] == "JS"
    assert by_id["2023-JS001-jjjjjjjjjjjj"]["incubator_grade_code"] == "B"
    assert by_id["2022-GD001-gggggggggggg"]["designated_year"] == 2018
    assert by_id["2023-SH001-new000000000"]["service_events"] == 20
    c1 = _rows(
        built,
        f"select * from staging.stg_companies where credit_code = '{C1}' and reporting_year = 2023",
    )[0]
    assert c1["industry_code"] == "artificial_intelligence" and c1["status_code"] == "in_park"
    c2 = _rows(built, f"select * from staging.stg_companies where credit_code = '{C2}'")[0]
    assert c2["listing_date"] == dt.date(2023, 6, 1) and c2["entered_date"] == dt.date(2023, 12, 31)
    assert c2["listing_board_code"] == "star" and c2["little_giant_year"] == 2023
    kinds = {
        r[0] for r in built.execute("select funding_kind_code from staging.stg_funding").fetchall()
    }
    assert kinds == {"angel", "venture_capital", "government_grant", "bank_loan", "private_equity"}
    scores = dict(
        built.execute("select base_code, expert_score from staging.stg_expert_scores").fetchall()
    )
    assert scores == {"SH001": Decimal("91.5"), "JS001": Decimal(88)}


def test_company_keeps_one_identity_across_bases(built):
    row = _rows(built, f"select * from marts.dim_company where credit_code = '{C3}'")[0]
    assert row["bases_count"] == 2
    assert row["first_base_code"] == "GD001" and row["latest_base_code"] == "SH001"
    assert built.execute("select count(*) from marts.dim_company").fetchone()[0] == 7


def test_dim_base_keeps_history_of_operator_changes(built):
    rows = _rows(
        built, "select * from marts.dim_base where base_code = 'SH001' order by valid_from_year"
    )
    assert [
        (r["operator_name"], r["valid_from_year"], r["valid_to_year"], r["is_current"])
        for r in rows
    ] == [("运营甲", 2022, 2022, False), ("运营乙", 2023, None, True)]
    region = built.execute(
        "select region_name_en from marts.dim_province where province_code = 'HK'"
    ).fetchone()
    assert region == ("SARs",)


def test_reconciliation_compares_reported_and_computed(built):
    rows = _rows(
        built,
        "select figure_name, reported_value, computed_value, difference from"
        " marts.base_year_reconciliation where submission_id = '2023-SH001-new000000000'"
        " order by figure_name",
    )
    assert rows == [
        {
            "figure_name": "enterprises_in_park",
            "reported_value": 2,
            "computed_value": 2,
            "difference": 0,
        },
        {"figure_name": "incubated_cum", "reported_value": 5, "computed_value": 3, "difference": 2},
        {"figure_name": "returnees_cum", "reported_value": 3, "computed_value": 3, "difference": 0},
    ]


def test_dbt_tests_catch_a_broken_invariant(tmp_path, warehouse_dir):
    """The singular test on cumulative figures fails when a base's roster shrinks."""
    database = config.warehouse().database
    write_raw_fixture(database)
    con = duckdb.connect(str(database))
    # SH001's 2023 roster loses the companies it had in 2022: incubated_cum 2 -> 0.
    con.execute(
        "delete from raw.companies where submission_id = '2023-SH001-new000000000'"
        " and credit_code in (' 91310000ma1fl00001 ', ?)",
        [C3],
    )
    con.close()
    result = transform.run_dbt(
        ["build", "--select", "+assert_cumulative_figures_never_shrink"],
        target_path=tmp_path / "target",
        log_path=tmp_path / "logs",
    )
    assert result.returncode != 0
    assert "assert_cumulative_figures_never_shrink" in result.stdout


def test_an_unmapped_label_fails_the_build(tmp_path, warehouse_dir):
    """A required enumeration whose spelling staging cannot map stops the build, never becomes NULL."""
    database = config.warehouse().database
    write_raw_fixture(database)
    con = duckdb.connect(str(database))
    con.execute("update raw.companies set industry = '量子玄学' where credit_code = ?", [C2])
    con.close()
    result = transform.run_dbt(
        ["build", "--select", "+stg_companies"],
        target_path=tmp_path / "target",
        log_path=tmp_path / "logs",
    )
    assert result.returncode != 0
    assert "FAIL 1 not_null_stg_companies_industry_code" in result.stdout


def test_dbt_env_points_at_the_warehouse_in_force(warehouse_dir):
    env = transform.dbt_env()
    assert env["PARKWH_DUCKDB_PATH"] == str(warehouse_dir / "parkwh.duckdb")
    assert env["DBT_SEND_ANONYMOUS_USAGE_STATS"] == "false"
    assert env["PATH"].split(os.pathsep)[0] == str(transform.venv_bin())
    assert Path(env["DBT_PROFILES_DIR"], "profiles.yml").exists()


# ------------------------------------------------------------------ the demo against the 2023 report


@pytest.mark.slow
def test_demo_2023_reproduces_the_report(warehouse_dir, tmp_path, monkeypatch):
    """The whole demo (2019–2023) ingested and built reproduces every figure of the 2024 report."""
    from parkwh.demo import generate_demo
    from parkwh.ingest.run import ingest_all
    from test_no_personal_data import personal_data_outside_raw

    monkeypatch.setenv("PARKWH_PII_KEY", "demo test key")
    generate_demo(config.warehouse().inbox)
    ingest_all()
    result = transform.run_dbt(
        ["build"], target_path=tmp_path / "target", log_path=tmp_path / "logs"
    )
    assert result.returncode == 0, result.stdout[-6000:]

    con = duckdb.connect(str(config.warehouse().database))
    try:
        designated = _rows(
            con,
            "select count(*) as bases, sum(case when submitted then 1 else 0 end) as submitted,"
            " count(distinct province_code) as provinces"
            " from marts.fct_base_year where reporting_year = 2023",
        )[0]
        assert designated == {"bases": 68, "submitted": 66, "provinces": 21}

        everything = _rows(
            con,
            "select * from published.report_summary where reporting_year = 2023 and scope = 'all'",
        )[0]
        assert everything["bases"] == 66
        assert everything["enterprises_in_park"] == 4900
        assert 16_200 <= everything["returnees_in_park"] < 16_300  # 1.62万余
        assert 20_500 < everything["incubated_cum"] < 20_600  # 超过2.05万
        assert everything["high_tech_cum"] == 3990
        assert everything["little_giants_cum"] == 437
        assert everything["listed_cum"] == 322
        assert 59_300 <= everything["returnees_cum"] < 59_400  # 5.93万余
        assert everything["talent_national"] + everything["talent_provincial"] == 2499

        top10 = _rows(
            con,
            "select * from published.report_summary where reporting_year = 2023 and scope = 'top10'",
        )[0]
        assert top10["bases"] == 10
        assert top10["incubated_cum"] == 9940
        assert top10["high_tech_cum"] == 2303
        assert top10["little_giants_cum"] == 94
        assert top10["listed_cum"] == 143
        assert top10["returnees_cum"] == 41_583
        assert top10["talent_national"] == 447
        assert top10["talent_provincial"] == 618
        yi = Decimal(100_000_000)  # 亿: the report states money in 亿元 to two decimals
        assert round(top10["revenue_yuan"] / yi, 2) == Decimal("450.88")
        assert round(top10["tax_yuan"] / yi, 2) == Decimal("15.09")
        assert top10["service_events"] == 1813
        assert round(top10["vc_yuan"] / yi, 2) == Decimal("115.71")
        assert round(top10["fiscal_yuan"] / yi, 2) == Decimal("4.23")

        # Names, ID numbers and phones stay in raw, here at full scale (the audit schema included).
        assert personal_data_outside_raw(con, substrings=False) == []
    finally:
        con.close()
