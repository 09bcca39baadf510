"""The demo program `make run` shows is never made outside DEBUG, and the helpers its timeline is built
with keep the rules real data keeps (what the demo holds: tests/demo/test_demo.py)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts import chains
from accounts.models import AccessLog, User
from curriculum import progress
from curriculum.management.commands.seed_demo import (
    COURSES,
    DAY_PROGRAM_WEEKS,
    EXTERNSHIP_WEEKS,
    PlannedAttempt,
    course_dates,
    externship_term_starts_on,
    write_checkoffs,
)
from curriculum.models import Attempt, ChecklistStep, Signature
from tests import factories


def test_it_refuses_to_run_without_debug(settings, db):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo")
    assert not User.objects.exists()


def test_a_cohorts_courses_come_before_its_externship_term(db):
    start = date(2026, 2, 23)  # a Monday
    cohort = factories.CohortFactory.create(
        start_on=start, expected_graduation_on=start + timedelta(weeks=DAY_PROGRAM_WEEKS, days=-3)
    )
    term = externship_term_starts_on(cohort)
    assert term.weekday() == 0 and cohort.expected_graduation_on - term == timedelta(weeks=EXTERNSHIP_WEEKS, days=-3)
    courses = course_dates(cohort)
    assert len(courses) == len(COURSES) and courses[0][0] == start
    assert all(starts.weekday() == 0 and starts < ends < term for starts, ends in courses)
    assert [starts for starts, _ends in courses] == sorted(starts for starts, _ends in courses)


@pytest.fixture
def lab(db):
    """A student a month into her cohort, an instructor, and a two-step checklist with a critical step."""
    program = factories.ProgramFactory.create()
    cohort = factories.CohortFactory.create(program=program, start_on=timezone.localdate() - timedelta(days=30))
    enrollment = factories.EnrollmentFactory.create(cohort=cohort)
    competency = factories.CompetencyFactory.create()
    program.framework = competency.framework
    program.save(update_fields=["framework"])
    steps = [
        factories.ChecklistStepFactory.create(program=program, competency=competency, points=1),
        factories.ChecklistStepFactory.create(program=program, competency=competency, points=2, is_critical=True),
    ]
    return program, enrollment, competency, factories.UserFactory.create(), steps


def days_ago(days: int) -> datetime:
    return timezone.now() - timedelta(days=days)


def test_past_check_offs_are_written_signed_at_the_time_and_chained(lab):
    program, enrollment, competency, instructor, steps = lab
    critical = next(step for step in steps if step.is_critical)
    write_checkoffs(
        program,
        [
            PlannedAttempt(enrollment, competency, instructor, days_ago(20), "lab", missed={critical.pk}),
            PlannedAttempt(enrollment, competency, instructor, days_ago(10), "simulation"),
        ],
    )
    failed, passed = Attempt.objects.filter(enrollment=enrollment).order_by("performed_at")
    assert (failed.passed, failed.critical_missed, passed.passed, passed.score) == (False, 1, True, 100)
    assert failed.comment and not passed.comment
    assert [result.performed for result in failed.step_results.order_by("order")] == [True, False]
    # Signed by the evaluator minutes after each was performed, intact, and linked into the chains.
    for attempt in (failed, passed):
        signature = Signature.objects.select_related("attempt").get(attempt=attempt)
        assert signature.signer == instructor and signature.is_intact()
        assert timedelta(0) < signature.signed_at - attempt.performed_at < timedelta(hours=1)
    for model in (Signature, AccessLog):
        assert list(chains.check(model, chains.Tally())) == []
    log = AccessLog.objects.filter(student=enrollment.student, action=AccessLog.Action.SIGN).order_by("at")
    assert [entry.target for entry in log] == [
        f"{competency.code} attempt {failed.pk}",
        f"{competency.code} attempt {passed.pk}",
    ]
    assert progress.summary(enrollment) == (1, 1)


@pytest.mark.parametrize(
    "when, by_the_student",
    [(timedelta(days=-1), False), (timedelta(days=45), False), (timedelta(days=3), True)],
    ids=["in the future", "before the cohort started", "by the student"],
)
def test_a_check_off_the_rules_forbid_is_refused(lab, when, by_the_student):
    program, enrollment, competency, instructor, _steps = lab
    evaluator = enrollment.student if by_the_student else instructor
    with pytest.raises(ValueError):
        write_checkoffs(program, [PlannedAttempt(enrollment, competency, evaluator, timezone.now() - when, "lab")])
    assert not Attempt.objects.exists()


def test_a_missed_step_from_another_checklist_is_refused(lab):
    program, enrollment, competency, instructor, _steps = lab
    elsewhere = factories.ChecklistStepFactory.create(program=program)
    with pytest.raises(ValueError):
        write_checkoffs(
            program, [PlannedAttempt(enrollment, competency, instructor, days_ago(3), "lab", missed={elsewhere.pk})]
        )
    assert not Attempt.objects.exists() and ChecklistStep.objects.filter(pk=elsewhere.pk).exists()
