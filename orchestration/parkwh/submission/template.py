"""The blank submission workbook a base fills in: sheets, headers, dropdowns and checks, all from the spec."""

from __future__ import annotations

import datetime as dt
import os
import re
import unicodedata
from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from parkwh.submission import spec
from parkwh.submission.reader import PART_NAMES_ZH
# The template's checks mirror the validator's ranges, so Excel warns about what validate refuses.
from parkwh.submission.validate import (
    EARLIEST_BIRTH_YEAR,
    EARLIEST_DATE,
    EARLIEST_YEAR,
    FIRST_REPORTING_YEAR,
)

INSTRUCTIONS_SHEET = "填报说明 instructions"
LISTS_SHEET = "lists"
DEFAULT_MONEY_UNIT = "万元"
"""Bases keep their books in 万元, so the template's money headers start there."""

EXCEL_LAST_ROW = 1_048_576
DATE_FORMAT = "yyyy-mm-dd"
TEXT_FORMAT = "@"

# Columns Excel must keep as text: it would otherwise drop leading zeros, round 18-digit
# numbers to 15 significant digits, or turn codes into dates.
_TEXT_TYPES = frozenset({"text", "base_code", "credit_code", "id_number", "phone"})

_REQUIRED_FILL = PatternFill("solid", fgColor="FCE4D6")
_OPTIONAL_FILL = PatternFill("solid", fgColor="EDEDED")
_REQUIRED_FONT = Font(bold=True, color="C00000")
_OPTIONAL_FONT = Font(bold=False, color="404040")
_TITLE_FONT = Font(bold=True, size=14)
_SECTION_FONT = Font(bold=True)
_SECTION_FILL = PatternFill("solid", fgColor="DDEBF7")

_MIN_WIDTH_BY_TYPE = {
    "date": 12,
    "credit_code": 22,
    "id_number": 22,
    "phone": 14,
    "money": 14,
    "text": 16,
    "province": 16,
}
_MAX_COLUMN_WIDTH = 30


class TemplateError(ValueError):
    """A request for a template that cannot be honoured (bad year, base code or unit)."""


def sheet_name(part: str) -> str:
    """The bilingual sheet name of a part, e.g. ``企业名录 companies``."""
    return f"{PART_NAMES_ZH[part]} {part}"


def header(field: spec.Field, money_unit: str = DEFAULT_MONEY_UNIT) -> str:
    """The bilingual header of a field: ``<中文标签>(<unit>) / <key>`` for money, else ``<中文标签> / <key>``."""
    if field.is_money:
        return f"{field.label_zh}({money_unit}) / {field.key}"
    return f"{field.label_zh} / {field.key}"


def list_name(field: spec.Field) -> str | None:
    """The dropdown list a field draws from: an enumeration name, ``province``, or None."""
    if field.field_type == "province":
        return "province"
    if field.field_type == "boolean":
        return "boolean"
    return field.enum_name


def list_labels(name: str) -> list[str]:
    """The labels offered in a dropdown: enumeration labels in Chinese, provinces' full names."""
    if name == "province":
        return [p.name_zh for p in spec.provinces()]
    return [value.label_zh for value in spec.enums()[name]]


def _display_width(text: str) -> int:
    # East Asian wide characters take two columns in every spreadsheet's default font.
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _column_width(field: spec.Field, money_unit: str) -> float:
    label_width = _display_width(header(field, money_unit))
    # Headers wrap onto two lines, so half their width (plus padding) is enough.
    width = max(label_width / 2 + 3, _MIN_WIDTH_BY_TYPE.get(field.field_type, 10))
    return float(min(width, _MAX_COLUMN_WIDTH))


def _excel_serial(day: dt.date) -> int:
    # Validation bounds are stored as Excel day numbers; to_excel knows its 1900 leap-year bug.
    return int(to_excel(day))


def _comment(field: spec.Field, money_unit: str) -> Comment:
    lines = [
        field.label_en,
        field.description,
        "必填 / required" if field.required else "选填 / optional",
    ]
    if field.is_money:
        lines.append(f"单位 / unit: {money_unit} (元, 万元 or 亿元: change it in the header)")
    if field.personal:
        lines.append("个人信息，不公开 / personal data, never published")
    comment = Comment("\n".join(lines), "parkwh")
    comment.width = 320
    comment.height = 140
    return comment


def _warning(dv: DataValidation, title: str, message: str) -> DataValidation:
    # Warnings, not stops: the template guides, `parkwh validate` decides. A stop would also
    # refuse notations the validator accepts (a province's short name, "1.2万", an English label).
    dv.errorStyle = "warning"
    dv.showErrorMessage = True
    dv.errorTitle = title[:32]
    dv.error = message[:255]
    dv.showInputMessage = True
    dv.promptTitle = title[:32]
    dv.prompt = message[:255]
    return dv


