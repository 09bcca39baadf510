"""A program's competency framework: the rows by content area, confirming and correcting them, the
program's own competencies, skill checklists, and the courses that teach and assess each row.

Who: every staff member of the program sees the framework page; its directors change things
(`permissions.can_edit_framework`), everyone else gets 403 on an edit page; another program's
people get 404.

Shared rows: a reference framework such as MAERB-2022 is one set of rows for the whole installation
(one school), so a director of any program that follows it may confirm or correct its rows, and the
correction holds for every program using it. The alternative, only some super-director, would leave
the recalled 2022 rows unconfirmed in a school without one; and a program that disagrees with the
shared wording adds its own competency instead. Each confirmation records who, when, and the row
before and after (CompetencyChange), and the page says how many other programs a change reaches.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.http import AuthenticatedRequest
from curriculum import frameworks as reference
from curriculum import permissions, services
from curriculum.forms import ChecklistStepForm, CompetencyCoursesForm, CompetencyCreateForm, CompetencyForm
from curriculum.models import (
    Attempt,
    ChecklistStep,
    Competency,
    CompetencyChange,
    CompetencyCourse,
    CompetencyFramework,
    Confidence,
    Domain,
    Program,
    Signature,
)
from curriculum.views.coursework import form_errors_to

NEEDS_CONFIRMING = "needs-confirming"
CHANGE_LABELS = {
    "code": gettext_lazy("Code"),
    "title": gettext_lazy("Title"),
    "domain": gettext_lazy("Domain"),
    "tags": gettext_lazy("Exam domains"),
    "is_tracked": gettext_lazy("Signed off on its own"),
    "passing_score": gettext_lazy("Passing score (%)"),
}


def _program_for(request: AuthenticatedRequest, code: str) -> Program:
    return get_object_or_404(permissions.visible_programs(request.user).select_related("framework"), code=code)


def _editable_competency(request: AuthenticatedRequest, code: str, pk: int) -> tuple[Program, Competency]:
    """The program and one row of its framework (404 if not the program's), for its directors (else 403)."""
    program = _program_for(request, code)
    competency = get_object_or_404(
        Competency.objects.for_program(program).select_related("content_area", "parent", "confirmed_by"), pk=pk
    )
    if not permissions.can_edit_framework(request.user, program):
        raise PermissionDenied
    return program, competency


def _framework_url(program: Program, show: str = "", anchor: str = "") -> str:
    url = reverse("curriculum:framework", args=[program.code])
    if show == NEEDS_CONFIRMING:
        url += f"?show={NEEDS_CONFIRMING}"
    return f"{url}#{anchor}" if anchor else url


def _other_programs_sharing(program: Program, competency: Competency | None = None) -> int:
    """How many other programs a change to a shared row reaches; 0 for a program's own rows."""
    if program.framework is None or program.framework.owner_id or (competency and competency.program_id):
        return 0
    return program.framework.programs.exclude(pk=program.pk).count()


# --- The framework page ---------------------------------------------------------------------------


@require_GET
def framework(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """The program's framework by content area: each row's rule, courses, checklist and confidence."""
    program = _program_for(request, code)
    can_edit = permissions.can_edit_framework(request.user, program)
    if program.framework is None:
        choices = CompetencyFramework.objects.filter(Q(owner__isnull=True) | Q(owner=program)).annotate(
            row_count=Count("competencies", filter=Q(competencies__program__isnull=True))
        )
        return render(
            request,
            "curriculum/framework.html",
            {"program": program, "can_edit": can_edit, "choices": choices.order_by("-version", "name")},
        )
    mine = Q(steps__program=program)
    rows = list(
        Competency.objects.for_program(program)
        .select_related("content_area", "confirmed_by")
        .annotate(
            step_count=Count("steps", filter=mine),
            critical_count=Count("steps", filter=mine & Q(steps__is_critical=True)),
        )
        .prefetch_related(
            Prefetch(
                "competencycourse_set",
                queryset=CompetencyCourse.objects.filter(course__program=program)
                .select_related("course")
                .order_by("course__code"),
                to_attr="program_courses",
            )
        )
        .order_by("content_area__order", "content_area__code", "order", "code")
    )
    needs_confirming = [row for row in rows if row.needs_confirming]
    show = request.GET.get("show", "")
    domain = request.GET.get("domain", "")
    shown = needs_confirming if show == NEEDS_CONFIRMING else rows
    if domain in Domain.values:
        shown = [row for row in shown if row.domain == domain]
    areas: list[dict[str, Any]] = []
    for row in shown:
        row.teaching = [m.course for m in row.program_courses if m.role == CompetencyCourse.Role.TEACHES]  # type: ignore[attr-defined]
        row.assessing = [m.course for m in row.program_courses if m.role == CompetencyCourse.Role.ASSESSES]  # type: ignore[attr-defined]
        row.effective_passing_score = row.passing_score or program.passing_score  # type: ignore[attr-defined]
        if not areas or areas[-1]["area"].pk != row.content_area_id:
            areas.append({"area": row.content_area, "rows": []})
        areas[-1]["rows"].append(row)
    return render(
        request,
        "curriculum/framework.html",
        {
            "program": program,
            "framework": program.framework,
            "can_edit": can_edit,
            "areas": areas,
            "total": len(rows),
            "shown_count": len(shown),
            "needs_confirming_count": len(needs_confirming),
            "own_count": sum(1 for row in rows if row.program_id),
            "show": show if show == NEEDS_CONFIRMING else "",
            "domain": domain if domain in Domain.values else "",
            "domains": Domain.choices,
            "other_programs": _other_programs_sharing(program),
        },
    )


@require_POST
def framework_load_checklists(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """Copy the checklists Checkoff ships for common skills, for competencies that have none yet."""
    program = _program_for(request, code)
    if not permissions.can_edit_framework(request.user, program):
        raise PermissionDenied
    added = reference.load_skill_checklists(program=program)
    if added:
        messages.success(
            request, _("%(count)s checklist steps added. Review them before the first check-off.") % {"count": added}
        )
    else:
        messages.info(request, _("No shipped checklist fits a competency that lacks one."))
    return redirect("curriculum:framework", code=program.code)


# --- One row: confirm or correct it, and where it is taught and assessed -------------------------------


def _display(name: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if name == "tags":
        return ", ".join(value) or "—"
    if name == "is_tracked":
        return _("yes") if value else _("no")
    if name == "domain" and value in Domain.values:
        return str(Domain(value).label)
    if name == "confidence" and value in Confidence.values:
        return str(Confidence(value).label)
    return str(value)


def _history(competency: Competency) -> list[dict[str, Any]]:
    """Each confirmation or correction with the fields it changed, newest first."""
    entries = []
    for change in CompetencyChange.objects.filter(competency=competency).select_related("changed_by"):
        before, after = change.before or {}, change.after or {}
        differences = [
            {"field": label, "before": _display(name, before.get(name)), "after": _display(name, after.get(name))}
            for name, label in CHANGE_LABELS.items()
            if before and before.get(name) != after.get(name)
        ]
        was = (
            _display("confidence", before.get("confidence"))
            if before.get("confidence") != after.get("confidence")
            else ""
        )
        entries.append({"change": change, "added": not before, "differences": differences, "was": was})
    return entries


def _render_competency(
    request: AuthenticatedRequest,
    program: Program,
    competency: Competency,
    form: CompetencyForm,
    courses_form: CompetencyCoursesForm | None = None,
) -> HttpResponse:
    courses = program.courses.order_by("code")
    if courses_form is None:
        mapped = list(
            CompetencyCourse.objects.filter(competency=competency, course__program=program).values_list(
                "course_id", "role"
            )
        )
        courses_form = CompetencyCoursesForm(
            courses=courses,
            initial={
                "teaching": [course for course, role in mapped if role == CompetencyCourse.Role.TEACHES],
                "assessing": [course for course, role in mapped if role == CompetencyCourse.Role.ASSESSES],
            },
        )
    return render(
        request,
        "curriculum/competency_form.html",
        {
            "program": program,
            "competency": competency,
            "form": form,
            "courses_form": courses_form,
            "has_courses": courses.exists(),
            "history": _history(competency),
            "step_count": ChecklistStep.objects.filter(program=program, competency=competency).count(),
            "signed_count": Signature.objects.filter(attempt__competency=competency).count(),
            "other_programs": _other_programs_sharing(program, competency),
            "passing_score": competency.passing_score or program.passing_score,
            "show": request.GET.get("show") or request.POST.get("show", ""),
        },
    )


@require_http_methods(["GET", "POST"])
def competency_edit(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    """Confirm a row as it is, or save a correction: either way who and when are kept, with the row before.

    A row of a shared framework is the installation's: see the module docstring."""
    program, competency = _editable_competency(request, code, pk)
    if request.method != "POST":
        form = CompetencyForm(initial=CompetencyForm.initial_for(competency), program=program)
        return _render_competency(request, program, competency, form)
    action = request.POST.get("action")
    show = request.POST.get("show", "")
    form = CompetencyForm(request.POST, program=program)
    if action == "confirm":
        try:
            services.confirm_competency(competency=competency, by=request.user)
        except ValidationError as error:  # a stored row that no longer passes validation: correct it instead
            competency.refresh_from_db()
            form.is_valid()
            form_errors_to(form, error)
        else:
            messages.success(request, _("%(code)s confirmed as it is.") % {"code": competency.code})
            return redirect(_framework_url(program, show, f"competency-{competency.pk}"))
    elif action != "correct":
        form.is_valid()
        form.add_error(None, _("Choose “Confirm as is” or “Save correction”."))
    elif form.is_valid():
        try:
            corrected = services.confirm_competency(competency=competency, by=request.user, changes=form.cleaned_data)
        except ValidationError as error:
            form_errors_to(form, error)
        else:
            messages.success(request, _("%(code)s corrected and confirmed.") % {"code": corrected.code})
            return redirect(_framework_url(program, show, f"competency-{corrected.pk}"))
    return _render_competency(request, program, competency, form)


@require_POST
def competency_courses(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    """Tick the program's courses that teach and that assess the competency."""
    program, competency = _editable_competency(request, code, pk)
    courses_form = CompetencyCoursesForm(request.POST, courses=program.courses.order_by("code"))
    if courses_form.is_valid():
        try:
            services.map_competency_courses(
                program=program,
                competency=competency,
                teaching=courses_form.cleaned_data["teaching"],
                assessing=courses_form.cleaned_data["assessing"],
            )
        except ValidationError as error:
            form_errors_to(courses_form, error)
        else:
            messages.success(request, _("Courses saved for %(code)s.") % {"code": competency.code})
            return redirect("curriculum:competency-edit", code=program.code, pk=competency.pk)
    form = CompetencyForm(initial=CompetencyForm.initial_for(competency), program=program)
    return _render_competency(request, program, competency, form, courses_form)


@require_http_methods(["GET", "POST"])
def competency_create(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """A program adds a competency of its own to its framework; the director who adds it confirms it."""
    program = _program_for(request, code)
    if not permissions.can_edit_framework(request.user, program):
        raise PermissionDenied
    if program.framework is None:
        messages.error(request, _("Choose the program's framework first."))
        return redirect("curriculum:framework", code=program.code)
    form = CompetencyCreateForm(request.POST or None, program=program)
    if request.method == "POST" and form.is_valid():
        try:
            competency = services.create_competency(program=program, created_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form_errors_to(form, error)
        else:
            messages.success(request, _("%(code)s added to the program's framework.") % {"code": competency.code})
            return redirect("curriculum:competency-edit", code=program.code, pk=competency.pk)
    return render(request, "curriculum/competency_create.html", {"program": program, "form": form})


# --- The program's skill checklist for one competency ------------------------------------------------


def _render_checklist(
    request: AuthenticatedRequest,
    program: Program,
    competency: Competency,
    add_form: ChecklistStepForm | None = None,
    bound: dict[int, ChecklistStepForm] | None = None,
) -> HttpResponse:
    steps = list(ChecklistStep.objects.filter(program=program, competency=competency).order_by("order", "pk"))
    bound = bound or {}
    rows = [
        {
            "step": step,
            "form": bound.get(step.pk)
            or ChecklistStepForm(
                prefix=f"step-{step.pk}",
                initial={"text": step.text, "points": step.points, "is_critical": step.is_critical},
            ),
            "first": index == 0,
            "last": index == len(steps) - 1,
        }
        for index, step in enumerate(steps)
    ]
    return render(
        request,
        "curriculum/checklist_edit.html",
        {
            "program": program,
            "competency": competency,
            "rows": rows,
            "add_form": add_form or ChecklistStepForm(prefix="new"),
            "total_points": sum(step.points for step in steps),
            "critical_count": sum(1 for step in steps if step.is_critical),
            "passing_score": competency.passing_score or program.passing_score,
            "attempt_count": Attempt.objects.filter(enrollment__cohort__program=program, competency=competency).count(),
        },
    )


def _checklist_url(program: Program, competency: Competency, step_pk: int | None = None) -> str:
    url = reverse("curriculum:checklist-edit", args=[program.code, competency.pk])
    return f"{url}#step-{step_pk}" if step_pk else url


@require_http_methods(["GET", "POST"])
def checklist_edit(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    """The program's steps for a competency; a POST adds a step at the end."""
    program, competency = _editable_competency(request, code, pk)
    if request.method != "POST":
        return _render_checklist(request, program, competency)
    form = ChecklistStepForm(request.POST, prefix="new")
    if form.is_valid():
        try:
            step = services.add_checklist_step(program=program, competency=competency, **form.cleaned_data)
        except ValidationError as error:
            form_errors_to(form, error)
        else:
            messages.success(request, _("Step %(order)s added.") % {"order": step.order})
            return redirect(_checklist_url(program, competency, step.pk))
    return _render_checklist(request, program, competency, add_form=form)


def _step_for(request: AuthenticatedRequest, code: str, pk: int, step_pk: int) -> ChecklistStep:
    program, competency = _editable_competency(request, code, pk)
    step = get_object_or_404(ChecklistStep, program=program, competency=competency, pk=step_pk)
    step.program, step.competency = program, competency
    return step


@require_POST
def checklist_step_edit(request: AuthenticatedRequest, code: str, pk: int, step_pk: int) -> HttpResponse:
    step = _step_for(request, code, pk, step_pk)
    form = ChecklistStepForm(request.POST, prefix=f"step-{step.pk}")
    if form.is_valid():
        try:
            services.update_checklist_step(step=step, **form.cleaned_data)
        except ValidationError as error:
            form_errors_to(form, error)
        else:
            messages.success(request, _("Step %(order)s saved.") % {"order": step.order})
            return redirect(_checklist_url(step.program, step.competency, step.pk))
    return _render_checklist(request, step.program, step.competency, bound={step.pk: form})


@require_POST
def checklist_step_delete(request: AuthenticatedRequest, code: str, pk: int, step_pk: int) -> HttpResponse:
    step = _step_for(request, code, pk, step_pk)
    services.delete_checklist_step(step=step)
    messages.success(request, _("Step removed; the steps after it moved up."))
    return redirect(_checklist_url(step.program, step.competency))


@require_POST
def checklist_step_move(request: AuthenticatedRequest, code: str, pk: int, step_pk: int) -> HttpResponse:
    step = _step_for(request, code, pk, step_pk)
    try:
        services.move_checklist_step(step=step, direction=request.POST.get("direction", ""))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(_checklist_url(step.program, step.competency, step.pk))
