"""The blank submission workbook: readable by both Excel libraries, complete, guiding, and read back by the validator."""

from __future__ import annotations

import datetime as dt
import re
import zipfile

import openpyxl
import pytest
from openpyxl.utils import get_column_letter, range_boundaries
from python_calamine import CalamineWorkbook
from stdnum.cn import ric, uscc
from typer.testing import CliRunner

from parkwh.submission import spec
from parkwh.submission import template as tpl

YEAR = 2023
PART_SHEETS = {
    "base": "基地信息 base",
    "companies": "企业名录 companies",
    "talent": "人才名录 talent",
    "funding": "融资与资助 funding",
}


@pytest.fixture(scope="module")
def template_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "SH001.xlsx"
    tpl.write_template(path, YEAR, "SH001")
    return path


@pytest.fixture(scope="module")
def workbook(template_path):
    return openpyxl.load_workbook(template_path)


def _column_of(part: str, key: str) -> str:
    keys = [f.key for f in spec.part_fields(part)]
    return get_column_letter(keys.index(key) + 1)


def _validations_at(ws, cell: str):
    return [dv for dv in ws.data_validations.dataValidation if cell in dv.sqref]


def _list_values(workbook, formula: str) -> list[str]:
    """The cells a list validation's formula refers to, e.g. ``lists!$C$2:$C$5``."""
    sheet, ref = formula.lstrip("=").split("!")
    min_col, min_row, max_col, max_row = range_boundaries(ref.replace("$", ""))
    ws = workbook[sheet.strip("'")]
    return [
        ws.cell(row=r, column=c).value
        for r in range(min_row, max_row + 1)
        for c in range(min_col, max_col + 1)
    ]


# ---------------------------------------------------------------------------- the workbook


def test_opens_with_calamine_and_openpyxl(template_path, workbook):
    expected = ["填报说明 instructions", *PART_SHEETS.values(), "lists"]
    calamine = CalamineWorkbook.from_path(str(template_path))
    assert calamine.sheet_names == expected
    assert workbook.sheetnames == expected
    for part, name in PART_SHEETS.items():
        rows = calamine.get_sheet_by_name(name).to_python()
        assert len(rows[0]) == len(spec.part_fields(part))
    assert workbook["lists"].sheet_state == "hidden"
    assert workbook.active.title == "填报说明 instructions"


def test_headers_cover_every_field_of_the_spec(workbook):
    for part, name in PART_SHEETS.items():
        ws = workbook[name]
        headers = [c.value for c in ws[1] if c.value is not None]
        expected = [
            f"{f.label_zh}(万元) / {f.key}" if f.field_type == "money" else f"{f.label_zh} / {f.key}"
            for f in spec.part_fields(part)
        ]
        assert headers == expected
    covered = {
        (part, header.rsplit(" / ", 1)[1])
        for part, name in PART_SHEETS.items()
        for header in (c.value for c in workbook[name][1])
    }
    assert covered == {(f.part, f.key) for f in spec.fields()}


def test_headers_carry_comments_and_mark_required_columns(workbook):
    for part, name in PART_SHEETS.items():
        ws = workbook[name]
        for column, field in enumerate(spec.part_fields(part), start=1):
            cell = ws.cell(row=1, column=column)
            assert cell.comment is not None, (part, field.key)
            assert field.label_en in cell.comment.text
            assert field.description in cell.comment.text
            assert bool(cell.font.bold) == field.required, (part, field.key)
        fills = {
            field.required: ws.cell(row=1, column=i).fill.fgColor.rgb
            for i, field in enumerate(spec.part_fields(part), start=1)
        }
        if len(fills) == 2:
            assert fills[True] != fills[False]


def test_every_enumeration_has_a_dropdown_with_every_label(workbook):
    seen_lists = 0
    for part, name in PART_SHEETS.items():
        ws = workbook[name]
        last = 2 if part == "base" else 5000
        for field in spec.part_fields(part):
            if field.field_type == "province":
                expected = [p.name_zh for p in spec.provinces()]
            elif field.field_type == "boolean":
                expected = [v.label_zh for v in spec.enums()["boolean"]]
            elif field.enum_name:
                expected = [v.label_zh for v in spec.enums()[field.enum_name]]
            else:
                continue
            column = _column_of(part, field.key)
            for row in (2, last):
                found = _validations_at(ws, f"{column}{row}")
                assert [dv.type for dv in found] == ["list"], (part, field.key, row)
            assert _list_values(workbook, found[0].formula1) == expected, (part, field.key)
            seen_lists += 1
    assert seen_lists == sum(
        1 for f in spec.fields() if f.enum_name or f.field_type in ("province", "boolean")
    )


