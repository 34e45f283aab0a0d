"""Validation rules: each has a bad example that trips it, at the right place, and only it."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Callable

import pytest

from fixtures.submissions import samples
from parkwh.submission import values
from parkwh.submission.errors import RULES, Problem, has_errors
from parkwh.submission.reader import Limits
from parkwh.submission.validate import check_file, validate_submission

YEAR, CODE = samples.YEAR, samples.BASE_CODE


# ---------------------------------------------------------------------------- builders


def variant(mutate: Callable[[dict], None] | None = None, form: str = "json", **options):
    """A builder of one submission: the valid sample, changed by ``mutate``, written in ``form``."""

    def build(root: Path) -> Path:
        data = samples.records()
        if mutate:
            mutate(data)
        return samples.write(form, root, data, **options)

    return build


def setter(part: str, index: int, **changes):
    def mutate(data):
        data[part][index].update(changes)

    return mutate


def both(*mutations):
    def mutate(data):
        for m in mutations:
            m(data)

    return mutate


def raw_file(name: str, content: bytes):
    def build(root: Path) -> Path:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        return path

    return build


def json_text(text: str):
    return raw_file(f"{YEAR}/{CODE}.json", text.encode("utf-8"))


def csv_with_duplicate_part(root: Path) -> Path:
    folder = samples.write("csv", root)
    shutil.copy(folder / "companies.csv", folder / "企业名录.csv")
    return folder


def xlsx_with_duplicate_header(root: Path) -> Path:
    path = samples.write("xlsx", root)
    from openpyxl import load_workbook

    workbook = load_workbook(path)
    sheet = workbook["companies"]
    column = sheet.max_column + 1
    sheet.cell(row=1, column=column, value="营业收入（万元）")  # revenue again, full-width brackets
    sheet.cell(row=2, column=column, value=1.2)
    workbook.save(path)
    return path


def json_mixed_units(tax: int):
    """Revenue in 万元 and taxes in 元 in one row: 350万元 = 3,500,000 元."""

    def mutate(data):
        for row in data["companies"]:
            row.pop("revenue"), row.pop("tax_paid")
        data["companies"][1]["revenue(万元)"] = 350
        data["companies"][1]["tax_paid(元)"] = tax

    def build(root: Path) -> Path:
        data = samples.records()
        mutate(data)
        year_dir = root / str(YEAR)
        year_dir.mkdir(parents=True, exist_ok=True)
        document = {
            part: [
                {
                    k: (v.isoformat() if isinstance(v, dt.date) else v)
                    for k, v in row.items()
                    if v is not None
                }
                for row in rows
            ]
            for part, rows in data.items()
        }
        path = year_dir / f"{CODE}.json"
        path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
        return path

    return build


def json_document(mutate: Callable[[dict], None]):
    """The valid sample as a JSON document, changed after conversion (to break its shape)."""

    def build(root: Path) -> Path:
        path = samples.write("json", root)
        document = json.loads(path.read_text(encoding="utf-8"))
        mutate(document)
        path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
        return path

    return build


def utf16_csv_folder(root: Path) -> Path:
    folder = samples.write("csv", root)
    text = (folder / "base.csv").read_text(encoding="utf-8")
    (folder / "base.csv").write_bytes(text.encode("utf-16"))
    return folder


def expert_csv(text: str):
    return raw_file(f"{YEAR}/expert_scores.csv", text.encode("utf-8"))


def zip_bomb(root: Path) -> Path:
    path = root / f"{YEAR}" / f"{CODE}.xlsx"
    path.parent.mkdir(parents=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (3 * 1024 * 1024))
    return path


# ---------------------------------------------------------------------------- the cases

C1, C2, C3 = samples.credit_code(1), samples.credit_code(2), samples.credit_code(3)
ID1 = samples.resident_id("19850312", 123)


@dataclass
class Case:
    name: str
    build: Callable[[Path], Path]
    rule: str
    part: str | None = None
    row: int | None = None
    column: str | None = None
    severity: str = "error"
    alone: bool = True
    """No error other than the expected one (one mistake, one problem)."""
    limits: Limits | None = None
    extra: set[str] = field(default_factory=set)
    """Other rules this example is allowed (and expected) to trip as well."""


# JSON rows are numbered index + 1; sheet and CSV rows index + 2 (the header is row 1).
CASES = [
    # -- the file as a whole
    Case("no such file", lambda root: root / "2023" / "SH009.xlsx", "unreadable_file"),
    Case("empty file", raw_file("2023/SH001.xlsx", b""), "empty_file"),
    Case(
        "too large",
        raw_file("2023/SH001.json", b"{}" + b" " * 2000),
        "file_too_large",
        limits=Limits(max_file_bytes=1000),
    ),
    Case("zip bomb", zip_bomb, "zip_bomb", limits=Limits(max_inflated_bytes=1024 * 1024)),
    Case(
        "not a zip",
        raw_file("2023/SH001.xlsx", b"PK\x03\x04 but then nothing of a zip"),
        "not_a_workbook",
    ),
    Case("truncated json", json_text('{"base": [{"base_code": "SH0'), "bad_json"),
    Case("utf-16 csv", utf16_csv_folder, "bad_encoding"),
    Case("a pdf", raw_file("2023/SH001.pdf", b"%PDF-1.4"), "unsupported_form"),
    Case("json without parts", json_text('{"hello": []}'), "no_parts"),
    # -- shape
    Case("missing part", variant(lambda d: d.pop("funding")), "missing_part", "funding"),
    Case("duplicate part", csv_with_duplicate_part, "duplicate_part", "companies"),
    Case(
        "part not a list",
        json_text(
            '{"base": {"base_code": "SH001"}, "companies": "none", "talent": [], "funding": []}'
        ),
        "bad_part_shape",
        "companies",
        alone=False,
    ),
    Case(
        "row not an object",
        json_document(lambda doc: doc["funding"].append("oops")),
        "bad_part_shape",
        "funding",
        3,
    ),
    Case(
        "empty roster",
        variant(lambda d: d.update(talent=[])),
        "empty_part",
        "talent",
        severity="warning",
    ),
    Case(
        "missing column",
        variant(lambda d: [r.pop("company_name") for r in d["companies"]]),
        "missing_column",
        "companies",
        None,
        "company_name",
    ),
    Case(
        "duplicate header",
        xlsx_with_duplicate_header,
        "duplicate_header",
        "companies",
        1,
        "revenue",
    ),
    Case(
        "duplicate key",
        json_text('{"base": [{"city": "上海", "city": "北京"}]}'),
        "duplicate_header",
        "base",
        1,
        alone=False,
    ),
    Case(
        "unknown column",
        variant(setter("companies", 0, remarks="备注")),
        "unknown_column",
        "companies",
        severity="warning",
    ),
    Case(
        "unknown unit",
        variant(form="xlsx", unit="美元"),
        "unknown_unit",
        "companies",
        1,
        "revenue",
        alone=False,
    ),
    Case(
        "nested value",
        variant(setter("companies", 2, company_name=["a", "b"])),
        "not_a_scalar",
        "companies",
        3,
        "company_name",
    ),
    Case(
        "two base rows",
        variant(lambda d: d["base"].append(dict(d["base"][0]))),
        "base_row_count",
        "base",
        2,
    ),
    # -- single values
    Case(
        "required empty",
        variant(setter("companies", 1, company_name=None)),
        "required_value_missing",
        "companies",
        2,
        "company_name",
    ),
    Case(
        "required blank in xlsx",
        variant(setter("talent", 2, gender="   "), form="xlsx"),
        "required_value_missing",
        "talent",
        4,
        "gender",
    ),
    Case(
        "integer",
        variant(setter("companies", 0, employees="12.5")),
        "wrong_type",
        "companies",
        1,
        "employees",
    ),
    Case(
        "decimal",
        variant(setter("base", 0, floor_area_m2="五万"), form="csv"),
        "wrong_type",
        "base",
        2,
        "floor_area_m2",
    ),
    Case(
        "money",
        variant(setter("companies", 1, revenue="1,2,3")),
        "wrong_type",
        "companies",
        2,
        "revenue",
    ),
    Case(
        "date",
        variant(setter("companies", 0, founded_date="2015-02-30")),
        "wrong_type",
        "companies",
        1,
        "founded_date",
    ),
    Case(
        "year",
        variant(setter("talent", 0, return_year="14")),
        "wrong_type",
        "talent",
        1,
        "return_year",
    ),
    Case(
        "boolean",
        variant(setter("companies", 2, returnee_founded="也许"), form="xlsx"),
        "wrong_type",
        "companies",
        4,
        "returnee_founded",
    ),
    Case(
        "enum",
        variant(setter("companies", 0, status="active")),
        "unknown_enum",
        "companies",
        1,
        "status",
    ),
    Case(
        "province",
        variant(setter("base", 0, province="火星")),
        "unknown_province",
        "base",
        1,
        "province",
    ),
    Case(
        "credit code format",
        variant(setter("companies", 2, credit_code="9131000MA1K00003"), form="csv"),
        "credit_code_format",
        "companies",
        4,
        "credit_code",
        alone=False,
        extra={"unknown_employer"},
    ),
    Case(
        "credit code check digit",
        variant(setter("funding", 1, credit_code=samples.wrong_check_digit(C2))),
        "credit_code_check_digit",
        "funding",
        2,
        "credit_code",
    ),
    Case(
        "id format",
        variant(setter("talent", 0, id_number=ID1[:-2])),
        "id_number_format",
        "talent",
        1,
        "id_number",
    ),
    Case(
        "id bad birth date",
        variant(setter("talent", 0, id_number=samples.resident_id("19851332", 1))),
        "id_number_format",
        "talent",
        1,
        "id_number",
    ),
    Case(
        "id check digit",
        variant(setter("talent", 0, id_number=samples.wrong_check_digit(ID1))),
        "id_number_check_digit",
        "talent",
        1,
        "id_number",
    ),
    Case(
        "passport",
        variant(setter("talent", 1, id_number="E1")),
        "id_number_format",
        "talent",
        2,
        "id_number",
    ),
    Case(
        "phone",
        variant(setter("talent", 2, phone="12812345678")),
        "bad_phone",
        "talent",
        3,
        "phone",
    ),
    Case(
        "base code",
        variant(setter("base", 0, base_code="XX001")),
        "bad_base_code",
        "base",
        1,
        "base_code",
    ),
    Case(
        "negative money",
        variant(setter("funding", 0, amount=-5)),
        "negative_value",
        "funding",
        1,
        "amount",
    ),
    Case(
        "negative count",
        variant(setter("base", 0, service_events=-1)),
        "negative_value",
        "base",
        1,
        "service_events",
    ),
    Case(
        "date before 1949",
        variant(setter("companies", 2, founded_date=dt.date(1948, 12, 31))),
        "date_out_of_range",
        "companies",
        3,
        "founded_date",
    ),
    Case(
        "date after the year",
        variant(setter("talent", 1, entered_date=dt.date(2024, 1, 1))),
        "date_out_of_range",
        "talent",
        2,
        "entered_date",
    ),
    Case(
        "year after the year",
        variant(setter("companies", 0, high_tech_year=2024)),
        "year_out_of_range",
        "companies",
        1,
        "high_tech_year",
    ),
    Case(
        "birth year",
        variant(setter("talent", 1, birth_year=1899)),
        "year_out_of_range",
        "talent",
        2,
        "birth_year",
    ),
    # -- relations
    Case(
        "base code vs file name",
        variant(setter("base", 0, base_code="SH002")),
        "base_code_mismatch",
        "base",
        1,
        "base_code",
    ),
    Case(
        "year vs folder",
        variant(setter("base", 0, reporting_year=2022)),
        "reporting_year_mismatch",
        "base",
        1,
        "reporting_year",
    ),
    Case(
        "province vs base code",
        variant(setter("base", 0, province="北京")),
        "province_mismatch",
        "base",
        1,
        "province",
        severity="warning",
    ),
    Case(
        "left before entered",
        variant(setter("talent", 2, left_date=dt.date(2011, 12, 31))),
        "date_order",
        "talent",
        3,
        "left_date",
    ),
    Case(
        "listed before founded",
        variant(setter("companies", 0, listing_date=dt.date(2014, 1, 1))),
        "date_order",
        "companies",
        1,
        "listing_date",
    ),
    Case(
        "returned before born",
        variant(setter("talent", 1, return_year=1989)),
        "date_order",
        "talent",
        2,
        "return_year",
    ),
    Case(
        "funding outside the year",
        variant(setter("funding", 1, funding_date=dt.date(2022, 12, 31))),
        "funding_date_outside_year",
        "funding",
        2,
        "funding_date",
    ),
    Case(
        "listed without date",
        variant(setter("companies", 0, listing_date=None)),
        "listing_date_missing",
        "companies",
        1,
        "listing_date",
    ),
    Case(
        "date without board",
        variant(setter("companies", 1, listing_date=dt.date(2022, 1, 4))),
        "listing_board_missing",
        "companies",
        2,
        "listing_board",
    ),
    Case(
        "in park with left date",
        variant(setter("companies", 0, left_date=dt.date(2023, 6, 30))),
        "status_left_date",
        "companies",
        1,
        "status",
    ),
    Case(
        "graduated without left date",
        variant(setter("companies", 2, left_date=None)),
        "status_left_date",
        "companies",
        3,
        "left_date",
    ),
    Case(
        "taxes above revenue",
        variant(setter("companies", 1, tax_paid=351)),
        "subset_exceeds_total",
        "companies",
        2,
        "tax_paid",
    ),
    Case(
        "taxes above revenue across units",
        json_mixed_units(3_500_001),
        "subset_exceeds_total",
        "companies",
        2,
        "tax_paid",
    ),
    Case(
        "in park above cumulative",
        variant(setter("base", 0, reported_returnees_in_park=4)),
        "subset_exceeds_total",
        "base",
        1,
        "reported_returnees_in_park",
    ),
    Case(
        "birth year vs ID",
        variant(setter("talent", 0, birth_year=1986)),
        "birth_year_mismatch",
        "talent",
        1,
        "birth_year",
        severity="warning",
    ),
    Case(
        "company twice",
        variant(setter("companies", 2, credit_code=C1), form="xlsx"),
        "duplicate_company",
        "companies",
        4,
        "credit_code",
        alone=False,
        extra={"unknown_employer"},
    ),
    Case(
        "person twice",
        variant(setter("talent", 2, id_type="resident_id", id_number=ID1)),
        "duplicate_person",
        "talent",
        3,
        "id_number",
        alone=False,
        extra={"birth_year_mismatch"},
    ),
    Case(
        "employer not in companies",
        variant(setter("talent", 1, employer_credit_code=samples.credit_code(99))),
        "unknown_employer",
        "talent",
        2,
        "employer_credit_code",
    ),
    Case(
        "funded company not in companies",
        variant(setter("funding", 0, credit_code=samples.credit_code(98))),
        "unknown_company",
        "funding",
        1,
        "credit_code",
    ),
    # -- expert scores
    Case(
        "expert score out of range",
        expert_csv("base_code,expert_id,score\nSH001,E01,101\n"),
        "score_out_of_range",
        "expert_scores",
        2,
        "score",
    ),
    Case(
        "expert score not a number",
        expert_csv("基地代码,专家编号,评分\nSH001,E01,九十\n"),
        "wrong_type",
        "expert_scores",
        2,
        "score",
    ),
    Case(
        "expert base code",
        expert_csv("base_code,expert_id,score\nSHA01,E01,90\n"),
        "bad_base_code",
        "expert_scores",
        2,
        "base_code",
    ),
    Case(
        "expert twice",
        expert_csv("base_code,expert_id,score\nSH001,E01,90\nJS002,E01,80\nsh001,e01,85\n"),
        "duplicate_expert_score",
        "expert_scores",
        4,
        "expert_id",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_rule_trips_at_its_place(case: Case, tmp_path):
    path = case.build(tmp_path)
    _, problems = check_file(path, limits=case.limits or Limits())
    found = [p for p in problems if p.rule == case.rule]
    assert found, f"expected {case.rule}, got {[str(p) for p in problems]}"
    problem = found[0]
    assert (problem.part, problem.severity) == (case.part, case.severity), str(problem)
    if case.row is not None:
        assert problem.row == case.row, str(problem)
    if case.column is not None:
        assert problem.column == case.column, str(problem)
    assert has_errors(problems) == (case.severity == "error")
    if case.alone:
        others = {p.rule for p in problems if p.is_error and p.rule != case.rule}
        assert others <= case.extra, [str(p) for p in problems]
    for p in problems:
        assert p.rule in RULES
        assert p.file == str(path)


def test_every_rule_has_a_bad_example():
    assert set(RULES) == {c.rule for c in CASES}


@pytest.mark.parametrize("form", ["xlsx", "json", "csv"])
def test_the_valid_sample_has_no_problem(form, tmp_path):
    submission, problems = check_file(samples.write(form, tmp_path))
    assert problems == []
    assert (submission.base_code, submission.reporting_year, submission.form) == (CODE, YEAR, form)


def test_the_valid_sample_in_every_header_style_and_unit(tmp_path):
    for i, (style, unit) in enumerate([("key", None), ("zh", "万元"), ("bilingual", "亿元")]):
        root = tmp_path / str(i)
        for form in ("xlsx", "csv"):
            _, problems = check_file(samples.write(form, root, style=style, unit=unit))
            assert problems == [], (style, unit, form, [str(p) for p in problems])


def test_one_mistake_in_each_form_is_the_same_problem(tmp_path):
    mutate = setter("companies", 1, credit_code=samples.wrong_check_digit(C2))
    seen = []
    for form in ("xlsx", "json", "csv"):
        _, problems = check_file(variant(mutate, form)(tmp_path / form))
        problems = [p for p in problems if p.rule == "credit_code_check_digit"]
        assert len(problems) == 1
        seen.append((problems[0].part, problems[0].column, problems[0].value, problems[0].message))
    assert seen[0] == seen[1] == seen[2]


def test_a_problem_reads_as_one_line_naming_the_chinese_label(tmp_path):
    bad = samples.wrong_check_digit(C1)
    path = variant(setter("companies", 0, credit_code=bad), form="xlsx")(tmp_path)
    _, problems = check_file(path)
    problem = next(p for p in problems if p.rule == "credit_code_check_digit")
    assert str(problem) == (
        f"{path}: companies row 2, 统一社会信用代码 (credit_code) = '{bad}': "
        "check digit is wrong (expected 18 characters per GB 32100-2015)"
    )
    assert "\n" not in str(problem)


def test_personal_values_are_masked_in_problems(tmp_path):
    bad_id = samples.wrong_check_digit(ID1)
    path = variant(setter("talent", 0, id_number=bad_id, phone="12812345678"))(tmp_path)
    _, problems = check_file(path)
    text = "\n".join(str(p) + repr(p) for p in problems)
    assert {p.rule for p in problems} == {"id_number_check_digit", "bad_phone"}
    assert bad_id not in text and "12812345678" not in text
    assert bad_id[:4] in text and bad_id[-4:] in text  # enough to find the row


def test_a_typo_in_a_referenced_code_is_reported_once(tmp_path):
    # The employer's code has a wrong check digit: that is one problem, not also "unknown employer".
    path = variant(setter("talent", 0, employer_credit_code=samples.wrong_check_digit(C1)))(
        tmp_path
    )
    _, problems = check_file(path)
    assert [p.rule for p in problems] == ["credit_code_check_digit"]


def test_the_funding_year_follows_the_base_part_outside_the_inbox(tmp_path):
    # Named neither by folder nor by file: the base part gives code and year.
    path = samples.write_json(tmp_path / "my submission.json", samples.records())
    submission, problems = check_file(path)
    assert problems == []
    assert (submission.base_code, submission.reporting_year) == (CODE, YEAR)
    assert (submission.named_base_code, submission.named_reporting_year) == (None, None)
    data = samples.records()
    data["funding"][0]["funding_date"] = dt.date(2021, 5, 5)
    _, problems = check_file(samples.write_json(tmp_path / "other.json", data))
    assert [p.rule for p in problems] == ["funding_date_outside_year"]


def test_validate_submission_keeps_the_readers_findings(tmp_path):
    from parkwh.submission.reader import read_submission

    sub = read_submission(variant(setter("companies", 0, remarks="x"))(tmp_path))
    assert [p.rule for p in sub.problems] == ["unknown_column"]
    assert [p.rule for p in validate_submission(sub)] == ["unknown_column"]


def test_expert_scores_accept_good_rows(tmp_path):
    from parkwh.submission.reader import read_expert_scores

    path = expert_csv(
        "\ufeffbase_code,expert_id,score\nSH001,E01,92.5\nSH001,E02,88\nJS002,E01,７５\n"
    )(tmp_path)
    data, problems = read_expert_scores(path)
    assert problems == []
    assert [r.values["score"] for r in data.rows] == ["92.5", "88", "７５"]
    assert [r.number for r in data.rows] == [2, 3, 4]
    assert data.to_arrow().column_names == ["source_row", "base_code", "expert_id", "score"]


# ---------------------------------------------------------------------------- values


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1234", Decimal("1234")),
        ("1,234.5", Decimal("1234.5")),
        ("１２３", Decimal("123")),
        (" 12 ", Decimal("12")),
        ("1.2万", Decimal("12000")),
        ("3亿", Decimal("300000000")),
        ("-5", Decimal("-5")),
        ("¥100", Decimal("100")),
        ("100元", Decimal("100")),
        ("1e3", Decimal("1000")),
        ("1，234", Decimal("1234")),
        ("0.5", Decimal("0.5")),
        (".5", Decimal("0.5")),
    ],
)
def test_parse_number(text, expected):
    assert values.parse_number(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "1,2,3",
        "12,34",
        "1.2.3",
        "NaN",
        "inf",
        "1e999",
        "万",
        "--1",
        "1 2",
        "0x10",
        "1" * 80,
    ],
)
def test_parse_number_refuses(text):
    with pytest.raises(values.BadValue):
        values.parse_number(text)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2023-05-01", dt.date(2023, 5, 1)),
        ("2023/5/1", dt.date(2023, 5, 1)),
        ("2023.5.1", dt.date(2023, 5, 1)),
        ("2023年5月1日", dt.date(2023, 5, 1)),
        ("20230501", dt.date(2023, 5, 1)),
        ("２０２３－０５－０１", dt.date(2023, 5, 1)),
        ("2023-05-01 00:00:00", dt.date(2023, 5, 1)),
        ("2023年12月31号", dt.date(2023, 12, 31)),
    ],
)
def test_parse_date(text, expected):
    assert values.parse_date(text) == expected


@pytest.mark.parametrize(
    "text",
    ["2023-02-29", "2023-13-01", "5/1/2023", "2023-05", "yesterday", "2023050", "2023-05-01x"],
)
def test_parse_date_refuses(text):
    with pytest.raises(values.BadValue):
        values.parse_date(text)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("是", True),
        ("否", False),
        ("TRUE", True),
        ("no", False),
        ("1", True),
        ("0", False),
        ("Y", True),
        ("n", False),
        ("Yes", True),
    ],
)
def test_parse_bool(text, expected):
    assert values.parse_bool(text) is expected


@pytest.mark.parametrize(
    "enum, text, code",
    [
        ("company_status", "在园", "in_park"),
        ("company_status", "In the base", "in_park"),
        ("company_status", "IN_PARK", "in_park"),
        ("funding_round", "Pre-A轮", "pre_a"),
        ("funding_round", "pre a", "pre_a"),
        ("listing_board", "科创板", "star"),
        ("gender", "女", "female"),
        ("incubator_grade", "b", "B"),
        ("incubator_grade", "良好", "B"),
    ],
)
def test_parse_enum(enum, text, code):
    assert values.parse_enum(enum, text) == code


def test_enumeration_spellings_never_collide():
    # Each spelling (code, Chinese label, English label) must name one value of its enumeration.
    from parkwh.submission import spec

    for name, items in spec.enums().items():
        claimed: dict[str, str] = {}
        for item in items:
            for spelling in {
                values.match_key(s) for s in (item.code, item.label_zh, item.label_en)
            }:
                assert claimed.setdefault(spelling, item.code) == item.code, (name, spelling)


@pytest.mark.parametrize(
    "text, code",
    [
        ("SH", "SH"),
        ("上海市", "SH"),
        ("上海", "SH"),
        ("Shanghai", "SH"),
        ("内蒙古", "NM"),
        ("广西壮族自治区", "GX"),
        ("Hong Kong", "HK"),
        ("sh", "SH"),
    ],
)
def test_parse_province(text, code):
    assert values.parse_province(text) == code


@pytest.mark.parametrize(
    "text, expected",
    [
        ("13812345678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
    ],
)
def test_parse_phone(text, expected):
    assert values.parse_phone(text) == expected


def test_identifiers_agree_with_independent_check_digits():
    for serial in range(200):
        code = samples.credit_code(serial)
        assert values.parse_credit_code(code.lower()) == code
        with pytest.raises(values.BadValue) as bad:
            values.parse_credit_code(samples.wrong_check_digit(code))
        assert bad.value.rule == "credit_code_check_digit"
    for serial in range(200):
        number = samples.resident_id("19900101", serial)
        assert values.parse_resident_id(number.lower()) == number
        with pytest.raises(values.BadValue) as bad:
            values.parse_resident_id(
                samples.wrong_check_digit(number)[:17] + ("X" if number[-1] != "X" else "0")
            )
        assert bad.value.rule == "id_number_check_digit"


def test_mask_keeps_only_the_ends():
    assert values.mask("110101199003077777") == "1101**********7777"
    assert values.mask("张三") == "张*"
    assert values.mask(None) is None


def test_problem_location_without_a_column():
    p = Problem("f.xlsx", "base", 3, None, None, None, "base_row_count", "expected one row")
    assert str(p) == "f.xlsx: base row 3: expected one row"
    p = Problem("f.xlsx", None, None, None, None, None, "empty_file", "the file is empty")
    assert str(p) == "f.xlsx: the file is empty"


# ---------------------------------------------------------------------------- the command


def _runner_app():
    """The validate command on an app of its own, so other commands' imports cannot affect these tests."""
    import typer

    from parkwh.commands.validate import validate

    app = typer.Typer(add_completion=False)
    app.callback()(lambda: None)
    app.command()(validate)
    return app


