"""Every rule a submission must meet; ``parkwh validate`` and ingestion both call it.

Values arrive as text (see ``reader``); the rules parse them with ``values`` and report each
finding as a ``Problem`` naming part, row, column and what was expected. A value that does
not parse is reported once, and the rules that relate it to other values skip it, so one typo
gives one problem.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from parkwh.submission import spec, values
from parkwh.submission.errors import ERROR, WARNING, Problem, SubmissionError, has_errors
from parkwh.submission.reader import (
    EXPERT_SCORES,
    PART_NAMES_ZH,
    Limits,
    PartData,
    Submission,
    fields_of,
    is_expert_scores,
    read_expert_scores_table,
    read_submission,
)
from parkwh.submission.values import BadValue

__all__ = [
    "validate_submission",
    "validate_expert_scores",
    "check_file",
    "has_errors",
    "cyclic_gc_paused",
]

FIRST_REPORTING_YEAR = 1994
"""The first returnee park opened in 1994: no submission describes an earlier year."""
EARLIEST_DATE = dt.date(1949, 1, 1)
"""No park, company or stay in a park predates 1949."""
EARLIEST_YEAR = 1949
EARLIEST_BIRTH_YEAR = 1900

_MISSING = object()
"""Not looked up yet (a field lookup may find None)."""


class _Cell:
    """A row's parsed values: ``get`` gives None for empty or unparsable values.

    ``parsed`` holds None for a value that did not parse (already reported); ``unparsed`` names
    those keys. ``get`` is the dict's own method: the rules call it millions of times.
    """

    __slots__ = ("get", "number", "parsed", "raw", "unparsed")

    def __init__(
        self,
        number: int,
        raw: dict[str, str | None],
        parsed: dict[str, Any],
        unparsed: frozenset[str] = frozenset(),
    ):
        self.number = number
        self.raw = raw
        self.parsed = parsed
        self.unparsed = unparsed
        self.get: Callable[[str], Any] = parsed.get


class _Checker:
    def __init__(self, file: str, reporting_year: int | None):
        self.file = file
        self.reporting_year = reporting_year
        self.problems: list[Problem] = []
        self.today = dt.date.today()
        self._fields: dict[tuple[str, str], Any] = {}

    # -- reporting -------------------------------------------------------------

    def add(
        self,
        part: str | None,
        row: int | None,
        key: str | None,
        value: str | None,
        rule: str,
        message: str,
        severity: str = ERROR,
    ) -> None:
        label = None
        if part and key:
            field = self._fields.get((part, key), _MISSING)
            if field is _MISSING:
                field = self._fields[part, key] = _field(part, key)
            if field is not None:
                label = field.label_zh
                if field.personal:
                    value = values.mask(value)
        self.problems.append(
            Problem(self.file, part, row, key, label, value, rule, message, severity)
        )

    # -- single values ---------------------------------------------------------

    @property
    def last_year(self) -> int:
        return self.reporting_year or self.today.year

    def parse_rows(self, data: PartData) -> list[_Cell]:
        """Parse every value of a part, reporting each one that breaks a single-value rule."""
        # Column by column, with the work that depends on the field only done once per part: a
        # large roster has hundreds of thousands of values. The problems come out in another
        # order than row by row, which ``sort_problems`` puts right (at most one per cell).
        present = data.headers
        plan = [self._field_plan(f) for f in fields_of(data.part) if f.key in present]
        part, add = data.part, self.add
        numbers = [row.number for row in data.rows]
        raws = [row.values for row in data.rows]
        columns: list[list[Any]] = []
        unparsed: dict[int, set[str]] = {}
        id_types: list[Any] | None = None
        for key, parse, check, required, by_id_type in plan:
            texts = [raw.get(key) for raw in raws]
            if parse is None:
                parsed = texts
            else:
                parsed = [None] * len(texts)
                for i, text in enumerate(texts):
                    if text is None:
                        continue
                    try:
                        if by_id_type:
                            # id_type precedes id_number in the spec's order.
                            value = parse(id_types[i] if id_types is not None else None, text)
                        else:
                            value = parse(text)
                    except BadValue as bad:
                        add(part, numbers[i], key, text, bad.rule, bad.message)
                        unparsed.setdefault(i, set()).add(key)
                        continue
                    if check is not None:
                        problem = check(value)
                        if problem:
                            add(part, numbers[i], key, text, *problem)
                            unparsed.setdefault(i, set()).add(key)
                            continue
                    parsed[i] = value
            if required is not None:
                for i, text in enumerate(texts):
                    if text is None:
                        add(part, numbers[i], key, None, "required_value_missing", required)
            if key == "id_type":
                id_types = parsed
            columns.append(parsed)
        keys = [key for key, *_ in plan]
        rows = zip(*columns) if columns else [()] * len(raws)
        cells = [
            _Cell(number, raw, dict(zip(keys, values_)))
            for number, raw, values_ in zip(numbers, raws, rows)
        ]
        for i, bad in unparsed.items():
            cells[i].unparsed = frozenset(bad)
        return cells

    def _field_plan(
        self, field: spec.Field
    ) -> tuple[str, Callable | None, Callable | None, str | None, bool]:
        """(key, parser, range check, message when a required value is missing, whether the
        parser takes the row's ID type) of one field."""
        required = f"a value is required ({field.label_en.lower()})" if field.required else None
        kind = field.field_type
        if kind == "enum":
            parse = functools.partial(values.parse_enum, field.enum_name or "")
        elif kind in _PARSERS:
            parse = _PARSERS[kind]
        else:
            raise ValueError(f"field {field.part}.{field.key} has an unknown type {kind!r}")
        return field.key, parse, self._range_check(field), required, kind == "id_number"

    def _range_check(self, field: spec.Field) -> Callable[[Any], tuple[str, str] | None] | None:
        """The field's range rule as a function of its parsed value, or None when it has none."""
        kind = field.field_type
        if kind in ("integer", "decimal", "money"):
            return _not_negative
        if kind == "date":
            last = dt.date(self.last_year, 12, 31)
            out_of_range = (
                "date_out_of_range",
                (
                    f"expected a date from {EARLIEST_DATE.isoformat()} to the end of the "
                    f"reporting year ({last.isoformat()})"
                ),
            )
            year = self.reporting_year
            if not (field.part == "funding" and field.key == "funding_date" and year):
                return lambda value: None if EARLIEST_DATE <= value <= last else out_of_range
            outside_year = (
                "funding_date_outside_year",
                (
                    f"expected a date within the reporting year {year}: funding counts "
                    "in the year it was received"
                ),
            )

            def check_funding_date(value: dt.date) -> tuple[str, str] | None:
                if not EARLIEST_DATE <= value <= last:
                    return out_of_range
                return outside_year if value.year != year else None

            return check_funding_date
        if kind == "year":
            low, high = self._year_bounds(field)
            problem = ("year_out_of_range", f"expected a year from {low} to {high}")
            return lambda value: None if low <= value <= high else problem
        return None

    def _year_bounds(self, field: spec.Field) -> tuple[int, int]:
        if field.key == "reporting_year":
            return FIRST_REPORTING_YEAR, self.today.year
        low = EARLIEST_BIRTH_YEAR if field.key == "birth_year" else EARLIEST_YEAR
        return low, self.last_year


def _not_negative(value: Any) -> tuple[str, str] | None:
    return ("negative_value", "expected 0 or more") if value < 0 else None


_PARSERS: dict[str, Callable[..., Any] | None] = {
    "text": None,
    "integer": values.parse_integer,
    "decimal": values.parse_number,
    "money": values.parse_number,
    "date": values.parse_date,
    "year": values.parse_year,
    "boolean": values.parse_bool,
    "province": values.parse_province,
    "credit_code": values.parse_credit_code,
    "phone": values.parse_phone,
    "base_code": values.parse_base_code,
    "id_number": values.parse_id_number,
}
"""The parser of each field type (``enum`` needs its enumeration's name); None: kept as text."""


def _field(part: str, key: str) -> spec.Field | None:
    try:
        return next((f for f in fields_of(part) if f.key == key), None)
    except KeyError:
        return None


def _yuan(amount: Decimal | None, unit: str | None) -> Decimal | None:
    if amount is None:
        return None
    return amount * spec.MONEY_UNITS.get(unit or "元", 1)


# ---------------------------------------------------------------------------- the submission


def validate_submission(sub: Submission) -> list[Problem]:
    """Every problem of a submission (the reader's layout findings included), in reading order."""
    checker = _Checker(str(sub.path), sub.reporting_year)
    checker.problems.extend(sub.problems)
    _check_parts(checker, sub)
    parsed: dict[str, list[_Cell]] = {}
    for part in spec.PARTS:
        data = sub.parts.get(part)
        if data is None:
            continue
        _check_columns(checker, data)
        parsed[part] = checker.parse_rows(data)
    if "base" in parsed:
        _check_base(checker, sub, sub.parts["base"], parsed["base"])
    company_codes: _CompanyCodes | None = None
    if "companies" in parsed:
        company_codes = _check_companies(checker, sub.parts["companies"], parsed["companies"])
    if "talent" in parsed:
        _check_talent(checker, parsed["talent"], company_codes)
    if "funding" in parsed:
        _check_funding(checker, parsed["funding"], company_codes)
    return sort_problems(checker.problems)


def sort_problems(problems: list[Problem]) -> list[Problem]:
    """Whole-file problems first, then by part, row and column as the template orders them."""
    order = {part: i for i, part in enumerate((*spec.PARTS, EXPERT_SCORES))}
    column_order = {
        part: {f.key: i for i, f in enumerate(fields_of(part))}
        for part in {p.part for p in problems}
        if part in order
    }

    def key(p: Problem) -> tuple:
        columns = column_order.get(p.part, {})
        return (
            p.part is not None,
            order.get(p.part or "", -1),
            p.row or 0,
            columns.get(p.column or "", -1),
        )

    return sorted(problems, key=key)


def _check_parts(checker: _Checker, sub: Submission) -> None:
    where = {"xlsx": "sheet", "json": "key", "csv": "CSV file"}[sub.form]
    found = f"; found {', '.join(repr(n) for n in sub.ignored)}" if sub.ignored else ""
    for part in spec.PARTS:
        if part not in sub.parts:
            example = f"{part}.csv" if sub.form == "csv" else part
            checker.add(
                part,
                None,
                None,
                None,
                "missing_part",
                f"the part is missing: expected a {where} named {example!r} or "
                f"{PART_NAMES_ZH[part]!r}{found}",
            )


def _check_columns(checker: _Checker, data: PartData) -> None:
    if not data.rows and not data.headers:
        # An empty JSON list or a blank sheet: no header to miss, only rows (warned below).
        fields = ()
    else:
        fields = fields_of(data.part)
    for field in fields:
        if field.required and field.key not in data.headers:
            checker.add(
                data.part,
                data.header_row,
                field.key,
                None,
                "missing_column",
                f"the required column is missing: expected a header "
                f"'{field.label_zh}' or '{field.key}'",
            )
    if not data.rows and data.part in ("companies", "talent", EXPERT_SCORES):
        checker.add(data.part, None, None, None, "empty_part", "the part has no rows", WARNING)


def _check_duplicates(
    checker: _Checker,
    part: str,
    cells: list[_Cell],
    key_of: Callable[[_Cell], Any],
    column: str,
    rule: str,
    what: str,
) -> None:
    first_row: dict[Any, int] = {}
    for cell in cells:
        key = key_of(cell)
        if key is None:
            continue
        if key in first_row:
            checker.add(
                part,
                cell.number,
                column,
                cell.raw.get(column),
                rule,
                f"{what} already given on row {first_row[key]}; expected each once",
            )
        else:
            first_row[key] = cell.number


def _check_order(checker: _Checker, part: str, cell: _Cell, earlier: str, later: str) -> None:
    """``later`` must not come before ``earlier`` (dates or years)."""
    a, b = cell.get(earlier), cell.get(later)
    if a is None or b is None:
        return
    if isinstance(a, dt.date) and isinstance(b, int):
        a = a.year
    if b < a:
        first = _field(part, earlier)
        checker.add(
            part,
            cell.number,
            later,
            cell.raw.get(later),
            "date_order",
            f"expected no earlier than {first.label_zh} ({earlier}) = {cell.raw.get(earlier)!r}",
        )


def _check_base(checker: _Checker, sub: Submission, data: PartData, cells: list[_Cell]) -> None:
    if len(cells) != 1:
        row = cells[1].number if len(cells) > 1 else None
        checker.add(
            "base",
            row,
            None,
            None,
            "base_row_count",
            f"the base part has {len(cells)} rows; expected exactly one row describing the base",
        )
    if not cells:
        return
    base = cells[0]
    code = base.get("base_code")
    if code and sub.named_base_code and code != sub.named_base_code:
        checker.add(
            "base",
            base.number,
            "base_code",
            base.raw.get("base_code"),
            "base_code_mismatch",
            f"expected {sub.named_base_code}, the base code the file is named after",
        )
    year = base.get("reporting_year")
    if year and sub.named_reporting_year and year != sub.named_reporting_year:
        checker.add(
            "base",
            base.number,
            "reporting_year",
            base.raw.get("reporting_year"),
            "reporting_year_mismatch",
            f"expected {sub.named_reporting_year}, the year of the inbox folder the file is in",
        )
    province = base.get("province")
    code = code or sub.base_code
    if province and code and province != code[:2]:
        checker.add(
            "base",
            base.number,
            "province",
            base.raw.get("province"),
            "province_mismatch",
            f"the base code {code} names the province {code[:2]}; expected the same province",
            WARNING,
        )
    for part_key, total_key in (
        ("reported_enterprises_in_park", "reported_incubated_cum"),
        ("reported_returnees_in_park", "reported_returnees_cum"),
    ):
        _check_subset(
            checker, "base", base, part_key, total_key, base.get(part_key), base.get(total_key)
        )
    _check_order(checker, "base", base, "established_date", "designated_year")


def _check_subset(
    checker: _Checker,
    part: str,
    cell: _Cell,
    part_key: str,
    total_key: str,
    part_value: Any,
    total_value: Any,
) -> None:
    if part_value is None or total_value is None or part_value <= total_value:
        return
    total = _field(part, total_key)
    checker.add(
        part,
        cell.number,
        part_key,
        cell.raw.get(part_key),
        "subset_exceeds_total",
        f"expected no more than {total.label_zh} ({total_key}) = {cell.raw.get(total_key)!r}",
    )


def _check_companies(checker: _Checker, data: PartData, cells: list[_Cell]) -> "_CompanyCodes":
    _check_duplicates(
        checker,
        "companies",
        cells,
        lambda c: c.get("credit_code"),
        "credit_code",
        "duplicate_company",
        "this company (credit code) is",
    )
    for cell in cells:
        _check_subset(
            checker,
            "companies",
            cell,
            "tax_paid",
            "revenue",
            _yuan(cell.get("tax_paid"), data.units.get("tax_paid")),
            _yuan(cell.get("revenue"), data.units.get("revenue")),
        )
        if cell.get("listing_board") and cell.raw.get("listing_date") is None:
            checker.add(
                "companies",
                cell.number,
                "listing_date",
                None,
                "listing_date_missing",
                f"the company is listed ({cell.raw.get('listing_board')}); expected its listing date",
            )
        if cell.raw.get("listing_date") and cell.raw.get("listing_board") is None:
            checker.add(
                "companies",
                cell.number,
                "listing_board",
                None,
                "listing_board_missing",
                "a listing date is given; expected the board the company is listed on",
            )
        status = cell.get("status")
        left_raw = cell.raw.get("left_date")
        if status == "in_park" and left_raw is not None:
            checker.add(
                "companies",
                cell.number,
                "status",
                cell.raw.get("status"),
                "status_left_date",
                f"the company is in the base but has a left date ({left_raw}); expected "
                "either no left date or another status (graduated, moved_out, deregistered)",
            )
        elif status and status != "in_park" and left_raw is None:
            checker.add(
                "companies",
                cell.number,
                "left_date",
                None,
                "status_left_date",
                f"status {cell.raw.get('status')!r} means the company left; expected its left date",
            )
        _check_order(checker, "companies", cell, "entered_date", "left_date")
        _check_order(checker, "companies", cell, "founded_date", "listing_date")
        _check_order(checker, "companies", cell, "founded_date", "high_tech_year")
        _check_order(checker, "companies", cell, "founded_date", "little_giant_year")
    return _CompanyCodes(
        valid={c.get("credit_code") for c in cells if c.get("credit_code")},
        invalid=[
            values.normalize(c.raw["credit_code"]).upper()
            for c in cells
            if c.raw.get("credit_code") and "credit_code" in c.unparsed
        ],
    )


@dataclass
class _CompanyCodes:
    """The companies' credit codes, valid and (already reported) invalid."""

    valid: set[str]
    invalid: list[str]

    def knows(self, code: str) -> bool:
        """Whether a reference resolves, or names a company whose own code has a wrong check digit.

        A wrong check digit in the company roster is one problem: the rows that reference the
        company by its right code (the same first 17 characters) are not reported again. Any
        other difference is another company, and reported.
        """
        if code in self.valid:
            return True
        return any(len(bad) == 18 and bad[:17] == code[:17] for bad in self.invalid)


def _check_talent(
    checker: _Checker, cells: list[_Cell], company_codes: _CompanyCodes | None
) -> None:
    _check_duplicates(
        checker,
        "talent",
        cells,
        lambda c: c.get("id_number"),
        "id_number",
        "duplicate_person",
        "this person (ID number) is",
    )
    for cell in cells:
        _check_order(checker, "talent", cell, "entered_date", "left_date")
        _check_order(checker, "talent", cell, "birth_year", "return_year")
        _check_order(checker, "talent", cell, "birth_year", "programme_year")
        number, birth_year = cell.get("id_number"), cell.get("birth_year")
        if number and birth_year and cell.get("id_type") in ("resident_id", None):
            born = values.resident_id_birth_date(number) if len(number) == 18 else None
            if born and born.year != birth_year:
                checker.add(
                    "talent",
                    cell.number,
                    "birth_year",
                    cell.raw.get("birth_year"),
                    "birth_year_mismatch",
                    f"the ID number gives the birth year {born.year}; expected the same",
                    WARNING,
                )
        employer = cell.get("employer_credit_code")
        if employer and company_codes is not None and not company_codes.knows(employer):
            checker.add(
                "talent",
                cell.number,
                "employer_credit_code",
                cell.raw.get("employer_credit_code"),
                "unknown_employer",
                "expected the credit code of a company in the companies part",
            )


def _check_funding(
    checker: _Checker, cells: list[_Cell], company_codes: _CompanyCodes | None
) -> None:
    for cell in cells:
        code = cell.get("credit_code")
        if code and company_codes is not None and not company_codes.knows(code):
            checker.add(
                "funding",
                cell.number,
                "credit_code",
                cell.raw.get("credit_code"),
                "unknown_company",
                "expected the credit code of a company in the companies part",
            )


# ---------------------------------------------------------------------------- expert scores


def validate_expert_scores(file: str, data: PartData) -> list[Problem]:
    """Rules of the committee's expert scores: valid base codes, scores 0–100, one score per expert and base."""
    checker = _Checker(file, None)
    _check_columns(checker, data)
    cells = checker.parse_rows(data)
    for cell in cells:
        score = cell.get("score")
        if score is not None and not 0 <= score <= 100:
            checker.add(
                EXPERT_SCORES,
                cell.number,
                "score",
                cell.raw.get("score"),
                "score_out_of_range",
                "expected a score from 0 to 100",
            )

    def pair(cell: _Cell) -> tuple[str, str] | None:
        base, expert = cell.get("base_code"), cell.get("expert_id")
        return (base, expert.casefold()) if base and expert else None

    _check_duplicates(
        checker,
        EXPERT_SCORES,
        cells,
        pair,
        "expert_id",
        "duplicate_expert_score",
        "this expert's score of this base is",
    )
    return sort_problems(checker.problems)


# ---------------------------------------------------------------------------- one entry point


def check_file(
    path: Path, *, limits: Limits | None = None
) -> tuple[Submission | None, list[Problem]]:
    """Read and validate a submission or an expert score file; bad input gives problems, never raises.

    The submission is None for an expert score file, and for a file that is no submission at all
    (then the only problem says why, with ``part`` None).
    """
    path = Path(path)
    with cyclic_gc_paused():
        try:
            if is_expert_scores(path) and path.is_file():
                data, problems = read_expert_scores_table(path, limits=limits)
                return None, sort_problems(problems + validate_expert_scores(str(path), data))
            submission = read_submission(path, limits=limits)
        except SubmissionError as exc:
            return None, [exc.problem]
        return submission, validate_submission(submission)


@contextlib.contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a file is read and checked.

    A roster becomes hundreds of thousands of small dicts and lists, and the collector, which
    runs every few hundred new containers, would walk them again and again (a sixth of the
    time). They hold no reference cycles, so reference counting frees them all the same; the
    collector runs again once the outermost pause ends.
    """
    if not gc.isenabled():
        yield  # paused already (an enclosing pause, or the application's own choice)
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
