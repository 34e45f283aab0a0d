"""The reader: three forms read the same; header, unit and name variants; hostile files."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import zipfile
from pathlib import Path

import pyarrow as pa
import pytest
from openpyxl import Workbook

from fixtures.submissions import samples
from parkwh.submission import spec
from parkwh.submission.errors import SubmissionError
from parkwh.submission.reader import (
    Limits,
    file_sha256,
    part_for_name,
    read_submission,
    resolve_header,
)
from parkwh.submission.validate import check_file

YEAR, CODE = samples.YEAR, samples.BASE_CODE


def expected_text(value) -> str | None:
    """How a value written by the samples must come back: text as a person sees it."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def present(values: dict) -> dict:
    return {k: v for k, v in values.items() if v is not None}


# ---------------------------------------------------------------------------- three forms, one content


def test_the_same_records_from_all_three_forms(tmp_path):
    data = samples.records()
    read = {
        form: read_submission(samples.write(form, tmp_path / form, data))
        for form in ("xlsx", "json", "csv")
    }
    for form, sub in read.items():
        assert sub.form == form
        assert (sub.base_code, sub.reporting_year) == (CODE, YEAR)
        assert set(sub.parts) == set(spec.PARTS)
        for part, rows in data.items():
            got = sub.parts[part].rows
            expected = [present({k: expected_text(v) for k, v in row.items()}) for row in rows]
            assert [present(r.values) for r in got] == expected, (form, part)
            first = 1 if form == "json" else 2
            assert [r.number for r in got] == list(range(first, first + len(rows)))
    assert len({sub.sha256 for sub in read.values()}) == 3


def test_to_arrow_has_every_field_and_units(tmp_path):
    sub = read_submission(samples.write("xlsx", tmp_path, unit="万元"))
    table = sub.parts["companies"].to_arrow()
    fields = spec.part_fields("companies")
    assert table.column_names == [
        "source_row",
        *[f.key for f in fields],
        "revenue_unit",
        "tax_paid_unit",
    ]
    assert table.schema.field("source_row").type == pa.int32()
    assert all(table.schema.field(f.key).type == pa.string() for f in fields)
    assert table.column("revenue_unit").to_pylist() == ["万元"] * 3
    assert table.column("credit_code").to_pylist() == [samples.credit_code(i) for i in (1, 2, 3)]
    assert table.column("source_row").to_pylist() == [2, 3, 4]

    # A part whose columns are partly absent: every field is still a column, null where absent.
    data = samples.records()
    for row in data["funding"]:
        row.pop("investor")
        row.pop("amount")
    funding = (
        read_submission(samples.write("json", tmp_path / "j", data)).parts["funding"].to_arrow()
    )
    assert funding.column("investor").to_pylist() == [None, None]
    assert funding.column("amount_unit").to_pylist() == [None, None]


# ---------------------------------------------------------------------------- headers and units


@pytest.mark.parametrize(
    "part, header, key, unit",
    [
        ("companies", "revenue", "revenue", None),
        ("companies", "营业收入", "revenue", None),
        ("companies", "营业收入(万元)", "revenue", "万元"),
        ("companies", "营业收入（万元）", "revenue", "万元"),
        ("companies", "营业收入 ( 亿元 )", "revenue", "亿元"),
        ("companies", "revenue(万元)", "revenue", "万元"),
        ("companies", "Revenue (10k yuan)", "revenue", "万元"),
        ("companies", "revenue (yuan)", "revenue", "元"),
        ("companies", "营业收入(万元) / revenue", "revenue", "万元"),
        ("companies", "营业收入 / revenue (万元)", "revenue", "万元"),
        ("companies", "营业收入/万元", "revenue", "万元"),
        ("companies", "  REVENUE  ", "revenue", None),
        ("companies", "Revenue in the reporting year", "revenue", None),
        ("companies", "统一社会信用代码 / credit_code", "credit_code", None),
        ("companies", "credit code", "credit_code", None),
        ("companies", "ｃｒｅｄｉｔ＿ｃｏｄｅ", "credit_code", None),
        ("companies", "统一社会 信用代码", "credit_code", None),
        ("companies", "从业人员数(人)", "employees", None),
        ("base", "孵化场地面积(平方米)", "floor_area_m2", None),
        ("base", "孵化场地面积", "floor_area_m2", None),
        ("funding", "金额（亿元）/ amount", "amount", "亿元"),
        (
            "funding",
            "统一社会信用代码",
            None,
            None,
        ),  # the funding part calls it 企业统一社会信用代码
        ("companies", "营业收入 / tax_paid", None, None),  # two sides naming two fields
        ("companies", "备注", None, None),
    ],
)
def test_resolve_header(part, header, key, unit):
    found_key, found_unit, error = resolve_header(part, header)
    assert (found_key, found_unit, error) == (key, unit, None)


