"""Reads a submission in any of its forms (.xlsx, .json, folder of CSV) into one ``Submission``.

The reader keeps every value as text, as submitted (trimmed; Excel dates as ``YYYY-MM-DD``,
whole numbers without ``.0``): parsing and checking belong to ``validate`` and to staging, so
what lands in ``raw`` is what the base sent. The reader raises ``SubmissionError`` only, and
only when the file is no submission at all; everything else it finds (unknown or duplicate
columns, a part given twice) it records in ``Submission.problems`` for the validator to report.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import operator
import os
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from parkwh.submission import spec
from parkwh.submission.errors import ERROR, WARNING, Problem, SubmissionError
from parkwh.submission.values import BadValue, match_key, parse_base_code, parse_year

if TYPE_CHECKING:
    import pyarrow

FORMS = ("xlsx", "json", "csv")

PART_NAMES_ZH: dict[str, str] = {
    "base": "基地信息",
    "companies": "企业名录",
    "talent": "人才名录",
    "funding": "融资与资助",
}
"""Chinese names of the parts, as sheet names and CSV file names."""

EXPERT_SCORES = "expert_scores"
EXPERT_SCORES_NAMES = ("expert_scores", "专家评分")
"""Stems under which the committee's expert score file is recognised."""

EXPERT_SCORE_FIELDS: tuple[spec.Field, ...] = (
    spec.Field(
        EXPERT_SCORES,
        "base_code",
        "基地代码",
        "Base code",
        "base_code",
        None,
        True,
        False,
        "The scored base",
    ),
    spec.Field(
        EXPERT_SCORES,
        "expert_id",
        "专家编号",
        "Expert ID",
        "text",
        None,
        True,
        False,
        "The expert, by an identifier the committee assigns",
    ),
    spec.Field(
        EXPERT_SCORES,
        "score",
        "专家评分",
        "Score",
        "decimal",
        None,
        True,
        False,
        "The expert's score of the base, 0 to 100",
    ),
)

_EXTRA_NAMES: dict[tuple[str, str], tuple[str, ...]] = {
    (EXPERT_SCORES, "expert_id"): ("专家", "专家代码", "专家ID"),
    (EXPERT_SCORES, "score"): ("评分", "得分", "分数"),
}
"""Further header spellings a person is likely to use, beyond key and labels."""

_UNITS: dict[str, str] = {}
for _unit, _spellings in {
    "元": ("元", "yuan", "rmb", "cny", "人民币", "人民币元", "rmbyuan"),
    "万元": (
        "万元",
        "万",
        "10kyuan",
        "10,000yuan",
        "10000yuan",
        "tenthousandyuan",
        "rmb10k",
        "10krmb",
        "人民币万元",
        "万元人民币",
    ),
    "亿元": (
        "亿元",
        "亿",
        "100myuan",
        "100millionyuan",
        "100,000,000yuan",
        "100000000yuan",
        "人民币亿元",
        "亿元人民币",
    ),
}.items():
    for _spelling in _spellings:
        _UNITS[match_key(_spelling)] = _unit

_WHITESPACE = re.compile(r"\s+")
_PARENTHETICAL = re.compile(r"^(?P<base>.*?)\s*[(\[](?P<inner>[^()\[\]]*)[)\]]\s*$", re.S)


@dataclass
class Limits:
    """How large a file the reader opens, so a hostile file cannot exhaust memory."""

    max_file_bytes: int = 50 * 1024 * 1024
    max_inflated_bytes: int = 200 * 1024 * 1024

    @classmethod
    def from_env(cls) -> "Limits":
        """Defaults, overridden by ``PARKWH_MAX_FILE_BYTES`` and ``PARKWH_MAX_INFLATED_BYTES``."""
        limits = cls()
        for attr, var in (
            ("max_file_bytes", "PARKWH_MAX_FILE_BYTES"),
            ("max_inflated_bytes", "PARKWH_MAX_INFLATED_BYTES"),
        ):
            raw = os.environ.get(var, "").strip()
            if raw:
                try:
                    setattr(limits, attr, int(raw))
                except ValueError:
                    raise ValueError(f"{var} must be a number of bytes, got {raw!r}") from None
        return limits


@dataclass
class Row:
    number: int
    """The row number a person sees: sheet row (header = 1), CSV line, JSON index + 1."""
    values: dict[str, str | None]
    """Field key -> text as submitted; only fields whose column is present."""


