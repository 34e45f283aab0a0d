"""Writes a submission in each of its three forms (.xlsx, .json, folder of CSV); the demo uses them.

A submission is given as ``parts``: part key (``base``, ``companies``, ``talent``, ``funding``)
-> list of rows, each a dict of field key -> value (``str``, ``int``, ``bool``, ``Decimal``,
``date`` or None). Money is given in yuan and written in the unit the header names, as an
exact decimal (``营业收入(万元)`` holds revenue / 10 000). Enumerations are given by code and
may be written as codes or as their Chinese or English labels.

The bytes written depend on the arguments only: no timestamps, no random names, so the same
data gives the same file (the demo's determinism rests on it). Text that a spreadsheet would
take for a formula is neutralised with a leading apostrophe.

The writers convert a part column by column (a column's values are mostly of one type, so
one check per column replaces one per cell), and a workbook's data rows are rendered as sheet
XML here rather than cell by cell through openpyxl (some 10 µs a cell even in its write-only
mode; the demo writes millions of cells). openpyxl still writes the rest of the workbook, and
the rows rendered here are the bytes its write-only mode writes for the same values.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from decimal import Decimal
from functools import lru_cache
from json.encoder import encode_basestring
from operator import itemgetter
from pathlib import Path
from typing import Iterable, Literal, Mapping, Sequence

from parkwh.submission import spec

Value = str | int | bool | Decimal | dt.date | None
Parts = Mapping[str, Sequence[Mapping[str, Value]]]
HeaderStyle = Literal["en", "zh", "bilingual"]
LabelStyle = Literal["code", "zh", "en"]

PART_SHEETS_ZH: dict[str, str] = {
    "base": "基地信息",
    "companies": "企业名录",
    "talent": "人才名录",
    "funding": "融资与资助",
}
"""Chinese sheet names of the parts (the reader accepts these or the part keys)."""

NOTE_SHEET = "说明"
"""Name of the optional first sheet holding a note; readers ignore sheets that are no part."""

FIXED_TIMESTAMP = dt.datetime(2024, 1, 1, 0, 0, 0)
"""Workbook creation and modification time: fixed, so a workbook's bytes depend on its data only."""

_ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)
"""Earliest date a zip entry can carry; every entry of a written workbook gets it."""

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""Leading characters that make spreadsheets treat a cell as a formula (OWASP CSV injection)."""

_NUMBER_TEXT = re.compile(r"[+-]?(\d[\d,]*)(\.\d+)?")


# ---------------------------------------------------------------------------- values and headers


def header(field: spec.Field, style: HeaderStyle, unit: str | None = None) -> str:
    """The column header of a field: ``revenue``, ``营业收入(万元)`` or ``营业收入(万元) / revenue``.

    Money columns name their unit in parentheses, except an English header in yuan, which is
    the unit a bare key means.
    """
    unit = unit or "元"
    if style == "en":
        return f"{field.key}({unit})" if field.is_money and unit != "元" else field.key
    zh = f"{field.label_zh}({unit})" if field.is_money else field.label_zh
    if style == "zh":
        return zh
    if style == "bilingual":
        return f"{zh} / {field.key}"
    raise ValueError(f"unknown header style {style!r}; expected 'en', 'zh' or 'bilingual'")


def money_in_unit(amount: int | Decimal, unit: str) -> Decimal:
    """An amount in yuan expressed in ``unit``, exactly (no rounding), without exponent or trailing zeros."""
    try:
        factor = spec.MONEY_UNITS[unit]
    except KeyError:
        raise ValueError(f"unknown money unit {unit!r}; expected one of {', '.join(spec.MONEY_UNITS)}") from None
    value = Decimal(amount) / factor if factor != 1 else Decimal(amount)
    # quantize to its own exponent keeps exact digits; normalize drops trailing zeros of 1200.00
    value = value.normalize()
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value


def decimal_text(value: Decimal, thousands: bool = False) -> str:
    """A Decimal in fixed notation (never ``1E+2``), optionally with thousands separators."""
    return format(value, ",f" if thousands else "f")


def neutralise(text: str) -> str:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe; numbers stay as they are."""
    if text.startswith(_FORMULA_START) and not _NUMBER_TEXT.fullmatch(text):
        return "'" + text
    return text


