"""The one flow every import follows once previewed: Import queues it, a Celery task applies it, and
the upload's page shows how far the writing got.

Applying a preview can write 20,000 rows, far too long for a request. The Import button marks the
upload queued, with the choices made on the page, and hands it to `tasks.apply_import` after commit;
the page then polls a small fragment that shows the progress. The task

- moves the upload from queued to applying in a short transaction of its own, so the page says so;
- calls the kind's apply service, which locks the upload, plans its stored rows again and writes them
  in one transaction, in which it also marks the upload applied (or, if the records changed since the
  preview, stores the new preview and marks it previewed again with what changed);
- records a refusal (rows with errors, an expired preview, a record changed under it) as failed, with
  what to tell the person, in their own language.

Progress is counted in the cache, outside the apply's transaction: the written records appear all at
once at commit, and nothing is written if the apply fails. Running the task twice, or two at once, is
safe: the task does nothing unless the upload is queued or applying, and the apply service locks the
upload and refuses a second apply. A worker that dies rolls its transaction back and leaves the upload
"applying"; after IMPORT_APPLY_STALE_SECONDS without news its page says the import did not finish and
offers it again. With the broker down, the upload is marked failed with a message saying so, and stays
applicable.

Each app registers its kinds (`register`, from its AppConfig.ready): curriculum the roster, cohorts and
courses, certifications exam results and graduate outcomes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as BrokerUnreachable

from config import data_version
from curriculum import spreadsheets
from curriculum.models import UploadedImport

if TYPE_CHECKING:
    from django import forms
    from django_stubs_ext import StrOrPromise

    from accounts.models import User
    from curriculum.models import Program

logger = logging.getLogger(__name__)

State = UploadedImport.State
RUNNING = (State.QUEUED, State.APPLYING)
PROGRESS_KEEP_SECONDS = 3600


class Progress(Protocol):
    def __call__(self, written: int, total: int) -> None: ...


@dataclass(frozen=True)
class ImportKind:
    """What differs between the kinds of import, for the shared flow to apply and show any of them."""

    name: str  # the upload's `kind`
    model: type[UploadedImport]
    # Writes the upload's preview in one transaction, marking it with `mark_applied` or
    # `mark_preview_changed`; raises ValidationError or IntegrityError when it refuses.
    apply: Callable[[Any, dict[str, Any], Progress], object]
    # What to tell the person when the apply service refused: the first line says nothing was imported.
    refusal: Callable[[Any, Exception], list[str]]
    # What to tell the person once applied, from the upload's summary.
    applied_message: Callable[[dict[str, Any]], str]
    # The upload as the person may see it: 404 or 403 otherwise, through the owning app's permissions.
    find: Callable[[HttpRequest, int], Any]
    detail_url: str  # the name of the URL of the upload's page
    progress_url: str  # the name of the URL of its progress fragment

    # --- Its pages (curriculum/views/imports.py) ---
    title: StrOrPromise  # the upload page's heading, lazily translated
    # Who may import into a program: its app's permissions.py check (403 for its other staff).
    may_import: Callable[[User, Program], bool]
    upload_form: type[forms.Form]
    # Reads and plans an uploaded file once, keeping it with its plan: (program=, uploaded_by=,
    # file_name=, content=) -> the upload; raises spreadsheets.UnreadableFile when it cannot be read.
    preview: Callable[..., UploadedImport]
    upload_url: str  # the names of the URLs of the upload page, its example file and the Import button
    example_url: str
    apply_url: str
    example_file_name: str
    example: Callable[[Program], str]  # a small file in the format, as CSV
    upload_template: str
    detail_template: str
    # What the upload page says of the format: {"columns": [...]}, or the kind's own.
    format_context: Callable[[Program], dict[str, Any]]
    # A stored plan row as the preview shows it, and what it sets column by column.
    row_from_json: Callable[[dict[str, Any]], Any]
    cells: Callable[[Any], list[dict[str, str]]] = lambda row: []
    # Which stored rows the preview lists (the roster's lists only what changes).
    listed: Callable[[dict[str, Any]], bool] = lambda row: True
    # The choices made beside the Import button, as the apply service takes them.
    apply_options: Callable[[HttpRequest], dict[str, Any]] = lambda request: {}
    # The upload page's own extras: the roster's intakes box and invitation choice, the results' warnings.
    detail_context: Callable[[Any, bool], dict[str, Any]] = lambda upload, previewed: {}


KINDS: dict[str, ImportKind] = {}


def register(kind: ImportKind) -> None:
    KINDS[kind.name] = kind


def kind_of(upload: UploadedImport) -> ImportKind:
    return KINDS[upload.kind]  # type: ignore[attr-defined]  # every concrete import has a kind


# --- Progress, outside the transaction ------------------------------------------------------


def _progress_key(kind: str, pk: int) -> str:
    return f"import-progress:{kind}:{pk}"


def report_progress(kind: str, pk: int, written: int, total: int) -> None:
    """Tell the page how many rows are written; a cache that cannot be reached only loses the count."""
    try:
        cache.set(
            _progress_key(kind, pk),
            {"written": written, "total": total, "at": time.time()},
            PROGRESS_KEEP_SECONDS,
        )
    except Exception:
        logger.warning("Could not record the progress of import %s %s", kind, pk, exc_info=True)


def progress_of(upload: UploadedImport) -> dict[str, Any] | None:
    """{"written", "total", "at"} as last reported, or None before the first report."""
    try:
        return cache.get(_progress_key(upload.kind, upload.pk))  # type: ignore[attr-defined]
    except Exception:
        logger.warning("Could not read the progress of import %s", upload.pk, exc_info=True)
        return None


def has_stalled(upload: UploadedImport, progress: dict[str, Any] | None) -> bool:
    """Queued or applying, and no news for IMPORT_APPLY_STALE_SECONDS: its worker died or its task was
    lost. (A live apply reports each batch it writes.)"""
    if not upload.is_running:
        return False
    last_news = upload.state_changed_at or upload.created_at
    if progress and progress.get("at"):
        last_news = max(last_news, datetime.fromtimestamp(progress["at"], tz=UTC))
    return last_news < timezone.now() - timedelta(seconds=settings.IMPORT_APPLY_STALE_SECONDS)


# --- What the apply services call inside their transaction ----------------------------------


def mark_applied(upload: UploadedImport) -> list[str]:
    """Applied: set the state in the apply's own transaction, so it commits with the records."""
    upload.state, upload.state_changed_at, upload.outcome = State.APPLIED, timezone.now(), []
    return ["state", "state_changed_at", "outcome"]


