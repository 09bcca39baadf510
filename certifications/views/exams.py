"""One student's certification: their own page (target track, eligibility, readiness, exams,
credentials, calendar), the program office's page for that student with its actions (book, move,
cancel, record a result, credential number, job placement), and the calendar file and feed.

Access, as everywhere: a record the person may not see is 404, an action they may not take 403.
The program office's page is reached through the roster (an instructor finds the student there
and is refused, 403); exams and credentials through `permissions.visible_*` (only their student and
the program's directors and coordinators find them).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.http import AuthenticatedRequest
from certifications import calendar, eligibility, permissions, readiness, services
from certifications.forms_exams import (
    BookExamForm,
    CredentialNumberForm,
    JobPlacementForm,
    MoveExamForm,
    ResultForm,
    TargetTrackForm,
    offered_tracks,
)
from certifications.models import CalendarFeed, CertificationTrack, Credential, ExamAttempt, JobPlacement
from curriculum import permissions as curriculum_permissions
from curriculum import progress
from curriculum.models import Enrollment
from curriculum.services import record_view
from curriculum.views.coursework import form_errors_to

ENROLLMENT_RELATED = ("student", "cohort__program", "target_track__track", "job_placement")


# --- Looking things up ----------------------------------------------------------------------


def _target_of(enrollment: Enrollment) -> CertificationTrack | None:
    target = getattr(enrollment, "target_track", None)  # a missing one-to-one raises AttributeError
    return target.track if target is not None else None


def _job_placement_of(enrollment: Enrollment) -> JobPlacement | None:
    return getattr(enrollment, "job_placement", None)


def _managed_enrollment(request: AuthenticatedRequest, pk: int) -> Enrollment:
    """A student on a roster the person can see (404 otherwise) whose exams they run (403 otherwise)."""
    enrollment = get_object_or_404(
        curriculum_permissions.visible_enrollments(request.user).select_related(*ENROLLMENT_RELATED), pk=pk
    )
    if not permissions.can_manage_exams(request.user, enrollment):
        raise PermissionDenied
    return enrollment


def _managed_attempt(request: AuthenticatedRequest, pk: int) -> ExamAttempt:
    attempt = get_object_or_404(
        permissions.visible_exam_attempts(request.user).select_related(
            "track", "enrollment__student", "enrollment__cohort__program"
        ),
        pk=pk,
    )
    if not permissions.can_manage_exams(request.user, attempt.enrollment):
        raise PermissionDenied
    return attempt


def _student_page_url(enrollment: Enrollment) -> str:
    return reverse("certifications:student-certification", args=[enrollment.pk])


def _problems(form: forms.Form) -> str:
    """A form's errors in one line, each after the label of the field it concerns."""
    parts = []
    for name, errors in form.errors.items():
        text = " ".join(str(error) for error in errors)
        parts.append(f"{form.fields[name].label}: {text}" if name in form.fields else text)
    return " ".join(parts)


def _refuse(request: AuthenticatedRequest, row: str, form: forms.Form, error: ValidationError | None = None) -> None:
    """Say what was wrong with the row and why; nothing was changed."""
    if error is not None:
        form_errors_to(form, error)
    messages.error(request, _("%(row)s: nothing was changed. %(problems)s") % {"row": row, "problems": _problems(form)})


def _attempt_row(attempt: ExamAttempt) -> str:
    day = attempt.day
    return _("%(track)s exam of %(day)s") % {"track": attempt.track.code, "day": eligibility.day(day) if day else "—"}


# --- What both pages show -------------------------------------------------------------------


def _retake_states(tracks: list[CertificationTrack], attempts: list[ExamAttempt], today: date) -> list[dict[str, Any]]:
    """For each track that may be booked: whether a booking is open, and what the retake rules say
    about today (with the day from which a retake is allowed). No query: read from the attempts."""
    by_track: dict[int, list[ExamAttempt]] = defaultdict(list)
    for attempt in attempts:
        by_track[attempt.track_id].append(attempt)
    states = []
    for track in tracks:
        own = by_track.get(track.pk, [])
        refusal, allowed = track.retake_refusal(own, today)
        states.append(
            {
                "track": track,
                "booked": next((attempt for attempt in own if attempt.is_booked), None),
                "refusal": refusal,
                "allowed_on": allowed,
            }
        )
    return states