def _label_maps(style: LabelStyle) -> dict[str, dict[str, str]]:
    if style == "code":
        return {}
    if style not in ("zh", "en"):
        raise ValueError(f"unknown label style {style!r}; expected 'code', 'zh' or 'en'")
    return {
        name: {v.code: (v.label_zh if style == "zh" else v.label_en) for v in values}
        for name, values in spec.enums().items()
    }


class _Columns:
    """The fields a part's rows carry, in template order, with their headers and units."""

    def __init__(self, part: str, rows: Sequence[Mapping[str, Value]], style: HeaderStyle,
                 units: Mapping[str, str], columns: Iterable[str] | None):
        fields = spec.part_fields(part)
        known = {f.key for f in fields}
        if columns is None:
            present: set[str] = set()
            for row in rows:
                present.update(row)
            unknown = present - known
            if unknown:
                raise ValueError(f"{part}: {', '.join(sorted(unknown))} are not fields of the part")
            self.fields = [f for f in fields if f.key in present or f.required]
        else:
            wanted = list(columns)
            unknown = set(wanted) - known
            if unknown:
                raise ValueError(f"{part}: {', '.join(sorted(unknown))} are not fields of the part")
            by_key = {f.key: f for f in fields}
            self.fields = [by_key[k] for k in wanted]
        self.units = {f.key: units.get(f.key, "元") for f in self.fields if f.is_money}
        self.headers = [header(f, style, self.units.get(f.key)) for f in self.fields]


def _convert(field: spec.Field, value: Value, units: Mapping[str, str],
             labels: Mapping[str, Mapping[str, str]]) -> Value:
    """A value as it is written: money in its column's unit, enumerations and booleans as labelled."""
    if value is None or value == "":
        return None
    if field.is_money and isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return money_in_unit(value, units[field.key])
    if isinstance(value, bool):
        code = "true" if value else "false"
        return labels["boolean"][code] if "boolean" in labels else value
    if field.enum_name and isinstance(value, str):
        return labels.get(field.enum_name, {}).get(value, value)
    return value


_NONE = type(None)


def _kinds(column: list) -> set[type]:
    """The types of a column's values, None left out (a uniform column takes a fast path)."""
    kinds = set(map(type, column))
    kinds.discard(_NONE)
    return kinds


def _column(rows: Sequence[Mapping[str, Value]], field: spec.Field, units: Mapping[str, str],
            labels: Mapping[str, Mapping[str, str]]) -> tuple[list[Value], set[type]]:
    """One column of a part as it is written (``_convert`` of each cell), and the types in it.

    No call per cell where the column is all text, or all integers and dates outside money.
    """
    try:
        column = list(map(itemgetter(field.key), rows))
    except KeyError:  # rows may leave a field out
        column = [row.get(field.key) for row in rows]
    kinds = _kinds(column)
    if kinds == {str}:
        enum = labels.get(field.enum_name) if field.enum_name else None
        if enum:
            return [None if v is None or v == "" else enum.get(v, v) for v in column], kinds
        return ([None if v == "" else v for v in column] if "" in column else column), kinds
    if not kinds or (kinds <= {int, dt.date} and not field.is_money):
        return column, kinds
    column = [_convert(field, v, units, labels) for v in column]
    return column, _kinds(column)


@lru_cache(maxsize=65536)
def _iso_date(value: dt.date) -> str:
    return value.isoformat()


def _row_tuples(columns: list[list], count: int) -> Iterable[tuple]:
    """The rows of a part from its columns (``count`` empty rows when it has no column)."""
    return zip(*columns) if columns else [()] * count


def _part_order(parts: Parts) -> list[str]:
    unknown = set(parts) - set(spec.PARTS)
    if unknown:
        raise ValueError(f"unknown parts {', '.join(sorted(unknown))}; parts are {', '.join(spec.PARTS)}")
    return [p for p in spec.PARTS if p in parts]


# ---------------------------------------------------------------------------- .xlsx


