"""Renders the field and enumeration tables of ``docs/submission-format.md`` from the seeds.

The tables sit between two markers in the document; ``python -m parkwh.submission.formatdoc``
rewrites them (``--check`` only reports whether they are out of date), and a test fails when
the committed document no longer matches the seeds.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from parkwh.config import project_dir
from parkwh.submission import spec
from parkwh.submission.reader import EXPERT_SCORE_FIELDS, EXPERT_SCORES, PART_NAMES_ZH
from parkwh.submission.template import DEFAULT_MONEY_UNIT, list_name, sheet_name

START_MARKER = "<!-- fields:start -->"
END_MARKER = "<!-- fields:end -->"

PART_SUMMARIES: dict[str, str] = {
    "base": "The base itself: exactly one row. 基地基本情况，只填一行。",
    "companies": (
        "Every company the base hosts or has hosted, one row per company, including graduated, "
        "moved-out and deregistered ones (cumulative figures are counted from this roster). "
        "在园和曾经在园的所有企业，每家一行。"
    ),
    "talent": (
        "Every returnee who works or has worked in the base, one row per person. "
        "在园和曾经在园的所有留学人员，每人一行。"
    ),
    "funding": (
        "Every investment or grant a company of the base received in the reporting year, one row "
        "each; the company must be in the companies part. 报告年度内企业获得的每笔投融资或财政资助，每笔一行。"
    ),
}

TYPE_NAMES: dict[str, str] = {
    "text": "text 文本",
    "integer": "integer 整数",
    "decimal": "number 数值",
    "money": "money 金额",
    "date": "date 日期",
    "year": "year 年份",
    "boolean": "yes/no 是/否",
    "enum": "enumeration 枚举",
    "province": "province 省份",
    "credit_code": "credit code 信用代码",
    "id_number": "ID number 证件号码",
    "phone": "mobile 手机号码",
    "base_code": "base code 基地代码",
}
"""How each field type of the seeds is named in the document; a new type must be added here."""

INLINE_ENUM_LIMIT = 5
"""Enumerations this short are spelled out in the field table; longer ones only link to their list."""

_PARENTHETICAL_UNIT = re.compile(r"\(([^()]+)\)$")


def doc_path() -> Path:
    return project_dir() / "docs" / "submission-format.md"


def _cell(text: str) -> str:
    # A pipe would end the table cell; a newline would end the table.
    return text.replace("|", "\\|").replace("\n", " ").strip()


def _type_name(field: spec.Field) -> str:
    try:
        return TYPE_NAMES[field.field_type]
    except KeyError:
        raise ValueError(
            f"field {field.part}.{field.key} has type {field.field_type!r}, which the format "
            "document does not describe; add it to formatdoc.TYPE_NAMES"
        ) from None


def _unit(field: spec.Field) -> str:
    if field.is_money:
        units = " / ".join(spec.MONEY_UNITS)
        return f"{units} (header; template {DEFAULT_MONEY_UNIT})"
    found = _PARENTHETICAL_UNIT.search(field.label_zh)
    return found.group(1) if found else ""


def _enum_anchor(name: str) -> str:
    return f"enum-{name}"


def _allowed(field: spec.Field) -> str:
    name = list_name(field)
    if name == "province":
        return f"[provinces](#provinces) ({len(spec.provinces())}): name, short name or code"
    if name is not None:
        values = spec.enums()[name]
        link = f"[`{name}`](#{_enum_anchor(name)})"
        if len(values) <= INLINE_ENUM_LIMIT:
            return f"{link}: " + ", ".join(v.label_zh for v in values)
        return f"{link} ({len(values)} values)"
    if field.field_type == "base_code":
        return "province code + 3 digits, e.g. `SH001`"
    return ""


def _notes(field: spec.Field) -> str:
    note = field.description
    if field.personal:
        # The seeds' descriptions may already say so; the flag must read the same on every row.
        note = re.sub(r"^personal data\s*[:：]\s*", "", note, flags=re.I)
        note = f"**personal data 个人信息**: {note}"
    return note


def _field_table(fields: tuple[spec.Field, ...]) -> list[str]:
    lines = [
        "| key | 中文标签 | English label | type | required | unit | allowed values | notes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for field in fields:
        cells = [
            f"`{field.key}`",
            field.label_zh,
            field.label_en,
            _type_name(field),
            "**yes** 必填" if field.required else "no",
            _unit(field),
            _allowed(field),
            _notes(field),
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return lines


def _used_lists() -> list[str]:
    names: list[str] = []
    for field in spec.fields():
        name = list_name(field)
        if name is not None and name != "province" and name not in names:
            names.append(name)
    return names


def _enum_section(name: str) -> list[str]:
    used_by = [f"`{f.part}.{f.key}`" for f in spec.fields() if list_name(f) == name]
    lines = [
        f'<a id="{_enum_anchor(name)}"></a>',
        "",
        f"#### `{name}`",
        "",
        f"Used by {', '.join(used_by)}.",
        "",
        "| code | 中文 | English |",
        "|---|---|---|",
    ]
    for value in spec.enums()[name]:
        lines.append(f"| `{_cell(value.code)}` | {_cell(value.label_zh)} | {_cell(value.label_en)} |")
    return lines


def _province_section() -> list[str]:
    lines = [
        '<a id="provinces"></a>',
        "",
        "### Provinces 省份",
        "",
        "A province may be written by its code, full name or short name.",
        "",
        "| code | 名称 | 简称 | English |",
        "|---|---|---|---|",
    ]
    for p in spec.provinces():
        lines.append(f"| `{p.code}` | {p.name_zh} | {p.short_zh} | {_cell(p.name_en)} |")
    return lines


def render_field_tables() -> str:
    """The generated part of the format document: field tables per part, enumerations, provinces."""
    lines: list[str] = []
    for part in spec.PARTS:
        lines += [
            f'<a id="part-{part}"></a>',
            "",
            f"### {PART_NAMES_ZH[part]} `{part}`",
            "",
            f"Sheet `{sheet_name(part)}`. {PART_SUMMARIES[part]}",
            "",
            *_field_table(spec.part_fields(part)),
            "",
        ]
    lines += [
        f'<a id="part-{EXPERT_SCORES}"></a>',
        "",
        f"### 专家评分 `{EXPERT_SCORES}`",
        "",
        f"File `{EXPERT_SCORES}.csv`, the committee's, not a base's: one row per expert and base.",
        "",
        *_field_table(EXPERT_SCORE_FIELDS),
        "",
    ]
    lines += [
        "### Enumerations 枚举值",
        "",
        "A value may be given by its code, its Chinese label or its English label; the template's "
        "dropdowns offer the Chinese labels.",
        "",
    ]
    for name in _used_lists():
        lines += [*_enum_section(name), ""]
    lines += _province_section()
    return "\n".join(lines) + "\n"


def splice(document: str, tables: str) -> str:
    """The document with the text between the markers replaced by ``tables``."""
    start = document.find(START_MARKER)
    end = document.find(END_MARKER)
    if start < 0 or end < start:
        raise ValueError(f"the document lacks the markers {START_MARKER} … {END_MARKER}")
    head = document[: start + len(START_MARKER)]
    return f"{head}\n\n{tables}\n{document[end:]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m parkwh.submission.formatdoc",
        description="Regenerate the field tables of the submission format document from the seeds.",
    )
    parser.add_argument("--path", type=Path, default=None, help="the document (default: docs/submission-format.md)")
    parser.add_argument("--check", action="store_true", help="only report whether it is up to date")
    args = parser.parse_args(argv)
    path = args.path or doc_path()
    try:
        current = path.read_text(encoding="utf-8")
        updated = splice(current, render_field_tables())
    except (OSError, ValueError) as error:
        print(f"error: {path}: {error}", file=sys.stderr)
        return 2
    if updated == current:
        print(f"{path}: up to date")
        return 0
    if args.check:
        print(f"{path}: out of date with the seeds; run python -m parkwh.submission.formatdoc", file=sys.stderr)
        return 1
    path.write_text(updated, encoding="utf-8")
    print(f"{path}: rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