def test_numbers_years_dates_and_codes_are_checked_and_formatted(workbook):
    for part, name in PART_SHEETS.items():
        ws = workbook[name]
        for field in spec.part_fields(part):
            column = _column_of(part, field.key)
            found = _validations_at(ws, f"{column}2")
            kind = field.field_type
            if kind in ("integer", "year"):
                assert [dv.type for dv in found] == ["whole"], (part, field.key)
            if kind == "integer":
                assert (found[0].operator, found[0].formula1) == ("greaterThanOrEqual", "0")
            if kind == "year" and field.key != "reporting_year":
                assert found[0].operator == "between"
                assert int(found[0].formula2) == YEAR
            if kind in ("money", "decimal"):
                assert [(dv.type, dv.operator, dv.formula1) for dv in found] == [
                    ("decimal", "greaterThanOrEqual", "0")
                ], (part, field.key)
            if kind == "date":
                assert [dv.type for dv in found] == ["date"], (part, field.key)
                last = dt.date(1899, 12, 30) + dt.timedelta(days=int(found[0].formula2))
                assert last == dt.date(YEAR, 12, 31)
                assert ws.column_dimensions[column].number_format == "yyyy-mm-dd"
            if kind in ("credit_code", "id_number", "phone"):
                assert ws.column_dimensions[column].number_format == "@", (part, field.key)


def test_funding_dates_are_limited_to_the_reporting_year(workbook):
    ws = workbook[PART_SHEETS["funding"]]
    (dv,) = _validations_at(ws, f"{_column_of('funding', 'funding_date')}2")
    first = dt.date(1899, 12, 30) + dt.timedelta(days=int(dv.formula1))
    assert first == dt.date(YEAR, 1, 1)


def test_same_request_gives_the_same_workbook(template_path, tmp_path):
    again = tpl.write_template(tmp_path / "SH001.xlsx", YEAR, "SH001")
    with zipfile.ZipFile(template_path) as first, zipfile.ZipFile(again) as second:
        assert first.namelist() == second.namelist()
        # Only the creation time in the document properties may differ.
        differing = [n for n in first.namelist() if first.read(n) != second.read(n)]
        assert set(differing) <= {"docProps/core.xml"}


def test_layout_freezes_headers_and_sizes_columns(workbook):
    for part, name in PART_SHEETS.items():
        ws = workbook[name]
        assert ws.freeze_panes == "A2"
        for column in range(1, len(spec.part_fields(part)) + 1):
            width = ws.column_dimensions[get_column_letter(column)].width
            assert 10 <= width <= 40, (part, column, width)


def test_base_sheet_is_prefilled(workbook, tmp_path):
    ws = workbook[PART_SHEETS["base"]]
    assert ws[f"{_column_of('base', 'base_code')}2"].value == "SH001"
    assert ws[f"{_column_of('base', 'reporting_year')}2"].value == YEAR
    assert ws[f"{_column_of('base', 'province')}2"].value == "上海市"

    blank = tpl.build_template(YEAR - 1)[PART_SHEETS["base"]]
    filled = {c.column_letter: c.value for c in blank[2] if c.value is not None}
    assert filled == {_column_of("base", "reporting_year"): YEAR - 1}


def test_instructions_say_where_the_file_goes_and_how_to_check_it(workbook):
    text = "\n".join(
        str(c.value) for row in workbook["填报说明 instructions"].iter_rows() for c in row if c.value
    )
    assert "warehouse/inbox/2023/SH001.xlsx" in text
    assert "parkwh validate" in text
    assert "万元" in text and "亿元" in text
    for name in PART_SHEETS.values():
        assert name in text


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"year": 1990}, "reporting year 1990"),
        ({"year": YEAR, "base_code": "SH01"}, "base code 'SH01'"),
        ({"year": YEAR, "base_code": "QQ001"}, "province code"),
        ({"year": YEAR, "money_unit": "千元"}, "money unit"),
    ],
)
def test_bad_requests_are_refused(kwargs, message):
    with pytest.raises(tpl.TemplateError, match=re.escape(message)):
        tpl.build_template(**kwargs)