def test_a_money_header_with_an_unknown_unit_is_an_error():
    key, unit, error = resolve_header("companies", "营业收入(美元)")
    assert key == "revenue" and unit is None and "美元" in error


def test_field_names_are_unambiguous_within_a_part():
    from parkwh.submission.reader import _field_names
    from parkwh.submission.values import match_key

    for part in spec.PARTS:
        names = _field_names(part)
        for f in spec.part_fields(part):
            for spelling in (f.key, f.label_zh, f.label_en):
                assert names[match_key(spelling)] == f.key, (part, spelling)


@pytest.mark.parametrize("form", ["xlsx", "json", "csv"])
@pytest.mark.parametrize(
    "style, unit", [("key", None), ("zh", "万元"), ("bilingual", "亿元"), ("zh", "元")]
)
def test_header_styles_and_units_in_every_form(form, style, unit, tmp_path):
    sub = read_submission(samples.write(form, tmp_path, style=style, unit=unit))
    companies = sub.parts["companies"]
    assert companies.units == {"revenue": unit or "元", "tax_paid": unit or "元"}
    assert sub.parts["funding"].units == {"amount": unit or "元"}
    if form != "json":  # JSON keys of absent values are absent
        assert companies.headers["credit_code"] == samples.header_for(
            spec.part_fields("companies")[0], style, unit
        )
    assert companies.rows[0].values["revenue"] == "12000.5"
    assert sub.problems == []


# ---------------------------------------------------------------------------- sheet and file names


@pytest.mark.parametrize(
    "name, part",
    [
        ("companies", "companies"),
        ("企业名录", "companies"),
        ("企业名录 companies", "companies"),
        ("企业名录-companies", "companies"),
        ("COMPANIES", "companies"),
        ("companies 企业名录", "companies"),
        ("基地信息", "base"),
        ("人才名录 talent", "talent"),
        ("融资与资助", "funding"),
        ("填报说明", None),
        ("lists", None),
        ("company", None),
    ],
)
def test_part_for_name(name, part):
    assert part_for_name(name) == part


def test_chinese_and_bilingual_sheet_names_and_an_ignored_sheet(tmp_path):
    names = {
        "base": "基地信息",
        "companies": "企业名录 companies",
        "talent": "人才名录",
        "funding": "funding",
    }
    path = samples.write("xlsx", tmp_path, sheet_names=names)
    sub = read_submission(path)
    assert set(sub.parts) == set(spec.PARTS)
    assert sub.parts["companies"].source == "企业名录 companies"
    assert sub.ignored == ["填报说明"]
    _, problems = check_file(path)
    assert problems == []