def _invoke(*args: str):
    from typer.testing import CliRunner

    return CliRunner().invoke(_runner_app(), ["validate", *args], env={"COLUMNS": "200"})


def test_cli_exit_codes_and_table(tmp_path):
    good = samples.write("xlsx", tmp_path / "good")
    result = _invoke(str(good))
    assert result.exit_code == 0, result.output
    assert "OK" in result.output and "base SH001, reporting year 2023" in result.output

    bad = variant(setter("companies", 0, credit_code=samples.wrong_check_digit(C1)), form="xlsx")(
        tmp_path / "bad"
    )
    result = _invoke(str(good), str(bad))
    assert result.exit_code == 1
    assert "统一社会信用代码" in result.output and "credit_code_check_digit" in result.output
    assert "1 error, 0 warnings" in result.output

    warned = variant(setter("companies", 0, remarks="备注"))(tmp_path / "warned")
    result = _invoke(str(warned))
    assert (
        result.exit_code == 0 and "unknown_column" in result.output and "1 warning" in result.output
    )


@pytest.mark.parametrize(
    "content, name",
    [
        (b"", "SH001.xlsx"),
        (bytes(range(256)), "SH001.xlsx"),
        (b'{"base": [', "SH001.json"),
        (b"[" * 10000, "SH001.json"),
    ],
)
def test_cli_not_a_submission_is_one_line(content, name, tmp_path):
    path = tmp_path / name
    path.write_bytes(content)
    result = _invoke(str(path))
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}: "), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_cli_expert_scores_and_a_year_folder(tmp_path):
    samples.write("json", tmp_path)
    samples.write("csv", tmp_path / "csv")  # another year folder layout: <root>/csv/2023/SH001/
    scores = tmp_path / "2023" / "expert_scores.csv"
    scores.write_text("base_code,expert_id,score\nSH001,E01,90\nSH001,E02,120\n", encoding="utf-8")
    result = _invoke(str(scores))
    assert result.exit_code == 1 and "score_out_of_range" in result.output
    result = _invoke(str(tmp_path / "2023"))
    assert result.exit_code == 1
    assert "SH001.json: OK" in result.output and "expert_scores.csv: 1 error" in result.output


