"""Imports gather the statistics of the tables they filled, through a function that lends the app role,
which owns no table, the right to ANALYZE the app's own tables and nothing else."""

from __future__ import annotations

import pytest
from django.db import connection

from curriculum import imports
from curriculum.models import Enrollment
from tests import factories

pytestmark = pytest.mark.django_db

ROLE = "checkoff_test_owns_nothing"


def estimated_rows(cursor, table: str) -> float:
    cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
    return float(cursor.fetchone()[0])


def test_the_function_analyzes_the_apps_tables_for_a_role_that_owns_none(cohort):
    factories.EnrollmentFactory.create_batch(25, cohort=cohort)
    students = Enrollment.objects.count()
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {ROLE} NOLOGIN")
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {ROLE}")
        cursor.execute(f"SET ROLE {ROLE}")
        try:
            cursor.execute("ANALYZE curriculum_enrollment")  # skipped, with a warning: not its table
            unchanged = estimated_rows(cursor, "curriculum_enrollment")
            analyzed = imports.analyze({"curriculum_enrollment"})
            after = estimated_rows(cursor, "curriculum_enrollment")
        finally:
            cursor.execute("RESET ROLE")
    assert unchanged != students
    assert (analyzed, after) == (1, students)


def test_a_name_that_is_not_a_table_of_the_app_is_passed_over():
    analyzed = imports.analyze({"pg_class", "no_such_table", 'curriculum_cohort"; DROP TABLE curriculum_cohort; --'})
    assert analyzed == 0
    assert imports.analyze(set()) == 0