def test_a_missing_sheet_is_named_with_what_was_found(tmp_path):
    data = samples.records()
    path = samples.write_xlsx(tmp_path / "SH001.xlsx", data, sheet_names={"talent": "人才名单"})
    _, problems = check_file(path)
    missing = [p for p in problems if p.rule == "missing_part"]
    assert [p.part for p in missing] == ["talent"]
    assert "人才名单" in missing[0].message and "人才名录" in missing[0].message


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_csv_encodings_are_accepted(encoding, tmp_path):
    folder = samples.write("csv", tmp_path, encoding=encoding)
    raw = (folder / "companies.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")
    sub = read_submission(folder)
    assert sub.parts["companies"].rows[0].values["company_name"] == "上海甲科技有限公司"
    assert sub.parts["companies"].headers["credit_code"] == "统一社会信用代码"
    _, problems = check_file(folder)
    assert problems == []


def test_csv_files_with_chinese_names(tmp_path):
    folder = samples.write(
        "csv",
        tmp_path,
        names={
            p: samples_name
            for p, samples_name in {
                "base": "基地信息",
                "companies": "企业名录",
                "talent": "人才名录",
                "funding": "融资与资助",
            }.items()
        },
    )
    (folder / "readme.csv").write_text("note\nnot a part\n", encoding="utf-8")
    sub = read_submission(folder)
    assert set(sub.parts) == set(spec.PARTS)
    assert sub.ignored == ["readme.csv"]
    assert sub.base_code == CODE and sub.reporting_year == YEAR


# ---------------------------------------------------------------------------- cells and rows


def test_excel_cells_become_text_as_a_person_sees_them(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "companies"
    sheet.append(
        [
            "company_name",
            "revenue",
            "tax_paid",
            "founded_date",
            "entered_date",
            "returnee_founded",
            "employees",
            "listing_ticker",
        ]
    )
    sheet.append(
        [
            "  甲公司  ",
            1200.0,
            0.1 + 0.2,
            dt.date(2015, 3, 2),
            dt.datetime(2015, 4, 1, 9, 30),
            True,
            12,
            "000001",
        ]
    )
    sheet.append(["乙", 1e-7, 123456789012.5, dt.datetime(2016, 1, 1), None, False, "", " "])
    path = tmp_path / "SH001.xlsx"
    workbook.save(path)
    rows = read_submission(path).parts["companies"].rows
    assert rows[0].values == {
        "company_name": "甲公司",
        "revenue": "1200",
        "tax_paid": "0.3",
        "founded_date": "2015-03-02",
        "entered_date": "2015-04-01",
        "returnee_founded": "true",
        "employees": "12",
        "listing_ticker": "000001",
    }
    assert rows[1].values == {
        "company_name": "乙",
        "revenue": "0.0000001",
        "tax_paid": "123456789012.5",
        "founded_date": "2016-01-01",
        "entered_date": None,
        "returnee_founded": "false",
        "employees": None,
        "listing_ticker": None,
    }


def test_row_numbers_are_those_a_person_sees(tmp_path):
    # Sheet: a blank first row, the header on row 2, a blank row 4 between two rows of data.
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "funding"
    sheet["B2"], sheet["C2"] = "credit_code", "investor"
    sheet["B3"], sheet["C3"] = "x", "甲"
    sheet["B5"], sheet["C5"] = "y", "乙"
    workbook.save(tmp_path / "SH001.xlsx")
    part = read_submission(tmp_path / "SH001.xlsx").parts["funding"]
    assert part.header_row == 2
    assert [(r.number, r.values["investor"]) for r in part.rows] == [(3, "甲"), (5, "乙")]

    # CSV: line numbers, across a quoted value that spans two lines and a blank line.
    folder = tmp_path / "SH002"
    folder.mkdir()
    (folder / "funding.csv").write_text(
        'credit_code,investor\nx,"甲\n乙"\n\ny,丙\n', encoding="utf-8"
    )
    part = read_submission(folder).parts["funding"]
    assert [(r.number, r.values["investor"]) for r in part.rows] == [(2, "甲\n乙"), (5, "丙")]

    # JSON: index + 1, also when an earlier row is empty.
    path = tmp_path / "SH003.json"
    path.write_text(
        json.dumps({"funding": [{"investor": "甲"}, {}, {"investor": "丙"}]}), encoding="utf-8"
    )
    part = read_submission(path).parts["funding"]
    assert [(r.number, r.values["investor"]) for r in part.rows] == [(1, "甲"), (3, "丙")]


def test_json_keeps_number_literals_and_accepts_base_as_an_object(tmp_path):
    path = tmp_path / "SH001.json"
    path.write_text(
        '{"base": {"base_code": "SH001", "floor_area_m2": 1234.50, "staff": 35, '
        '"service_events": 1e2, "incubator_grade": null},'
        ' "companies": [{"returnee_founded": true, "revenue(万元)": 12000.500}]}',
        encoding="utf-8",
    )
    sub = read_submission(path)
    assert sub.parts["base"].rows[0].values == {
        "base_code": "SH001",
        "floor_area_m2": "1234.50",
        "staff": "35",
        "service_events": "1e2",
        "incubator_grade": None,
    }
    assert sub.parts["companies"].rows[0].values == {
        "returnee_founded": "true",
        "revenue": "12000.500",
    }
    assert sub.parts["companies"].units == {"revenue": "万元"}


def test_a_formula_cell_is_read_as_its_cached_value_never_evaluated(tmp_path):
    # openpyxl writes no cached values, so the sheet XML is written here by hand, as Excel saves it.
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet {ns}><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>revenue</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>employees</t></is></c>'
        '<c r="C1" t="inlineStr"><is><t>company_name</t></is></c></row>'
        # A stale cached value: Excel would show 999 until recalculation, and so must we.
        '<row r="2"><c r="A2"><f>1000*12</f><v>999</v></c>'
        '<c r="B2"><f>SUM(1,2)</f></c>'
        '<c r="C2" t="str"><f>"甲"&amp;"乙"</f><v>甲乙</v></c></row>'
        "</sheetData></worksheet>"
    )
    files = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.worksheet+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook {ns} xmlns:r="{rel}">'
            '<sheets><sheet name="企业名录" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": sheet,
    }
    path = tmp_path / "SH001.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    rows = read_submission(path).parts["companies"].rows
    assert rows[0].values == {"revenue": "999", "employees": None, "company_name": "甲乙"}


