"""The student's record leaving the system: who downloaded it is logged for the student to read."""

from __future__ import annotations

from typing import Any

from accounts.models import AccessLog, User


def record_download(
    *, downloader: User, student_id: int, what: str, request_meta: dict[str, Any] | None = None
) -> None:
    """Staff downloading a student's record leave a trace the student can read; the student's own does not."""
    if downloader.pk != student_id:
        AccessLog.record(
            actor_id=downloader.pk,
            student_id=student_id,
            action=AccessLog.Action.DOWNLOAD,
            target=what,
            request_meta=request_meta,
        )