@dataclass
class PartData:
    part: str
    headers: dict[str, str]
    """Field key -> header exactly as submitted."""
    units: dict[str, str]
    """Money field key -> '元' | '万元' | '亿元' (元 where the header names none)."""
    rows: list[Row]
    source: str | None = None
    """The sheet, CSV file or JSON key the part came from."""
    header_row: int | None = None

    def fields(self) -> tuple[spec.Field, ...]:
        return fields_of(self.part)

    def to_arrow(self) -> "pyarrow.Table":
        """``source_row``, one string column per field of the part (null where absent), ``<money>_unit``."""
        import pyarrow as pa

        fields = self.fields()
        columns: dict[str, Any] = {
            "source_row": pa.array([r.number for r in self.rows], type=pa.int32())
        }
        rows = [r.values for r in self.rows]
        # The columns present are taken from every row at once (rows as the reader makes them
        # hold each present key); a row without one of them takes the slow path.
        present = [f.key for f in fields if f.key in self.headers]
        taken: dict[str, Any] = {}
        if len(present) > 1 and rows:
            try:
                taken = dict(zip(present, zip(*map(operator.itemgetter(*present), rows))))
            except KeyError:
                taken = {}
        for f in fields:
            key = f.key
            values = taken[key] if key in taken else [v.get(key) for v in rows]
            columns[key] = pa.array(values, type=pa.string())
        for f in fields:
            if f.is_money:
                unit = self.units.get(f.key) if f.key in self.headers else None
                columns[f"{f.key}_unit"] = pa.array([unit] * len(self.rows), type=pa.string())
        return pa.table(columns)


@dataclass
class Submission:
    path: Path
    form: str
    base_code: str | None
    reporting_year: int | None
    sha256: str
    parts: dict[str, PartData]
    problems: list[Problem] = field(default_factory=list)
    """What the reader found wrong with the layout (unknown or duplicate columns …)."""
    named_base_code: str | None = None
    """The base code the file or folder name gives (``<base_code>.xlsx``), if it gives one."""
    named_reporting_year: int | None = None
    """The reporting year the inbox folder gives (``<year>/…``), if it gives one."""
    ignored: list[str] = field(default_factory=list)
    """Sheets, CSV files or JSON keys that are not a part (an instructions sheet …)."""


def fields_of(part: str) -> tuple[spec.Field, ...]:
    """The fields of a part of a submission, or of the expert score file."""
    return EXPERT_SCORE_FIELDS if part == EXPERT_SCORES else spec.part_fields(part)


# ---------------------------------------------------------------------------- names


def _name_key(name: str) -> str:
    # Sheet and file names: NFKC, case-folded, only letters and digits (CJK included).
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", name).casefold())


def part_for_name(name: str) -> str | None:
    """The part a sheet, CSV file stem or JSON key names: ``companies``, ``企业名录``, ``企业名录 companies``."""
    key = _name_key(name)
    for part in spec.PARTS:
        zh = _name_key(PART_NAMES_ZH[part])
        if key in (part, zh, zh + part, part + zh):
            return part
    return None


_NAMES_BY_PART: dict[str, tuple[object, dict[str, str], frozenset[str]]] = {}
"""Per part: (the spec's fields it was built from, header spellings, money keys)."""


def _header_names(part: str) -> tuple[dict[str, str], frozenset[str]]:
    """The part's header spellings (``_field_names``) and money field keys, built once per part.

    Kept while the spec's field list is the same object (a test that changes the seeds clears
    the spec's cache, and so these are built again); callers must not modify them.
    """
    source = spec.fields()
    held = _NAMES_BY_PART.get(part)
    if held is None or held[0] is not source:
        money = frozenset(f.key for f in fields_of(part) if f.is_money)
        held = _NAMES_BY_PART[part] = (source, _field_names(part), money)
    return held[1], held[2]


def _field_names(part: str) -> dict[str, str]:
    names: dict[str, str] = {}
    for f in fields_of(part):
        spellings = [f.key, f.label_zh, f.label_en, *_EXTRA_NAMES.get((part, f.key), ())]
        for label in (f.label_zh, f.label_en):
            m = _PARENTHETICAL.match(unicodedata.normalize("NFKC", label))
            if m:
                spellings.append(m["base"])
        for spelling in spellings:
            names.setdefault(match_key(spelling), f.key)
    return names


