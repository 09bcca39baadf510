"""Setting a program up from files: preview a cohorts or courses file, then write its plan in one
transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from curriculum import imports, setup_imports, spreadsheets
from curriculum.models import Cohort, Course, Program, RosterImport

# One UPDATE ... CASE over 20,000 rows took 21 s; in batches of 500 they take 9 s, most of it Django
# building the CASE expressions (a real program has some twenty cohorts and courses).
UPDATE_BATCH = 500


def _refuse_on_errors(plan: setup_imports.SetupPlan) -> None:
    if plan.errors:
        raise ValidationError([str(error) for error in plan.errors])


def _write_cohorts(plan: setup_imports.SetupPlan) -> None:
    """A fixed number of statements, whatever the number of rows."""
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
        Cohort.objects.bulk_update(changed, ["name", "start_on", "expected_graduation_on"], batch_size=UPDATE_BATCH)
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


def _write_courses(program: Program, plan: setup_imports.SetupPlan) -> None:
    """A fixed number of statements, whatever the number of rows."""
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
        Course.objects.bulk_update(changed, ["title", "clock_hours"], batch_size=UPDATE_BATCH)
    if plan.trigger_course_line is not None:
        trigger = plan.records[plan.trigger_course_line]
        if program.trigger_course_id != trigger.pk:
            program.trigger_course = trigger
            program.save(update_fields=["trigger_course"])
    elif plan.clears_trigger_course:
        program.trigger_course = None
        program.save(update_fields=["trigger_course"])


def _locked(program: Program) -> Program:
    """The program, locked until commit: two imports of one program plan and write one after the other."""
    return Program.objects.select_for_update().get(pk=program.pk)


@transaction.atomic
def apply_cohorts(*, program: Program, content: bytes, file_name: str) -> setup_imports.SetupPlan:
    """Create and update a program's cohorts from a file; with any bad row nothing is written."""
    program = _locked(program)
    plan = setup_imports.plan_cohorts(program=program, content=content, file_name=file_name)
    _write_cohorts(plan)
    return plan


@transaction.atomic
def apply_courses(*, program: Program, content: bytes, file_name: str) -> setup_imports.SetupPlan:
    """Create and update a program's courses and its trigger course from a file; a bad row stops it all."""
    program = _locked(program)
    plan = setup_imports.plan_courses(program=program, content=content, file_name=file_name)
    _write_courses(program, plan)
    return plan


def _plan_rows(kind: str, program: Program, rows: Iterable[spreadsheets.SheetRow]) -> setup_imports.SetupPlan:
    if kind == RosterImport.Kind.COHORTS:
        return setup_imports.plan_cohort_rows(program=program, rows=rows)
    if kind == RosterImport.Kind.COURSES:
        return setup_imports.plan_course_rows(program=program, rows=rows)
    raise ValueError(kind)


@transaction.atomic
def preview_setup_import(
    *, kind: str, program: Program, uploaded_by: User, file_name: str, content: bytes
) -> RosterImport:
    """Read an uploaded cohorts or courses file once and keep it with its rows and plan; writes no record."""
    file_format = setup_imports.COHORTS_FORMAT if kind == RosterImport.Kind.COHORTS else setup_imports.COURSES_FORMAT
    rows = list(spreadsheets.read_rows(content, file_name, file_format))
    plan = _plan_rows(kind, program, rows)
    cutoff = timezone.now() - timedelta(hours=settings.IMPORT_PREVIEW_HOURS)
    # Previews nobody applied in time are never applied; their rows only take space.
    RosterImport.objects.filter(program=program, plan__isnull=False, created_at__lt=cutoff).update(rows=None, plan=None)
    return RosterImport.objects.create(
        program=program,
        kind=kind,
        uploaded_by=uploaded_by,
        file_name=file_name,
        content=content,
        summary=plan.summary,
        rows=[row.as_json() for row in rows],
        plan=plan.as_json(),
    )


def apply_setup_import(*, upload: RosterImport, progress: imports.Progress | None = None) -> setup_imports.SetupPlan:
    """Apply a previewed cohorts or courses upload once, exactly as previewed, or raise PreviewChanged.

    The stored rows are planned again against the records as they are now; if that plan differs from
    the one previewed, nothing is written and the new plan is stored for the person to check. The
    upload's state commits with the records. The rows are written in a few statements, so `progress`
    hears of none written, then all."""
    with transaction.atomic():
        upload = RosterImport.objects.select_for_update().defer("content").get(pk=upload.pk)
        program = _locked(upload.program)
        if upload.applied_at:
            raise ValidationError(_("This file was imported already."))
        if not upload.preview_is_current():
            raise ValidationError(spreadsheets.preview_expired_message())
        assert upload.rows is not None  # kept with every current preview
        plan = _plan_rows(upload.kind, program, [spreadsheets.SheetRow.from_json(row) for row in upload.rows])
        planned = plan.as_json()
        if planned == upload.plan:
            total = sum(1 for row in plan.rows if row.action in ("create", "update"))
            if progress:
                progress(0, total)
            if upload.kind == RosterImport.Kind.COHORTS:
                _write_cohorts(plan)
            else:
                _write_courses(program, plan)
            if progress:
                progress(total, total)
            upload.applied_at = timezone.now()
            upload.summary = plan.summary
            upload.rows = upload.plan = None  # applied: the summary says what happened
            marked = imports.mark_applied(upload)
            upload.save(update_fields=["applied_at", "summary", "rows", "plan", *marked])
            return plan
        changed = spreadsheets.rows_changed(upload.plan, planned)
        upload.plan, upload.summary = planned, plan.summary
        marked = imports.mark_preview_changed(upload, changed)
        upload.save(update_fields=["plan", "summary", *marked])
    # Raised once the new preview is committed: the refusal must not undo it.
    raise spreadsheets.PreviewChanged(changed)
