"""The notification centre and the person's reminder choices: each person sees and changes only their own."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.kinds import kinds
from notifications.models import Notification, Preference
from tests.notification_factories import NotificationFactory
from tests.queries import queries_for

pytestmark = pytest.mark.django_db

LIST = reverse("notifications:list")
READ = reverse("notifications:mark-read")
PREFERENCES = reverse("notifications:preferences")


def test_a_student_sees_her_notifications_with_the_unread_count(client, alice, bob):
    NotificationFactory(recipient=alice)
    NotificationFactory(recipient=alice, read_at=timezone.now())
    NotificationFactory(recipient=bob, context={"track": "RMA", "exam_on": "2026-12-20", "location": "X", "days": 1})
    client.force_login(alice)
    page = client.get(LIST).content.decode()
    assert page.count('data-testid="notification"') == 2
    assert "Your CMA exam is in 7 days" in page
    assert "RMA" not in page  # Bob's
    assert 'data-testid="unread-count">1<' in page


def test_opening_a_notification_marks_it_read_and_goes_to_the_thing_to_do(client, alice):
    notification = NotificationFactory(recipient=alice)
    client.force_login(alice)
    response = client.get(reverse("notifications:open", args=[notification.pk]))
    assert response.status_code == 302 and response["Location"] == "/my/certification/"
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_someone_elses_notification_is_not_found(client, alice, bob):
    notification = NotificationFactory(recipient=bob)
    client.force_login(alice)
    assert client.get(reverse("notifications:open", args=[notification.pk])).status_code == 404
    assert client.post(READ, {"ids": [notification.pk]}).status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_an_outside_link_is_never_followed(client, alice):
    notification = NotificationFactory(recipient=alice, url="https://elsewhere.test/phish")
    client.force_login(alice)
    response = client.get(reverse("notifications:open", args=[notification.pk]))
    assert response["Location"] == LIST


def test_mark_all_read(client, alice, bob):
    NotificationFactory.create_batch(3, recipient=alice)
    theirs = NotificationFactory(recipient=bob)
    client.force_login(alice)
    response = client.post(READ, follow=True)
    assert "Marked 3 read." in response.content.decode()
    assert not Notification.objects.filter(recipient=alice, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_marking_read_with_a_bad_id_says_so_and_changes_nothing(client, alice):
    NotificationFactory(recipient=alice)
    client.force_login(alice)
    response = client.post(READ, {"ids": ["seven"]}, follow=True)
    assert "Nothing was marked read" in response.content.decode()
    assert Notification.objects.filter(read_at__isnull=True).count() == 1


@pytest.mark.parametrize(
    ("url", "method"),
    [(LIST, "post"), (READ, "get"), (PREFERENCES, "put")],
)
def test_the_wrong_method_is_refused(client, alice, url, method):
    client.force_login(alice)
    assert getattr(client, method)(url).status_code == 405


def test_opening_is_a_get(client, alice):
    notification = NotificationFactory(recipient=alice)
    client.force_login(alice)
    assert client.post(reverse("notifications:open", args=[notification.pk])).status_code == 405


def test_signed_out_people_are_sent_to_sign_in(client):
    assert client.get(LIST).status_code == 302


def test_a_deactivated_account_may_not_change_choices(client, alice):
    client.force_login(alice)
    alice.is_active = False
    alice.save()
    # Django signs out an inactive user; their session cannot reach the page at all.
    assert client.get(PREFERENCES).status_code in (302, 403)


def _every_kind(**chosen: str) -> dict[str, str]:
    """The form as sent: a choice for every kind, email where the test says nothing."""
    return {key: chosen.get(key, "email") for key in kinds()}


def test_choosing_in_the_app_only_for_exams(client, alice):
    client.force_login(alice)
    page = client.get(PREFERENCES).content.decode()
    assert 'name="exam_upcoming" value="off"' not in page  # critical: no "off"
    assert 'name="recertification_due" value="off"' in page
    response = client.post(PREFERENCES, _every_kind(exam_upcoming="in_app", recertification_due="off"))
    assert response.status_code == 302
    assert dict(Preference.objects.filter(user=alice).values_list("kind", "channel")) == {
        "exam_upcoming": "in_app",
        "recertification_due": "off",
    }


def test_turning_an_exam_reminder_off_is_refused_by_name(client, alice):
    client.force_login(alice)
    response = client.post(PREFERENCES, _every_kind(exam_upcoming="off"))
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Preference.objects.exists()


def test_the_list_costs_the_same_queries_at_five_times_the_notifications(client, alice):
    NotificationFactory.create_batch(5, recipient=alice)
    once = queries_for(client, alice, LIST)
    NotificationFactory.create_batch(20, recipient=alice)
    assert queries_for(client, alice, LIST) == once
