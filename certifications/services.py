"""Certification use cases: target tracks, booking exams, recording results, credentials, job placement.

Every write from a page goes through here: a pass issues the credential, and a booking respects the
track's retake wait and attempt limit. The imports (certifications.imports) write whole files in bulk
by the same rules, and fall back on these functions row by row when the database refuses a batch.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from certifications.models import (
    CertificationTrack,
    Credential,
    ExamAttempt,
    JobPlacement,
    PlacementStatus,
    TargetTrack,
)
from curriculum.models import Enrollment


def _lock(enrollment: Enrollment) -> None:
    """Serialize writes for one student: two bookings at once are judged one after the other."""
    Enrollment.objects.select_for_update().filter(pk=enrollment.pk).first()


def _check_track(enrollment: Enrollment, track: CertificationTrack) -> None:
    if track.program_id != enrollment.cohort.program_id:
        raise ValidationError({"track": _("%(track)s is not a track of this student's program.") % {"track": track}})


@transaction.atomic
def choose_target_track(*, enrollment: Enrollment, track: CertificationTrack) -> TargetTrack:
    """The student's target credential: readiness and eligibility are shown for it."""
    _check_track(enrollment, track)
    if not track.is_offered:
        raise ValidationError({"track": _("The program does not offer %(track)s.") % {"track": track.code}})
    target, _created = TargetTrack.objects.update_or_create(
        enrollment=enrollment, defaults={"track": track, "chosen_at": timezone.now()}
    )
    return target


def retake_problem(*, enrollment: Enrollment, track: CertificationTrack, on: date) -> str:
    """Why the student may not sit this track's exam on that day (empty when they may)."""
    sat = list(ExamAttempt.objects.sat().filter(enrollment=enrollment, track=track))
    reason, _allowed = track.retake_refusal(sat, on)
    return reason


@transaction.atomic
def schedule_exam(
    *, enrollment: Enrollment, track: CertificationTrack, scheduled_on: date, location: str, by: User | None
) -> ExamAttempt:
    """Book a sitting. Refused when the retake wait or the attempt limit forbids that day."""
    _check_track(enrollment, track)
    _lock(enrollment)
    if reason := retake_problem(enrollment=enrollment, track=track, on=scheduled_on):
        raise ValidationError({"scheduled_on": reason})
    if ExamAttempt.objects.filter(enrollment=enrollment, track=track, result="").exists():
        raise ValidationError(
            {"track": _("%(track)s is already booked; record or cancel that booking first.") % {"track": track.code}}
        )
    return ExamAttempt.objects.create(
        enrollment=enrollment, track=track, scheduled_on=scheduled_on, location=location.strip(), created_by=by
    )


@transaction.atomic
def reschedule_exam(*, attempt: ExamAttempt, scheduled_on: date, location: str, by: User | None) -> ExamAttempt:
    """Move a booking; the new day must respect the retake rules too."""
    if not attempt.is_booked:
        raise ValidationError(_("Only a booked exam can be moved; this one has a result."))
    _lock(attempt.enrollment)
    if reason := retake_problem(enrollment=attempt.enrollment, track=attempt.track, on=scheduled_on):
        raise ValidationError({"scheduled_on": reason})
    attempt.scheduled_on, attempt.location = scheduled_on, location.strip()
    attempt.save(update_fields=["scheduled_on", "location"])
    return attempt


@transaction.atomic
def cancel_booking(*, attempt: ExamAttempt) -> None:
    """A booking that will not happen leaves no trace in the outcome figures."""
    if not attempt.is_booked:
        raise ValidationError(_("Only a booked exam can be cancelled; this one has a result."))
    attempt.delete()


def _validate_result(result: str, taken_on: date | None, score: Decimal | None, today: date) -> None:
    if result not in ExamAttempt.Result.values:
        raise ValidationError({"result": _("Choose passed, failed or did not attend.")})
    if result == ExamAttempt.Result.NO_SHOW:
        if score is not None:
            raise ValidationError({"score": _("A missed exam has no score.")})
        return
    if taken_on is None:
        raise ValidationError({"taken_on": _("Give the day the exam was taken.")})
    if taken_on > today:
        raise ValidationError({"taken_on": _("The exam day is in the future.")})
    if score is not None and score < 0:
        raise ValidationError({"score": _("A score cannot be negative.")})


def _issue_credential(attempt: ExamAttempt) -> Credential:
    assert attempt.taken_on is not None  # a pass has a date (a database constraint)
    credential, _created = Credential.objects.get_or_create(
        exam_attempt=attempt,
        defaults={
            "enrollment": attempt.enrollment,
            "track": attempt.track,
            "issued_on": attempt.taken_on,
            "expires_on": attempt.track.expiry_for(attempt.taken_on),
        },
    )
    return credential