def write_xlsx(path: Path, parts: Parts, *, headers: HeaderStyle = "zh", units: Mapping[str, str] | None = None,
               enum_labels: LabelStyle = "code", sheet_names: Literal["en", "zh"] = "zh",
               note: str | None = None, columns: Mapping[str, Iterable[str]] | None = None) -> Path:
    """Write a workbook: an optional ``说明`` sheet with ``note``, then one sheet per part.

    Dates become date cells, numbers number cells (money as exact decimals in its unit), and
    text stays text (neutralised where a spreadsheet would take it for a formula).
    """
    units = dict(units or {})
    labels = _label_maps(enum_labels)
    sheets: list[tuple[str, tuple[str, ...]]] = []
    values: list[tuple[list[tuple[list[Value], set[type]]], int]] = []
    for part in _part_order(parts):
        rows = parts[part]
        cols = _Columns(part, rows, headers, units, (columns or {}).get(part))
        sheets.append((PART_SHEETS_ZH[part] if sheet_names == "zh" else part, tuple(cols.headers)))
        values.append(([_column(rows, f, cols.units, labels) for f in cols.fields], len(rows)))
    dates = any(dt.date in kinds for part_columns, _ in values for _, kinds in part_columns)
    entries, date_style = _xlsx_frame(note or None, tuple(sheets), dates)
    cells = _XlsxCells(date_style)
    first = 2 if note else 1   # openpyxl numbers the sheets from 1, the note's first
    sheet_rows = {
        f"xl/worksheets/sheet{first + i}.xml": _sheet_rows([cells.column(*c) for c in part_columns], count)
        for i, (part_columns, count) in enumerate(values)
    }
    _write_deterministic_zip(Path(path), entries, sheet_rows)
    return Path(path)


_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


