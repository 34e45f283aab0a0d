"""Columns computed in Python for rules Great Expectations has no expectation for.

A check digit is validated by the same parsers the submission validator uses (one rule, one
place); the suite then expects the computed column to be true. ID numbers are personal data:
they are read from ``raw`` into memory only, and the row a suite validates carries the masked
number, never the number itself.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from parkwh.submission import values

_RESIDENT_ID = re.compile(r"\d{17}[\dX]")


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def credit_code_is_valid(code: Any) -> bool | None:
    """True when a unified social credit code has 18 characters and a right check digit (GB 32100-2015)."""
    if _is_missing(code) or not str(code).strip():
        return None
    try:
        values.parse_credit_code(str(code))
    except values.BadValue:
        return False
    return True


def id_number_is_valid(id_type: Any, number: Any) -> bool | None:
    """True when an ID number is valid for its document type.

    A resident ID (GB 11643-1999) needs 17 digits, a real birth date and the right check digit.
    Its region code is not looked up here: that lookup costs a hundred times the rest, and the
    validator has already made it when the submission was accepted. The gate re-verifies what
    a corruption after ingestion would break.
    """
    if _is_missing(number) or not str(number).strip():
        return None
    kind = None if _is_missing(id_type) else str(id_type)
    text = values.normalize(str(number)).upper()
    if kind == "resident_id" or (kind is None and _RESIDENT_ID.fullmatch(text)):
        if not _RESIDENT_ID.fullmatch(text) or ric.calc_check_digit(text) != text[-1]:
            return False
        return _has_real_birth_date(text)
    try:
        values.parse_passport(text)
    except values.BadValue:
        return False
    return True


def _has_real_birth_date(text: str) -> bool:
    """Whether characters 7 to 14 of a resident ID are a real date (YYYYMMDD).

    The same answer as ``stdnum.cn.ric.get_birth_date``, which first cleans the number of
    separators and Unicode look-alikes: an ASCII number has none to clean, and is read here
    directly (the cleaning costs five times the rest). Any other number goes through stdnum.
    """
    if text.isascii():
        try:
            dt.date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
        except ValueError:
            return False
        return True
    try:
        ric.get_birth_date(text)
    except ValidationError:
        return False
    return True


def masked(text: Any) -> str | None:
    """Personal data as a report may show it: enough to find the row, not to identify the person."""
    return None if _is_missing(text) else values.mask(str(text))


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "credit_code_is_valid": credit_code_is_valid,
    "id_number_is_valid": id_number_is_valid,
    "masked": masked,
}
"""The functions a suite's ``derive`` may name, each applied to the listed columns of every row.

Each is a pure function of its inputs: the runner calls it once per distinct input (an ID number
recurs in every year's roster) and reuses the answer."""
