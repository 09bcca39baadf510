"""Directors and coordinators record withdrawals and graduations, and resend invitations."""

from __future__ import annotations

from django.urls import reverse

from accounts.models import Invitation
from tests import factories


def edit_url(person):
    return reverse("curriculum:enrollment-edit", args=[person.enrollments.get().pk])


def test_a_coordinator_records_a_withdrawal(client, carlos, alice, cohort):
    client.force_login(carlos)
    day = cohort.start_on.isoformat()
    response = client.post(edit_url(alice), {"admitted_on": day, "withdrawn_on": day})
    assert response.status_code == 302
    assert alice.enrollments.get().withdrawn_on.isoformat() == day


def test_withdrawn_and_graduated_together_are_refused_on_the_field(client, carlos, alice, cohort):
    client.force_login(carlos)
    day = cohort.start_on.isoformat()
    response = client.post(edit_url(alice), {"admitted_on": day, "withdrawn_on": day, "graduated_on": day})
    assert "graduated_on" in response.context["form"].errors
    assert alice.enrollments.get().withdrawn_on is None


def test_a_date_before_admission_is_refused_on_its_field(client, carlos, alice, cohort):
    client.force_login(carlos)
    response = client.post(edit_url(alice), {"admitted_on": cohort.start_on.isoformat(), "graduated_on": "2000-01-01"})
    assert "graduated_on" in response.context["form"].errors


def test_an_instructor_may_not_edit_enrollments(client, irene, alice):
    client.force_login(irene)
    assert client.get(edit_url(alice)).status_code == 403


def test_another_programs_director_gets_404(client, alice):
    stranger = factories.StaffFactory(role="director").user
    client.force_login(stranger)
    assert client.get(edit_url(alice)).status_code == 404


def test_enrollment_edit_rejects_put(client, carlos, alice):
    client.force_login(carlos)
    assert client.put(edit_url(alice)).status_code == 405


def test_an_invitation_can_be_resent_to_a_student_who_never_signed_in(
    client, carlos, cohort, mailoutbox, django_capture_on_commit_callbacks
):
    newcomer = factories.EnrollmentFactory(cohort=cohort)
    newcomer.student.set_unusable_password()
    newcomer.student.save()
    client.force_login(carlos)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("curriculum:enrollment-invite", args=[newcomer.pk]))
    assert Invitation.objects.filter(user=newcomer.student).count() == 1
    assert [message.to for message in mailoutbox] == [[newcomer.student.email]]


def test_no_invitation_for_a_student_who_has_signed_in(client, carlos, alice):
    client.force_login(carlos)
    client.post(reverse("curriculum:enrollment-invite", args=[alice.enrollments.get().pk]))
    assert not Invitation.objects.exists()


def test_an_instructor_may_not_resend_invitations(client, irene, alice):
    client.force_login(irene)
    assert client.post(reverse("curriculum:enrollment-invite", args=[alice.enrollments.get().pk])).status_code == 403


def test_resend_rejects_get(client, carlos, alice):
    client.force_login(carlos)
    assert client.get(reverse("curriculum:enrollment-invite", args=[alice.enrollments.get().pk])).status_code == 405