def _validation(
    field: spec.Field, year: int, list_refs: dict[str, str]
) -> DataValidation | None:
    """The data validation of one field's column, or None where Excel has nothing useful to check."""
    name = list_name(field)
    if name is not None:
        dv = DataValidation(type="list", formula1=list_refs[name], allow_blank=True)
        return _warning(dv, field.label_zh, "请从下拉列表选择 / choose a value from the list")
    kind = field.field_type
    if kind == "year":
        if field.key == "reporting_year":
            dv = DataValidation(type="whole", operator="equal", formula1=str(year), allow_blank=True)
            return _warning(dv, field.label_zh, f"应为 {year} / must be {year}")
        first = EARLIEST_BIRTH_YEAR if field.key == "birth_year" else EARLIEST_YEAR
        dv = DataValidation(
            type="whole", operator="between", formula1=str(first), formula2=str(year),
            allow_blank=True,
        )
        return _warning(
            dv, field.label_zh, f"四位年份，{first} 至 {year} / a four-digit year from {first} to {year}"
        )
    if kind == "integer":
        dv = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
        return _warning(dv, field.label_zh, "非负整数 / a whole number, 0 or more")
    if kind in ("money", "decimal"):
        dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
        return _warning(dv, field.label_zh, "非负数 / a number, 0 or more")
    if kind == "date":
        # Funding counts only when received in the reporting year; other dates only have to be past.
        first = dt.date(year, 1, 1) if field.part == "funding" else EARLIEST_DATE
        last = dt.date(year, 12, 31)
        dv = DataValidation(
            type="date", operator="between",
            formula1=str(_excel_serial(first)), formula2=str(_excel_serial(last)), allow_blank=True,
        )
        return _warning(
            dv, field.label_zh,
            f"日期 yyyy-mm-dd，{first.isoformat()} 至 {last.isoformat()} / "
            f"a date yyyy-mm-dd from {first.isoformat()} to {last.isoformat()}",
        )
    if kind == "credit_code":
        dv = DataValidation(type="textLength", operator="equal", formula1="18", allow_blank=True)
        return _warning(dv, field.label_zh, "18 位统一社会信用代码 / 18 characters")
    if kind == "phone":
        dv = DataValidation(type="textLength", operator="equal", formula1="11", allow_blank=True)
        return _warning(dv, field.label_zh, "11 位手机号码 / 11 digits")
    if kind == "base_code":
        dv = DataValidation(type="textLength", operator="equal", formula1="5", allow_blank=True)
        return _warning(dv, field.label_zh, "省份代码加三位数字，如 SH001 / province code and 3 digits, e.g. SH001")
    return None


def _check_request(year: int, base_code: str | None, money_unit: str) -> None:
    this_year = dt.date.today().year
    if not FIRST_REPORTING_YEAR <= year <= this_year:
        raise TemplateError(
            f"reporting year {year} is out of range: expected a year from "
            f"{FIRST_REPORTING_YEAR} to {this_year}"
        )
    if money_unit not in spec.MONEY_UNITS:
        raise TemplateError(
            f"money unit {money_unit!r} is not one of {', '.join(spec.MONEY_UNITS)}"
        )
    if base_code is not None:
        if not re.fullmatch(spec.BASE_CODE_PATTERN, base_code):
            raise TemplateError(
                f"base code {base_code!r} is not valid: expected a province code and three digits, e.g. SH001"
            )
        if _province_of(base_code) is None:
            raise TemplateError(
                f"base code {base_code!r} does not start with a province code (SH, BJ, JS, …)"
            )


def _province_of(base_code: str) -> spec.Province | None:
    return next((p for p in spec.provinces() if p.code == base_code[:2]), None)


def _write_lists(ws: Worksheet) -> dict[str, str]:
    """Fill the hidden lists sheet, one column per dropdown; return each list's range reference."""
    refs: dict[str, str] = {}
    names: list[str] = []
    for field in spec.fields():
        name = list_name(field)
        if name is not None and name not in names:
            names.append(name)
    for column, name in enumerate(names, start=1):
        letter = get_column_letter(column)
        labels = list_labels(name)
        ws.cell(row=1, column=column, value=name).font = _SECTION_FONT
        for row, label in enumerate(labels, start=2):
            ws.cell(row=row, column=column, value=label)
        ws.column_dimensions[letter].width = max(_display_width(x) for x in [name, *labels]) + 2
        refs[name] = f"{LISTS_SHEET}!${letter}$2:${letter}${len(labels) + 1}"
    ws.sheet_state = "hidden"
    return refs