def unit_for(text: str) -> str | None:
    """The money unit a header's parenthetical names (``万元``, ``10k yuan`` …), or None."""
    return _UNITS.get(match_key(text))


def resolve_header(part: str, header: str) -> tuple[str | None, str | None, str | None]:
    """(field key, unit, error) for one header; key None when the header names no field of the part.

    Accepts the key (``revenue``), the Chinese or English label (``营业收入``), either with a unit
    in parentheses (``营业收入(万元)``, ``revenue (10k yuan)``), and the template's bilingual form
    ``营业收入(万元) / revenue``. The error is set when a money header names an unknown unit.
    """
    text = _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", header)).strip()
    names, money = _header_names(part)

    def single(side: str) -> tuple[str | None, str | None, str | None]:
        key = names.get(match_key(side))
        if key:
            return key, None, None
        m = _PARENTHETICAL.match(side)
        if not m:
            return None, None, None
        key = names.get(match_key(m["base"]))
        if key is None:
            return None, None, None
        if key not in money:
            return key, None, None  # e.g. 'employees (人)': the parenthetical is a note
        unit = unit_for(m["inner"])
        if unit is None:
            return key, None, f"unit {m['inner']!r} is not one of 元, 万元, 亿元"
        return key, unit, None

    found = single(text)
    if found[0] or "/" not in text and "|" not in text:
        return found
    key = unit = error = None
    for side in re.split(r"[/|]", text):
        side = side.strip()
        if not side:
            continue
        side_key, side_unit, side_error = single(side)
        if side_key is None:
            # '营业收入/万元': a bare unit as one side of the header.
            side_unit = unit_for(side)
            if side_unit and unit is None:
                unit = side_unit
            continue
        if key is not None and side_key != key:
            return None, None, None
        key = side_key
        unit = unit or side_unit
        error = error or side_error
    if key and key not in money:
        unit = None
    return key, unit, error


# ---------------------------------------------------------------------------- cells


