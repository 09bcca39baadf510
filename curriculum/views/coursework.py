"""Curriculum pages. Views decide who may act (permissions.py); services decide what happens."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Count, Prefetch, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import services as account_services
from accounts.http import AuthenticatedRequest
from curriculum import home as home_sections
from curriculum import permissions, services
from curriculum.forms import (
    AssignmentForm,
    CohortForm,
    CourseForm,
    EnrollmentForm,
    GradeForm,
    OfferingForm,
    ProgramForm,
    StaffMemberForm,
)
from curriculum.models import (
    Course,
    CourseOffering,
    Enrollment,
    Grade,
    Program,
    RosterImport,
    StaffRole,
)

PAGE_SIZE = 25


def _page(request: AuthenticatedRequest, queryset: Any, size: int = PAGE_SIZE) -> Page[Any]:
    return Paginator(queryset, size).get_page(request.GET.get("page"))


def form_errors_to(form: Any, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            for problem in errors:
                form.add_error(field if field in form.fields else None, problem)
    else:
        for message in error.messages:
            form.add_error(None, message)


# --- Home ---------------------------------------------------------------------------------


@require_GET
def home(request: AuthenticatedRequest) -> HttpResponse:
    """Each person's own page: what to do now, most urgent first, then the panels of the roles they
    hold, from their own records (curriculum/home.py gathers them from every app). What it shows is kept
    in the cache until the records change (curriculum/home.py: `cache_key`)."""
    key = home_sections.cache_key(request)
    content = cache.get(key)
    if content is None:
        content = render_to_string("curriculum/home_content.html", _home_context(request), request=request)
        cache.set(key, content, home_sections.CACHE_SECONDS)
    return render(request, "curriculum/home.html", {"content": content})


def _home_context(request: AuthenticatedRequest) -> dict[str, Any]:
    page = home_sections.Home(request)
    found = home_sections.sections(page)
    by_audience: dict[str, list[home_sections.Section]] = {}
    for section in found:
        by_audience.setdefault(section.audience, []).append(section)
    checked = list(dict.fromkeys(words for section in found for words in section.checked))
    return {
        "tasks": home_sections.tasks(found),
        "checked": checked,
        "checked_list": get_text_list(checked, _("and")),
        "sections": by_audience,
        "programs": page.programs,
        "program": page.program,
        "can_create_program": permissions.can_create_program(request.user),
    }


def _form_page(
    request: AuthenticatedRequest,
    form: Any,
    template: str,
    context: dict[str, Any],
    *,
    saved: str,
    then: Callable[[Any], HttpResponse],
) -> HttpResponse:
    """Every plain create-or-edit page: show the form; a valid POST saves, says so and moves on."""
    if request.method == "POST" and form.is_valid():
        instance = form.save()
        messages.success(request, saved)
        return then(instance)
    return render(request, template, {"form": form, **context})


# --- Programs -----------------------------------------------------------------------------


def _program_for(request: AuthenticatedRequest, code: str) -> Program:
    return get_object_or_404(permissions.visible_programs(request.user), code=code)


@require_GET
def program_list(request: AuthenticatedRequest) -> HttpResponse:
    programs = permissions.visible_programs(request.user).annotate(cohort_count=Count("cohorts", distinct=True))
    return render(
        request,
        "curriculum/program_list.html",
        {"page": _page(request, programs.order_by("name")), "can_create": permissions.can_create_program(request.user)},
    )


@require_http_methods(["GET", "POST"])
def program_create(request: AuthenticatedRequest) -> HttpResponse:
    if not permissions.can_create_program(request.user):
        raise PermissionDenied
    form = ProgramForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        program = services.create_program(program=form.save(commit=False), director=request.user)
        messages.success(request, _("Program created. You are its director."))
        return redirect("curriculum:program-detail", code=program.code)
    return render(request, "curriculum/program_form.html", {"form": form})


@require_GET
def program_detail(request: AuthenticatedRequest, code: str) -> HttpResponse:
    program = _program_for(request, code)
    user = request.user
    is_admin = permissions.is_program_admin(user, program)
    cohorts = (
        permissions.visible_cohorts(user)
        .filter(program=program)
        .annotate(
            student_count=Count(
                "enrollments", filter=Q(enrollments__withdrawn_on__isnull=True, enrollments__graduated_on__isnull=True)
            )
        )
    )
    return render(
        request,
        "curriculum/program_detail.html",
        {
            "program": program,
            "cohorts": cohorts.order_by("-start_on"),
            "courses": program.courses.order_by("code") if is_admin else Course.objects.none(),
            "staff": program.staff_roles.select_related("user").order_by("role", "user__last_name") if is_admin else [],
            "imports": program.roster_imports.filter(kind=RosterImport.Kind.ROSTER)
            .select_related("uploaded_by")
            .defer("content", "rows", "plan")[:5]
            if is_admin
            else [],
            "can_edit": permissions.can_edit_program(user, program),
            "can_manage_roster": permissions.can_manage_roster(user, program),
            "not_yet_invited": services.current_students_not_yet_invited(program).count() if is_admin else 0,
        },
    )


@require_POST
def program_invite_students(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """Invite every current student not invited yet: for a roster imported without invitations."""
    program = _program_for(request, code)
    if not permissions.can_manage_roster(request.user, program):
        raise PermissionDenied
    invited = services.invite_current_students(program=program, invited_by=request.user)
    messages.success(
        request,
        ngettext(
            "%(count)s student invited.",
            "%(count)s students invited.",
            invited,
        )
        % {"count": invited},
    )
    return redirect("curriculum:program-detail", code=program.code)


@require_http_methods(["GET", "POST"])
def program_edit(request: AuthenticatedRequest, code: str) -> HttpResponse:
    program = _program_for(request, code)
    if not permissions.can_edit_program(request.user, program):
        raise PermissionDenied
    form = ProgramForm(request.POST or None, instance=program)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_program(program=form.save(commit=False))
        except ValidationError as error:
            form_errors_to(form, error)
        else:
            messages.success(request, _("Program saved."))
            return redirect("curriculum:program-detail", code=program.code)
    return render(request, "curriculum/program_form.html", {"form": form, "program": program})


@require_http_methods(["GET", "POST"])
def staff_add(request: AuthenticatedRequest, code: str) -> HttpResponse:
    program = _program_for(request, code)
    if not permissions.can_edit_program(request.user, program):
        raise PermissionDenied
    form = StaffMemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.add_staff_member(program=program, added_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form_errors_to(form, error)
        else:
            messages.success(request, _("%(email)s added.") % {"email": form.cleaned_data["email"]})
            return redirect("curriculum:program-detail", code=program.code)
    return render(request, "curriculum/staff_form.html", {"form": form, "program": program})


@require_POST
def staff_remove(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    program = _program_for(request, code)
    staff_role = get_object_or_404(StaffRole, program=program, pk=pk)
    if not permissions.can_edit_program(request.user, program):
        raise PermissionDenied
    try:
        services.remove_staff_member(staff_role=staff_role, removed_by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Role removed."))
    return redirect("curriculum:program-detail", code=program.code)


# --- Cohorts and rosters ------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def cohort_create(request: AuthenticatedRequest, code: str) -> HttpResponse:
    program = _program_for(request, code)
    if not permissions.can_manage_roster(request.user, program):
        raise PermissionDenied
    form = CohortForm(request.POST or None, program=program)
    return _form_page(
        request,
        form,
        "curriculum/cohort_form.html",
        {"program": program},
        saved=_("Cohort created."),
        then=lambda cohort: redirect("curriculum:cohort-detail", pk=cohort.pk),
    )


@require_http_methods(["GET", "POST"])
def cohort_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    cohort = get_object_or_404(permissions.visible_cohorts(request.user).select_related("program"), pk=pk)
    if not permissions.can_manage_roster(request.user, cohort.program):
        raise PermissionDenied
    form = CohortForm(request.POST or None, instance=cohort, program=cohort.program)
    return _form_page(
        request,
        form,
        "curriculum/cohort_form.html",
        {"program": cohort.program, "cohort": cohort},
        saved=_("Cohort saved."),
        then=lambda _saved: redirect("curriculum:cohort-detail", pk=cohort.pk),
    )


@require_GET
def cohort_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    cohort = get_object_or_404(permissions.visible_cohorts(request.user).select_related("program"), pk=pk)
    status = request.GET.get("status", "current")
    enrollments = cohort.enrollments.select_related("student").order_by("student__last_name", "student__first_name")
    if status == "current":
        enrollments = enrollments.current()
    elif status == "withdrawn":
        enrollments = enrollments.filter(withdrawn_on__isnull=False)
    elif status == "graduated":
        enrollments = enrollments.filter(graduated_on__isnull=False)
    offerings = cohort.offerings.select_related("course", "instructor").order_by("starts_on", "course__code")
    return render(
        request,
        "curriculum/cohort_detail.html",
        {
            "cohort": cohort,
            "program": cohort.program,
            "page": _page(request, enrollments),
            "status": status,
            "offerings": offerings,
            "instructors": cohort.instructors.order_by("last_name"),
            "can_manage_roster": permissions.can_manage_roster(request.user, cohort.program),
        },
    )


def _enrollment_to_manage(request: AuthenticatedRequest, pk: int) -> Enrollment:
    enrollment = get_object_or_404(
        permissions.visible_enrollments(request.user).select_related("student", "cohort__program"), pk=pk
    )
    if not permissions.can_manage_roster(request.user, enrollment.cohort.program):
        raise PermissionDenied
    return enrollment


@require_http_methods(["GET", "POST"])
def enrollment_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Record a withdrawal or a graduation, or correct the dates outcomes are computed from."""
    enrollment = _enrollment_to_manage(request, pk)
    form = EnrollmentForm(request.POST or None, instance=enrollment)
    return _form_page(
        request,
        form,
        "curriculum/enrollment_form.html",
        {"enrollment": enrollment},
        saved=_("Enrollment saved."),
        then=lambda _saved: redirect("curriculum:cohort-detail", pk=enrollment.cohort_id),
    )


