"""The value parsers keep their answers without changing them, and validation reads a roster
column by column with the same findings, in the same order, as row by row.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from fixtures.submissions import samples
from parkwh.submission import values
from parkwh.submission.reader import PartData, Row
from parkwh.submission.validate import _Checker, check_file, sort_problems


@pytest.mark.parametrize(
    ("parse", "text", "expected"),
    [
        (values.parse_number, "1.2万", Decimal("12000.0")),
        (values.parse_integer, "1,234", 1234),
        (values.parse_date, "2023年5月1日", dt.date(2023, 5, 1)),
        (values.parse_year, "２０２３", 2023),
        (values.parse_bool, "是", True),
        (values.parse_province, "上海", "SH"),
        (values.parse_base_code, "sh001", "SH001"),
        (values.parse_credit_code, samples.credit_code(7).lower(), samples.credit_code(7)),
    ],
)
def test_a_kept_answer_is_the_answer(parse, text, expected):
    first = parse(text)
    again = parse(text)
    assert first == again == expected
    assert type(again) is type(expected)


def test_a_bad_value_is_refused_every_time():
    for _ in range(3):
        with pytest.raises(values.BadValue, match="expected a date"):
            values.parse_date("2023-02-30")
    with pytest.raises(KeyError):
        values.parse_enum("no_such_enumeration", "x")
    with pytest.raises(KeyError):  # a KeyError is not kept as an answer either
        values.parse_enum("no_such_enumeration", "x")


def test_the_birth_date_of_a_number_that_is_no_resident_id_is_none():
    number = samples.resident_id("19900307", 1)
    assert values.resident_id_birth_date(number) == dt.date(1990, 3, 7)
    assert values.resident_id_birth_date("ABCDEFGHIJKLMNOPQR") is None  # a passport of 18
    assert values.resident_id_birth_date(number[:6] + "19901399" + number[14:]) is None


def test_a_passport_of_18_characters_without_an_id_type_is_no_crash(tmp_path):
    data = samples.records()
    person = data["talent"][0]
    person["id_type"] = None
    person["id_number"] = "AB12345XYZ90123456"  # 18 characters, letters where a date would be
    person["birth_year"] = 1985
    path = samples.write("json", tmp_path, data)
    _submission, problems = check_file(path)
    assert not [p for p in problems if p.part == "talent" and p.column == "birth_year"]


def row_by_row(data: PartData) -> list:
    """The findings of checking each value in turn, row after row (the reference)."""
    checker = _Checker("file", 2023)
    for row in data.rows:
        single = PartData(data.part, data.headers, data.units, [row])
        checker.parse_rows(single)
    return sort_problems(checker.problems)


def test_column_by_column_finds_what_row_by_row_finds_in_the_same_order():
    keys = ["credit_code", "company_name", "founded_date", "entered_date", "revenue", "status"]
    rows = []
    bad = {"founded_date": "2023-02-30", "revenue": "-5", "status": "gone", "credit_code": "x"}
    for number in range(2, 40):
        values_ = {
            "credit_code": samples.credit_code(number),
            "company_name": f"公司{number}",
            "founded_date": "2015-03-01",
            "entered_date": None if number % 7 == 0 else "2016-01-01",
            "revenue": "1.5万",
            "status": "在园",
        }
        for key in keys[number % len(keys) :: 5]:
            values_[key] = bad.get(key)  # a bad value, or none where one is required
        rows.append(Row(number, values_))
    data = PartData("companies", {k: k for k in keys}, {"revenue": "元"}, rows)
    checker = _Checker("file", 2023)
    cells = checker.parse_rows(data)
    assert sort_problems(checker.problems) == row_by_row(data)
    assert checker.problems  # the rows above have findings to compare
    # A value that did not parse reads as None and is named as unparsed.
    for cell in cells:
        for key in cell.unparsed:
            assert cell.get(key) is None and cell.raw.get(key) is not None
