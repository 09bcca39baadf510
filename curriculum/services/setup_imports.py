"""Setting a program up from files: write a cohorts or courses plan in one transaction."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from curriculum import setup_imports
from curriculum.models import Cohort, Course, Program


def _refuse_on_errors(plan: setup_imports.SetupPlan) -> None:
    if plan.errors:
        raise ValidationError([str(error) for error in plan.errors])


@transaction.atomic
def apply_cohorts(*, program: Program, content: bytes, file_name: str) -> setup_imports.SetupPlan:
    """Create and update a program's cohorts from a file; with any bad row nothing is written."""
    plan = setup_imports.plan_cohorts(program=program, content=content, file_name=file_name)
    _refuse_on_errors(plan)
    new = [plan.records[row.line] for row in plan.rows if row.action == "create"]
    changed = [plan.records[row.line] for row in plan.rows if row.action == "update"]
    for row in plan.rows:
        cohort = plan.records[row.line]
        cohort.name = row.values["name"]
        cohort.start_on = row.values["starts_on"]
        cohort.expected_graduation_on = row.values["expected_graduation_on"]
    Cohort.objects.bulk_create(new)
    if changed:
        Cohort.objects.bulk_update(changed, ["name", "start_on", "expected_graduation_on"])
    # Only rows whose instructors changed are rewritten: a cohort's links are replaced as a whole.
    relinked = {
        plan.records[row.line].pk: plan.instructors[row.line] for row in plan.rows if "instructors" in row.changes
    }
    if relinked:
        link = Cohort.instructors.through
        link.objects.filter(cohort_id__in=relinked).delete()
        link.objects.bulk_create(
            [
                link(cohort_id=cohort_id, user_id=person.pk)
                for cohort_id, people in relinked.items()
                for person in people
            ]
        )
    return plan


@transaction.atomic
def apply_courses(*, program: Program, content: bytes, file_name: str) -> setup_imports.SetupPlan:
    """Create and update a program's courses and its trigger course from a file; a bad row stops it all."""
    program = Program.objects.select_for_update().get(pk=program.pk)
    plan = setup_imports.plan_courses(program=program, content=content, file_name=file_name)
    _refuse_on_errors(plan)
    new = [plan.records[row.line] for row in plan.rows if row.action == "create"]
    changed = []
    for row in plan.rows:
        course = plan.records[row.line]
        course.title, course.clock_hours = row.values["title"], row.values["hours"]
        if row.action == "update" and ("title" in row.changes or "hours" in row.changes):
            changed.append(course)
    Course.objects.bulk_create(new)
    if changed:
        Course.objects.bulk_update(changed, ["title", "clock_hours"])
    if plan.trigger_course_line is not None:
        trigger = plan.records[plan.trigger_course_line]
        if program.trigger_course_id != trigger.pk:
            program.trigger_course = trigger
            program.save(update_fields=["trigger_course"])
    elif plan.clears_trigger_course:
        program.trigger_course = None
        program.save(update_fields=["trigger_course"])
    return plan
