"""The submission writers: each form read back by the project's reader, units, formula safety, fixed bytes."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import openpyxl
import pytest

from parkwh.submission import spec, values, writers
from parkwh.submission.reader import read_submission
from parkwh.submission.validate import check_file

CODE = "91110000600037341L"
"""A valid credit code (the example of python-stdnum's documentation)."""


def _parts(operator: str = "北京示例运营中心") -> dict:
    return {
        "base": [{"base_code": "BJ001", "reporting_year": 2023, "base_name_zh": "示例基地", "province": "BJ",
                  "city": "北京市", "operator": operator, "designated_year": 2011, "service_events": 1234,
                  "floor_area_m2": Decimal("25000.5")}],
        "companies": [
            {"credit_code": CODE, "company_name": "示例澜芯电子科技（北京）有限公司",
             "founded_date": dt.date(2015, 3, 1), "entered_date": dt.date(2015, 3, 2), "status": "in_park",
             "industry": "biomedicine", "returnee_founded": True, "high_tech_year": 2019,
             "revenue": 123_456_789, "tax_paid": Decimal("1234567.89"), "employees": 56},
        ],
        "talent": [
            {"person_name": "王某华", "id_type": "resident_id", "id_number": "110105198001010016",
             "phone": "13812345678", "gender": "male", "birth_year": 1980, "study_country": "美国",
             "degree": "doctorate", "return_year": 2010, "entered_date": dt.date(2015, 3, 2),
             "employer_credit_code": CODE, "talent_programme": "national_major", "programme_year": 2018},
        ],
        "funding": [
            {"credit_code": CODE, "funding_date": dt.date(2023, 5, 6), "funding_kind": "venture_capital",
             "funding_round": "series_a", "amount": 50_000_000, "investor": "示例创投"},
        ],
    }


FORMS = {
    "xlsx": ("BJ001.xlsx", {"headers": "zh", "enum_labels": "zh", "note": "合成数据"}),
    "xlsx-bilingual": ("BJ001.xlsx", {"headers": "bilingual", "sheet_names": "en"}),
    "json": ("BJ001.json", {"headers": "en", "note": "synthetic"}),
    "json-zh": ("BJ001.json", {"headers": "zh", "enum_labels": "zh"}),
    "csv": ("BJ001", {"headers": "en"}),
    "csv-gb18030": ("BJ001", {"headers": "zh", "encoding": "gb18030", "enum_labels": "zh", "thousands": True}),
    "csv-bom": ("BJ001", {"headers": "bilingual", "encoding": "utf-8-sig", "file_names": "zh"}),
}


def _as_written(field: spec.Field, text: str | None, unit: str | None):
    """A value as read back, in canonical form: money in yuan, enumerations as codes."""
    if text is None:
        return None
    if field.is_money:
        return values.parse_number(text) * spec.MONEY_UNITS[unit]
    kind = field.field_type
    if kind in ("integer",):
        return values.parse_integer(text)
    if kind == "decimal":
        return values.parse_number(text)
    if kind == "year":
        return values.parse_year(text)
    if kind == "date":
        return values.parse_date(text)
    if kind == "boolean":
        return values.parse_bool(text)
    if kind == "enum":
        return values.parse_enum(field.enum_name, text)
    if kind == "province":
        return values.parse_province(text)
    return text


@pytest.mark.parametrize("units", [{}, {"revenue": "万元", "tax_paid": "万元", "amount": "亿元"},
                                   {"revenue": "亿元", "tax_paid": "元", "amount": "万元"}],
                         ids=["yuan", "wan-yi", "yi-wan"])
@pytest.mark.parametrize("form", list(FORMS))
def test_round_trip(tmp_path, form, units):
    name, options = FORMS[form]
    folder = tmp_path / "2023"
    path = writers.write_submission(folder / name, _parts(), units=units, **options)
    sub, problems = check_file(path)
    assert [str(p) for p in problems] == []
    assert sub.base_code == "BJ001" and sub.reporting_year == 2023
    for part, rows in _parts().items():
        data = sub.parts[part]
        for f in spec.part_fields(part):
            if f.is_money and f.key in data.headers:
                assert data.units[f.key] == units.get(f.key, "元")
        for written, row in zip(rows, data.rows):
            for f in spec.part_fields(part):
                expected = written.get(f.key)
                got = _as_written(f, row.values.get(f.key), data.units.get(f.key))
                assert got == expected, (form, part, f.key, row.values.get(f.key))


def test_money_is_exact_in_the_header_unit(tmp_path):
    parts = _parts()
    path = writers.write_json(tmp_path / "BJ001.json", parts, units={"revenue": "万元", "tax_paid": "亿元"})
    text = path.read_text(encoding="utf-8")
    assert '"revenue(万元)": 12345.6789' in text
    assert '"tax_paid(亿元)": 0.0123456789' in text
    assert writers.money_in_unit(100_000_000, "亿元") == Decimal(1)
    assert str(writers.money_in_unit(Decimal("1200.00"), "万元")) == "0.12"
    assert str(writers.money_in_unit(12_000_000, "万元")) == "1200"
    assert writers.header(spec.part_fields("companies")[-3], "zh", "万元") == "营业收入(万元)"
    assert writers.header(spec.part_fields("companies")[-3], "bilingual", "万元") == "营业收入(万元) / revenue"
    with pytest.raises(ValueError):
        writers.money_in_unit(1, "千元")


def test_formulas_are_neutralised(tmp_path):
    evil = '=HYPERLINK("http://x","y")'
    parts = _parts(operator=evil)
    parts["funding"][0]["investor"] = "@SUM(A1)"
    parts["companies"][0]["listing_ticker"] = "-1+2"
    xlsx = writers.write_xlsx(tmp_path / "x" / "BJ001.xlsx", parts)
    sheet = openpyxl.load_workbook(xlsx)["基地信息"]
    operator_cell = next(c for c in sheet[2] if isinstance(c.value, str) and "HYPERLINK" in c.value)
    assert operator_cell.data_type == "s" and operator_cell.value == "'" + evil
    folder = writers.write_csv_folder(tmp_path / "c" / "BJ001", parts)
    assert "'@SUM(A1)" in (folder / "funding.csv").read_text(encoding="utf-8")
    assert "'-1+2" in (folder / "companies.csv").read_text(encoding="utf-8")
    # Numbers, even negative ones given as text, are not formulas.
    assert writers.neutralise("-12.5") == "-12.5" and writers.neutralise("+1,234") == "+1,234"
    assert writers.neutralise("-") == "'-"
    # JSON is no spreadsheet: it keeps the text as given.
    js = writers.write_json(tmp_path / "j" / "BJ001.json", parts)
    assert read_submission(js).parts["base"].rows[0].values["operator"] == evil


def test_xlsx_bytes_do_not_depend_on_the_clock(tmp_path, monkeypatch):
    first = writers.write_xlsx(tmp_path / "a" / "BJ001.xlsx", _parts(), note="x")
    real = time.time
    # Another day and time: zip entries and document properties would carry it if not fixed.
    monkeypatch.setattr(time, "time", lambda: real() + 86_400 * 400 + 3_601)
    second = writers.write_xlsx(tmp_path / "b" / "BJ001.xlsx", _parts(), note="x")
    assert first.read_bytes() == second.read_bytes()


def test_json_and_csv_layout(tmp_path):
    js = writers.write_json(tmp_path / "BJ001.json", _parts(), note="合成数据")
    sub = read_submission(js)
    assert sub.ignored == ["_note"]
    assert js.read_text(encoding="utf-8").startswith('{\n  "_note": "合成数据",\n  "base": {')
    gb = writers.write_csv_folder(tmp_path / "gb" / "BJ001", _parts(), headers="zh", encoding="gb18030")
    data = (gb / "companies.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert data.decode("gb18030").startswith("统一社会信用代码,企业名称")
    bom = writers.write_csv_folder(tmp_path / "bom" / "BJ001", _parts(), encoding="utf-8-sig")
    assert (bom / "base.csv").read_bytes().startswith(b"\xef\xbb\xbfbase_code,")
    assert sorted(p.name for p in bom.iterdir()) == ["base.csv", "companies.csv", "funding.csv", "talent.csv"]
    grouped = writers.write_csv_folder(tmp_path / "th" / "BJ001", _parts(), thousands=True)
    text = (grouped / "companies.csv").read_text(encoding="utf-8")
    assert '"123,456,789"' in text and '"1,234,567.89"' in text and ",2019," in text


def test_xlsx_layout(tmp_path):
    path = writers.write_xlsx(tmp_path / "BJ001.xlsx", _parts(), note="第一行\n第二行")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["说明", "基地信息", "企业名录", "人才名录", "融资与资助"]
    assert book["说明"]["A1"].value == "第一行"
    companies = book["企业名录"]
    headers = [c.value for c in companies[1]]
    assert headers[:2] == ["统一社会信用代码", "企业名称"]
    founded = companies.cell(2, headers.index("成立日期") + 1)
    assert founded.is_date and founded.value.date() == dt.date(2015, 3, 1)
    assert read_submission(path).ignored == ["说明"]


def test_unknown_fields_and_parts_are_refused(tmp_path):
    parts = _parts()
    parts["companies"][0]["revenue_usd"] = 1
    with pytest.raises(ValueError, match="revenue_usd"):
        writers.write_json(tmp_path / "a.json", parts)
    with pytest.raises(ValueError, match="unknown parts"):
        writers.write_json(tmp_path / "b.json", {"people": []})
    with pytest.raises(ValueError, match="header style"):
        writers.write_json(tmp_path / "c.json", _parts(), headers="fr")
