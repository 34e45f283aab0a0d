"""Fuzzing every parser: any bytes or text give a value, problems or SubmissionError, nothing else."""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures.submissions import samples
from parkwh.submission import spec, values
from parkwh.submission.errors import RULES, SubmissionError
from parkwh.submission.reader import read_expert_scores, read_submission, resolve_header
from parkwh.submission.validate import check_file

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SMALL = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _outcome(path: Path) -> None:
    """Read and check a path: only SubmissionError may escape the reader; check_file never raises."""
    try:
        read_submission(path)
    except SubmissionError as exc:
        assert "\n" not in str(exc) and exc.problem.rule in RULES
    _, problems = check_file(path)
    assert all(p.rule in RULES for p in problems)


@pytest.fixture(scope="module")
def workspace():
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


@pytest.fixture(scope="module")
def valid_xlsx(workspace) -> bytes:
    return samples.write("xlsx", workspace / "valid").read_bytes()


# ---------------------------------------------------------------------------- whole files


@FUZZ
@given(data=st.binary(max_size=4096), suffix=st.sampled_from([".xlsx", ".json"]))
def test_random_bytes_as_a_file(workspace, data, suffix):
    path = workspace / f"SH001{suffix}"
    path.write_bytes(data)
    _outcome(path)


@FUZZ
@given(
    data=st.binary(max_size=2048),
    name=st.sampled_from(["companies", "基地信息", "talent", "funding"]),
)
def test_random_bytes_as_a_csv_part(workspace, data, name):
    folder = workspace / "SH002"
    folder.mkdir(exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    (folder / f"{name}.csv").write_bytes(data)
    _outcome(folder)


@FUZZ
@given(data=st.binary(max_size=2048))
def test_random_bytes_as_expert_scores(workspace, data):
    path = workspace / "expert_scores.csv"
    path.write_bytes(data)
    try:
        read_expert_scores(path)
    except SubmissionError:
        pass
    _, problems = check_file(path)
    assert all(p.rule in RULES for p in problems)


@FUZZ
@given(data=st.data())
def test_a_valid_workbook_with_bytes_flipped(workspace, valid_xlsx, data):
    # Damage inside the zip reaches calamine's XML and zip readers: they must fail cleanly.
    damaged = bytearray(valid_xlsx)
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(damaged) - 1))
        damaged[position] = data.draw(st.integers(0, 255))
    path = workspace / "SH003.xlsx"
    path.write_bytes(bytes(damaged))
    _outcome(path)


_SHEET_TOKENS = [
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">',
    "<sheetData>",
    '<row r="1">',
    '<row r="2">',
    '<row r="1048577">',
    "</row>",
    "</sheetData>",
    "</worksheet>",
    '<c r="A1" t="inlineStr"><is><t>revenue</t></is></c>',
    '<c r="B1" t="inlineStr"><is><t>营业收入(万元)</t></is></c>',
    '<c r="A2"><v>1e309</v></c>',
    '<c r="B2" t="s"><v>5</v></c>',
    '<c r="C2" t="b"><v>2</v></c>',
    '<c r="D2" t="d"><v>2023-13-45</v></c>',
    '<c r="E2" t="e"><v>#DIV/0!</v></c>',
    '<c r="ZZZZ9"><v>1</v></c>',
    '<c r="A2"><f>1+1</f><v>x</v></c>',
    '<c r="A-1"><v>1</v></c>',
    "<c>",
    "</c>",
    "<v>",
    "</v>",
    "&",
    "&#0;",
    "<",
    ">",
    '"',
    "甲",
    "0",
    " ",
]
_xml_text = st.lists(st.sampled_from(_SHEET_TOKENS), max_size=40).map("".join)


@SMALL
@given(
    sheet=_xml_text,
    workbook=st.sampled_from(
        [
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets>'
            '<sheet name="companies" sheetId="1" r:id="rId1" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"/></sheets></workbook>',
            "<workbook>",
            "",
        ]
    ),
)
def test_a_zip_with_random_sheet_xml(workspace, sheet, workbook):
    path = workspace / "SH004.xlsx"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", workbook)
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        )
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
    path.write_bytes(buffer.getvalue())
    _outcome(path)


_json_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20)
)
_json_values = st.recursive(
    _json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
_part_keys = st.sampled_from([*spec.PARTS, "企业名录", "other"])
_field_keys = st.sampled_from(
    [f.key for f in spec.fields()]
    + [f.label_zh for f in spec.fields()]
    + ["营业收入(万元)", "revenue(美元)", "x"]
)


@FUZZ
@given(
    document=st.one_of(
        _json_values,
        st.dictionaries(_part_keys, _json_values, max_size=5),
        st.dictionaries(
            _part_keys,
            st.lists(st.dictionaries(_field_keys, _json_scalars, max_size=8), max_size=4),
            max_size=5,
        ),
    )
)
def test_random_json_documents(workspace, document):
    path = workspace / "2023" / "SH005.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    _outcome(path)


@FUZZ
@given(
    rows=st.lists(st.lists(st.text(max_size=12), max_size=8), max_size=6),
    header=st.lists(_field_keys, max_size=10),
)
def test_random_csv_grids_under_real_headers(workspace, rows, header):
    folder = workspace / "2023" / "SH006"
    folder.mkdir(parents=True, exist_ok=True)
    import csv

    for part in spec.PARTS:
        with (folder / f"{part}.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
    _outcome(folder)


# ---------------------------------------------------------------------------- values and headers


_texts = st.text(max_size=40) | st.sampled_from(
    [
        "1,234",
        "1.2万",
        "2023年5月1日",
        "是",
        "１２３",
        "1e400",
        "9" * 60,
        "2023-02-29",
        "+8613812345678",
        "0.5亿",
    ]
)


@FUZZ
@given(text=_texts)
def test_value_parsers_raise_only_bad_value(text):
    parsers = [
        values.parse_number,
        values.parse_integer,
        values.parse_date,
        values.parse_year,
        values.parse_bool,
        values.parse_province,
        values.parse_credit_code,
        values.parse_resident_id,
        values.parse_passport,
        values.parse_phone,
        values.parse_base_code,
        lambda t: values.parse_id_number(None, t),
    ]
    parsers += [lambda t, name=name: values.parse_enum(name, t) for name in spec.enums()]
    for parse in parsers:
        try:
            parse(text)
        except values.BadValue as bad:
            assert bad.rule in RULES and bad.message
    assert values.mask(text) is None or len(values.mask(text)) == len(text.strip())


@FUZZ
@given(
    text=_texts
    | st.builds(
        lambda a, b: f"{a}({b})",
        st.sampled_from(["营业收入", "revenue", "金额"]),
        st.text(max_size=10),
    )
)
def test_resolve_header_never_raises(text):
    for part in spec.PARTS:
        key, unit, error = resolve_header(part, text)
        assert key is None or key in {f.key for f in spec.part_fields(part)}
        assert unit in (None, *spec.MONEY_UNITS)
