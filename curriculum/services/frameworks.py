"""Framework management: choosing a framework, correcting its rows, a program's own competencies,
skill checklists and where each competency is taught and assessed.

Reference frameworks such as MAERB-2022 are shared by every program of the installation that
follows them: a correction of a shared row is a correction for all of them, made once per school,
and its CompetencyChange row says who made it. Checklists and course mappings are each program's own.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from curriculum.models import (
    Attempt,
    ChecklistStep,
    Competency,
    CompetencyChange,
    CompetencyCourse,
    CompetencyFramework,
    Confidence,
    ContentArea,
    Course,
    Program,
    Signature,
)

MOVES = ("up", "down")
CONFIRMABLE_FIELDS = ("code", "title", "domain", "tags", "is_tracked", "passing_score")


@transaction.atomic
def update_program(*, program: Program) -> Program:
    """Save a program's settings. The program row is locked so no check-off slips in between the
    framework rule's check and the save."""
    if program.pk is not None:
        Program.objects.select_for_update().filter(pk=program.pk).first()
        check_framework_change(program=program, framework=program.framework)
    program.save()
    return program


def check_framework_change(*, program: Program, framework: CompetencyFramework | None) -> None:
    """Refuse to switch a program's framework once attempts were recorded on its current one.

    Attempts point at the current framework's rows: after a switch they would count for nothing
    and every student would appear to start over. Without attempts the switch is allowed; the
    program's checklists, course mappings and own competencies of the old framework stay in the
    database, unseen, and come back if the program switches back."""
    if program.pk is None:
        return
    current = Program.objects.filter(pk=program.pk).values_list("framework_id", flat=True).first()
    if current is None or current == (framework.pk if framework else None):
        return
    attempts = Attempt.objects.filter(enrollment__cohort__program=program, competency__framework_id=current).count()
    if attempts:
        raise ValidationError(
            {
                "framework": _(
                    "The framework cannot change: %(count)s check-off attempts were recorded against the current "
                    "one, and they would no longer count. Keep this framework, or start a new program."
                )
                % {"count": attempts}
            }
        )


def check_code_free(*, framework_id: int, program_id: int | None, code: str, exclude_pk: int | None = None) -> None:
    """A code names one row for every program that reads the framework: refuse one already in use.

    A shared row's code may not match any program's own row either, so no program ever sees two."""
    rows = Competency.objects.filter(framework_id=framework_id, code__iexact=code)
    if program_id is not None:
        rows = rows.filter(Q(program__isnull=True) | Q(program_id=program_id))
    if exclude_pk is not None:
        rows = rows.exclude(pk=exclude_pk)
    if rows.exists():
        raise _code_taken(code)


def _code_taken(code: str) -> ValidationError:
    return ValidationError({"code": _("%(code)s is already a competency of this framework.") % {"code": code}})


@transaction.atomic
@transaction.atomic
def confirm_competency(*, competency: Competency, by: User, changes: dict[str, Any] | None = None) -> Competency:
    """A director confirms a row against the official document, correcting it if need be.

    Who and when is kept, with the row as it was before. A code that signed check-offs cite stays."""
    locked = Competency.objects.select_for_update().get(pk=competency.pk)
    changes = {name: value for name, value in (changes or {}).items() if name in CONFIRMABLE_FIELDS}
    code = changes.get("code", locked.code)
    if code != locked.code:
        # A signature's digest covers the competency's code: renaming it would make every signed
        # attempt look tampered with.
        if Signature.objects.filter(attempt__competency=locked).exists():
            raise ValidationError(
                {
                    "code": _(
                        "The code cannot change: signed check-offs cite it. Correct the title, or add the right "
                        "code as a new competency."
                    )
                }
            )
        check_code_free(framework_id=locked.framework_id, program_id=locked.program_id, code=code, exclude_pk=locked.pk)
    try:
        with transaction.atomic():
            return _record_confirmation(competency=locked, by=by, changes=changes)
    except IntegrityError as error:  # the same code saved by someone else meanwhile
        raise _code_taken(code) from error


