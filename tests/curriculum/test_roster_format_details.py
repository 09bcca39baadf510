"""Small format rules of the roster file: strict dates, a trailing comma in the header."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from curriculum import roster


def plan(program, text: str) -> roster.RosterPlan:
    return roster.plan_roster(program=program, content=text.encode(), file_name="roster.csv")


@pytest.mark.parametrize("value", ["20260105", "2026-W02-1", "01/05/2026"])
def test_dates_must_be_written_yyyy_mm_dd(program, cohort, value):
    result = plan(program, f"email,first_name,last_name,cohort,admitted_on\na@school.test,A,B,{cohort.code},{value}\n")
    assert [(error.line, error.column) for error in result.errors] == [(2, "admitted_on")]


def test_a_trailing_comma_in_the_header_is_not_a_column(program, cohort):
    text = f"email,first_name,last_name,cohort,admitted_on,\na@school.test,A,B,{cohort.code},2026-01-05,\n"
    assert plan(program, text).errors == []


def test_a_value_past_the_last_column_is_an_error(program, cohort):
    text = f"email,first_name,last_name,cohort,admitted_on\na@school.test,A,B,{cohort.code},2026-01-05,surprise\n"
    assert [error.column for error in plan(program, text).errors] == ["row"]


@pytest.mark.parametrize(
    ("email", "valid"),
    [
        ("ana@school.test", True),
        ("luis@school.test", True),
        ("ana@school..test", False),
        ("luis@school..test", False),  # the remembered verdict on a bad domain is still "bad"
        ("ana@[127.0.0.1]", True),
        ("ana@localhost", True),
        ("a b@school.test", False),  # a good domain does not excuse the part before the @
        ("ana@-school.test", False),
    ],
)
def test_every_email_is_checked_as_djangos_validator_checks_it(email, valid):
    try:
        validate_email(email)
    except ValidationError:
        assert not valid
    else:
        assert valid
    for _time in range(2):  # the second time from the remembered domain
        _values, errors = roster.clean_row(2, {"email": email})
        assert any(error.column == "email" for error in errors) is not valid


def test_the_email_check_remembers_a_bounded_number_of_domains(monkeypatch):
    validator = roster._EmailValidator()
    monkeypatch.setattr(roster, "DOMAINS_REMEMBERED", 2)

    for number in range(5):
        validator(f"ana@school{number}.test")

    assert list(validator.domains) == ["school0.test", "school1.test"]
    validator("ana@school4.test")  # past the bound: checked again, and still good
