"""Inviting people in one statement: their invitation, their email address, and its email in the outbox."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.core import mail

from accounts import services
from accounts.emails import INVITATION
from accounts.models import Invitation, User
from notifications.models import Message
from tests import factories


@pytest.fixture
def newcomers(db):
    return [
        User.objects.create_user(f"newcomer{number}@school.test", first_name=f"Nia {number}") for number in range(5)
    ]


def test_everyone_selected_gets_an_invitation_and_an_unverified_address_sent_after_commit(
    newcomers, dana, program, django_capture_on_commit_callbacks
):
    selected = User.objects.filter(email__startswith="newcomer")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        invited = services.invite(users=selected, invited_by=dana, program_id=program.pk)
        assert mail.outbox == [], "invitations leave only after commit"

    assert len(callbacks) == 1  # one sender started, whatever the number
    invitations = Invitation.objects.filter(user__in=newcomers)
    assert invited == {invitation.user_id: invitation.pk for invitation in invitations}
    assert all(invitation.invited_by == dana for invitation in invitations)
    assert sorted(message.to[0] for message in mail.outbox) == sorted(person.email for person in newcomers)
    sent = Message.objects.filter(kind=INVITATION)
    assert sorted(sent.values_list("context__invitation_id", flat=True)) == sorted(invited.values())
    assert set(sent.values_list("state", "program_id")) == {(Message.State.SENT, program.pk)}
    addresses = EmailAddress.objects.filter(user__in=newcomers)
    assert sorted(addresses.values_list("email", "primary", "verified")) == sorted(
        (person.email, True, False) for person in newcomers
    )


def test_an_address_a_person_already_has_is_kept_as_it_is(newcomers):
    person = newcomers[0]
    EmailAddress.objects.create(user=person, email=person.email, primary=True, verified=True)

    services.invite(users=User.objects.filter(pk=person.pk), invited_by=None)

    assert list(EmailAddress.objects.filter(user=person).values_list("email", "verified")) == [(person.email, True)]
    assert Invitation.objects.filter(user=person).count() == 1


def test_a_selection_that_repeats_a_person_invites_them_once(newcomers):
    cohort = factories.CohortFactory()
    other = factories.CohortFactory(program=cohort.program)
    person = newcomers[0]
    factories.EnrollmentFactory(student=person, cohort=cohort)
    factories.EnrollmentFactory(student=person, cohort=other, withdrawn_on=other.start_on)

    # A join on enrollments yields the person once per enrollment.
    services.invite(users=User.objects.filter(enrollments__cohort__program=cohort.program), invited_by=None)

    assert Invitation.objects.filter(user=person).count() == 1


def test_selecting_nobody_writes_and_queues_nothing(newcomers, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        assert services.invite(users=User.objects.none(), invited_by=None) == {}
        assert services.invite(users=User.objects.filter(email="nobody@school.test"), invited_by=None) == {}

    assert callbacks == []
    assert not Invitation.objects.exists()
    assert not EmailAddress.objects.filter(user__in=newcomers).exists()


def test_invite_users_returns_each_persons_invitation_in_the_order_given(newcomers):
    given = [newcomers[3], newcomers[0], newcomers[4]]

    invitations = services.invite_users(users=given, invited_by=None)

    assert [invitation.user for invitation in invitations] == given
    assert [invitation.pk for invitation in invitations] == [Invitation.objects.get(user=person).pk for person in given]
