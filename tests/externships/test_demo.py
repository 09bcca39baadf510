"""The externship part of the demo `make run` shows: every state present, made through the services,
the demo preceptor signing in with the demo password, and nothing doubled by a second seed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command
from django.urls import reverse

from accounts.models import User
from externships import readiness
from externships.models import ComplianceRecord, Evaluation, HoursEntry, Kind, Placement, Preceptor, Site
from externships.services import compliance, hours, placements

PRECEPTOR = "preceptor@demo.checkoff.test"
STUDENT = "student@demo.checkoff.test"


@pytest.fixture
def demo(settings, db):
    settings.DEBUG = True
    call_command("seed_demo")


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (User, Site, Preceptor, Placement, HoursEntry, ComplianceRecord, Evaluation)
    }


def test_the_demo_has_an_externship_in_every_state_and_a_second_seed_adds_nothing(client, demo):
    # The demo preceptor: a person at the main site who may also sign in with the demo password.
    grace = User.objects.get(email=PRECEPTOR)
    assert grace.check_password("checkoff-demo")
    assert EmailAddress.objects.filter(user=grace, email=PRECEPTOR, verified=True, primary=True).exists()
    preceptorship = Preceptor.objects.select_related("site").get(user=grace)
    main = preceptorship.site
    today = main.program.today()
    assert main.address and main.phone and main.specialties and main.capacity >= 2
    assert main.agreement_expires_on >= today + timedelta(days=700)
    assert Site.objects.filter(
        program=main.program, agreement_expires_on__gte=today, agreement_expires_on__lte=today + timedelta(days=60)
    ).exists()
    response = client.post(reverse("account_login"), {"login": PRECEPTOR, "password": "checkoff-demo"})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(grace.pk)
    assert "Johnson" in client.get(reverse("home")).content.decode()  # Maya, placed with her

    # Placements in every state; the demo student's is active, with the demo preceptor, through the gate.
    assert set(Placement.objects.values_list("state", flat=True)) == set(Placement.State.values)
    active = Placement.objects.select_related("enrollment__cohort__program", "site").get(
        enrollment__student__email=STUDENT
    )
    assert active.state == Placement.State.ACTIVE and active.activated_at is not None
    assert active.preceptor == preceptorship
    assert readiness.placement_problems(active) == []
    monday = today - timedelta(days=today.weekday())
    approved = active.hours.filter(state=HoursEntry.State.APPROVED)
    waiting = active.hours.filter(state=HoursEntry.State.SUBMITTED)
    assert approved.exists() and all(entry.reviewed_by_id == grace.pk for entry in approved)
    assert waiting.filter(work_date__gte=monday - timedelta(days=7), work_date__lt=monday).exists()
    assert not active.hours.filter(work_date__gte=today).exists()
    assert active.hours.filter(state=HoursEntry.State.RETURNED).exclude(return_reason="").exists()
    midpoint = Evaluation.objects.get(placement=active, kind=Kind.MIDPOINT)
    assert midpoint.evaluator == grace and midpoint.is_intact()

    completed = Placement.objects.get(state=Placement.State.COMPLETED)
    assert hours.approved_hours(completed) >= completed.required_hours
    assert placements.completion_problems(completed) == []
    assert readiness.missing_competencies(completed.enrollment) == []
    planned = Placement.objects.get(state=Placement.State.PLANNED)
    assert readiness.placement_problems(planned), "the gate has something to say about the planned one"
    assert Placement.objects.get(state=Placement.State.WITHDRAWN).withdrawal_reason

    # Documents in every review state, one approved but lapsing before its placement ends, all real files.
    assert set(ComplianceRecord.objects.values_list("state", flat=True)) == set(ComplianceRecord.State.values)
    assert not ComplianceRecord.objects.filter(state=ComplianceRecord.State.REJECTED, rejection_reason="").exists()
    assert ComplianceRecord.objects.filter(
        state=ComplianceRecord.State.APPROVED, student=planned.enrollment.student, expires_on__lt=planned.end_on
    ).exists()
    for record in ComplianceRecord.objects.all():
        with record.document.open("rb") as document:
            kind = compliance.sniff(document.read(16))
        assert kind is not None and kind[0] == record.document_type and record.document.name.endswith(kind[1])

    before = counts()
    call_command("seed_demo")
    assert counts() == before
