"""Small format rules of the roster file: strict dates, a trailing comma in the header."""

from __future__ import annotations

import pytest

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
