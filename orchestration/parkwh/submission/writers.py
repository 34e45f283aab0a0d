"""Writes a submission in each of its three forms (.xlsx, .json, folder of CSV); the demo uses them.

A submission is given as ``parts``: part key (``base``, ``companies``, ``talent``, ``funding``)
-> list of rows, each a dict of field key -> value (``str``, ``int``, ``bool``, ``Decimal``,
``date`` or None). Money is given in yuan and written in the unit the header names, as an
exact decimal (``营业收入(万元)`` holds revenue / 10 000). Enumerations are given by code and
may be written as codes or as their Chinese or English labels.

The bytes written depend on the arguments only: no timestamps, no random names, so the same
data gives the same file (the demo's determinism rests on it). Text that a spreadsheet would
take for a formula is neutralised with a leading apostrophe.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from decimal import Decimal
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
    from openpyxl import Workbook

    units = dict(units or {})
    labels = _label_maps(enum_labels)
    workbook = Workbook(write_only=True)
    workbook.properties.created = FIXED_TIMESTAMP
    workbook.properties.modified = FIXED_TIMESTAMP
    workbook.properties.creator = "parkwh"
    if note:
        sheet = workbook.create_sheet(NOTE_SHEET)
        for line in note.splitlines():
            sheet.append([neutralise(line)] if line else [None])
    for part in _part_order(parts):
        rows = parts[part]
        cols = _Columns(part, rows, headers, units, (columns or {}).get(part))
        sheet = workbook.create_sheet(PART_SHEETS_ZH[part] if sheet_names == "zh" else part)
        sheet.append(cols.headers)
        fields = cols.fields
        for row in rows:
            out = []
            for f in fields:
                value = _convert(f, row.get(f.key), cols.units, labels)
                if isinstance(value, str):
                    value = neutralise(value)
                out.append(value)
            sheet.append(out)
    buffer = io.BytesIO()
    workbook.save(buffer)
    _write_deterministic_zip(Path(path), buffer.getvalue())
    return Path(path)


_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def _write_deterministic_zip(path: Path, data: bytes) -> None:
    # openpyxl stamps each zip entry, and docProps/core.xml's modified time, with the time of
    # saving (it overrides the workbook's property): rewrite both with fixed values.
    stamp = FIXED_TIMESTAMP.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _MODIFIED.sub(lambda m: m.group(1) + stamp + m.group(2), content)
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_DATE_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            entry.create_system = 0
            target.writestr(entry, content, compresslevel=6)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue())


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
        keys = [json.dumps(h, ensure_ascii=False) for h in cols.headers]
        fields = cols.fields
        objects = []
        for row in rows:
            members = []
            for f, key in zip(fields, keys):
                value = _convert(f, row.get(f.key), cols.units, labels)
                if value is not None:
                    members.append(f"{key}: {_json_value(value)}")
            objects.append("{" + ", ".join(members) + "}")
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
        fields = cols.fields
        for row in rows:
            writer.writerow([
                _csv_text(_convert(f, row.get(f.key), cols.units, labels), group)
                for f, group in zip(fields, groupable)
            ])
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