def mark_preview_changed(upload: UploadedImport, changed_rows: int) -> list[str]:
    """The records changed since the preview: the new preview (stored in the same transaction) is to be
    checked again before anything is imported."""
    upload.state, upload.state_changed_at = State.PREVIEWED, timezone.now()
    upload.outcome = spreadsheets.PreviewChanged(changed_rows).messages
    return ["state", "state_changed_at", "outcome"]


# --- Queueing, in the request -----------------------------------------------------------------


def queue_apply(*, upload: UploadedImport, options: dict[str, Any]) -> None:
    """Mark a previewed upload queued and queue its task after commit; takes well under a second.

    Raises ValidationError with the reason when it cannot be applied (imported already, being imported,
    its preview expired); the state is left as it was."""
    kind = kind_of(upload)
    with transaction.atomic():
        try:
            locked = (
                kind.model._default_manager.select_for_update(nowait=True)
                .defer("content", "rows", "plan")
                .annotate(has_plan=ExpressionWrapper(Q(plan__isnull=False), output_field=BooleanField()))
                .get(pk=upload.pk)
            )
        except DatabaseError:
            # A task holds the row: it is applying this very upload.
            raise ValidationError(_("This file is being imported right now.")) from None
        if locked.applied_at:
            raise ValidationError(_("This file was imported already."))
        if locked.is_running and not has_stalled(locked, progress_of(locked)):
            raise ValidationError(_("This file is being imported right now."))
        cutoff = timezone.now() - timedelta(hours=settings.IMPORT_PREVIEW_HOURS)
        if not locked.has_plan or locked.created_at < cutoff:
            raise ValidationError(spreadsheets.preview_expired_message())
        locked.state, locked.state_changed_at = State.QUEUED, timezone.now()
        locked.apply_options, locked.outcome = options, []
        locked.save(update_fields=["state", "state_changed_at", "apply_options", "outcome"])
        report_progress(kind.name, locked.pk, 0, 0)
        transaction.on_commit(lambda: _send(kind, locked.pk))