@transaction.atomic
def record_result(
    *,
    attempt: ExamAttempt,
    result: str,
    taken_on: date | None,
    score: Decimal | None,
    by: User | None,
    source: str = ExamAttempt.Source.MANUAL,
) -> ExamAttempt:
    """Record how a booked sitting went. A pass issues the credential; a no-show keeps the booked day."""
    program = attempt.enrollment.cohort.program
    _validate_result(result, taken_on, score, program.today())
    _lock(attempt.enrollment)
    attempt.refresh_from_db()
    if not attempt.is_booked:
        raise ValidationError(_("This exam already has a result."))
    if result != ExamAttempt.Result.NO_SHOW:
        assert taken_on is not None  # checked above
        if reason := retake_problem(enrollment=attempt.enrollment, track=attempt.track, on=taken_on):
            raise ValidationError({"taken_on": reason})
    attempt.result = result
    attempt.taken_on = None if result == ExamAttempt.Result.NO_SHOW else taken_on
    attempt.score = score
    attempt.source = source
    attempt.recorded_by, attempt.recorded_at = by, timezone.now()
    try:
        with transaction.atomic():
            attempt.save(update_fields=["result", "taken_on", "score", "source", "recorded_by", "recorded_at"])
    except IntegrityError as error:
        raise ValidationError({"taken_on": _("A result for this exam on that day is already recorded.")}) from error
    if result == ExamAttempt.Result.PASS:
        _issue_credential(attempt)
    return attempt


@transaction.atomic
def record_exam_result(
    *,
    enrollment: Enrollment,
    track: CertificationTrack,
    taken_on: date,
    result: str,
    score: Decimal | None,
    by: User | None,
    source: str = ExamAttempt.Source.MANUAL,
) -> tuple[ExamAttempt, bool]:
    """A result as the awarding body reports it. Returns the attempt and whether anything changed.

    The same student, track and day is the same sitting: recording it again changes nothing, and a
    different result or score for it corrects the row (a pass still has its credential). A booking
    for the track is filled in. The awarding body's word is taken even where our retake rules
    would have refused the day: it happened."""
    _check_track(enrollment, track)
    if result == ExamAttempt.Result.NO_SHOW:
        raise ValidationError({"result": _("Use pass or fail; a missed exam is recorded on its booking.")})
    _validate_result(result, taken_on, score, enrollment.cohort.program.today())
    _lock(enrollment)
    now = timezone.now()
    existing = ExamAttempt.objects.filter(enrollment=enrollment, track=track, taken_on=taken_on).first()
    if existing is not None:
        if existing.result == result and existing.score == score:
            return existing, False
        if existing.result == ExamAttempt.Result.PASS and result != ExamAttempt.Result.PASS:
            Credential.objects.filter(exam_attempt=existing).delete()
        existing.result, existing.score, existing.source = result, score, source
        existing.recorded_by, existing.recorded_at = by, now
        existing.save(update_fields=["result", "score", "source", "recorded_by", "recorded_at"])
        if result == ExamAttempt.Result.PASS:
            _issue_credential(existing)
        return existing, True
    attempt = ExamAttempt.objects.filter(enrollment=enrollment, track=track, result="").first()
    if attempt is None:
        attempt = ExamAttempt(enrollment=enrollment, track=track, created_by=by)
    attempt.taken_on, attempt.result, attempt.score, attempt.source = taken_on, result, score, source
    attempt.recorded_by, attempt.recorded_at = by, now
    attempt.save()
    if result == ExamAttempt.Result.PASS:
        _issue_credential(attempt)
    return attempt, True


@transaction.atomic
def set_credential_number(*, credential: Credential, number: str) -> Credential:
    """The number the awarding body issued; unique within the track."""
    credential.number = number.strip()
    try:
        with transaction.atomic():
            credential.save(update_fields=["number"])
    except IntegrityError as error:
        raise ValidationError(
            {"number": _("Another %(track)s credential has this number.") % {"track": credential.track.code}}
        ) from error
    return credential


@transaction.atomic
def record_job_placement(
    *,
    enrollment: Enrollment,
    status: str,
    employed_on: date | None = None,
    employer: str = "",
    position: str = "",
    unavailable_reason: str = "",
    by: User | None,
) -> tuple[JobPlacement, bool]:
    """Where a graduate stands. Returns the row and whether anything changed (a re-import changes nothing)."""
    if enrollment.graduated_on is None:
        raise ValidationError(_("Only a graduate has a job placement; record the graduation first."))
    if status not in PlacementStatus.values:
        raise ValidationError({"status": _("Choose one of the statuses listed.")})
    unavailable_reason = unavailable_reason.strip()
    if status == PlacementStatus.UNAVAILABLE and not unavailable_reason:
        raise ValidationError({"unavailable_reason": _("Say why the graduate is unavailable for employment.")})
    if employed_on and employed_on < enrollment.admitted_on:
        raise ValidationError({"employed_on": _("The employment date is before the student was admitted.")})
    values = {
        "status": status,
        "employed_on": employed_on,
        "employer": employer.strip(),
        "position": position.strip(),
        "unavailable_reason": unavailable_reason,
    }
    placement = JobPlacement.objects.select_for_update().filter(enrollment=enrollment).first()
    if placement is None:
        return JobPlacement.objects.create(enrollment=enrollment, recorded_by=by, **values), True
    if all(getattr(placement, name) == value for name, value in values.items()):
        return placement, False
    for name, value in values.items():
        setattr(placement, name, value)
    placement.recorded_by, placement.recorded_at = by, timezone.now()
    placement.save()
    return placement, True
