"""Parsing of submitted text: numbers, dates, booleans, enumerations, provinces and identifiers.

Every parser takes the text as submitted and returns the value, or raises ``BadValue`` saying
what was expected. Submissions come from people typing into Excel on Chinese Windows, so the
parsers accept the ways of writing a value that are unambiguous (full-width digits, thousands
separators, ``1.2万``, ``2023年5月1日``, Chinese labels of codes) and refuse the rest.

The parsers are pure functions of their text and return immutable values, so those of values
that repeat keep the answers they gave (``functools.lru_cache``, bounded): a roster repeats the
same dates, labels, numbers and company codes on thousands of rows. Personal identifiers and
phone numbers, one per person, are not kept. A value that does not parse raises each time
(exceptions are not cached). The lookups of labels are built from the seeds once per process.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, ValidationError

from parkwh.submission import spec

MAX_TEXT_FOR_NUMBER = 64
"""Longer text is never a number here; refusing it early keeps Decimal away from huge inputs."""


class BadValue(ValueError):
    """A value that does not parse; ``rule`` is the id of the rule it breaks (see ``errors.RULES``)."""

    def __init__(self, message: str, rule: str = "wrong_type"):
        super().__init__(message)
        self.message = message
        self.rule = rule


def normalize(text: str) -> str:
    """NFKC (full-width digits and letters become ASCII, ``（`` becomes ``(``) and trimmed."""
    return unicodedata.normalize("NFKC", text).strip()


_MATCH_SEPARATORS = re.compile(r"[\s_\-]+")

_SMALL_CACHE = 4096
"""Values with few spellings: enumeration labels, booleans, provinces, years."""
_LARGE_CACHE = 1 << 15
"""Values that repeat across the rows of a file: dates, numbers, company codes."""


@lru_cache(maxsize=_LARGE_CACHE)
def match_key(text: str) -> str:
    """The form two names are compared in: NFKC, case-folded, without whitespace, ``_`` or ``-``."""
    return _MATCH_SEPARATORS.sub("", unicodedata.normalize("NFKC", text).casefold())


# ---------------------------------------------------------------------------- numbers

_SCALE_SUFFIXES = {
    "万亿": Decimal(10) ** 12,
    "亿": Decimal(10) ** 8,
    "万": Decimal(10) ** 4,
    "千": Decimal(1000),
}
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_GROUPED_NUMBER = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")


@lru_cache(maxsize=_LARGE_CACHE)
def parse_number(text: str) -> Decimal:
    """A decimal number: ``1234.5``, ``1,234.5``, ``１２３``, ``1.2万``, ``3亿``, ``¥100``, ``100元``."""
    expected = "expected a number such as 1234.5, 1,234.5 or 1.2万"
    s = normalize(text)
    if not s or len(s) > MAX_TEXT_FOR_NUMBER:
        raise BadValue(expected)
    # Whitespace is allowed around a currency sign or a multiplier, never inside the digits.
    for prefix in ("¥", "RMB", "CNY"):
        s = s.removeprefix(prefix).lstrip()
    s = s.removesuffix("元").rstrip()
    factor = Decimal(1)
    for suffix, scale in _SCALE_SUFFIXES.items():
        if s.endswith(suffix):
            s, factor = s[: -len(suffix)].rstrip(), scale
            break
    if "," in s:
        if not _GROUPED_NUMBER.fullmatch(s):
            raise BadValue(f"{expected} (thousands separators must group three digits)")
        s = s.replace(",", "")
    if not _PLAIN_NUMBER.fullmatch(s):
        raise BadValue(expected)
    try:
        number = Decimal(s)
    except InvalidOperation:
        raise BadValue(expected) from None
    # Exponents only come from JSON literals; anything beyond 10^30 is a typo, not a figure.
    if number != 0 and not -30 <= number.adjusted() <= 30:
        raise BadValue(f"{expected} (the number is implausibly large or small)")
    return number * factor


@lru_cache(maxsize=_LARGE_CACHE)
def parse_integer(text: str) -> int:
    """A whole number, written as any number ``parse_number`` reads (``1,234``, ``1.2万``, ``12.0``)."""
    try:
        number = parse_number(text)
    except BadValue:
        raise BadValue("expected a whole number such as 12 or 1,234") from None
    if number != number.to_integral_value():
        raise BadValue("expected a whole number, not a fraction")
    return int(number)


# ---------------------------------------------------------------------------- dates and years

_DATE_PATTERNS = (
    re.compile(r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})"),
    re.compile(r"(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})[日号]?"),
    re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})"),
)
# Excel date cells that carry a time of day come out as 'YYYY-MM-DD HH:MM:SS'; the time is dropped.
_TIME_SUFFIX = re.compile(r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")


@lru_cache(maxsize=_LARGE_CACHE)
def parse_date(text: str) -> dt.date:
    """A calendar date: ``2023-05-01``, ``2023/5/1``, ``2023.5.1``, ``2023年5月1日``, ``20230501``."""
    expected = "expected a date such as 2023-05-01, 2023/5/1 or 2023年5月1日"
    s = normalize(text)
    if len(s) > 40:
        raise BadValue(expected)
    for pattern in _DATE_PATTERNS:
        m = pattern.match(s)
        if m and _TIME_SUFFIX.fullmatch(s[m.end() :]):
            try:
                return dt.date(int(m["y"]), int(m["m"]), int(m["d"]))
            except ValueError:
                raise BadValue(f"{expected}; {s!r} is not a day of the calendar") from None
    raise BadValue(expected)


_FOUR_DIGITS = re.compile(r"\d{4}")


@lru_cache(maxsize=_SMALL_CACHE)
def parse_year(text: str) -> int:
    """A year of four digits: ``2023``, ``２０２３``, ``2023年``."""
    s = normalize(text).removesuffix("年").strip()
    if not _FOUR_DIGITS.fullmatch(s):
        raise BadValue("expected a year of four digits such as 2023")
    return int(s)


# ---------------------------------------------------------------------------- booleans and enumerations

_BOOLEAN_WORDS = {
    True: ("是", "true", "yes", "y", "1", "t", "对", "有", "√", "✓"),
    False: ("否", "false", "no", "n", "0", "f", "不是", "无", "×", "✗"),
}


@lru_cache(maxsize=1)
def _boolean_lookup() -> dict[str, bool]:
    lookup = {match_key(word): value for value, words in _BOOLEAN_WORDS.items() for word in words}
    for item in spec.enums().get("boolean", ()):
        value = item.code == "true"
        for name in (item.code, item.label_zh, item.label_en):
            lookup.setdefault(match_key(name), value)
    return lookup


@lru_cache(maxsize=_SMALL_CACHE)
def parse_bool(text: str) -> bool:
    """Yes or no: 是/否, true/false, yes/no, 1/0, Y/N."""
    found = _boolean_lookup().get(match_key(text))
    if found is None:
        raise BadValue("expected 是 or 否 (yes/no, true/false, 1/0)")
    return found


@lru_cache(maxsize=None)
def _enum_lookup(enum_name: str) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for item in spec.enums()[enum_name]:
        for name in (item.code, item.label_zh, item.label_en):
            # The first value to claim a spelling keeps it: codes and labels never collide in the seeds.
            lookup.setdefault(match_key(name), item.code)
    return lookup


def enum_choices(enum_name: str, limit: int = 12) -> str:
    """The accepted values of an enumeration, for messages: ``in_park (在园), graduated (毕业) …``."""
    items = spec.enums()[enum_name]
    shown = ", ".join(f"{item.code} ({item.label_zh})" for item in items[:limit])
    return shown + (" …" if len(items) > limit else "")


@lru_cache(maxsize=_SMALL_CACHE)
def parse_enum(enum_name: str, text: str) -> str:
    """The code of an enumeration value given by code, Chinese label or English label."""
    if enum_name not in spec.enums():
        raise KeyError(f"unknown enumeration {enum_name!r}")
    code = _enum_lookup(enum_name).get(match_key(text))
    if code is None:
        raise BadValue(f"expected one of {enum_choices(enum_name)}", rule="unknown_enum")
    return code


@lru_cache(maxsize=1)
def _province_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for p in spec.provinces():
        names = [p.code, p.name_zh, p.short_zh, p.name_en, p.name_en.removesuffix(" SAR")]
        for name in names:
            lookup.setdefault(match_key(name), p.code)
        lookup.setdefault(match_key("中国" + p.short_zh), p.code)
    return lookup


@lru_cache(maxsize=_SMALL_CACHE)
def parse_province(text: str) -> str:
    """The province code (``SH``) from a code, full or short Chinese name, or English name."""
    code = _province_lookup().get(match_key(text))
    if code is None:
        raise BadValue(
            "expected a province by code (SH), Chinese name (上海市 or 上海) or English name (Shanghai)",
            rule="unknown_province",
        )
    return code


# ---------------------------------------------------------------------------- identifiers


# A roster of tens of thousands of rows spends most of its validation time in python-stdnum's
# generic clean-up of each identifier. A code already in its plain form (the common case) is
# checked here with the same rules and the same order of checks; anything else goes to stdnum.
_PLAIN_CREDIT_CODE = re.compile(r"[0-9]{8}[0-9A-HJ-NP-RTUWXY]{10}")
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(_USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_PLAIN_RESIDENT_ID = re.compile(r"[0-9]{17}[0-9X]")


def _validate_credit_code(s: str) -> str:
    """``uscc.validate``, fast for a plain code."""
    if not _PLAIN_CREDIT_CODE.fullmatch(s):
        return uscc.validate(s)
    total = sum(_USCC_VALUE[c] * w for c, w in zip(s, _USCC_WEIGHTS))
    if s[-1] != _USCC_ALPHABET[(31 - total) % 31]:
        raise InvalidChecksum()
    return s


@lru_cache(maxsize=8192)
def _counties(region: str) -> tuple[str, ...] | None:
    """The counties stdnum's table lists for a region code (each maybe ``[start-end]name``)."""
    from stdnum import numdb

    info = {k: v for _, props in numdb.get("cn/loc").info(region) for k, v in props.items()}
    # A code the table knows only as a province or prefecture has no county: not a region.
    return tuple(info["county"].split(",")) if "county" in info else None


@lru_cache(maxsize=_LARGE_CACHE)
def _birth_place_known(region: str, year: int) -> bool:
    """``ric.get_birth_place``'s verdict, its table read once per region code: a county that
    existed in the birth year carries the code."""
    counties = _counties(region)
    if counties is None:
        return False
    for county in counties:
        if not county.startswith("["):
            return True
        start, end = county[1:].split("]")[0].split("-")
        if (start and year < int(start)) or (end and year > int(end)):
            continue
        return True
    return False


def _validate_resident_id(s: str) -> str:
    """``ric.validate``, fast for a plain number (same checks, same order)."""
    if not _PLAIN_RESIDENT_ID.fullmatch(s):
        try:
            return ric.validate(s)
        except KeyError:  # a region code stdnum knows, but not as a county: no valid region
            raise InvalidComponent() from None
    if s[-1] != ric.calc_check_digit(s):
        raise InvalidChecksum()
    try:
        born = dt.date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        raise InvalidComponent() from None
    if not _birth_place_known(s[:6], born.year):
        raise InvalidComponent()
    return s


@lru_cache(maxsize=_LARGE_CACHE)
def parse_credit_code(text: str) -> str:
    """A unified social credit code (GB 32100-2015), upper-cased and without separators."""
    s = normalize(text)
    try:
        return _validate_credit_code(s)
    except InvalidChecksum:
        raise BadValue(
            "check digit is wrong (expected 18 characters per GB 32100-2015)",
            rule="credit_code_check_digit",
        ) from None
    except ValidationError:
        raise BadValue(
            "expected 18 characters per GB 32100-2015: 8 digits, then digits and letters without I, O, S, V, Z",
            rule="credit_code_format",
        ) from None


def parse_resident_id(text: str) -> str:
    """An 18-character resident identity card number (GB 11643-1999), check digit verified."""
    s = normalize(text)
    try:
        return _validate_resident_id(s)
    except InvalidChecksum:
        raise BadValue(
            "check digit is wrong (expected 18 characters per GB 11643-1999)",
            rule="id_number_check_digit",
        ) from None
    except ValidationError:
        raise BadValue(
            "expected a resident ID number of 18 characters (17 digits and a digit or X) "
            "with a valid region and birth date",
            rule="id_number_format",
        ) from None


_PASSPORT_SEPARATORS = re.compile(r"[\s\-]")
_PASSPORT = re.compile(r"[A-Z0-9]{5,20}")
_RESIDENT_ID_SHAPE = re.compile(r"\d{17}[\dXx]")
_PHONE_SEPARATORS = re.compile(r"[\s\-()]")
_PHONE_COUNTRY_CODE = re.compile(r"^(\+?86|0086)(?=1\d{10}$)")
_MOBILE = re.compile(r"1[3-9]\d{9}")


def parse_passport(text: str) -> str:
    """A passport or other document number: 5 to 20 letters and digits."""
    s = _PASSPORT_SEPARATORS.sub("", normalize(text)).upper()
    if not _PASSPORT.fullmatch(s):
        raise BadValue(
            "expected a document number of 5 to 20 letters and digits", rule="id_number_format"
        )
    return s


def parse_id_number(id_type: str | None, text: str) -> str:
    """An ID number checked as its type says; without a known type, its look decides."""
    if id_type == "resident_id":
        return parse_resident_id(text)
    if id_type in ("passport", "other"):
        return parse_passport(text)
    s = normalize(text)
    if _RESIDENT_ID_SHAPE.fullmatch(s):
        return parse_resident_id(s)
    return parse_passport(s)


def resident_id_birth_date(number: str) -> dt.date | None:
    """The birth date a valid resident ID number carries."""
    if _PLAIN_RESIDENT_ID.fullmatch(number):
        # What ``ric.get_birth_date`` reads, without its generic clean-up of the text.
        try:
            return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        except ValueError:
            return None
    try:
        return ric.get_birth_date(number)
    except (ValidationError, ValueError):
        # ValueError: no digits where the date belongs (a passport number of 18 characters
        # checked against a birth year when the ID type is not given).
        return None


def parse_phone(text: str) -> str:
    """A mainland mobile number of 11 digits (``^1[3-9]\\d{9}$``), after dropping spaces, hyphens and +86."""
    s = _PHONE_SEPARATORS.sub("", normalize(text))
    s = _PHONE_COUNTRY_CODE.sub("", s)
    if not _MOBILE.fullmatch(s):
        raise BadValue(
            "expected an 11-digit mobile number starting 13-19, e.g. 13812345678", rule="bad_phone"
        )
    return s


@lru_cache(maxsize=_SMALL_CACHE)
def parse_base_code(text: str) -> str:
    """A base code: a known province code and three digits, e.g. ``SH001``."""
    s = normalize(text).upper()
    known = {p.code for p in spec.provinces()}
    if not re.fullmatch(spec.BASE_CODE_PATTERN, s) or s[:2] not in known:
        raise BadValue(
            "expected a base code of a province code and three digits, e.g. SH001",
            rule="bad_base_code",
        )
    return s


def mask(text: str | None) -> str | None:
    """Personal data shown in a problem keeps only enough to find the row: ``1101**********123X``."""
    if text is None:
        return None
    s = text.strip()
    if len(s) <= 2:
        return s[:1] + "*" * (len(s) - 1)
    if len(s) <= 6:
        return s[0] + "*" * (len(s) - 2) + s[-1]
    return (
        s[:4] + "*" * (len(s) - 8) + s[-4:] if len(s) > 8 else s[:2] + "*" * (len(s) - 4) + s[-2:]
    )