def _record_confirmation(*, competency: Competency, by: User, changes: dict[str, Any]) -> Competency:
    before = {name: getattr(competency, name) for name in (*CONFIRMABLE_FIELDS, "confidence")}
    for name, value in changes.items():
        setattr(competency, name, value)
    competency.confidence = Confidence.CONFIRMED
    competency.confirmed_by = by
    competency.confirmed_at = timezone.now()
    competency.full_clean(exclude=["framework", "content_area", "parent", "program"])
    competency.save()
    after = {name: getattr(competency, name) for name in (*CONFIRMABLE_FIELDS, "confidence")}
    CompetencyChange.objects.create(competency=competency, changed_by=by, before=before, after=after)
    return competency


@transaction.atomic
def create_competency(
    *,
    program: Program,
    content_area: ContentArea,
    code: str,
    title: str,
    domain: str,
    created_by: User,
    tags: Iterable[str] = (),
    is_tracked: bool = True,
    passing_score: int | None = None,
    parent: Competency | None = None,
) -> Competency:
    """A program adds a competency of its own to its framework, confirmed by whoever adds it."""
    if program.framework_id is None:
        raise ValidationError(_("Choose the program's framework first."))
    if content_area.framework_id != program.framework_id:
        raise ValidationError({"content_area": _("Choose a content area of the program's framework.")})
    if parent is not None and (
        parent.framework_id != program.framework_id
        or parent.program_id not in (None, program.pk)
        or parent.content_area_id != content_area.pk
    ):
        raise ValidationError({"parent": _("The heading must be a competency of the same content area.")})
    check_code_free(framework_id=program.framework_id, program_id=program.pk, code=code)
    # Sub-items sort with their heading; other rows at the end of their content area.
    siblings = (
        Competency.objects.filter(Q(pk=parent.pk) | Q(parent=parent)) if parent else content_area.competencies.all()
    )
    order = siblings.aggregate(last=Max("order"))["last"] or 0
    competency = Competency(
        framework_id=program.framework_id,
        content_area=content_area,
        program=program,
        parent=parent,
        code=code,
        title=title,
        domain=domain,
        tags=list(tags),
        is_tracked=is_tracked,
        passing_score=passing_score,
        order=order if parent else order + 1,
        confidence=Confidence.CONFIRMED,
        confirmed_by=created_by,
        confirmed_at=timezone.now(),
    )
    competency.full_clean(exclude=["framework", "content_area", "program", "parent", "confirmed_by"])
    try:
        with transaction.atomic():
            competency.save()
    except IntegrityError as error:
        raise _code_taken(code) from error
    after = {name: getattr(competency, name) for name in (*CONFIRMABLE_FIELDS, "confidence")}
    CompetencyChange.objects.create(competency=competency, changed_by=created_by, before={}, after=after)
    return competency


# --- Skill checklists: steps numbered 1..n, always ------------------------------------------------


def _locked_steps(program: Program, competency: Competency) -> list[ChecklistStep]:
    """The checklist's steps in order, with the program's row locked so edits queue one behind another.

    The lock does not block rows that merely refer to the program (no key update)."""
    Program.objects.select_for_update(no_key=True).filter(pk=program.pk).first()
    return list(ChecklistStep.objects.filter(program=program, competency=competency).order_by("order", "pk"))


def _renumber(steps: list[ChecklistStep]) -> None:
    """Number the steps 1..n in the given order without ever holding two at the same number.

    The unique (program, competency, order) constraint is checked row by row, so the steps first
    move above every number in use, then come down to their places."""
    if [step.order for step in steps] == list(range(1, len(steps) + 1)):
        return
    offset = max([len(steps), *(step.order for step in steps)]) + 1
    ChecklistStep.objects.filter(pk__in=[step.pk for step in steps]).update(order=F("order") + offset)
    for number, step in enumerate(steps, start=1):
        step.order = number
    ChecklistStep.objects.bulk_update(steps, ["order"])


