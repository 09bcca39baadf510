"""Factories for the outbox: messages written straight into it, as the planner would."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from notifications.models import Message, Notification


class MessageFactory(factory.django.DjangoModelFactory[Message]):
    """A pending exam reminder due a minute ago."""

    class Meta:
        model = Message

    recipient = factory.SubFactory("tests.factories.UserFactory")
    kind = "exam_upcoming"
    subject = factory.Sequence(lambda number: f"exam:{number}")
    occasion = "2026-12-15/7"
    due_at = factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=1))
    next_attempt_at = factory.SelfAttribute("due_at")
    context = factory.LazyFunction(
        lambda: {"track": "CMA", "exam_on": "2026-12-15", "location": "Testing center", "days": 7}
    )
    url = "/my/certification/"


class NotificationFactory(factory.django.DjangoModelFactory[Notification]):
    class Meta:
        model = Notification

    recipient = factory.SubFactory("tests.factories.UserFactory")
    kind = "exam_upcoming"
    context = factory.LazyFunction(
        lambda: {"track": "CMA", "exam_on": "2026-12-15", "location": "Testing center", "days": 7}
    )
    url = "/my/certification/"