def _float_text(value: float) -> str:
    # Excel keeps 15 significant digits; beyond that the float's digits are noise (0.1+0.2).
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    text = format(Decimal(repr(float(f"{value:.15g}"))), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _cell_text(value: Any) -> str | None:
    """An Excel cell (as python-calamine returns it) as text, the way a person sees it."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, dt.datetime):
        # Every date field is a day; a time of day typed along with it carries nothing.
        return value.date().isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value).strip() or None


# ---------------------------------------------------------------------------- parts


@dataclass
class _Table:
    """A part as laid out in a file: headers by column and rows of cells, before mapping to fields."""

    part: str
    source: str
    headers: list[str | None]
    header_row: int | None
    records: list[tuple[int, list[str | None]]]
    cell_problems: list[Problem] = field(default_factory=list)


def _build_part(file: str, table: _Table) -> tuple[PartData, list[Problem]]:
    part = table.part
    labels = {f.key: f.label_zh for f in fields_of(part)}
    problems = list(table.cell_problems)
    columns: dict[str, int] = {}
    headers: dict[str, str] = {}
    units: dict[str, str] = {}
    money = {f.key for f in fields_of(part) if f.is_money}
    for index, header in enumerate(table.headers):
        if header is None or not header.strip():
            continue
        key, unit, error = resolve_header(part, header)
        if key is None:
            problems.append(
                Problem(
                    file,
                    part,
                    table.header_row,
                    None,
                    None,
                    header,
                    "unknown_column",
                    f"column {header!r} is not a field of {part}; it is ignored",
                    WARNING,
                )
            )
            continue
        if key in columns:
            problems.append(
                Problem(
                    file,
                    part,
                    table.header_row,
                    key,
                    labels[key],
                    header,
                    "duplicate_header",
                    f"column {header!r} gives the same field as column {headers[key]!r}; "
                    "expected each field once (the first is read)",
                    ERROR,
                )
            )
            continue
        if error:
            problems.append(
                Problem(
                    file,
                    part,
                    table.header_row,
                    key,
                    labels[key],
                    header,
                    "unknown_unit",
                    f"{error}; expected a header such as '{labels[key]}(万元)'",
                    ERROR,
                )
            )
        columns[key] = index
        headers[key] = header
        if key in money:
            units[key] = unit or "元"
    rows = []
    keys = tuple(columns)
    indexes = tuple(columns.values())
    width = max(indexes, default=-1) + 1
    # One C-level call takes a row's cells by column; a short row (cells missing at its end)
    # takes the slow path.
    take = operator.itemgetter(*indexes) if len(indexes) > 1 else None
    for number, cells in table.records:
        if cells.count(None) == len(cells):
            continue
        if take is not None and len(cells) >= width:
            values = dict(zip(keys, take(cells)))
        else:
            values = {key: (cells[i] if i < len(cells) else None) for key, i in columns.items()}
        rows.append(Row(number, values))
    return PartData(part, headers, units, rows, table.source, table.header_row), problems


def _tables_to_parts(file: str, tables: list[_Table]) -> tuple[dict[str, PartData], list[Problem]]:
    parts: dict[str, PartData] = {}
    problems: list[Problem] = []
    for table in tables:
        if table.part in parts:
            problems.append(
                Problem(
                    file,
                    table.part,
                    None,
                    None,
                    None,
                    table.source,
                    "duplicate_part",
                    f"{table.source!r} holds the part {table.part} again (already read from "
                    f"{parts[table.part].source!r}); expected each part once; it is ignored",
                )
            )
            continue
        parts[table.part], found = _build_part(file, table)
        problems.extend(found)
    return parts, problems


def _grid_table(part: str, source: str, grid: Iterable[list[str | None]], first_row: int) -> _Table:
    """A part from a grid of cells: the first non-empty row is the header row."""
    headers: list[str | None] | None = None
    header_row = None
    records: list[tuple[int, list[str | None]]] = []
    for number, cells in enumerate(grid, start=first_row):
        if cells.count(None) == len(cells):
            continue
        if headers is None:
            headers, header_row = cells, number
            continue
        records.append((number, cells))
    return _Table(part, source, headers or [], header_row, records)


# ---------------------------------------------------------------------------- files


def _fail(path: Path, rule: str, message: str) -> SubmissionError:
    return SubmissionError(Problem(str(path), None, None, None, None, None, rule, message))


def _check_size(path: Path, size: int, limits: Limits) -> None:
    if size == 0:
        raise _fail(path, "empty_file", "the file is empty; expected a submission")
    if size > limits.max_file_bytes:
        raise _fail(
            path,
            "file_too_large",
            f"the file is {size / 1e6:.1f} MB, over the limit of {limits.max_file_bytes / 1e6:.1f} MB",
        )


def _read_bytes(path: Path, limits: Limits) -> bytes:
    try:
        size = path.stat().st_size
        _check_size(path, size, limits)
        return path.read_bytes()
    except OSError as exc:
        raise _fail(
            path, "unreadable_file", f"cannot read the file: {exc.strerror or exc}"
        ) from None


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes; of a CSV folder, over its CSV files sorted by name.

    For a folder each file contributes ``name NUL size NUL bytes`` (name in UTF-8), so renaming
    or moving bytes between files changes the digest.
    """
    path = Path(path)
    digest = hashlib.sha256()
    if path.is_dir():
        for member in sorted(_csv_files(path), key=lambda p: p.name):
            data = member.read_bytes()
            digest.update(member.name.encode("utf-8") + b"\0" + str(len(data)).encode() + b"\0")
            digest.update(data)
        return digest.hexdigest()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _csv_files(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".csv"]


# .xlsx ------------------------------------------------------------------------


def _check_zip(path: Path, data: bytes, limits: Limits) -> None:
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise _fail(
            path,
            "not_a_workbook",
            "this is an old .xls or a password-protected workbook, not an .xlsx; "
            "save it as an Excel workbook (.xlsx) without a password",
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        raise _fail(
            path,
            "not_a_workbook",
            "not an Excel workbook (.xlsx is a zip archive, and this file is not one)",
        ) from None
    # Declared sizes only: inflating to measure would be the very attack this guards against.
    inflated = sum(info.file_size for info in infos)
    if inflated > limits.max_inflated_bytes:
        raise _fail(
            path,
            "zip_bomb",
            f"the workbook would inflate to {inflated / 1e6:.0f} MB, over the limit of "
            f"{limits.max_inflated_bytes / 1e6:.0f} MB",
        )
    names = {info.filename for info in infos}
    if "xl/workbook.xml" not in names and "xl/workbook.bin" not in names:
        raise _fail(
            path, "not_a_workbook", "a zip archive but not an Excel workbook (no xl/workbook.xml)"
        )


def _calamine_failure(exc: BaseException) -> bool:
    # python-calamine reports Rust panics as PanicException, a BaseException: treat them as unreadable.
    return not isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit))