# ---------------------------------------------------------------------------- where code and year come from


def test_code_and_year_from_the_inbox_layout_win_over_the_base_part(tmp_path):
    data = samples.records()
    data["base"][0].update(base_code="BJ001", reporting_year=2021)
    sub = read_submission(samples.write("json", tmp_path, data))
    assert (sub.base_code, sub.reporting_year) == (CODE, YEAR)
    assert (sub.named_base_code, sub.named_reporting_year) == (CODE, YEAR)

    outside = samples.write_json(tmp_path / "draft.json", data)
    sub = read_submission(outside)
    assert (sub.base_code, sub.reporting_year) == ("BJ001", 2021)
    assert (sub.named_base_code, sub.named_reporting_year) == (None, None)


def test_sha256_of_a_file_and_of_a_csv_folder(tmp_path):
    path = samples.write("json", tmp_path / "j")
    assert file_sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest()
    assert read_submission(path).sha256 == file_sha256(path)

    folder = samples.write("csv", tmp_path / "c")
    (folder / "notes.txt").write_text("not a CSV: not in the digest")
    digest = hashlib.sha256()
    for name in sorted(p.name for p in folder.glob("*.csv")):
        data = (folder / name).read_bytes()
        digest.update(name.encode() + b"\0" + str(len(data)).encode() + b"\0" + data)
    assert file_sha256(folder) == digest.hexdigest()
    before = file_sha256(folder)
    (folder / "notes.txt").write_text("changed")
    assert file_sha256(folder) == before
    with (folder / "funding.csv").open("a", encoding="utf-8") as handle:
        handle.write("\n")
    assert file_sha256(folder) != before