def _certification_context(enrollment: Enrollment) -> dict[str, Any]:
    """Target, eligibility, readiness, exams and credentials of one student, in a fixed number of
    queries. Expects the enrollment fetched with ENROLLMENT_RELATED."""
    program = enrollment.cohort.program
    today = program.today()
    track = _target_of(enrollment)
    tracks = list(offered_tracks(program))
    attempts = list(
        ExamAttempt.objects.filter(enrollment=enrollment)
        .select_related("track", "credential")
        .order_by("track__order", "track__code", "taken_on", "scheduled_on", "pk")
    )
    credentials = list(
        Credential.objects.filter(enrollment=enrollment).select_related("track").order_by("-issued_on", "pk")
    )
    return {
        "enrollment": enrollment,
        "program": program,
        "today": today,
        "target": track,
        "tracks": tracks,
        "target_form": TargetTrackForm(program=program, initial={"track": track}),
        "eligibility": eligibility.checklist(enrollment, track, today) if track else None,
        "readiness": readiness.readiness(enrollment, track) if track else None,
        "attempts": attempts,
        "credentials": credentials,
        "retake_states": _retake_states(tracks, attempts, today),
    }


# --- The student's own page -----------------------------------------------------------------


@require_GET
def my_certification(request: AuthenticatedRequest) -> HttpResponse:
    enrollments = list(Enrollment.objects.filter(student=request.user).select_related(*ENROLLMENT_RELATED))
    enrollment = progress.main_enrollment(enrollments)
    if enrollment is None:
        return render(request, "certifications/my_certification.html", {"enrollment": None})
    context = _certification_context(enrollment)
    feed = calendar.open_feed_of(request.user)
    context["feed"] = feed
    context["feed_url"] = (
        request.build_absolute_uri(reverse("certifications:calendar-feed", args=[feed.token])) if feed else ""
    )
    return render(request, "certifications/my_certification.html", context)