def _read_xlsx(path: Path, data: bytes, limits: Limits) -> tuple[list[_Table], list[str]]:
    import python_calamine

    _check_zip(path, data, limits)
    tables: list[_Table] = []
    ignored: list[str] = []
    try:
        # calamine reads the cached value of a formula cell and never evaluates formulas.
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        for meta in workbook.sheets_metadata:
            part = part_for_name(meta.name)
            if part is None or meta.typ != python_calamine.SheetTypeEnum.WorkSheet:
                ignored.append(meta.name)
                continue
            sheet = workbook.get_sheet_by_name(meta.name)
            # iter_rows starts at row 1 (leading blank rows included), so numbers are those Excel
            # shows; it yields row by row, so blank rows cost nothing to keep.
            # Text cells (most of them) are trimmed here, without a call for each.
            grid = (
                [(v.strip() or None) if type(v) is str else _cell_text(v) for v in row]
                for row in sheet.iter_rows()
            )
            tables.append(_grid_table(part, meta.name, grid, first_row=1))
    except BaseException as exc:  # noqa: BLE001 - see _calamine_failure
        if not _calamine_failure(exc):
            raise
        raise _fail(
            path,
            "not_a_workbook",
            f"the workbook cannot be read ({type(exc).__name__}: {_short(exc)})",
        ) from None
    return tables, ignored


def _short(exc: BaseException, limit: int = 160) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# .json ------------------------------------------------------------------------


_DUPLICATE = "\0duplicate\0"
"""Suffix that marks the second occurrence of a key in one JSON object (json keeps only the last)."""


def _json_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) == len(pairs):
        return out  # no key twice: the common case, built in one call
    out = {}
    for key, value in pairs:
        out[key + _DUPLICATE + str(len(out)) if key in out else key] = value
    return out


def _json_cell(value: Any) -> tuple[str | None, bool]:
    """(text, is_scalar) for one JSON value; numbers keep their literal text."""
    if value is None:
        return None, True
    if isinstance(value, bool):
        return ("true" if value else "false"), True
    if isinstance(value, str):
        return value.strip() or None, True
    return json.dumps(value, ensure_ascii=False)[:200], False


