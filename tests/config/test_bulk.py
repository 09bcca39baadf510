"""The set-based helpers imports write with: keys taken up front, COPY, and `= ANY(array)` filters."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from config import bulk
from curriculum.models import Enrollment
from tests import factories

PEOPLE = ("email", "password", "first_name", "last_name", "preferred_language", "is_superuser", "is_active", "is_staff")


def _person(email: str, first_name: str = "Ana") -> tuple[object, ...]:
    return (email, "!unusable", first_name, "García", "es", False, True, False, timezone.now())


def test_new_keys_are_fresh_and_distinct_and_copied_rows_keep_them(db):
    existing = factories.UserFactory()
    keys = bulk.new_keys(User, 3)

    assert len(set(keys)) == 3
    assert min(keys) > existing.pk
    bulk.copy_in(
        User,
        ("id", *PEOPLE, "date_joined"),
        [(key, *_person(f"copied{number}@school.test")) for number, key in enumerate(keys)],
    )

    assert dict(User.objects.filter(pk__in=keys).values_list("email", "pk")) == {
        f"copied{number}@school.test": key for number, key in enumerate(keys)
    }
    # The sequence moved on: a row inserted the usual way gets a key of its own.
    assert factories.UserFactory().pk > max(keys)


def test_no_keys_are_taken_for_no_rows(db):
    with CaptureQueriesContext(connection) as queries:
        assert bulk.new_keys(User, 0) == []
    assert len(queries) == 0


def test_copied_rows_get_the_tables_identity_when_no_key_is_given(db):
    cohort = factories.CohortFactory()
    student = factories.UserFactory()
    bulk.copy_in(
        Enrollment,
        ("student_id", "cohort_id", "student_number", "admitted_on", "created_at"),
        [(student.pk, cohort.pk, "S-1", cohort.start_on, timezone.now())],
    )

    enrollment = Enrollment.objects.get(student=student)
    assert (enrollment.cohort, enrollment.student_number, enrollment.admitted_on) == (cohort, "S-1", cohort.start_on)
    assert enrollment.withdrawn_on is None  # a nullable column left out is empty


def test_a_copy_is_counted_like_any_other_statement(db):
    with CaptureQueriesContext(connection) as queries:
        bulk.copy_in(User, (*PEOPLE, "date_joined"), [_person("counted@school.test")])

    assert len(queries) == 1
    assert queries[0]["sql"].startswith('COPY "accounts_user" ("email", "password", "first_name"')
    assert "counted@school.test" not in queries[0]["sql"]  # values travel in the stream, not the SQL


def test_the_database_still_checks_every_copied_row_and_a_refused_row_writes_none(db):
    factories.UserFactory(email="taken@school.test")
    rows = [_person("fresh@school.test"), _person("taken@school.test")]

    with pytest.raises(IntegrityError, match="accounts_user_email_key"), transaction.atomic():
        bulk.copy_in(User, (*PEOPLE, "date_joined"), rows)

    assert not User.objects.filter(email="fresh@school.test").exists()


def test_a_check_constraint_refuses_a_copied_row(db):
    cohort = factories.CohortFactory()
    student = factories.UserFactory()
    admitted = cohort.start_on
    graduated_before_admission = date(admitted.year - 1, 1, 1)

    with pytest.raises(IntegrityError, match="enrollment_graduated_after_admitted"), transaction.atomic():
        bulk.copy_in(
            Enrollment,
            ("student_id", "cohort_id", "student_number", "admitted_on", "graduated_on", "created_at"),
            [(student.pk, cohort.pk, "", admitted, graduated_before_admission, timezone.now())],
        )

    assert not Enrollment.objects.exists()


def test_a_copy_without_a_required_column_is_refused_before_anything_is_sent(db):
    with CaptureQueriesContext(connection) as queries, pytest.raises(ValueError, match="date_joined"):
        bulk.copy_in(User, PEOPLE, [_person("no-date@school.test")[:-1]])

    assert len(queries) == 0
    assert not User.objects.filter(email="no-date@school.test").exists()


def test_any_of_selects_the_rows_whose_column_is_in_the_array(db):
    first, second, third = factories.UserFactory.create_batch(3)

    assert set(User.objects.filter(bulk.AnyOf("pk", [first.pk, third.pk]))) == {first, third}
    assert not User.objects.filter(bulk.AnyOf("pk", [])).exists()
    assert set(User.objects.filter(bulk.AnyOf("email", [second.email], "text"))) == {second}


def test_any_of_works_inside_a_subquery(db):
    enrolled = factories.EnrollmentFactory()
    factories.EnrollmentFactory()
    keys = [enrolled.student_id, *range(10**6, 10**6 + 500)]

    with CaptureQueriesContext(connection) as queries:
        students = list(
            User.objects.filter(
                Exists(Enrollment.objects.filter(bulk.AnyOf("student_id", keys), student=OuterRef("pk")))
            )
        )

    assert students == [enrolled.student]
    assert '"student_id" = ANY(' in queries[0]["sql"]