@require_POST
def choose_target(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The student picks their target credential; the program office may set it for them."""
    enrollment = get_object_or_404(
        curriculum_permissions.visible_enrollments(request.user).select_related("cohort__program"), pk=pk
    )
    if not permissions.can_choose_target(request.user, enrollment):
        raise PermissionDenied
    own = enrollment.student_id == request.user.pk
    back = reverse("certifications:my-certification") if own else _student_page_url(enrollment)
    form = TargetTrackForm(request.POST, program=enrollment.cohort.program)
    if not form.is_valid():
        _refuse(request, _("Target credential"), form)
        return redirect(back)
    try:
        services.choose_target_track(enrollment=enrollment, track=form.cleaned_data["track"])
    except ValidationError as error:
        _refuse(request, _("Target credential"), form, error)
    else:
        messages.success(request, _("Target credential set to %(track)s.") % {"track": form.cleaned_data["track"].code})
    return redirect(back)


@require_GET
def my_calendar_ics(request: AuthenticatedRequest) -> HttpResponse:
    """The student's exam dates as a file to import into a calendar."""
    body = calendar.ics(calendar.exams_of(request.user), name=calendar.calendar_name())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="exams.ics"'
    return response


@require_POST
def feed_open(request: AuthenticatedRequest) -> HttpResponse:
    calendar.open_feed(user=request.user)
    messages.success(request, _("Your private calendar address is ready: add it to your calendar app."))
    return redirect(reverse("certifications:my-certification") + "#calendar")


@require_POST
def feed_revoke(request: AuthenticatedRequest) -> HttpResponse:
    if calendar.revoke_feed(user=request.user):
        messages.success(request, _("The calendar address is revoked: it no longer shows your exams."))
    else:
        messages.info(request, _("You had no calendar address to revoke."))
    return redirect(reverse("certifications:my-certification") + "#calendar")


@login_not_required
@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """Public by design: the token in the address is the credential, until the student revokes it."""
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(token=token, revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if feed is None:
        raise Http404
    with translation.override(feed.user.preferred_language or translation.get_language()):
        body = calendar.ics(calendar.exams_of(feed.user), name=calendar.calendar_name())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=900"
    return response


# --- The program office's page for one student -----------------------------------------------


def _student_page(
    request: AuthenticatedRequest,
    enrollment: Enrollment,
    *,
    book_form: BookExamForm | None = None,
    job_form: JobPlacementForm | None = None,
) -> HttpResponse:
    context = _certification_context(enrollment)
    program = enrollment.cohort.program
    job_placement = _job_placement_of(enrollment)
    if job_form is None and job_placement is not None:
        job_form = JobPlacementForm(
            initial={
                "status": job_placement.status,
                "employed_on": job_placement.employed_on,
                "employer": job_placement.employer,
                "position": job_placement.position,
                "unavailable_reason": job_placement.unavailable_reason,
            }
        )
    context.update(
        {
            "book_form": book_form or BookExamForm(program=program, initial={"track": context["target"]}),
            "job_placement": job_placement,
            "job_form": job_form or JobPlacementForm(),
            "result_choices": ExamAttempt.Result.choices,
        }
    )
    record_view(
        viewer=request.user,
        student_id=enrollment.student_id,
        what=f"certification of enrollment {enrollment.pk}",
        request_meta=request.META,
    )
    return render(request, "certifications/student_certification.html", context)


@require_GET
def student_certification(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    enrollment = get_object_or_404(
        curriculum_permissions.visible_enrollments(request.user).select_related(*ENROLLMENT_RELATED), pk=pk
    )
    if enrollment.student_id == request.user.pk:
        return redirect("certifications:my-certification")
    if not permissions.can_manage_certifications(request.user, enrollment.cohort.program):
        raise PermissionDenied
    return _student_page(request, enrollment)


@require_POST
def exam_book(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    enrollment = _managed_enrollment(request, pk)
    form = BookExamForm(request.POST, program=enrollment.cohort.program)
    if form.is_valid():
        data = form.cleaned_data
        try:
            attempt = services.schedule_exam(
                enrollment=enrollment,
                track=data["track"],
                scheduled_on=data["scheduled_on"],
                location=data["location"],
                by=request.user,
            )
        except ValidationError as error:
            form_errors_to(form, error)
        else:
            messages.success(
                request,
                _("%(track)s exam booked for %(day)s.")
                % {"track": attempt.track.code, "day": eligibility.day(data["scheduled_on"])},
            )
            return redirect(_student_page_url(enrollment))
    messages.error(request, _("The exam was not booked. %(problems)s") % {"problems": _problems(form)})
    return _student_page(request, enrollment, book_form=form)


@require_POST
def exam_move(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    attempt = _managed_attempt(request, pk)
    row = _attempt_row(attempt)
    form = MoveExamForm(request.POST)
    if not form.is_valid():
        _refuse(request, row, form)
        return redirect(_student_page_url(attempt.enrollment))
    try:
        services.reschedule_exam(
            attempt=attempt,
            scheduled_on=form.cleaned_data["scheduled_on"],
            location=form.cleaned_data["location"],
            by=request.user,
        )
    except ValidationError as error:
        _refuse(request, row, form, error)
    else:
        messages.success(
            request,
            _("%(row)s moved to %(day)s.") % {"row": row, "day": eligibility.day(form.cleaned_data["scheduled_on"])},
        )
    return redirect(_student_page_url(attempt.enrollment))


@require_POST
def exam_cancel(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    attempt = _managed_attempt(request, pk)
    row = _attempt_row(attempt)
    enrollment = attempt.enrollment
    try:
        services.cancel_booking(attempt=attempt)
    except ValidationError as error:
        messages.error(
            request,
            _("%(row)s: nothing was changed. %(problems)s") % {"row": row, "problems": " ".join(error.messages)},
        )
    else:
        messages.success(request, _("%(row)s cancelled.") % {"row": row})
    return redirect(_student_page_url(enrollment))


@require_POST
def exam_result(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    attempt = _managed_attempt(request, pk)
    row = _attempt_row(attempt)
    form = ResultForm(request.POST)
    if not form.is_valid():
        _refuse(request, row, form)
        return redirect(_student_page_url(attempt.enrollment))
    data = form.cleaned_data
    try:
        services.record_result(
            attempt=attempt, result=data["result"], taken_on=data["taken_on"], score=data["score"], by=request.user
        )
    except ValidationError as error:
        _refuse(request, row, form, error)
    else:
        label = ExamAttempt.Result(data["result"]).label
        messages.success(request, _("%(row)s: %(result)s, recorded.") % {"row": row, "result": label})
    return redirect(_student_page_url(attempt.enrollment))


@require_POST
def credential_number(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    credential = get_object_or_404(
        permissions.visible_credentials(request.user).select_related("track", "enrollment__cohort__program"), pk=pk
    )
    if not permissions.can_manage_exams(request.user, credential.enrollment):
        raise PermissionDenied
    row = _("%(track)s credential") % {"track": credential.track.code}
    form = CredentialNumberForm(request.POST)
    if not form.is_valid():
        _refuse(request, row, form)
        return redirect(_student_page_url(credential.enrollment))
    try:
        services.set_credential_number(credential=credential, number=form.cleaned_data["number"])
    except ValidationError as error:
        credential.refresh_from_db(fields=["number"])
        _refuse(request, row, form, error)
    else:
        messages.success(request, _("%(row)s: number saved.") % {"row": row})
    return redirect(_student_page_url(credential.enrollment))


@require_POST
def job_placement(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    enrollment = _managed_enrollment(request, pk)
    form = JobPlacementForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.record_job_placement(
                enrollment=enrollment,
                status=data["status"],
                employed_on=data["employed_on"],
                employer=data["employer"],
                position=data["position"],
                unavailable_reason=data["unavailable_reason"],
                by=request.user,
            )
        except ValidationError as error:
            form_errors_to(form, error)
        else:
            messages.success(request, _("Job placement saved."))
            return redirect(_student_page_url(enrollment))
    messages.error(request, _("The job placement was not saved. %(problems)s") % {"problems": _problems(form)})
    return _student_page(request, enrollment, job_form=form)
