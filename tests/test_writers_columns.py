"""The writers' column-wise paths write the bytes the cell-by-cell writing (openpyxl's for workbooks) writes.

The reference writers below convert and write one cell at a time, as the writers did before
they worked a column at a time: the workbook through openpyxl's write-only cells, the JSON and
CSV text through the module's per-value helpers. Random parts (uniform and mixed columns,
awkward text, empty values, every label and unit style) must come out byte for byte the same.
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import io
import json
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parkwh.submission import spec, writers

# ---- the reference: one cell at a time ----------------------------------------------------


def reference_xlsx(path: Path, parts, *, headers="zh", units=None, enum_labels="code", sheet_names="zh",
                   note=None, columns=None) -> Path:
    from openpyxl import Workbook

    units = dict(units or {})
    labels = writers._label_maps(enum_labels)
    workbook = Workbook(write_only=True)
    workbook.properties.created = writers.FIXED_TIMESTAMP
    workbook.properties.modified = writers.FIXED_TIMESTAMP
    workbook.properties.creator = "parkwh"
    if note:
        sheet = workbook.create_sheet(writers.NOTE_SHEET)
        for line in note.splitlines():
            sheet.append([writers.neutralise(line)] if line else [None])
    for part in writers._part_order(parts):
        rows = parts[part]
        cols = writers._Columns(part, rows, headers, units, (columns or {}).get(part))
        sheet = workbook.create_sheet(writers.PART_SHEETS_ZH[part] if sheet_names == "zh" else part)
        sheet.append(cols.headers)
        for row in rows:
            out = []
            for f in cols.fields:
                value = writers._convert(f, row.get(f.key), cols.units, labels)
                out.append(writers.neutralise(value) if isinstance(value, str) else value)
            sheet.append(out)
    buffer = io.BytesIO()
    workbook.save(buffer)
    stamp = writers.FIXED_TIMESTAMP.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source, \
            zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = writers._MODIFIED.sub(lambda m: m.group(1) + stamp + m.group(2), content)
            entry = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            entry.create_system = 0
            target.writestr(entry, content, compresslevel=6)
    path.write_bytes(out.getvalue())
    return path


def reference_json(path: Path, parts, *, headers="en", units=None, enum_labels="code", note=None,
                   base_as_object=True, columns=None) -> Path:
    units = dict(units or {})
    labels = writers._label_maps(enum_labels)
    entries = []
    if note:
        entries.append(f'\n  "_note": {json.dumps(note, ensure_ascii=False)}')
    for part in writers._part_order(parts):
        rows = parts[part]
        cols = writers._Columns(part, rows, headers, units, (columns or {}).get(part))
        keys = [json.dumps(h, ensure_ascii=False) for h in cols.headers]
        objects = []
        for row in rows:
            members = []
            for f, key in zip(cols.fields, keys):
                value = writers._convert(f, row.get(f.key), cols.units, labels)
                if value is not None:
                    members.append(f"{key}: {writers._json_value(value)}")
            objects.append("{" + ", ".join(members) + "}")
        name = json.dumps(part)
        if part == "base" and base_as_object and len(objects) == 1:
            entries.append(f"\n  {name}: {objects[0]}")
        elif objects:
            entries.append(f"\n  {name}: [\n    " + ",\n    ".join(objects) + "\n  ]")
        else:
            entries.append(f"\n  {name}: []")
    path.write_text("{" + ",".join(entries) + "\n}\n", encoding="utf-8", newline="\n")
    return path


def reference_csv(folder: Path, parts, *, headers="en", units=None, encoding="utf-8", enum_labels="code",
                  thousands=False, file_names="en", columns=None) -> Path:
    units = dict(units or {})
    labels = writers._label_maps(enum_labels)
    folder.mkdir(parents=True, exist_ok=True)
    for part in writers._part_order(parts):
        rows = parts[part]
        cols = writers._Columns(part, rows, headers, units, (columns or {}).get(part))
        groupable = [thousands and f.field_type in ("money", "integer", "decimal") for f in cols.fields]
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow([writers.neutralise(h) for h in cols.headers])
        for row in rows:
            writer.writerow([writers._csv_text(writers._convert(f, row.get(f.key), cols.units, labels), group)
                             for f, group in zip(cols.fields, groupable)])
        name = writers.PART_SHEETS_ZH[part] if file_names == "zh" else part
        (folder / f"{name}.csv").write_bytes(buffer.getvalue().encode(encoding))
    return folder


# ---- random parts ----------------------------------------------------------------------------

AWKWARD = st.sampled_from(["", " ", " 前后空格 ", "a & b", "<tag>", "x > y", "=SUM(A1)", "=", "+86 138", "-",
                           "-12.5", "@home", "#N/A", "#DIV/0!", "行一\n行二", "\t制表", "tab\t", "é ü 中文",
                           "in_park", "biomedicine", "male", "true", '"quoted"', "back\\slash"])
TEXT = st.one_of(AWKWARD, st.text(st.characters(blacklist_categories=("Cs",), max_codepoint=0x2FFF), max_size=12))
DATE = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31))
MONEY = st.one_of(st.integers(-10**15, 10**15), st.decimals(min_value=-10**12, max_value=10**12, places=2))
INTEGER = st.integers(-10**17, 10**17)
KINDS = {
    "text": TEXT, "date": DATE, "integer": INTEGER, "money": MONEY, "bool": st.booleans(),
    "decimal": st.decimals(min_value=-10**9, max_value=10**9, places=3),
    "mixed": st.one_of(TEXT, DATE, INTEGER, MONEY, st.booleans()),
}
EMPTY = st.sampled_from([None, None, ""])


@st.composite
def part_rows(draw, part: str) -> list[dict]:
    """Rows of ``part``: each column of one kind (so the fast paths run) or mixed, with empty values."""
    fields = spec.part_fields(part)
    kinds = {f.key: draw(st.sampled_from(sorted(KINDS))) for f in fields}
    count = draw(st.integers(0, 6))
    rows = []
    for _ in range(count):
        row = {}
        for f in fields:
            if draw(st.integers(0, 4)) == 0:
                if draw(st.booleans()):
                    row[f.key] = draw(EMPTY)
                continue  # a key left out
            row[f.key] = draw(KINDS[kinds[f.key]])
        rows.append(row)
    return rows


@st.composite
def submissions(draw) -> dict:
    chosen = draw(st.lists(st.sampled_from(spec.PARTS), min_size=1, max_size=4, unique=True))
    return {part: draw(part_rows(part)) for part in chosen}


UNITS = st.sampled_from([{}, {"revenue": "万元", "tax_paid": "万元", "amount": "亿元"}, {"revenue": "亿元"}])
NOTE = st.sampled_from([None, "", "合成数据", "第一行\n\n=第三行"])


def _outcome(write, path: Path, parts, **options):
    """The bytes written (a CSV folder's files in order), or the type of the error raised."""
    try:
        written = write(path, parts, **options)
    except Exception as exc:  # noqa: BLE001 - the same error must be raised by both
        gc.collect()  # openpyxl's abandoned sheet writers warn when collected: here, not in a later test
        return type(exc)
    if written.is_dir():
        return [(p.name, p.read_bytes()) for p in sorted(written.iterdir())]
    return written.read_bytes()


SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


# openpyxl leaves a sheet's writer open when a cell refuses its text (illegal characters): the
# reference's abandoned workbook warns when it is collected.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@SETTINGS
@given(parts=submissions(), units=UNITS, note=NOTE, headers=st.sampled_from(["en", "zh", "bilingual"]),
       labels=st.sampled_from(["code", "zh", "en"]), sheet_names=st.sampled_from(["en", "zh"]))
def test_workbooks_are_the_bytes_openpyxl_writes_cell_by_cell(tmp_path_factory, parts, units, note, headers,
                                                               labels, sheet_names):
    folder = tmp_path_factory.mktemp("xlsx")
    options = {"units": units, "note": note, "headers": headers, "enum_labels": labels, "sheet_names": sheet_names}
    expected = _outcome(reference_xlsx, folder / "ref.xlsx", parts, **options)
    assert _outcome(writers.write_xlsx, folder / "new.xlsx", parts, **options) == expected


@SETTINGS
@given(parts=submissions(), units=UNITS, note=NOTE, headers=st.sampled_from(["en", "zh", "bilingual"]),
       labels=st.sampled_from(["code", "zh", "en"]), base_as_object=st.booleans())
def test_json_is_the_text_written_value_by_value(tmp_path_factory, parts, units, note, headers, labels,
                                                 base_as_object):
    folder = tmp_path_factory.mktemp("json")
    options = {"units": units, "note": note, "headers": headers, "enum_labels": labels,
               "base_as_object": base_as_object}
    expected = _outcome(reference_json, folder / "ref.json", parts, **options)
    assert _outcome(writers.write_json, folder / "new.json", parts, **options) == expected


@SETTINGS
@given(parts=submissions(), units=UNITS, headers=st.sampled_from(["en", "zh", "bilingual"]),
       labels=st.sampled_from(["code", "zh", "en"]), thousands=st.booleans(),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
def test_csv_is_the_text_written_value_by_value(tmp_path_factory, parts, units, headers, labels, thousands,
                                                encoding):
    folder = tmp_path_factory.mktemp("csv")
    options = {"units": units, "headers": headers, "enum_labels": labels, "thousands": thousands,
               "encoding": encoding}
    expected = _outcome(reference_csv, folder / "ref", parts, **options)
    assert _outcome(writers.write_csv_folder, folder / "new", parts, **options) == expected


@pytest.mark.parametrize("columns", [None, {"companies": ["credit_code", "revenue"]}, {"companies": []}])
def test_chosen_and_empty_column_lists(tmp_path, columns):
    parts = {"companies": [{"credit_code": "91110000600037341L", "revenue": 12_345_600, "company_name": "示例"},
                           {"credit_code": "91110000600037341L"}]}
    for write, reference, name in ((writers.write_xlsx, reference_xlsx, "x.xlsx"),
                                   (writers.write_json, reference_json, "x.json"),
                                   (writers.write_csv_folder, reference_csv, "x")):
        (tmp_path / "new").mkdir(exist_ok=True)
        (tmp_path / "ref").mkdir(exist_ok=True)
        got = _outcome(write, tmp_path / "new" / name, parts, columns=columns)
        assert got == _outcome(reference, tmp_path / "ref" / name, parts, columns=columns), (name, columns)


def test_a_workbook_with_dates_carries_the_date_style_and_one_without_does_not(tmp_path):
    dated = {"companies": [{"credit_code": "91110000600037341L", "founded_date": dt.date(2015, 3, 1)}]}
    plain = {"companies": [{"credit_code": "91110000600037341L", "employees": 12, "revenue": Decimal("1.5")}]}
    for name, parts in (("dated", dated), ("plain", plain)):
        new = writers.write_xlsx(tmp_path / f"{name}.xlsx", parts)
        assert new.read_bytes() == reference_xlsx(tmp_path / f"{name}-ref.xlsx", parts).read_bytes()
    with zipfile.ZipFile(tmp_path / "dated.xlsx") as book:
        assert b'formatCode="yyyy-mm-dd"' in book.read("xl/styles.xml")
    with zipfile.ZipFile(tmp_path / "plain.xlsx") as book:
        assert b"yyyy-mm-dd" not in book.read("xl/styles.xml")
