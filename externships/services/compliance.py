"""Compliance use cases: a student uploads a document; a coordinator approves or rejects it; staff
opening one leave a trace the student can read.

A document is judged by its content, never by its name or the type the browser declares: only a
PDF, a PNG or a JPEG is kept. Every rule is checked before anything is written, so a refused upload
leaves neither a row nor a file behind.
"""

from __future__ import annotations

import calendar
import math
from datetime import date
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import AccessLog, User
from externships import permissions
from externships.models import ComplianceRecord, ComplianceRequirement
from notifications.services import notify

# The first bytes of each accepted kind of file, its content type and the suffix it is stored with.
SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)
ACCEPT = ",".join(content_type for _signature, content_type, _suffix in SIGNATURES)
MEGABYTE = 1024 * 1024


def sniff(head: bytes) -> tuple[str, str] | None:
    """The content type and suffix a file's first bytes show, or None for anything not accepted."""
    for signature, content_type, suffix in SIGNATURES:
        if head.startswith(signature):
            return content_type, suffix
    return None


def max_upload_bytes() -> int:
    return int(settings.COMPLIANCE_UPLOAD_MAX_BYTES)


def megabytes(size: int, *, rounding_up: bool = False) -> str:
    """A size in MB with one decimal at most; a file just over the limit is never shown as equal to it."""
    tenths = math.ceil(size * 10 / MEGABYTE) if rounding_up else round(size * 10 / MEGABYTE)
    return f"{tenths / 10:.1f}".removesuffix(".0")


def add_months(day: date, months: int) -> date:
    """The same day `months` later; the month's last day when it is shorter (31 January + 1 → 28 February)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _read_head(file: File[Any]) -> bytes:
    file.seek(0)
    head = file.read(16)
    file.seek(0)
    return bytes(head)


@transaction.atomic
def upload_record(
    *,
    student: User,
    requirement: ComplianceRequirement,
    file: File[Any],
    completed_on: date,
    expires_on: date | None = None,
) -> ComplianceRecord:
    """Keep a student's document for one requirement, waiting for review; refuse it whole, with a reason."""
    if not permissions.can_upload_compliance(student, requirement):
        raise ValidationError(
            {"requirement": _("You can upload documents only for the requirements of a program you are in.")}
        )
    problems: dict[str, str] = {}
    size = file.size or 0
    limit = max_upload_bytes()
    kind = None
    if size == 0:
        problems["document"] = _("The file is empty.")
    elif size > limit:
        problems["document"] = _("The file is %(size)s MB; the limit is %(limit)s MB.") % {
            "size": megabytes(size, rounding_up=True),
            "limit": megabytes(limit),
        }
    elif (kind := sniff(_read_head(file))) is None:
        problems["document"] = _("Upload a PDF, or a photo as PNG or JPEG: this file is none of them.")
    today = requirement.program.today()
    if completed_on > today:
        problems["completed_on"] = _("The date completed cannot be in the future.")
    if expires_on is None and requirement.validity_months:
        expires_on = add_months(completed_on, requirement.validity_months)
        if expires_on < today and "completed_on" not in problems:
            problems["completed_on"] = _(
                "%(name)s is valid for %(months)s months, so this document expired on %(expiry)s. Upload a current one."
            ) % {"name": requirement.name, "months": requirement.validity_months, "expiry": date_format(expires_on)}
    elif expires_on is not None:
        if expires_on < completed_on:
            problems["expires_on"] = _("The expiry date cannot be before the date completed.")
        elif expires_on < today:
            problems["expires_on"] = _("This document has expired already. Upload a current one.")
    if problems or kind is None:
        raise ValidationError(problems)
    content_type, suffix = kind
    record = ComplianceRecord(
        student=student,
        requirement=requirement,
        document_name=PurePath(file.name or "").name[-200:] or f"document{suffix}",
        document_type=content_type,
        document_size=size,
        completed_on=completed_on,
        expires_on=expires_on,
    )
    # The stored name carries the suffix of what the file is, not of what it was called.
    record.document.save(f"document{suffix}", file, save=False)
    try:
        record.save()
    except Exception:
        record.document.delete(save=False)
        raise
    return record


def _lock_for_review(record: ComplianceRecord, reviewer: User) -> ComplianceRecord:
    """The record, locked: two reviewers at once are judged one after the other."""
    locked = ComplianceRecord.objects.select_for_update().get(pk=record.pk)
    if locked.student_id == reviewer.pk:
        raise ValidationError(_("Nobody reviews their own document."))
    if locked.state != ComplianceRecord.State.PENDING:
        raise ValidationError(
            _("This document was reviewed already: it is %(state)s.") % {"state": locked.get_state_display().lower()}
        )
    return locked


@transaction.atomic
def approve_record(*, record: ComplianceRecord, by: User) -> ComplianceRecord:
    """Accept a document: from now on it counts for its requirement until it expires."""
    locked = _lock_for_review(record, by)
    locked.state = ComplianceRecord.State.APPROVED
    locked.reviewed_by, locked.reviewed_at = by, timezone.now()
    locked.save(update_fields=["state", "reviewed_by", "reviewed_at"])
    _tell_student(locked, by)
    return locked


@transaction.atomic
def reject_record(*, record: ComplianceRecord, by: User, reason: str) -> ComplianceRecord:
    """Refuse a document with a reason the student reads, so they know what to upload instead."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the document is rejected, so the student knows what to fix.")})
    locked = _lock_for_review(record, by)
    locked.state = ComplianceRecord.State.REJECTED
    locked.reviewed_by, locked.reviewed_at = by, timezone.now()
    locked.rejection_reason = reason
    locked.save(update_fields=["state", "reviewed_by", "reviewed_at", "rejection_reason"])
    _tell_student(locked, by)
    return locked


def _tell_student(record: ComplianceRecord, reviewer: User) -> None:
    """The student hears of the review after commit, by their chosen channel (the reminder outbox)."""
    from externships.reminders import DOCUMENT_APPROVED, DOCUMENT_REJECTED

    approved = record.state == ComplianceRecord.State.APPROVED
    requirement = record.requirement
    notify(
        recipient_id=record.student_id,
        kind=DOCUMENT_APPROVED if approved else DOCUMENT_REJECTED,
        subject=f"compliance-record:{record.pk}",
        occasion="reviewed",
        program_id=requirement.program_id,
        context={
            "requirement": requirement.name,
            "reviewer": reviewer.get_full_name() or reviewer.email,
            "uploaded_on": timezone.localtime(record.uploaded_at, requirement.program.zone).date().isoformat(),
            "reason": record.rejection_reason,
        },
        url=reverse("externships:my-compliance"),
    )


def record_document_view(*, viewer: User, record: ComplianceRecord, request_meta: dict[str, Any] | None = None) -> None:
    """Staff opening a student's document leave a trace in "Who viewed my record"; the student's own does not."""
    if viewer.pk != record.student_id:
        AccessLog.record(
            actor_id=viewer.pk,
            student_id=record.student_id,
            action=AccessLog.Action.DOCUMENT,
            target=f"{record.requirement.name} (document {record.pk})"[:200],
            request_meta=request_meta,
        )
