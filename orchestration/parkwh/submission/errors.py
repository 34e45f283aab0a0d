"""What can be wrong with a submission: a ``Problem`` per finding; ``SubmissionError`` for a non-submission."""

from __future__ import annotations

from dataclasses import dataclass

ERROR = "error"
WARNING = "warning"

RULES: dict[str, str] = {
    # The file as a whole: it cannot be read as a submission at all (raised as SubmissionError).
    "unreadable_file": "the file cannot be opened or read",
    "empty_file": "the file is empty",
    "file_too_large": "the file is larger than the size limit",
    "zip_bomb": "the workbook would inflate beyond the size limit",
    "not_a_workbook": "the .xlsx file is not an Excel workbook",
    "bad_json": "the .json file is not valid JSON, is truncated or is nested too deeply",
    "bad_encoding": "a CSV file is neither UTF-8 nor GB18030/GBK text",
    "unsupported_form": "the path is not an .xlsx file, a .json file or a folder of CSV files",
    "no_parts": "nothing in the file is recognisable as a part of a submission",
    # Shape: parts, headers, rows.
    "missing_part": "a part (base, companies, talent, funding) is missing",
    "duplicate_part": "two sheets, files or keys hold the same part",
    "bad_part_shape": "a JSON part is not a list of objects",
    "empty_part": "a part has no rows",
    "missing_column": "a required column is missing",
    "duplicate_header": "two columns map to the same field",
    "unknown_column": "a column is not a field of the part (it is ignored)",
    "unknown_unit": "a money column names a unit other than 元, 万元 or 亿元",
    "not_a_scalar": "a JSON value is an object or a list",
    "base_row_count": "the base part does not hold exactly one row",
    # Single values.
    "required_value_missing": "a required value is empty",
    "wrong_type": "a value is not of the field's type (integer, decimal, money, date, year, boolean)",
    "unknown_enum": "a value is not one of the field's enumeration (by code, Chinese or English label)",
    "unknown_province": "a province is not known by code, name or short name",
    "credit_code_format": "a unified social credit code is not 18 characters of the right alphabet",
    "credit_code_check_digit": "a unified social credit code's check digit is wrong",
    "id_number_format": "an ID number is malformed (length, characters, birth date or region)",
    "id_number_check_digit": "a resident ID number's check digit is wrong",
    "bad_phone": "a mobile number is not 11 digits starting 13-19",
    "bad_base_code": "a base code is not a known province code and three digits",
    "negative_value": "money, counts or areas are negative",
    "date_out_of_range": "a date is before 1949 or after the end of the reporting year",
    "year_out_of_range": "a year is outside its plausible range",
    # Relations within a row or across rows.
    "base_code_mismatch": "the base code in the base part differs from the file name",
    "reporting_year_mismatch": "the reporting year in the base part differs from the inbox folder",
    "province_mismatch": "the province differs from the one the base code names",
    "date_order": "a date comes before the date it must follow",
    "funding_date_outside_year": "a funding date is outside the reporting year",
    "listing_date_missing": "a listed company has no listing date",
    "listing_board_missing": "a listing date is given without a listing board",
    "status_left_date": "status in_park must go with an empty left date, and any other status with one",
    "subset_exceeds_total": "a part of a total is larger than the total",
    "birth_year_mismatch": "the birth year differs from the one in the resident ID number",
    "duplicate_company": "a credit code appears twice in the companies part",
    "duplicate_person": "an ID number appears twice in the talent part",
    "unknown_employer": "a talent's employer credit code is not in the companies part",
    "unknown_company": "a funding row's credit code is not in the companies part",
    # Expert scores.
    "score_out_of_range": "an expert score is outside 0–100",
    "duplicate_expert_score": "one expert scores one base twice",
}
"""Every rule id, with what it means: stable names that audits and tests key on."""


@dataclass(frozen=True)
class Problem:
    """One finding, located as precisely as the file allows.

    ``message`` says what is wrong and what was expected; ``str(problem)`` is the full line a
    person reads, with file, part, row, column (Chinese label and key) and value.
    """

    file: str
    part: str | None
    row: int | None
    column: str | None
    column_label: str | None
    value: str | None
    rule: str
    message: str
    severity: str = ERROR

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def location(self) -> str:
        """``companies row 14, 统一社会信用代码 (credit_code) = '…'``, as much of it as is known."""
        pieces = []
        if self.part:
            pieces.append(self.part + (f" row {self.row}" if self.row is not None else ""))
        elif self.row is not None:
            pieces.append(f"row {self.row}")
        if self.column:
            column = f"{self.column_label} ({self.column})" if self.column_label else self.column
            if self.value is not None:
                column += f" = {self.value!r}"
            pieces.append(column)
        elif self.value is not None:
            pieces.append(repr(self.value))
        return ", ".join(pieces)

    def __str__(self) -> str:
        where = self.location()
        return f"{self.file}: {where + ': ' if where else ''}{self.message}"


class SubmissionError(Exception):
    """The file is not a submission at all (empty, unreadable, not a workbook …): one clear line."""

    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


def has_errors(problems) -> bool:
    """True when any of the problems is an error (warnings alone do not stop a submission)."""
    return any(p.severity == ERROR for p in problems)