def _check_step(text: str, points: int) -> str:
    text = text.strip()
    errors = {}
    if not text:
        errors["text"] = _("Write what the student does in this step.")
    elif len(text) > 500:
        errors["text"] = _("A step has at most 500 characters.")
    if points < 1:
        errors["points"] = _("A step is worth at least 1 point.")
    if errors:
        raise ValidationError(errors)
    return text


@transaction.atomic
def add_checklist_step(
    *, program: Program, competency: Competency, text: str, points: int = 1, is_critical: bool = False
) -> ChecklistStep:
    """Add a step at the end of the program's checklist for a competency."""
    text = _check_step(text, points)
    if not Competency.objects.for_program(program).filter(pk=competency.pk).exists():
        raise ValidationError(_("This competency is not part of the program's framework."))
    steps = _locked_steps(program, competency)
    _renumber(steps)
    return ChecklistStep.objects.create(
        program=program,
        competency=competency,
        order=len(steps) + 1,
        text=text,
        points=points,
        is_critical=is_critical,
    )


@transaction.atomic
def update_checklist_step(*, step: ChecklistStep, text: str, points: int, is_critical: bool) -> ChecklistStep:
    """Change a step's wording, points or criticality. Attempts keep the copy they were scored on."""
    step.text, step.points, step.is_critical = _check_step(text, points), points, is_critical
    step.save(update_fields=["text", "points", "is_critical"])
    return step


@transaction.atomic
def delete_checklist_step(*, step: ChecklistStep) -> None:
    """Remove a step; the steps after it move up one place."""
    steps = _locked_steps(step.program, step.competency)
    ChecklistStep.objects.filter(pk=step.pk).delete()
    _renumber([other for other in steps if other.pk != step.pk])


@transaction.atomic
def move_checklist_step(*, step: ChecklistStep, direction: str) -> list[ChecklistStep]:
    """Swap a step with the one above or below it; the first step going up stays where it is."""
    if direction not in MOVES:
        raise ValidationError(_("A step moves up or down."))
    steps = _locked_steps(step.program, step.competency)
    index = next((index for index, other in enumerate(steps) if other.pk == step.pk), None)
    if index is None:
        raise ValidationError(_("This step was removed meanwhile. Reload the page."))
    target = index - 1 if direction == "up" else index + 1
    if 0 <= target < len(steps):
        steps[index], steps[target] = steps[target], steps[index]
    _renumber(steps)
    return steps


# --- Where a competency is taught and assessed ---------------------------------------------------


@transaction.atomic
def map_competency_courses(
    *, program: Program, competency: Competency, teaching: Iterable[Course], assessing: Iterable[Course]
) -> None:
    """Set the program's courses that teach and that assess a competency; other programs' stay."""
    wanted = {(course.pk, CompetencyCourse.Role.TEACHES.value) for course in teaching}
    wanted |= {(course.pk, CompetencyCourse.Role.ASSESSES.value) for course in assessing}
    course_ids = {course_id for course_id, _role in wanted}
    if course_ids - set(Course.objects.filter(program=program, pk__in=course_ids).values_list("pk", flat=True)):
        raise ValidationError(_("Choose only courses of this program."))
    current = {
        (row.course_id, row.role): row.pk
        for row in CompetencyCourse.objects.filter(competency=competency, course__program=program)
    }
    CompetencyCourse.objects.filter(pk__in=[pk for key, pk in current.items() if key not in wanted]).delete()
    CompetencyCourse.objects.bulk_create(
        [
            CompetencyCourse(competency=competency, course_id=course_id, role=role)
            for course_id, role in sorted(wanted - set(current))
        ],
        ignore_conflicts=True,
    )