def _write_part(
    ws: Worksheet,
    part: str,
    year: int,
    base_code: str | None,
    money_unit: str,
    list_refs: dict[str, str],
) -> None:
    # The base part is a single row; every other part is a roster that grows downwards.
    last_row = 2 if part == "base" else EXCEL_LAST_ROW
    for column, field in enumerate(spec.part_fields(part), start=1):
        letter = get_column_letter(column)
        cell = ws.cell(row=1, column=column, value=header(field, money_unit))
        cell.font = _REQUIRED_FONT if field.required else _OPTIONAL_FONT
        cell.fill = _REQUIRED_FILL if field.required else _OPTIONAL_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        cell.comment = _comment(field, money_unit)

        dimension = ws.column_dimensions[letter]
        dimension.width = _column_width(field, money_unit)
        # A column style formats every cell a person types into, without writing a million cells.
        if field.field_type == "date":
            dimension.number_format = DATE_FORMAT
        elif field.field_type in _TEXT_TYPES:
            dimension.number_format = TEXT_FORMAT

        dv = _validation(field, year, list_refs)
        if dv is not None:
            dv.add(f"{letter}2:{letter}{last_row}")
            ws.add_data_validation(dv)

    ws.row_dimensions[1].height = 36
    ws.freeze_panes = "A2"
    if part == "base":
        _prefill_base(ws, year, base_code)


def _prefill_base(ws: Worksheet, year: int, base_code: str | None) -> None:
    values: dict[str, object] = {"reporting_year": year}
    if base_code is not None:
        values["base_code"] = base_code
        province = _province_of(base_code)
        if province is not None:
            values["province"] = province.name_zh
    for column, field in enumerate(spec.part_fields("base"), start=1):
        if field.key in values:
            cell = ws.cell(row=2, column=column, value=values[field.key])
            if field.field_type in _TEXT_TYPES:
                cell.number_format = TEXT_FORMAT


def _instructions(year: int, base_code: str | None, money_unit: str) -> list[tuple[str, str, str]]:
    """Rows of the instructions sheet: (kind, 中文, English), kind being title, section or text."""
    code = base_code or "<基地代码 base_code>"
    path = f"warehouse/inbox/{year}/{base_code or '<base_code>'}.xlsx"
    rows: list[tuple[str, str, str]] = [
        (
            "title",
            f"留学人员创业园孵化基地 {year} 年度数据填报表",
            f"Incubation base annual submission, reporting year {year}",
        ),
        ("section", "一、什么是填报", "1. What a submission is"),
        (
            "text",
            f"每个孵化基地每年报送一份 {year} 年度的数据（一个基地一个年度一个文件）。评价委员会核验"
            "各基地的填报，按名录计算各项指标，并发布竞争力排名和报告。",
            f"Each incubation base submits, once a year, the figures of the reporting year {year}: "
            "one file per base and year. The committee checks every submission, computes the "
            "indicators from the rosters and publishes the ranking and report.",
        ),
        ("section", "二、四个部分（每部分一张工作表）", "2. The four parts (one sheet each)"),
        (
            "text",
            f"{sheet_name('base')}：基地基本情况，只填第 2 行这一行。",
            f"{sheet_name('base')}: the base itself, on row 2 only.",
        ),
        (
            "text",
            f"{sheet_name('companies')}：在园和曾经在园的所有企业，每家企业一行（含已毕业、迁出、注销的企业，"
            "累计孵化数按此名录计算）。",
            f"{sheet_name('companies')}: every company the base hosts or has hosted, one row each "
            "(graduated, moved-out and deregistered ones too: cumulative figures count this roster).",
        ),
        (
            "text",
            f"{sheet_name('talent')}：在园和曾经在园工作的所有留学人员，每人一行。",
            f"{sheet_name('talent')}: every returnee who works or has worked in the base, one row each.",
        ),
        (
            "text",
            f"{sheet_name('funding')}：{year} 年内园区企业获得的每一笔投融资或财政资助，每笔一行；"
            "企业须已列入企业名录。",
            f"{sheet_name('funding')}: every investment or grant a company received in {year}, one "
            "row each; the company must be listed in the companies sheet.",
        ),
        ("section", "三、表头和必填项", "3. Headers and required columns"),
        (
            "text",
            "请勿修改工作表名称和表头（金额单位除外）。红色加粗、橙色底的表头为必填项，灰色底为选填项。"
            "将鼠标停在表头上可以查看每一列的英文名称和填写说明。",
            "Keep the sheet names and headers as they are (except a money unit). Bold red headers on "
            "orange are required, grey ones optional. Hover over a header to read the column's "
            "description.",
        ),
        ("section", "四、金额单位", "4. Money units"),
        (
            "text",
            f"金额列的单位写在表头括号中，本表默认为“{money_unit}”。如按元或亿元填报，请把整列表头括号中的单位"
            "改为“元”或“亿元”；同一列只能使用一种单位。",
            f"A money column's unit is in its header's brackets; this template uses {money_unit}. "
            "If you report in 元 or 亿元, change the unit in the header; one unit per column.",
        ),
        ("section", "五、填写格式", "5. How to write values"),
        (
            "text",
            "日期写作 yyyy-mm-dd（如 2023-05-01）；年份写四位数字；有下拉列表的列请从列表中选择；"
            "统一社会信用代码、证件号码和手机号码按文本填写（本表已设为文本格式，不会丢失前导零）。"
            "表中的数据校验只作提示，以 parkwh validate 的检查结果为准。",
            "Dates as yyyy-mm-dd (e.g. 2023-05-01); years as four digits; where a column has a "
            "dropdown, choose from it; credit codes, ID numbers and phones are text (the template "
            "keeps them as text, so no digit is lost). Excel's checks only warn: parkwh validate "
            "decides.",
        ),
        ("section", "六、个人信息", "6. Personal data"),
        (
            "text",
            "人才名录中的姓名、证件号码和手机号码属于个人信息，仅用于核验，不会公开发布。",
            "Names, ID numbers and phone numbers in the talent sheet are personal data: used only "
            "to check the submission, never published.",
        ),
        ("section", "七、文件存放", "7. Where the file goes"),
        (
            "text",
            f"以基地代码为文件名保存（如 SH001.xlsx），放入 {path}。",
            f"Save it named by the base code (e.g. SH001.xlsx) as {path}.",
        ),
        ("section", "八、自查", "8. Check it yourself"),
        (
            "text",
            f"报送前运行 parkwh validate {path}，程序会列出全部问题（工作表、行、列、原因）；"
            "全部改正后再报送。",
            f"Before submitting, run  parkwh validate {path}  : it lists every problem (sheet, row, "
            "column and why). Submit once it reports none.",
        ),
    ]
    if base_code is not None:
        rows.insert(1, ("text", f"基地代码：{code}", f"Base code: {code}"))
    return rows


