"""The outbox, what a person sees in the app, and how each person wants to hear.

`notifications` imports no domain app: each domain app's `reminders.py` says what is due (see
`notifications.planner`) and calls `notifications.services.notify` when something happens.
"""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class MessageQuerySet(models.QuerySet["Message"]):
    def for_program(self, program_id: int) -> MessageQuerySet:
        return self.filter(program_id=program_id)


class Message(models.Model):
    """One message to one person: a row of the outbox, for everything that leaves the system for
    someone (reminders, event notices, invitations, welcomes).

    Its key (recipient, kind, subject, occasion) is unique, so planning or notifying the same thing
    twice writes nothing new. It moves pending → sending (a sender claimed it) → sent; back to pending
    with a later `next_attempt_at` when an attempt fails; to failed after the last attempt, or to
    cancelled when it should not leave (no longer due, turned off, the recipient inactive). Its words
    are rendered when it is sent, in the recipient's language, from its kind and context."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email and in the app")
        IN_APP = "in_app", _("In the app only")
        OFF = "off", _("Off")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="messages"
    )
    kind = models.CharField(_("kind"), max_length=40)
    subject = models.CharField(_("subject"), max_length=100, help_text=_("What it is about, e.g. exam:42."))
    occasion = models.CharField(_("occasion"), max_length=100, help_text=_("Which message of it, e.g. 30d."))
    program = models.ForeignKey(
        "curriculum.Program",
        verbose_name=_("program"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    due_at = models.DateTimeField(_("due"))
    context = models.JSONField(_("context"), default=dict, blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    channel = models.CharField(_("delivered by"), max_length=10, choices=Channel.choices, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("planned"), default=timezone.now)
    claimed_at = models.DateTimeField(_("sending since"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    resent_from = models.ForeignKey(
        "self", verbose_name=_("resent from"), on_delete=models.SET_NULL, null=True, blank=True, related_name="resends"
    )
    resent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = MessageQuerySet.as_manager()

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-due_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "kind", "subject", "occasion"], name="message_once"),
            models.CheckConstraint(condition=~Q(state="sent") | Q(sent_at__isnull=False), name="message_sent_has_time"),
        ]
        indexes = [
            # The sender's claim: waiting rows by their next attempt.
            models.Index(fields=["next_attempt_at"], condition=Q(state="pending"), name="message_pending_next"),
            # The reclaim of rows whose sender stopped.
            models.Index(fields=["claimed_at"], condition=Q(state="sending"), name="message_sending_since"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject} {self.occasion} → {self.recipient_id}"


class NotificationQuerySet(models.QuerySet["Notification"]):
    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """What a person sees in the app's notification centre. Its words are rendered when read, in the
    reader's language, from its kind and context."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    message = models.OneToOneField(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="notification"
    )
    kind = models.CharField(max_length=40)
    context = models.JSONField(default=dict, blank=True)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "-created_at"]), models.Index(
            fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread"
        )]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient_id}"


class Preference(models.Model):
    """How one person wants to hear of one kind of reminder. No row: by email and in the app."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminder_preferences")
    kind = models.CharField(max_length=40)
    channel = models.CharField(max_length=10, choices=Message.Channel.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="preference_once_per_kind")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: {self.channel}"


class ReminderTiming(models.Model):
    """A program's own timing of one kind of reminder, where it differs from the kind's default."""

    program_id = models.PositiveIntegerField(_("program"))
    kind = models.CharField(_("kind"), max_length=40)
    offsets = ArrayField(
        models.PositiveSmallIntegerField(),
        verbose_name=_("days"),
        size=6,
        help_text=_("How many days ahead (or after, or waiting), largest first."),
    )
    send_at = models.TimeField(_("send at"), default=time(9, 0), help_text=_("Local time in the program's time zone."))
    enabled = models.BooleanField(_("on"), default=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("reminder timing")
        verbose_name_plural = _("reminder timings")
        constraints = [models.UniqueConstraint(fields=["program_id", "kind"], name="reminder_timing_once")]

    def __str__(self) -> str:
        return f"{self.program_id} {self.kind}"