@lru_cache(maxsize=32)
def _xlsx_frame(note: str | None, sheets: tuple[tuple[str, tuple[str, ...]], ...],
                dates: bool) -> tuple[tuple[tuple[str, bytes], ...], str | None]:
    """The workbook less its data rows, written by openpyxl: its entries (name, bytes) in order,
    and the style of date cells (None without dates).

    Its bytes depend on the note, the sheets' names and headers and whether dates occur only,
    so workbooks of the same layout share it; the data rows go in with ``_write_deterministic_zip``.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    workbook.properties.created = FIXED_TIMESTAMP
    workbook.properties.modified = FIXED_TIMESTAMP
    workbook.properties.creator = "parkwh"
    if note:
        sheet = workbook.create_sheet(NOTE_SHEET)
        for line in note.splitlines():
            sheet.append([neutralise(line)] if line else [None])
    for name, header_row in sheets:
        sheet = workbook.create_sheet(name)
        sheet.append(list(header_row))
    date_style = None
    if dates:
        # A date cell sets its number format and registers its style, as openpyxl does for
        # the first date it writes (the only style a submission's cells carry).
        date_style = str(WriteOnlyCell(workbook.worksheets[-1], value=dt.date(2000, 1, 1)).style_id)
    buffer = io.BytesIO()
    workbook.save(buffer)
    # openpyxl stamps docProps/core.xml's modified time with the time of saving (it overrides
    # the workbook's property): put the fixed one back.
    stamp = FIXED_TIMESTAMP.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    entries = []
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _MODIFIED.sub(lambda m: m.group(1) + stamp + m.group(2), content)
            entries.append((info.filename, content))
    return tuple(entries), date_style


def _write_deterministic_zip(path: Path, entries: Iterable[tuple[str, bytes]],
                             sheet_rows: Mapping[str, bytes]) -> None:
    # Every entry gets the same fixed date and attributes (openpyxl stamps the time of saving),
    # and each sheet its data rows at the end of its <sheetData>.
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for name, content in entries:
            rows = sheet_rows.get(name)
            if rows:
                head, tail = content.split(b"</sheetData>", 1)
                content = b"".join((head, rows, b"</sheetData>", tail))
            entry = zipfile.ZipInfo(name, date_time=_ZIP_DATE_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            entry.create_system = 0
            target.writestr(entry, content, compresslevel=6)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue())


def _column_letters(count: int) -> list[str]:
    from openpyxl.utils import get_column_letter

    return [get_column_letter(i) for i in range(1, count + 1)]


def _sheet_rows(fragments: list[list[str | None]], count: int) -> bytes:
    """The ``<row>`` elements of the data rows (from row 2), as openpyxl's write-only mode writes them:
    a cell per value, none for an empty value, an empty row as ``<row r="n"></row>``."""
    letters = _column_letters(len(fragments))
    out = []
    for number, row in enumerate(_row_tuples(fragments, count), start=2):
        body = "".join([f'<c r="{letter}{number}{cell}' for letter, cell in zip(letters, row) if cell is not None])
        out.append(f'<row r="{number}">{body}</row>')
    return "".join(out).encode("utf-8")


@lru_cache(maxsize=65536)
def _excel_date(value: dt.date) -> str:
    from openpyxl.compat import safe_string
    from openpyxl.utils.datetime import to_excel

    return safe_string(to_excel(value))


class _XlsxCells:
    """Renders a column's values as the XML of its cells, less the opening ``<c r="A2``.

    Each form is the one openpyxl writes for the value: inline strings (``xml:space`` kept
    where the text has outer blanks), error codes, numbers as ``%.16g``, booleans, and dates
    as serial numbers with the workbook's date style.
    """

    def __init__(self, date_style: str | None) -> None:
        from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE

        self.date_style = date_style
        self.errors = frozenset(ERROR_CODES)
        self.illegal = ILLEGAL_CHARACTERS_RE
        self.outer_blank = re.compile(r"\s\n|\n\s")

    def text(self, value: str) -> str:
        from openpyxl.utils.exceptions import IllegalCharacterError

        value = value[:32767]
        if self.illegal.search(value):
            raise IllegalCharacterError(f"{value} cannot be used in worksheets.")
        if value in self.errors:
            return f'" t="e"><v>{value}</v></c>'
        escaped = value
        if "&" in escaped:
            escaped = escaped.replace("&", "&amp;")
        if "<" in escaped:
            escaped = escaped.replace("<", "&lt;")
        if ">" in escaped:
            escaped = escaped.replace(">", "&gt;")
        stripped = value.strip()
        space = ' xml:space="preserve"' if stripped and stripped != value else ""
        return f'" t="inlineStr"><is><t{space}>{escaped}</t></is></c>'

    def plain(self, texts: list[str | None]) -> bool:
        """Whether every text of a column is written as it is: no character to escape or refuse,
        no outer blanks, no error code, none too long (one search over the column, not one per cell)."""
        present = [v for v in texts if v is not None]
        if not present or max(map(len, present)) > 32767 or not self.errors.isdisjoint(present):
            return False
        joined = "\n".join(present)
        # Outer blanks: a blank next to the joining line feed, or at either end.
        if joined[0].isspace() or joined[-1].isspace() or self.outer_blank.search(joined):
            return False
        return not ("&" in joined or "<" in joined or ">" in joined or self.illegal.search(joined))

    @staticmethod
    def number(value, kind: str = "n") -> str:
        from openpyxl.compat import safe_string

        text = safe_string(value)
        return f'" t="{kind}"><v>{text}</v></c>' if text else f'" t="{kind}"><v /></c>'

    def cell(self, value: Value) -> str | None:
        if value is None or value == "":
            return None
        if isinstance(value, str):
            return self.text(neutralise(value))
        if isinstance(value, bool):
            return self.number(value, "b")
        if isinstance(value, (int, float, Decimal)):
            return self.number(value)
        if type(value) is dt.date:
            return f'" s="{self.date_style}" t="n"><v>{_excel_date(value)}</v></c>'
        raise TypeError(f"cannot write {type(value).__name__} {value!r} to a submission")

    def column(self, values: list[Value], kinds: set[type]) -> list[str | None]:
        if kinds == {str}:
            start = _FORMULA_START
            texts = [None if v is None or v == "" else neutralise(v) if v.startswith(start) else v for v in values]
            if self.plain(texts):
                return [None if v is None else f'" t="inlineStr"><is><t>{v}</t></is></c>' for v in texts]
            return [None if v is None else self.text(v) for v in texts]
        if kinds == {int}:
            # "%.16g" is how openpyxl writes a number (it goes through a float, as there).
            return [None if v is None else f'" t="n"><v>{"%.16g" % v}</v></c>' for v in values]  # noqa: UP031
        if kinds == {dt.date}:
            style = self.date_style
            return [None if v is None else f'" s="{style}" t="n"><v>{_excel_date(v)}</v></c>' for v in values]
        return [self.cell(v) for v in values]


# ---------------------------------------------------------------------------- .json


def _json_value(value: Value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, dt.date):
        return f'"{value.isoformat()}"'
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    raise TypeError(f"cannot write {type(value).__name__} {value!r} to a submission")


def _json_members(key: str, values: list[Value], kinds: set[type]) -> list[str | None]:
    """``"key": value`` of each value of a column (None where the value is empty: the member is left out)."""
    if kinds == {str}:
        # json.dumps(text, ensure_ascii=False) is this function, less building an encoder per call.
        return [None if v is None else key + encode_basestring(v) for v in values]
    if kinds == {int}:
        return [None if v is None else f"{key}{v}" for v in values]
    if kinds == {dt.date}:
        return [None if v is None else f'{key}"{_iso_date(v)}"' for v in values]
    return [None if v is None else key + _json_value(v) for v in values]


def write_json(path: Path, parts: Parts, *, headers: HeaderStyle = "en", units: Mapping[str, str] | None = None,
               enum_labels: LabelStyle = "code", note: str | None = None, base_as_object: bool = True,
               columns: Mapping[str, Iterable[str]] | None = None) -> Path:
    """Write ``{"_note": …, "base": {…}, "companies": [ … ], …}``, one row object per line.

    Numbers are JSON numbers with their exact decimal digits (money in its key's unit), dates
    ISO strings, booleans JSON booleans unless labels are asked for. Keys beginning with ``_``
    are notes, which readers ignore. Empty values are left out of a row's object.
    """
    units = dict(units or {})
    labels = _label_maps(enum_labels)
    chunks: list[str] = ["{"]
    entries: list[str] = []
    if note:
        entries.append(f'\n  "_note": {json.dumps(note, ensure_ascii=False)}')
    for part in _part_order(parts):
        rows = parts[part]
        cols = _Columns(part, rows, headers, units, (columns or {}).get(part))
        keys = [json.dumps(h, ensure_ascii=False) + ": " for h in cols.headers]
        members = [_json_members(key, *_column(rows, f, cols.units, labels)) for f, key in zip(cols.fields, keys)]
        objects = ["{" + ", ".join(filter(None, row)) + "}" for row in _row_tuples(members, len(rows))]
        name = json.dumps(part)
        if part == "base" and base_as_object and len(objects) == 1:
            entries.append(f"\n  {name}: {objects[0]}")
        elif objects:
            entries.append(f"\n  {name}: [\n    " + ",\n    ".join(objects) + "\n  ]")
        else:
            entries.append(f"\n  {name}: []")
    chunks.append(",".join(entries))
    chunks.append("\n}\n")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(chunks), encoding="utf-8", newline="\n")
    return path


# ---------------------------------------------------------------------------- CSV folder

CsvEncoding = Literal["utf-8", "utf-8-sig", "gb18030"]


def _csv_text(value: Value, thousands: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return decimal_text(value, thousands)
    if isinstance(value, int):
        return format(value, ",d") if thousands else str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return neutralise(value)
    raise TypeError(f"cannot write {type(value).__name__} {value!r} to a submission")


def _csv_column(values: list[Value], kinds: set[type], thousands: bool) -> list[str]:
    """``_csv_text`` of each value of a column."""
    if kinds == {str}:
        return ["" if v is None else neutralise(v) if v.startswith(_FORMULA_START) else v for v in values]
    if kinds == {int} and not thousands:
        return ["" if v is None else str(v) for v in values]
    if kinds == {dt.date}:
        return ["" if v is None else _iso_date(v) for v in values]
    return [_csv_text(v, thousands) for v in values]


def write_csv_folder(folder: Path, parts: Parts, *, headers: HeaderStyle = "en",
                     units: Mapping[str, str] | None = None, encoding: CsvEncoding = "utf-8",
                     enum_labels: LabelStyle = "code", thousands: bool = False,
                     file_names: Literal["en", "zh"] = "en",
                     columns: Mapping[str, Iterable[str]] | None = None) -> Path:
    """Write one CSV file per part (``base.csv``, ``companies.csv`` …) into ``folder``.

    ``thousands`` writes money and counts with thousands separators (``1,234.5``), as Excel
    exports them from a formatted sheet. Years are never grouped.
    """
    units = dict(units or {})
    labels = _label_maps(enum_labels)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for part in _part_order(parts):
        rows = parts[part]
        cols = _Columns(part, rows, headers, units, (columns or {}).get(part))
        groupable = [thousands and f.field_type in ("money", "integer", "decimal") for f in cols.fields]
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow([neutralise(h) for h in cols.headers])
        texts = [_csv_column(*_column(rows, f, cols.units, labels), group)
                 for f, group in zip(cols.fields, groupable)]
        writer.writerows(_row_tuples(texts, len(rows)))
        name = PART_SHEETS_ZH[part] if file_names == "zh" else part
        (folder / f"{name}.csv").write_bytes(buffer.getvalue().encode(encoding))
    return folder


def write_submission(path: Path, parts: Parts, **options) -> Path:
    """Write a submission in the form its path names: ``.xlsx``, ``.json``, or else a CSV folder."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return write_xlsx(path, parts, **options)
    if suffix == ".json":
        return write_json(path, parts, **options)
    return write_csv_folder(path, parts, **options)
