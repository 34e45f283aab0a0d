"""Columns computed in Python for rules Great Expectations has no expectation for.

A check digit is validated by the same parsers the submission validator uses (one rule, one
place); the suite then expects the computed column to be true. ID numbers are personal data:
they are read from ``raw`` into memory only, and the row a suite validates carries the masked
number, never the number itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from parkwh.submission import values


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
    """True when an ID number is valid for its document type (a resident ID's check digit: GB 11643-1999)."""
    if _is_missing(number) or not str(number).strip():
        return None
    kind = None if _is_missing(id_type) else str(id_type)
    try:
        values.parse_id_number(kind, str(number))
    except values.BadValue:
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
"""The functions a suite's ``derive`` may name, each applied to the listed columns of every row."""