# ---------------------------------------------------------------------------- hostile files


def _zip(path: Path, members: dict[str, bytes], *, big: tuple[str, int] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        if big:
            name, size = big
            with archive.open(name, "w", force_zip64=True) as handle:
                chunk = b"\0" * (1 << 20)
                for _ in range(size // len(chunk)):
                    handle.write(chunk)
    return path


def _nested_json(depth: int) -> bytes:
    return ('{"base": ' + "[" * depth + "]" * depth + "}").encode()


HOSTILE = {
    "empty xlsx": ("SH001.xlsx", b"", "empty_file"),
    "empty json": ("SH001.json", b"", "empty_file"),
    "random bytes as xlsx": ("SH001.xlsx", bytes(range(256)) * 8, "not_a_workbook"),
    "random bytes as json": ("SH001.json", bytes(range(256)) * 8, "bad_json"),
    "text as xlsx": ("SH001.xlsx", "基地代码,SH001\n".encode(), "not_a_workbook"),
    "old xls renamed": (
        "SH001.xlsx",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600,
        "not_a_workbook",
    ),
    "truncated json": (
        "SH001.json",
        b'{"base": [{"base_code": "SH001", "city": "\xe4\xb8',
        "bad_json",
    ),
    "truncated json at a boundary": ("SH001.json", b'{"base": [{"base_code": "SH001"}', "bad_json"),
    "json nested 10000 deep": ("SH001.json", _nested_json(10000), "bad_json"),
    "json in gbk": ("SH001.json", '{"base": [{"city": "上海"}]}'.encode("gbk"), "bad_json"),
    "json array": ("SH001.json", b"[1, 2, 3]", "no_parts"),
    "json string": ("SH001.json", b'"SH001"', "no_parts"),
    "json without parts": ("SH001.json", b'{"data": []}', "no_parts"),
    "a single csv file": ("companies.csv", b"credit_code\n", "unsupported_form"),
    "a word file": ("SH001.docx", b"PK\x03\x04", "unsupported_form"),
}


@pytest.mark.parametrize("name, content, rule", HOSTILE.values(), ids=list(HOSTILE))
def test_a_hostile_file_gives_one_clear_line(name, content, rule, tmp_path):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(SubmissionError) as caught:
        read_submission(path)
    assert caught.value.problem.rule == rule
    line = str(caught.value)
    assert line.startswith(f"{path}: ") and "\n" not in line and "Traceback" not in line
    submission, problems = check_file(path)
    assert submission is None and problems == [caught.value.problem]


def test_a_zip_bomb_is_refused_from_its_declared_sizes(tmp_path):
    # 210 MB of zeros compress to about 200 kB: over the default 200 MB inflated limit.
    path = _zip(
        tmp_path / "SH001.xlsx",
        {"xl/workbook.xml": b"<workbook/>"},
        big=("xl/worksheets/sheet1.xml", 210 << 20),
    )
    assert path.stat().st_size < 1 << 20
    with pytest.raises(SubmissionError) as caught:
        read_submission(path)
    assert caught.value.problem.rule == "zip_bomb"
    assert "inflate" in str(caught.value)


def test_limits_come_from_the_environment(tmp_path, monkeypatch):
    path = samples.write("xlsx", tmp_path)
    inflated = sum(i.file_size for i in zipfile.ZipFile(path).infolist())
    monkeypatch.setenv("PARKWH_MAX_INFLATED_BYTES", str(inflated - 1))
    assert Limits.from_env().max_inflated_bytes == inflated - 1
    with pytest.raises(SubmissionError, match="inflate"):
        read_submission(path)
    monkeypatch.setenv("PARKWH_MAX_INFLATED_BYTES", str(inflated))
    read_submission(path)
    monkeypatch.setenv("PARKWH_MAX_FILE_BYTES", str(path.stat().st_size - 1))
    with pytest.raises(SubmissionError) as caught:
        read_submission(path)
    assert caught.value.problem.rule == "file_too_large"
    folder = samples.write("csv", tmp_path / "c")
    with pytest.raises(SubmissionError) as caught:
        read_submission(folder, limits=Limits(max_file_bytes=100))
    assert caught.value.problem.rule == "file_too_large"


def test_zips_that_are_not_workbooks(tmp_path):
    not_excel = _zip(tmp_path / "a" / "SH001.xlsx", {"word/document.xml": b"<w/>"})
    with pytest.raises(SubmissionError, match="not an Excel workbook"):
        read_submission(not_excel)
    broken = _zip(
        tmp_path / "b" / "SH001.xlsx", {"xl/workbook.xml": b"<workbook><sheets><sheet name="}
    )
    with pytest.raises(SubmissionError) as caught:
        read_submission(broken)
    assert caught.value.problem.rule in ("not_a_workbook", "no_parts")
    truncated = samples.write("xlsx", tmp_path / "c")
    truncated.write_bytes(truncated.read_bytes()[:-300])
    with pytest.raises(SubmissionError) as caught:
        read_submission(truncated)
    assert caught.value.problem.rule == "not_a_workbook"


def test_a_workbook_without_part_sheets(tmp_path):
    workbook = Workbook()
    workbook.active.title = "Sheet1"
    workbook.save(tmp_path / "SH001.xlsx")
    with pytest.raises(SubmissionError) as caught:
        read_submission(tmp_path / "SH001.xlsx")
    assert caught.value.problem.rule == "no_parts" and "'Sheet1'" in str(caught.value)


def test_a_folder_without_csv_files_and_an_undecodable_csv(tmp_path):
    empty = tmp_path / "SH001"
    empty.mkdir()
    with pytest.raises(SubmissionError) as caught:
        read_submission(empty)
    assert caught.value.problem.rule == "no_parts"
    (empty / "companies.csv").write_bytes(b"\xff\xfe\x00\x00" + bytes(range(256)))
    with pytest.raises(SubmissionError) as caught:
        read_submission(empty)
    assert caught.value.problem.rule == "bad_encoding"
    assert "companies.csv" in str(caught.value) and str(caught.value).startswith(str(empty))


def test_nested_values_inside_a_row_are_problems_not_crashes(tmp_path):
    path = tmp_path / "SH001.json"
    deep = "[" * 500 + "]" * 500
    path.write_text(
        '{"companies": [{"company_name": ' + deep + ', "revenue": {"a": 1}}]}', encoding="utf-8"
    )
    sub = read_submission(path)
    rules = [(p.rule, p.column) for p in sub.problems]
    assert rules == [("not_a_scalar", "company_name"), ("not_a_scalar", "revenue")]


def test_csv_reader_does_not_choke_on_odd_quoting(tmp_path):
    folder = tmp_path / "SH001"
    folder.mkdir()
    (folder / "base.csv").write_text(
        'base_code,city\n"SH001,"上"海\n"unterminated', encoding="utf-8"
    )
    sub = read_submission(folder)
    assert sub.parts["base"].rows[0].values["base_code"] is not None


def test_gb18030_csv_written_as_excel_does(tmp_path):
    # Excel on Chinese Windows saves "CSV (逗号分隔)" in the ANSI code page, GBK.
    folder = tmp_path / "2023" / "SH001"
    folder.mkdir(parents=True)
    with (folder / "基地信息.csv").open("w", encoding="gbk", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["基地代码", "报告年度", "基地名称", "所在省份"])
        writer.writerow(["SH001", "2023", "上海漕河泾留学人员创业园", "上海"])
    sub = read_submission(folder)
    assert sub.parts["base"].rows[0].values == {
        "base_code": "SH001",
        "reporting_year": "2023",
        "base_name_zh": "上海漕河泾留学人员创业园",
        "province": "上海",
    }
    assert os.fspath(sub.path) == os.fspath(folder)
