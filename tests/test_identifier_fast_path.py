"""The validator's fast checks of plain identifiers agree with python-stdnum on every input.

A plain credit code or resident ID number is checked by parkwh's own code (stdnum's clean-up of
each value dominated the validation of a large roster); anything else still goes to stdnum.
Both must accept and reject exactly the same numbers, for the same reason.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from parkwh.submission import values
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

REGIONS = [
    "110101", "310101", "440305", "320102", "130100", "999999", "000000", "710000", "111000",
    # Counties that existed only for some years: the birth year decides.
    "110103", "110104", "110110", "110111", "110112",
]  # fmt: skip


def outcome(check, number: str) -> str:
    try:
        return "ok:" + check(number)
    except ValidationError as exc:
        return type(exc).__name__
    except KeyError:
        # stdnum's own answer for a region code it knows only as a province or prefecture
        # ("111000"); parkwh calls that an unknown region.
        return "InvalidComponent"


def with_ric_check_digit(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")


@settings(max_examples=400, deadline=None)
@given(
    region=st.one_of(st.sampled_from(REGIONS), st.from_regex(r"[0-9]{6}", fullmatch=True)),
    year=st.one_of(
        st.integers(1890, 2030), st.sampled_from([1985, 1986, 1987, 1996, 1997, 2010, 2011])
    ),
    month=st.integers(0, 13),
    day=st.integers(0, 32),
    serial=st.integers(0, 999),
    last=st.one_of(st.none(), st.sampled_from("0123456789X")),
)
def test_resident_ids_are_judged_as_stdnum_judges_them(region, year, month, day, serial, last):
    body = f"{region}{year:04d}{month:02d}{day:02d}{serial:03d}"
    number = with_ric_check_digit(body) if last is None else body + last
    assert outcome(values._validate_resident_id, number) == outcome(ric.validate, number)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789Xx -", min_size=0, max_size=22))
def test_any_text_shaped_like_an_id_is_judged_as_stdnum_judges_it(number):
    assert outcome(values._validate_resident_id, number) == outcome(ric.validate, number)


@settings(max_examples=400, deadline=None)
@given(
    body=st.from_regex(r"[0-9]{8}[0-9A-HJ-NP-RTUWXY]{9}", fullmatch=True),
    last=st.one_of(st.none(), st.sampled_from("0123456789ABCDEFGHJKLMNPQRTUWXYIOSVZ")),
)
def test_credit_codes_are_judged_as_stdnum_judges_them(body, last):
    number = body + (uscc.calc_check_digit(body) if last is None else last)
    assert outcome(values._validate_credit_code, number) == outcome(uscc.validate, number)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ -", min_size=0, max_size=22))
def test_any_text_shaped_like_a_credit_code_is_judged_as_stdnum_judges_it(number):
    assert outcome(values._validate_credit_code, number) == outcome(uscc.validate, number)


def test_the_fast_path_is_taken_for_plain_numbers(monkeypatch):
    def refuse(_number):
        raise AssertionError("stdnum's validate was called for a plain number")

    monkeypatch.setattr(ric, "validate", refuse)
    monkeypatch.setattr(uscc, "validate", refuse)
    assert values.parse_resident_id(
        "11010119900307001" + ric.calc_check_digit("110101199003070010")
    )
    body = "91310000MA1K00001"
    assert values.parse_credit_code(body + uscc.calc_check_digit(body))


def test_a_region_known_only_above_county_level_is_a_bad_value_not_a_crash():
    body = "11100019900101001"  # 111000: in stdnum's table, but no county
    number = body + ric.calc_check_digit(body + "0")
    for text in (number, number.lower(), f" {number} "):
        try:
            values.parse_resident_id(text)
        except values.BadValue as bad:
            assert bad.rule == "id_number_format"
        else:
            raise AssertionError(f"{text!r} was accepted")