def test_template_must_be_an_xlsx(tmp_path):
    with pytest.raises(tpl.TemplateError, match=r"\*\.xlsx"):
        tpl.write_template(tmp_path / "t.csv", YEAR)
    assert not list(tmp_path.iterdir())


# ---------------------------------------------------------------------------- the command


@pytest.fixture(scope="module")
def cli():
    from parkwh.cli import _register_commands
    from parkwh.commands import app

    _register_commands()
    runner = CliRunner()
    return lambda *args: runner.invoke(app, ["template", *args])


def test_command_writes_the_template(cli, tmp_path):
    out = tmp_path / "inbox" / "2023" / "SH001.xlsx"
    result = cli("--year", "2023", "--base-code", "sh001", "--out", str(out))
    assert result.exit_code == 0, result.output
    base = openpyxl.load_workbook(out)[PART_SHEETS["base"]]
    assert base[f"{_column_of('base', 'base_code')}2"].value == "SH001"


def test_command_refuses_to_overwrite_without_force(cli, tmp_path):
    out = tmp_path / "t.xlsx"
    out.write_bytes(b"a filled-in submission")
    result = cli("--year", "2023", "--out", str(out))
    assert result.exit_code == 1
    assert "already exists" in result.output and "Traceback" not in result.output
    assert out.read_bytes() == b"a filled-in submission"
    assert cli("--year", "2023", "--out", str(out), "--force").exit_code == 0
    assert openpyxl.load_workbook(out).sheetnames[1] == PART_SHEETS["base"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--year", "2023", "--base-code", "XX9"], "base code 'XX9' is not valid"),
        (["--year", "1800"], "reporting year 1800 is out of range"),
    ],
)
def test_command_reports_bad_input_in_one_line(cli, tmp_path, args, message):
    result = cli(*args, "--out", str(tmp_path / "t.xlsx"))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert message in " ".join(result.output.split())
    assert not (tmp_path / "t.xlsx").exists()


def test_command_help_shows_an_example(cli):
    result = cli("--help")
    assert result.exit_code == 0
    assert "parkwh template --year 2023" in " ".join(result.output.split())


# ---------------------------------------------------------------------------- read back


def _credit_code(serial: int) -> str:
    stem = f"91310115MA1K{serial:04d}X"
    return stem + uscc.calc_check_digit(stem)


def _resident_id(birth: str, serial: int) -> str:
    stem = f"110101{birth}{serial:03d}"
    # stdnum's ric.calc_check_digit expects the number with a (placeholder) check digit.
    return stem + ric.calc_check_digit(stem + "0")


def _wrong_check_digit(number: str, alphabet: str) -> str:
    return number[:-1] + next(c for c in alphabet if c != number[-1])


def _fill(ws, part: str, row: int, values: dict[str, object]) -> None:
    for key, value in values.items():
        ws[f"{_column_of(part, key)}{row}"] = value


@pytest.fixture()
def validate_module():
    return pytest.importorskip(
        "parkwh.submission.validate",
        reason="parkwh.submission.validate (check_file) is not importable yet",
    )


def test_blank_template_reads_back_with_only_the_base_fields_to_fill(validate_module, warehouse_dir):
    path = warehouse_dir / "inbox" / str(YEAR) / "SH001.xlsx"
    tpl.write_template(path, YEAR, "SH001")
    submission, problems = validate_module.check_file(path)
    assert submission is not None
    assert submission.ignored == ["填报说明 instructions", "lists"]
    errors = {(p.part, p.row, p.column, p.rule) for p in problems if p.is_error}
    prefilled = {"base_code", "reporting_year", "province"}
    assert errors == {
        ("base", 2, f.key, "required_value_missing")
        for f in spec.part_fields("base")
        if f.required and f.key not in prefilled
    }


