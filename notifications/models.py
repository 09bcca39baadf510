"""The reminder outbox, what a person sees in the app, and how each person wants to hear.

`notifications` imports no domain app: a reminder names its program by id (`program_id`), and each
domain app's `reminders.py` says what is due (see `notifications.planner`).
"""

from __future__ import annotations

from datetime import datetime, time

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ReminderQuerySet(models.QuerySet["Reminder"]):
    def due(self, now: datetime) -> ReminderQuerySet:
        return self.filter(state=Reminder.State.PENDING, due_at__lte=now)

    def for_program(self, program_id: int) -> ReminderQuerySet:
        return self.filter(program_id=program_id)


class Reminder(models.Model):
    """One reminder to one person: a row of the outbox.

    Its key (recipient, kind, subject, occasion) is unique, so planning the same thing twice plans
    nothing new. It moves pending → queued (claimed by the dispatcher, a task on its way) → sending
    (a worker took it) → sent; or to failed after the last retry, or cancelled when what it was about
    is no longer due before it left."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email and in the app")
        IN_APP = "in_app", _("In the app only")
        OFF = "off", _("Off")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="reminders"
    )
    kind = models.CharField(_("kind"), max_length=40)
    subject = models.CharField(_("subject"), max_length=100, help_text=_("What it is about, e.g. exam:42."))
    occasion = models.CharField(_("occasion"), max_length=100, help_text=_("Which reminder of it, e.g. 30d."))
    program_id = models.PositiveIntegerField(_("program"), null=True, blank=True, db_index=True)
    due_at = models.DateTimeField(_("due"))
    context = models.JSONField(_("context"), default=dict, blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    channel = models.CharField(_("delivered by"), max_length=10, choices=Channel.choices, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("planned"), default=timezone.now)
    queued_at = models.DateTimeField(_("queued"), null=True, blank=True)
    started_at = models.DateTimeField(_("sending since"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    resent_from = models.ForeignKey(
        "self", verbose_name=_("resent from"), on_delete=models.SET_NULL, null=True, blank=True, related_name="resends"
    )
    resent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = ReminderQuerySet.as_manager()

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        ordering = ["-due_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "kind", "subject", "occasion"], name="reminder_planned_once"),
            models.CheckConstraint(
                condition=~Q(state="sent") | Q(sent_at__isnull=False), name="reminder_sent_has_time"
            ),
        ]
        indexes = [
            # The dispatcher's claim: pending rows by due time.
            models.Index(fields=["due_at"], condition=Q(state="pending"), name="reminder_pending_due"),
            # The sweeper's look at rows in flight.
            models.Index(
                fields=["state", "queued_at"], condition=Q(state__in=["queued", "sending"]), name="reminder_in_flight"
            ),
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
    reminder = models.OneToOneField(
        Reminder, on_delete=models.SET_NULL, null=True, blank=True, related_name="notification"
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
    channel = models.CharField(max_length=10, choices=Reminder.Channel.choices)

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