@require_POST
def enrollment_invite(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Send a new invitation to a student who has not chosen a password yet."""
    enrollment = _enrollment_to_manage(request, pk)
    if enrollment.student.has_usable_password():
        messages.info(
            request, _("%(name)s has already signed in; no invitation is needed.") % {"name": enrollment.student}
        )
    else:
        account_services.invite_users(
            users=[enrollment.student], invited_by=request.user, program_id=enrollment.cohort.program_id
        )
        messages.success(
            request, _("A new invitation is on its way to %(email)s.") % {"email": enrollment.student.email}
        )
    return redirect("curriculum:cohort-detail", pk=enrollment.cohort_id)


# --- Courses and offerings ----------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def course_create(request: AuthenticatedRequest, code: str) -> HttpResponse:
    program = _program_for(request, code)
    if not permissions.can_manage_roster(request.user, program):
        raise PermissionDenied
    form = CourseForm(request.POST or None, program=program)
    return _form_page(
        request,
        form,
        "curriculum/course_form.html",
        {"program": program},
        saved=_("Course created."),
        then=lambda _saved: redirect("curriculum:program-detail", code=program.code),
    )


@require_http_methods(["GET", "POST"])
def course_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    course = get_object_or_404(permissions.visible_courses(request.user).select_related("program"), pk=pk)
    if not permissions.can_manage_roster(request.user, course.program):
        raise PermissionDenied
    form = CourseForm(request.POST or None, instance=course, program=course.program)
    return _form_page(
        request,
        form,
        "curriculum/course_form.html",
        {"program": course.program, "course": course},
        saved=_("Course saved."),
        then=lambda _saved: redirect("curriculum:program-detail", code=course.program.code),
    )


def _save_offering_form(request: AuthenticatedRequest, form: OfferingForm) -> CourseOffering | None:
    if not form.is_valid():
        return None
    try:
        return services.save_offering(offering=form.save(commit=False))
    except ValidationError as error:
        form_errors_to(form, error)
        return None


@require_http_methods(["GET", "POST"])
def offering_create(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    cohort = get_object_or_404(permissions.visible_cohorts(request.user).select_related("program"), pk=pk)
    if not permissions.can_manage_roster(request.user, cohort.program):
        raise PermissionDenied
    form = OfferingForm(request.POST or None, cohort=cohort, initial={"starts_on": cohort.start_on})
    if request.method == "POST" and (offering := _save_offering_form(request, form)):
        messages.success(request, _("Course offering created."))
        return redirect("curriculum:offering-detail", pk=offering.pk)
    return render(request, "curriculum/offering_form.html", {"form": form, "cohort": cohort, "program": cohort.program})


@require_http_methods(["GET", "POST"])
def offering_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    offering = get_object_or_404(
        permissions.visible_offerings(request.user).select_related("cohort__program", "course"), pk=pk
    )
    cohort = offering.cohort
    if not permissions.can_manage_roster(request.user, cohort.program):
        raise PermissionDenied
    form = OfferingForm(request.POST or None, instance=offering, cohort=cohort)
    if request.method == "POST" and _save_offering_form(request, form):
        messages.success(request, _("Course offering saved."))
        return redirect("curriculum:offering-detail", pk=offering.pk)
    return render(
        request,
        "curriculum/offering_form.html",
        {"form": form, "cohort": cohort, "program": cohort.program, "offering": offering},
    )


def _offering_for(request: AuthenticatedRequest, pk: int) -> CourseOffering:
    return get_object_or_404(
        permissions.visible_offerings(request.user).select_related("course", "cohort__program", "instructor"), pk=pk
    )


@require_GET
def offering_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Staff see the course's assignments with grading progress; a student sees their own grades."""
    offering = _offering_for(request, pk)
    user = request.user
    if permissions.can_view_gradebook(user, offering):
        assignments = offering.assignments.annotate(graded=Count("grades")).order_by("due_at")
        return render(
            request,
            "curriculum/offering_detail.html",
            {
                "offering": offering,
                "program": offering.cohort.program,
                "assignments": assignments,
                "student_count": offering.cohort.enrollments.current().count(),
                "can_manage_coursework": permissions.can_manage_coursework(user, offering),
                "can_manage_roster": permissions.can_manage_roster(user, offering.cohort.program),
                "now": timezone.now(),
            },
        )
    enrollment = get_object_or_404(Enrollment, student=user, cohort=offering.cohort)
    with_my_grades = offering.assignments.prefetch_related(
        Prefetch("grades", queryset=Grade.objects.filter(enrollment=enrollment), to_attr="my_grades")
    ).order_by("due_at")
    rows = [(assignment, assignment.my_grades[0] if assignment.my_grades else None) for assignment in with_my_grades]
    earned = sum((grade.points_earned for _a, grade in rows if grade), Decimal(0))
    possible = sum((assignment.points for assignment, grade in rows if grade), Decimal(0))
    return render(
        request,
        "curriculum/offering_student.html",
        {
            "offering": offering,
            "enrollment": enrollment,
            "rows": rows,
            "earned": earned,
            "possible": possible,
            "percent": Grade.percent_of(earned, possible),
            "graded_count": sum(1 for _a, grade in rows if grade),
            "now": timezone.now(),
        },
    )


# --- Coursework and grades ----------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def assignment_create(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    offering = _offering_for(request, pk)
    if not permissions.can_manage_coursework(request.user, offering):
        raise PermissionDenied
    form = AssignmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        assignment = form.save(commit=False)
        assignment.offering = offering
        assignment.save()
        messages.success(request, _("Assignment added."))
        return redirect("curriculum:offering-detail", pk=offering.pk)
    return render(request, "curriculum/assignment_form.html", {"form": form, "offering": offering})


@require_http_methods(["GET", "POST"])
def assignment_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    assignment = get_object_or_404(
        permissions.visible_assignments(request.user).select_related("offering__cohort__program", "offering__course"),
        pk=pk,
    )
    offering = assignment.offering
    if not permissions.can_manage_coursework(request.user, offering):
        raise PermissionDenied
    form = AssignmentForm(request.POST or None, instance=assignment)
    return _form_page(
        request,
        form,
        "curriculum/assignment_form.html",
        {"offering": offering, "assignment": assignment},
        saved=_("Assignment saved."),
        then=lambda _saved: redirect("curriculum:offering-detail", pk=offering.pk),
    )


@require_GET
def gradebook(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Students × assignments, a page of students at a time: three queries whatever the size."""
    offering = _offering_for(request, pk)
    if not permissions.can_view_gradebook(request.user, offering):
        raise PermissionDenied
    assignments = list(offering.assignments.order_by("due_at", "pk"))
    enrollments = (
        offering.cohort.enrollments.current()
        .select_related("student")
        .order_by("student__last_name", "student__first_name")
    )
    page = _page(request, enrollments)
    grades = Grade.objects.filter(
        assignment__offering=offering, enrollment__in=[e.pk for e in page.object_list]
    ).select_related("assignment")
    by_cell = {(grade.enrollment_id, grade.assignment_id): grade for grade in grades}
    rows = []
    for enrollment in page.object_list:
        cells = [(assignment, by_cell.get((enrollment.pk, assignment.pk))) for assignment in assignments]
        graded = [grade for _assignment, grade in cells if grade]
        percent = Grade.percent_of(
            sum((grade.points_earned for grade in graded), Decimal(0)),
            sum((grade.assignment.points for grade in graded), Decimal(0)),
        )
        rows.append({"enrollment": enrollment, "cells": cells, "percent": percent})
    return render(
        request,
        "curriculum/gradebook.html",
        {
            "offering": offering,
            "assignments": assignments,
            "rows": rows,
            "page": page,
            "can_grade": permissions.can_grade(request.user, offering),
        },
    )


@require_POST
def grade_cell(request: AuthenticatedRequest, pk: int, enrollment_pk: int) -> HttpResponse:
    """Enter or change one grade. With htmx the cell comes back alone; without it, the gradebook."""
    assignment = get_object_or_404(
        permissions.visible_assignments(request.user).select_related("offering__cohort__program"), pk=pk
    )
    offering = assignment.offering
    enrollment = get_object_or_404(
        Enrollment.objects.select_related("student"), pk=enrollment_pk, cohort=offering.cohort
    )
    if not permissions.can_grade(request.user, offering):
        raise PermissionDenied
    form = GradeForm(request.POST)
    grade = Grade.objects.filter(assignment=assignment, enrollment=enrollment).first()
    error = ""
    status = 200
    if form.is_valid():
        try:
            grade = services.grade_assignment(
                assignment=assignment,
                enrollment=enrollment,
                points_earned=form.cleaned_data["points_earned"],
                grader=request.user,
            )
        except ValidationError as problem:
            error = " ".join(problem.messages)
    else:
        error = " ".join(str(message) for messages_ in form.errors.values() for message in messages_)
    if error:
        status = 422
    if request.htmx:
        context = {
            "assignment": assignment,
            "enrollment": enrollment,
            "grade": grade,
            "error": error,
            "saved": not error,
            "can_grade": True,
            "submitted": request.POST.get("points_earned", ""),
        }
        cell = render_to_string("curriculum/gradebook.html#grade_cell", context, request=request)
        # The row's percentage changes with the grade: it travels along as an out-of-band swap.
        percent = Grade.objects.filter(enrollment=enrollment, assignment__offering=offering).percent()
        row_percent = render_to_string(
            "curriculum/gradebook.html#row_percent", {"enrollment": enrollment, "percent": percent, "oob": True}
        )
        return HttpResponse(f"{cell}<template>{row_percent}</template>", status=status)
    if error:
        messages.error(
            request,
            _("%(student)s, %(assignment)s: %(error)s")
            % {"student": enrollment.student, "assignment": assignment, "error": error},
        )
    else:
        messages.success(request, _("Grade saved."))
    return redirect("curriculum:gradebook", pk=offering.pk)