def test_filled_template_reads_back_with_exactly_the_planted_problems(validate_module, warehouse_dir):
    path = warehouse_dir / "inbox" / str(YEAR) / "SH001.xlsx"
    tpl.write_template(path, YEAR, "SH001")
    workbook = openpyxl.load_workbook(path)
    company_a, company_b, company_c, stranger = (_credit_code(n) for n in (1, 2, 3, 4))

    _fill(workbook[PART_SHEETS["base"]], "base", 2, {
        "base_name_zh": "上海测试留学人员创业园",
        "city": "上海",
        "operator": "上海测试园区运营有限公司",
        "designated_year": 2010,
        "service_events": 120,
        "incubator_grade": "良好",
        "reported_enterprises_in_park": 2,
        "reported_incubated_cum": 3,
    })

    companies = workbook[PART_SHEETS["companies"]]
    valid_company = {
        "company_name": "测试科技有限公司", "founded_date": dt.date(2015, 3, 1),
        "entered_date": dt.date(2016, 1, 1), "status": "在园", "industry": "人工智能",
        "returnee_founded": "是", "high_tech_year": 2019, "revenue": 1250.5, "tax_paid": 80,
        "employees": 45,
    }
    _fill(companies, "companies", 2, {"credit_code": company_a, **valid_company})
    _fill(companies, "companies", 3, {
        **valid_company, "credit_code": company_b, "status": "毕业",
        "left_date": dt.date(2022, 6, 30), "listing_board": "科创板", "listing_ticker": "688001",
        "listing_date": dt.date(2021, 7, 22),
    })
    # Row 4: a credit code with a wrong check digit and a status that is no enumeration label.
    _fill(companies, "companies", 4, {
        **valid_company, "credit_code": _wrong_check_digit(company_c, "0123456789"), "status": "在孵",
    })
    # Row 5: the same company as row 2.
    _fill(companies, "companies", 5, {"credit_code": company_a, **valid_company})

    talent = workbook[PART_SHEETS["talent"]]
    person = {
        "person_name": "张三", "id_type": "居民身份证", "phone": "13812345678", "gender": "男",
        "birth_year": 1985, "study_country": "美国", "degree": "博士", "return_year": 2012,
        "entered_date": dt.date(2016, 1, 1), "employer_credit_code": company_a,
        "talent_programme": "省级人才计划", "programme_year": 2020,
    }
    _fill(talent, "talent", 2, {**person, "id_number": _resident_id("19850307", 1)})
    # Row 3: a resident ID with a wrong check digit.
    _fill(talent, "talent", 3, {
        **person, "id_number": _wrong_check_digit(_resident_id("19850307", 2), "0123456789X"),
    })
    # Row 4: no gender, and an employer that is not in the company roster.
    _fill(talent, "talent", 4, {
        **person, "id_number": _resident_id("19850307", 3), "gender": None,
        "employer_credit_code": stranger,
    })

    funding = workbook[PART_SHEETS["funding"]]
    grant = {"credit_code": company_a, "funding_kind": "风险投资", "funding_round": "A轮",
             "amount": 500, "investor": "某创投基金"}
    _fill(funding, "funding", 2, {**grant, "funding_date": "2023/5/1"})
    # Row 3: received the year before, and a negative amount.
    _fill(funding, "funding", 3, {**grant, "funding_date": dt.date(YEAR - 1, 12, 31), "amount": -5})
    # Row 4: a company the roster does not hold.
    _fill(funding, "funding", 4, {**grant, "credit_code": stranger, "funding_date": "2023年6月1日"})
    workbook.save(path)

    submission, problems = validate_module.check_file(path)
    assert submission is not None
    for part in spec.PARTS:
        assert set(submission.parts[part].headers) == {f.key for f in spec.part_fields(part)}
    assert submission.parts["companies"].units == {"revenue": "万元", "tax_paid": "万元"}
    assert submission.parts["funding"].units == {"amount": "万元"}

    found = {(p.part, p.row, p.column, p.rule) for p in problems}
    assert found == {
        ("companies", 4, "credit_code", "credit_code_check_digit"),
        ("companies", 4, "status", "unknown_enum"),
        ("companies", 5, "credit_code", "duplicate_company"),
        ("talent", 3, "id_number", "id_number_check_digit"),
        ("talent", 4, "gender", "required_value_missing"),
        ("talent", 4, "employer_credit_code", "unknown_employer"),
        ("funding", 3, "funding_date", "funding_date_outside_year"),
        ("funding", 3, "amount", "negative_value"),
        ("funding", 4, "credit_code", "unknown_company"),
    }
    assert all(p.file == str(path) for p in problems)