def _write_instructions(ws: Worksheet, year: int, base_code: str | None, money_unit: str) -> None:
    ws.column_dimensions["A"].width = 70
    ws.column_dimensions["B"].width = 70
    for row, (kind, zh, en) in enumerate(_instructions(year, base_code, money_unit), start=1):
        for column, text in ((1, zh), (2, en)):
            cell = ws.cell(row=row, column=column, value=text)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if kind == "title":
                cell.font = _TITLE_FONT
            elif kind == "section":
                cell.font = _SECTION_FONT
                cell.fill = _SECTION_FILL
        if kind == "text":
            # Wrapped text does not grow its row in every spreadsheet program: size it here.
            lines = max(_display_width(zh) // 68 + 1, len(en) // 72 + 1)
            ws.row_dimensions[row].height = 15 * lines + 3
        elif kind == "title":
            ws.row_dimensions[row].height = 24


def build_template(
    year: int, base_code: str | None = None, money_unit: str = DEFAULT_MONEY_UNIT
) -> Workbook:
    """The blank submission workbook for one reporting year (and base, if given)."""
    _check_request(year, base_code, money_unit)
    workbook = Workbook()
    instructions = workbook.active
    instructions.title = INSTRUCTIONS_SHEET
    _write_instructions(instructions, year, base_code, money_unit)

    part_sheets = [workbook.create_sheet(sheet_name(part)) for part in spec.PARTS]
    lists = workbook.create_sheet(LISTS_SHEET)
    list_refs = _write_lists(lists)
    for part, ws in zip(spec.PARTS, part_sheets):
        _write_part(ws, part, year, base_code, money_unit, list_refs)

    props = workbook.properties
    props.creator = "parkwh"
    props.title = f"Incubation base submission {year}" + (f" {base_code}" if base_code else "")
    return workbook


def write_template(
    path: Path,
    year: int,
    base_code: str | None = None,
    money_unit: str = DEFAULT_MONEY_UNIT,
) -> Path:
    """Write the template to ``path`` (an .xlsx), atomically: a reader never sees half a file."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise TemplateError(f"{path}: the template is an Excel workbook, name it *.xlsx")
    workbook = build_template(year, base_code, money_unit)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Hidden and not *.xlsx, so an inbox scan never picks up the half-written file.
    tmp_path = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        workbook.save(tmp_path)
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return path
