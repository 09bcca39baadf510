"""Placement use cases: plan, change, start (through the gate), complete, withdraw."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from curriculum.models import Enrollment
from externships import readiness
from externships.models import Evaluation, Kind, Placement, Preceptor, Site
from externships.services.hours import approved_hours


def _check_people_and_site(enrollment: Enrollment, site: Site, preceptor: Preceptor) -> None:
    program_id = enrollment.cohort.program_id
    if site.program_id != program_id:
        raise ValidationError({"site": _("This site belongs to another program.")})
    if not site.is_active:
        raise ValidationError({"site": _("%(site)s is not taking students.") % {"site": site.name}})
    if preceptor.site_id != site.pk:
        raise ValidationError({"preceptor": _("This preceptor does not work at %(site)s.") % {"site": site.name}})
    if not preceptor.is_active:
        raise ValidationError({"preceptor": _("This preceptor is no longer active.")})


def _check_dates(placement: Placement) -> None:
    if placement.end_on < placement.start_on:
        raise ValidationError({"end_on": _("The end date must be on or after the start date.")})
    open_states = (Placement.State.PLANNED, Placement.State.ACTIVE)
    overlapping = Placement.objects.filter(
        start_on__lte=placement.end_on, end_on__gte=placement.start_on, state__in=open_states
    ).exclude(pk=placement.pk)
    if overlapping.filter(enrollment=placement.enrollment_id).exists():
        raise ValidationError(_("The student already has a placement during these dates."))
    taken = overlapping.filter(site=placement.site_id).count()
    if taken >= placement.site.capacity:
        raise ValidationError(
            {
                "site": _("%(site)s takes %(capacity)s students at a time and has %(taken)s placed during these dates.")
                % {"site": placement.site.name, "capacity": placement.site.capacity, "taken": taken}
            }
        )


@transaction.atomic
def create_placement(
    *,
    enrollment: Enrollment,
    site: Site,
    preceptor: Preceptor,
    start_on: date,
    end_on: date,
    created_by: User,
    required_hours: int | None = None,
) -> Placement:
    """Plan a placement. It starts only through `activate_placement`, which applies the gate."""
    if enrollment.withdrawn_on or enrollment.graduated_on:
        raise ValidationError(_("Only a current student can be placed."))
    _check_people_and_site(enrollment, site, preceptor)
    # Capacity is counted under a lock on the site, so two coordinators cannot both take the last seat.
    Site.objects.select_for_update().filter(pk=site.pk).first()
    placement = Placement(
        enrollment=enrollment,
        site=site,
        preceptor=preceptor,
        start_on=start_on,
        end_on=end_on,
        required_hours=required_hours or enrollment.cohort.program.practicum_hours,
        created_by=created_by,
    )
    _check_dates(placement)
    placement.save()
    return placement


@transaction.atomic
def update_placement(
    placement: Placement, *, preceptor: Preceptor, start_on: date, end_on: date, required_hours: int
) -> Placement:
    """Change a planned or active placement. An active one keeps its start, and a new end date must
    still pass the gate (a document valid through the old end may expire before the new one)."""
    locked = (
        Placement.objects.select_for_update().select_related("site", "enrollment__cohort__program").get(pk=placement.pk)
    )
    if not locked.is_open:
        raise ValidationError(_("A completed or withdrawn placement cannot change."))
    if locked.state == Placement.State.ACTIVE and start_on != locked.start_on:
        raise ValidationError({"start_on": _("An active placement keeps its start date.")})
    _check_people_and_site(locked.enrollment, locked.site, preceptor)
    if required_hours < 1:
        raise ValidationError({"required_hours": _("Required hours must be at least 1.")})
    if locked.hours.filter(Q(work_date__lt=start_on) | Q(work_date__gt=end_on)).exists():
        raise ValidationError({"end_on": _("Logged hours fall outside these dates.")})
    end_changed = end_on != locked.end_on
    locked.preceptor, locked.start_on, locked.end_on, locked.required_hours = (
        preceptor,
        start_on,
        end_on,
        required_hours,
    )
    Site.objects.select_for_update().filter(pk=locked.site_id).first()
    _check_dates(locked)
    if locked.state == Placement.State.ACTIVE and end_changed and (problems := readiness.placement_problems(locked)):
        raise ValidationError(problems)
    locked.save()
    return locked


@transaction.atomic
def activate_placement(placement: Placement, *, by: User) -> Placement:
    """Start the placement if every gate condition holds through its end date; else list each unmet one."""
    locked = (
        Placement.objects.select_for_update().select_related("site", "enrollment__cohort__program").get(pk=placement.pk)
    )
    if locked.state != Placement.State.PLANNED:
        raise ValidationError(_("Only a planned placement can start."))
    if locked.enrollment.withdrawn_on or locked.enrollment.graduated_on:
        raise ValidationError(_("Only a current student can start a placement."))
    if problems := readiness.placement_problems(locked):
        raise ValidationError(problems)
    if Placement.objects.filter(enrollment=locked.enrollment_id, state=Placement.State.ACTIVE).exists():
        raise ValidationError(_("The student already has an active placement."))
    locked.state = Placement.State.ACTIVE
    locked.activated_at = timezone.now()
    locked.save(update_fields=["state", "activated_at"])
    return locked


def completion_problems(placement: Placement) -> list[str]:
    problems = []
    approved = approved_hours(placement)
    if approved < placement.required_hours:
        problems.append(
            _("%(approved)s of %(required)s required hours are approved.")
            % {"approved": f"{approved:g}", "required": placement.required_hours}
        )
    if not Evaluation.objects.filter(placement=placement, kind=Kind.FINAL).exists():
        problems.append(_("The preceptor's final evaluation is not submitted yet."))
    return problems


@transaction.atomic
def complete_placement(placement: Placement, *, by: User) -> Placement:
    locked = Placement.objects.select_for_update().get(pk=placement.pk)
    if locked.state != Placement.State.ACTIVE:
        raise ValidationError(_("Only an active placement can be completed."))
    if problems := completion_problems(locked):
        raise ValidationError(problems)
    locked.state = Placement.State.COMPLETED
    locked.completed_at = timezone.now()
    locked.save(update_fields=["state", "completed_at"])
    return locked


@transaction.atomic
def withdraw_placement(placement: Placement, *, by: User, reason: str) -> Placement:
    """End a planned or active placement early. Its approved hours stay on the student's record."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the placement ends.")})
    locked = Placement.objects.select_for_update().get(pk=placement.pk)
    if not locked.is_open:
        raise ValidationError(_("Only a planned or active placement can be withdrawn."))
    locked.state = Placement.State.WITHDRAWN
    locked.withdrawn_at = timezone.now()
    locked.withdrawal_reason = reason
    locked.save(update_fields=["state", "withdrawn_at", "withdrawal_reason"])
    return locked