def _parse_json(path: Path, data: bytes) -> Any:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _fail(
            path, "bad_json", f"not UTF-8 text (byte {exc.start}); JSON must be UTF-8"
        ) from None
    try:
        # Numbers stay the literal text submitted: '1234.50' must not become 1234.5.
        return json.loads(
            text, parse_float=str, parse_int=str, parse_constant=str, object_pairs_hook=_json_pairs
        )
    except RecursionError:
        raise _fail(
            path,
            "bad_json",
            "the JSON is nested too deeply; expected an object of parts, each a list of rows",
        ) from None
    except json.JSONDecodeError as exc:
        # An unterminated string is reported where it starts, but it too means the file stops short.
        cut_short = exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string")
        what = "truncated" if cut_short else "not valid JSON"
        raise _fail(
            path, "bad_json", f"{what}: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except ValueError as exc:  # e.g. an integer literal too long to convert
        raise _fail(path, "bad_json", f"not valid JSON: {_short(exc)}") from None


def _json_table(path: Path, part: str, key: str, value: Any) -> _Table:
    file = str(path)
    problems: list[Problem] = []
    if part == "base" and isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        problems.append(
            Problem(
                file,
                part,
                None,
                None,
                None,
                None,
                "bad_part_shape",
                f"{key!r} is a {_json_kind(value)}; expected a list of objects, one per row",
            )
        )
        value = []
    columns: list[str] = []
    seen: dict[str, int] = {}
    records: list[tuple[int, list[str | None]]] = []
    objects: list[tuple[int, dict]] = []
    for index, item in enumerate(value, start=1):
        if not isinstance(item, dict):
            problems.append(
                Problem(
                    file,
                    part,
                    index,
                    None,
                    None,
                    None,
                    "bad_part_shape",
                    f"row {index} is a {_json_kind(item)}; expected an object of field: value",
                )
            )
            continue
        objects.append((index, item))
        for raw_key in item:
            if _DUPLICATE in raw_key:
                name = raw_key.split(_DUPLICATE)[0]
                problems.append(
                    Problem(
                        file,
                        part,
                        index,
                        None,
                        None,
                        name,
                        "duplicate_header",
                        f"key {name!r} occurs twice in one object; expected each field once",
                    )
                )
                continue
            if raw_key not in seen:
                seen[raw_key] = len(columns)
                columns.append(raw_key)
    for index, item in objects:
        cells: list[str | None] = [None] * len(columns)
        for raw_key, raw_value in item.items():
            position = seen.get(raw_key)
            if position is None:
                continue
            if type(raw_value) is str:  # the common case, without a call (numbers are str too)
                cells[position] = raw_value.strip() or None
                continue
            text, scalar = _json_cell(raw_value)
            if not scalar:
                key, _, _ = resolve_header(part, raw_key)
                label = {f.key: f.label_zh for f in fields_of(part)}.get(key) if key else None
                problems.append(
                    Problem(
                        file,
                        part,
                        index,
                        key or raw_key,
                        label,
                        text,
                        "not_a_scalar",
                        f"the value is a {_json_kind(raw_value)}; expected text or a number",
                    )
                )
            cells[position] = text
        records.append((index, cells))
    return _Table(part, key, list(columns), None, records, problems)


def _json_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "list"
    if value is None:
        return "null"
    return "text or number"


def _read_json(path: Path, data: bytes) -> tuple[list[_Table], list[str]]:
    document = _parse_json(path, data)
    if not isinstance(document, dict):
        raise _fail(
            path,
            "no_parts",
            f"the JSON is a {_json_kind(document)}; expected an object with "
            "the keys base, companies, talent and funding",
        )
    tables, ignored = [], []
    for key, value in document.items():
        name = key.split(_DUPLICATE)[0]
        part = part_for_name(name)
        if part is None:
            ignored.append(name)
            continue
        tables.append(_json_table(path, part, name, value))
    return tables, ignored


# CSV --------------------------------------------------------------------------


def decode_text(path: Path, data: bytes, member: str | None = None) -> str:
    """CSV text: UTF-8 (with or without BOM), else GB18030, which Excel on Chinese Windows writes as GBK.

    ``path`` is the submission named in errors; ``member`` the CSV file within a folder.
    """
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\0" in text:
            break  # UTF-16 or binary: decodes, but is not the text a CSV holds
        return text
    raise _fail(
        path,
        "bad_encoding",
        (f"{member}: " if member else "")
        + "not a text CSV in UTF-8 or GB18030/GBK; save it from Excel as 'CSV UTF-8' or 'CSV'",
    )


def _csv_grid(path: Path, text: str, member: str | None) -> Iterable[tuple[int, list[str | None]]]:
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    line = 1
    try:
        for record in reader:
            yield line, [c.strip() or None for c in record]
            line = reader.line_num + 1
    except csv.Error as exc:
        where = f"{member} line {reader.line_num}" if member else f"line {reader.line_num}"
        raise _fail(path, "unreadable_file", f"{where}: not valid CSV ({exc})") from None


def _csv_table(path: Path, part: str, data: bytes, member: Path | None = None) -> _Table:
    """A part from CSV bytes; ``path`` is the submission, ``member`` the file within its folder."""
    name = member.name if member else None
    text = decode_text(path, data, name)
    headers: list[str | None] | None = None
    header_row = None
    records = []
    for number, cells in _csv_grid(path, text, name):
        if headers is None:
            if any(c is not None for c in cells):
                headers, header_row = cells, number
            continue
        records.append((number, cells))
    return _Table(part, name or path.name, headers or [], header_row, records)


def _read_csv_folder(path: Path, limits: Limits) -> tuple[list[_Table], list[str]]:
    try:
        members = sorted(_csv_files(path), key=lambda p: p.name)
        size = sum(p.stat().st_size for p in members)
    except OSError as exc:
        raise _fail(
            path, "unreadable_file", f"cannot read the folder: {exc.strerror or exc}"
        ) from None
    if size > limits.max_file_bytes:
        raise _fail(
            path,
            "file_too_large",
            f"the CSV files add up to {size / 1e6:.1f} MB, over the "
            f"limit of {limits.max_file_bytes / 1e6:.1f} MB",
        )
    tables, ignored = [], []
    for member in members:
        part = part_for_name(member.stem)
        if part is None:
            ignored.append(member.name)
            continue
        try:
            data = member.read_bytes()
        except OSError as exc:
            raise _fail(
                path, "unreadable_file", f"{member.name}: cannot read: {exc.strerror or exc}"
            ) from None
        tables.append(_csv_table(path, part, data, member))
    return tables, ignored


# ---------------------------------------------------------------------------- entry points


def _named(path: Path) -> tuple[str | None, int | None]:
    """Base code and year from the inbox layout ``<year>/<base_code>.<ext>`` or ``<year>/<base_code>/``."""
    stem = path.name if path.is_dir() else path.stem
    try:
        code = parse_base_code(stem) if re.fullmatch(r"[A-Za-z]{2}\d{3}", stem) else None
    except BadValue:
        code = None
    parent = path.resolve().parent.name
    year = int(parent) if re.fullmatch(r"(19|20)[0-9]{2}", parent) else None
    return code, year


def form_of(path: Path) -> str | None:
    """'xlsx', 'json' or 'csv' (a folder), or None for anything else."""
    if path.is_dir():
        return "csv"
    suffix = path.suffix.lower()
    return {".xlsx": "xlsx", ".xlsm": "xlsx", ".json": "json"}.get(suffix)


def read_submission(path: Path, *, limits: Limits | None = None) -> Submission:
    """Read a submission in any form; raises ``SubmissionError`` (only) when it is none at all."""
    path = Path(path)
    limits = limits or Limits.from_env()
    if not path.exists():
        raise _fail(path, "unreadable_file", "no such file or folder")
    form = form_of(path)
    if form is None:
        hint = (
            " (a CSV submission is a folder of CSV files, one per part)"
            if path.suffix.lower() == ".csv"
            else ""
        )
        raise _fail(
            path,
            "unsupported_form",
            f"expected an .xlsx workbook, a .json file or a folder of CSV files{hint}",
        )
    if form == "csv":
        tables, ignored = _read_csv_folder(path, limits)
    else:
        data = _read_bytes(path, limits)
        tables, ignored = (
            _read_xlsx(path, data, limits) if form == "xlsx" else _read_json(path, data)
        )
    if not tables:
        where = {"xlsx": "sheets", "json": "keys", "csv": "CSV files"}[form]
        found = ", ".join(repr(n) for n in ignored[:8]) or "none"
        raise _fail(
            path,
            "no_parts",
            f"no part of a submission found; expected {where} named base, companies, talent, "
            f"funding (or 基地信息, 企业名录, 人才名录, 融资与资助); found {found}",
        )
    parts, problems = _tables_to_parts(str(path), tables)
    named_code, named_year = _named(path)
    base_code, reporting_year = named_code, named_year
    base = parts.get("base")
    if base and base.rows:
        first = base.rows[0].values
        if base_code is None and first.get("base_code"):
            try:
                base_code = parse_base_code(first["base_code"])
            except BadValue:
                pass
        if reporting_year is None and first.get("reporting_year"):
            try:
                reporting_year = parse_year(first["reporting_year"])
            except BadValue:
                pass
    return Submission(
        path=path,
        form=form,
        base_code=base_code,
        reporting_year=reporting_year,
        sha256=file_sha256(path),
        parts=parts,
        problems=problems,
        named_base_code=named_code,
        named_reporting_year=named_year,
        ignored=ignored,
    )


def is_expert_scores(path: Path) -> bool:
    """Whether a path is the committee's expert score file (``expert_scores.csv``)."""
    path = Path(path)
    return path.suffix.lower() == ".csv" and _name_key(path.stem) in {
        _name_key(n) for n in EXPERT_SCORES_NAMES
    }


def read_expert_scores_table(
    path: Path, *, limits: Limits | None = None
) -> tuple[PartData, list[Problem]]:
    """The expert score CSV as read, with the layout problems found; no value checks."""
    path = Path(path)
    limits = limits or Limits.from_env()
    data = _read_bytes(path, limits)
    table = _csv_table(path, EXPERT_SCORES, data)
    table.source = path.name
    return _build_part(str(path), table)


def read_expert_scores(
    path: Path, *, limits: Limits | None = None
) -> tuple[PartData, list[Problem]]:
    """``expert_scores.csv`` (base_code, expert_id, score) and every problem with it, values checked."""
    from parkwh.submission.validate import sort_problems, validate_expert_scores

    part, problems = read_expert_scores_table(path, limits=limits)
    return part, sort_problems(problems + validate_expert_scores(str(path), part))