def _send(kind: ImportKind, pk: int) -> None:
    """Hand the upload to a worker. With the broker down the person learns it at once and can try again."""
    from curriculum import tasks

    try:
        tasks.apply_import.delay(kind.name, pk)
    except (BrokerUnreachable, OSError):
        logger.warning("Could not queue import %s %s", kind.name, pk, exc_info=True)
        kind.model._default_manager.filter(pk=pk, state=State.QUEUED).update(
            state=State.FAILED,
            state_changed_at=timezone.now(),
            outcome=[
                _(
                    "Nothing was imported: the import could not be started, as the background service "
                    "is not answering. Try again in a few minutes."
                )
            ],
        )


# --- Applying, in the worker ------------------------------------------------------------------


def run_apply(kind_name: str, pk: int) -> None:
    """The task's work: apply a queued upload once, recording how it ended (see the module's doc)."""
    kind = KINDS[kind_name]
    with transaction.atomic():
        upload = (
            kind.model._default_manager.select_for_update()
            .select_related("uploaded_by")
            .defer("content", "rows", "plan")
            .filter(pk=pk)
            .first()
        )
        if upload is None or not upload.is_running:
            return  # applied, failed or changed meanwhile: a second delivery has nothing to do
        upload.state, upload.state_changed_at = State.APPLYING, timezone.now()
        upload.save(update_fields=["state", "state_changed_at"])

    def progress(written: int, total: int) -> None:
        report_progress(kind.name, pk, written, total)

    language = upload.uploaded_by.preferred_language or settings.LANGUAGE_CODE
    with translation.override(language), data_version.recording() as written:
        try:
            kind.apply(upload, upload.apply_options, progress)
        except spreadsheets.PreviewChanged:
            pass  # the service stored the new preview and its message with it
        except (ValidationError, IntegrityError) as refusal:
            _fail(kind, pk, kind.refusal(upload, refusal))
        except BaseException:
            _fail(kind, pk, [_("Nothing was imported: the import stopped on an unexpected error. Try again.")])
            raise
        else:
            try:
                analyze(written)
            except DatabaseError:  # the import stands; autovacuum gathers the statistics in its own time
                logger.warning("Could not analyze the tables import %s %s filled", kind.name, pk, exc_info=True)


def analyze(tables: set[str]) -> int:
    """Gather the planner's statistics of these tables, which an import has just filled: autovacuum
    would, but only once it comes round, and reports read them at once. Through `checkoff_analyze`
    (migration curriculum 0011), which lends the app role the right to; returns how many it analyzed."""
    if not tables:
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT checkoff_analyze(%s)", [sorted(tables)])
        return int(cursor.fetchone()[0])


def _fail(kind: ImportKind, pk: int, messages: list[str]) -> None:
    """Record a refusal, unless another run applied the upload meanwhile."""
    kind.model._default_manager.filter(pk=pk, state__in=RUNNING, applied_at__isnull=True).update(
        state=State.FAILED, state_changed_at=timezone.now(), outcome=messages
    )


# --- What the upload's page shows ---------------------------------------------------------------


def state_context(upload: UploadedImport) -> dict[str, Any]:
    """Where applying stands, for the page and its progress fragment."""
    kind = kind_of(upload)
    progress = progress_of(upload) if upload.is_running else None
    stalled = has_stalled(upload, progress)
    written, total = (progress["written"], progress["total"]) if progress else (0, 0)
    return {
        "running": upload.is_running and not stalled,
        "stalled": stalled,
        "written": min(written, total),
        "total": total,
        "percent": round(100 * written / total) if total else 0,
        "applied_message": kind.applied_message(upload.summary) if upload.applied_at else "",
        "progress_url": reverse(kind.progress_url, args=[upload.pk]),
        "outcome_level": "danger" if upload.state == State.FAILED else "warning",
    }