def test_cli_help_has_an_example():
    result = _invoke("--help")
    assert result.exit_code == 0
    assert "Example: parkwh validate SH001.xlsx" in result.output


def test_the_console_script_end_to_end(tmp_path):
    import subprocess
    import sys

    script = Path(sys.executable).with_name("parkwh")
    bad = tmp_path / "SH001.json"
    bad.write_bytes(b'{"base": [{"base_code": "SH0')
    run = subprocess.run(
        [str(script), "validate", str(bad)], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    lines = run.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {bad}: truncated"), run.stdout
    good = samples.write("csv", tmp_path)
    run = subprocess.run(
        [str(script), "validate", str(good)], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_a_wrong_check_digit_in_the_roster_is_one_problem_but_another_code_is_unknown(tmp_path):
    def mutate(data):
        data["companies"][0]["credit_code"] = samples.wrong_check_digit(C1)
        # C1 is still referenced by talent row 1 and funding row 1: one typo, one problem.
        data["talent"][1]["employer_credit_code"] = samples.credit_code(4)  # a neighbouring serial

    _, problems = check_file(variant(mutate)(tmp_path))
    assert sorted((p.part, p.row, p.rule) for p in problems) == [
        ("companies", 1, "credit_code_check_digit"),
        ("talent", 2, "unknown_employer"),
    ]
