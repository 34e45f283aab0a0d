"""The submission format, loaded from the seeds that also feed dbt: one place knows it.

``seeds/submission_fields.csv`` lists every part and field (key, Chinese and English labels,
type, enumeration, whether required and whether personal); ``seeds/submission_enums.csv``
lists every enumeration's codes and labels; ``seeds/provinces.csv`` the provinces. Python
(validation, template, demo) and dbt (staging) read the same files.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from parkwh.config import seeds_dir

PARTS: tuple[str, ...] = ("base", "companies", "talent", "funding")
"""The four parts of a submission, in the order a workbook holds them."""

MONEY_UNITS: dict[str, int] = {"元": 1, "万元": 10_000, "亿元": 100_000_000}
"""Units a money column's header may name, and their factor to yuan."""

BASE_CODE_PATTERN = r"^[A-Z]{2}[0-9]{3}$"
"""A base code: the province code (ISO 3166-2:CN) and three digits, e.g. ``SH001``."""


@dataclass(frozen=True)
class Field:
    part: str
    key: str
    label_zh: str
    label_en: str
    field_type: str
    enum_name: str | None
    required: bool
    personal: bool
    description: str

    @property
    def is_money(self) -> bool:
        return self.field_type == "money"


@dataclass(frozen=True)
class EnumValue:
    enum_name: str
    code: str
    label_zh: str
    label_en: str


@dataclass(frozen=True)
class Province:
    code: str
    name_zh: str
    short_zh: str
    name_en: str
    region: str


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@lru_cache(maxsize=1)
def fields() -> tuple[Field, ...]:
    """Every field of every part, in template order."""
    return tuple(
        Field(
            part=row["part"],
            key=row["field"],
            label_zh=row["label_zh"],
            label_en=row["label_en"],
            field_type=row["field_type"],
            enum_name=row["enum_name"] or None,
            required=row["required"] == "true",
            personal=row["personal"] == "true",
            description=row["description"],
        )
        for row in _read_csv(seeds_dir() / "submission_fields.csv")
    )


def part_fields(part: str) -> tuple[Field, ...]:
    """The fields of one part, in template order."""
    if part not in PARTS:
        raise KeyError(f"unknown part {part!r}; parts are {', '.join(PARTS)}")
    return tuple(f for f in fields() if f.part == part)


@lru_cache(maxsize=1)
def enums() -> dict[str, tuple[EnumValue, ...]]:
    """Every enumeration by name, its values in catalogue order."""
    out: dict[str, list[EnumValue]] = {}
    for row in _read_csv(seeds_dir() / "submission_enums.csv"):
        out.setdefault(row["enum_name"], []).append(
            EnumValue(row["enum_name"], row["code"], row["label_zh"], row["label_en"])
        )
    return {name: tuple(values) for name, values in out.items()}


@lru_cache(maxsize=1)
def provinces() -> tuple[Province, ...]:
    return tuple(
        Province(
            code=row["province_code"],
            name_zh=row["province_name_zh"],
            short_zh=row["province_short_zh"],
            name_en=row["province_name_en"],
            region=row["region"],
        )
        for row in _read_csv(seeds_dir() / "provinces.csv")
    )


def personal_fields() -> tuple[Field, ...]:
    """Fields holding personal data: they never leave the raw schema unmasked."""
    return tuple(f for f in fields() if f.personal)
