"""Applying an import in the background (curriculum/imports.py): the states an upload goes through,
the progress fragment its page polls, and what happens when the task runs twice, the worker dies or
the broker is down."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from curriculum import imports, services, tasks
from curriculum.models import Enrollment, RosterImport
from curriculum.services import coursework
from tests import factories
from tests.curriculum.test_roster import roster_csv, student_row
from tests.curriculum.test_setup_imports import FALL, cohorts_csv
from tests.imports import post_applying

State = RosterImport.State


def _roster_preview(cohort: Any, uploader: Any, students: int = 2) -> RosterImport:
    upload, _plan = services.preview_roster(
        program=cohort.program,
        uploaded_by=uploader,
        file_name="roster.csv",
        content=roster_csv([student_row(cohort, number) for number in range(1, students + 1)]),
    )
    return upload


def _detail_url(upload: RosterImport) -> str:
    return reverse("curriculum:roster-import-detail", args=[upload.pk])


def _apply_url(upload: RosterImport) -> str:
    return reverse("curriculum:roster-import-apply", args=[upload.pk])


def _progress_url(upload: RosterImport) -> str:
    return reverse("curriculum:roster-import-progress", args=[upload.pk])


def _set_state(upload: RosterImport, state: str, seconds_ago: int = 0) -> None:
    RosterImport.objects.filter(pk=upload.pk).update(
        state=state, state_changed_at=timezone.now() - timedelta(seconds=seconds_ago)
    )


# --- The page and its progress fragment -----------------------------------------------------------


def test_a_queued_upload_shows_its_progress_and_hides_the_import_button(client, cohort, dana):
    upload = _roster_preview(cohort, dana, students=3)
    _set_state(upload, State.APPLYING)
    imports.report_progress(upload.kind, upload.pk, 2, 3)
    client.force_login(dana)

    page = client.get(_detail_url(upload)).content.decode()
    fragment = client.get(_progress_url(upload))

    assert 'role="status"' in page and 'aria-live="polite"' in page
    assert "Importing: 2 of 3 rows written." in page
    assert 'aria-valuenow="2"' in page and 'max="3"' in page
    assert f'hx-get="{_progress_url(upload)}"' in page and 'hx-trigger="every 1s"' in page
    assert _apply_url(upload) not in page, "no second Import while it runs"
    assert fragment.status_code == 200
    assert "HX-Refresh" not in fragment.headers
    assert "Importing: 2 of 3 rows written." in fragment.content.decode()


def test_the_fragment_asks_for_a_reload_once_the_upload_no_longer_runs(client, cohort, dana):
    upload = _roster_preview(cohort, dana)
    client.force_login(dana)

    post_applying(client, _apply_url(upload), {"invite": ""})
    fragment = client.get(_progress_url(upload))
    page = client.get(_detail_url(upload)).content.decode()

    assert fragment.status_code == 200
    assert fragment.headers["HX-Refresh"] == "true"
    assert "hx-trigger" not in fragment.content.decode(), "polling stops"
    assert "Roster imported: 2 new students" in page
    assert "hx-trigger" not in page


def test_only_the_uploader_sees_the_progress(client, cohort, dana, carlos, irene):
    upload = _roster_preview(cohort, dana)
    outsider = factories.StaffFactory(program=factories.ProgramFactory(), role="director").user

    for person in (carlos, irene, outsider):  # another director's upload, an instructor, another program
        client.force_login(person)
        assert client.get(_progress_url(upload)).status_code == 404, person


def test_an_instructor_is_refused_the_progress_of_a_cohorts_upload(client, program, dana, irene):
    upload = services.preview_setup_import(
        kind=RosterImport.Kind.COHORTS, program=program, uploaded_by=dana, file_name="c.csv", content=cohorts_csv(FALL)
    )
    client.force_login(irene)

    assert client.get(reverse("curriculum:setup-import-progress", args=[upload.pk])).status_code == 403


def test_the_progress_is_read_only_and_of_its_own_kind(client, cohort, dana):
    upload = _roster_preview(cohort, dana)
    client.force_login(dana)

    assert client.post(_progress_url(upload)).status_code == 405
    assert client.get(reverse("curriculum:setup-import-progress", args=[upload.pk])).status_code == 404


# --- Queueing and the task -------------------------------------------------------------------------


def test_pressing_import_queues_the_task_after_commit_and_the_task_applies(
    client, cohort, dana, django_capture_on_commit_callbacks
):
    upload = _roster_preview(cohort, dana)
    client.force_login(dana)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(_apply_url(upload), {"invite": "on"})
    upload.refresh_from_db()

    assert response.status_code == 302 and response.url == _detail_url(upload)
    assert upload.state == State.QUEUED and upload.apply_options == {"skip_bad_rows": False, "invite": True}
    assert not Enrollment.objects.exists(), "nothing is written in the request"
    assert "Waiting for the import to start" in client.get(_detail_url(upload)).content.decode()

    callbacks[0]()  # the commit: the task, eager here, runs
    upload.refresh_from_db()
    assert upload.state == State.APPLIED and upload.applied_at is not None and upload.invited
    assert Enrollment.objects.filter(cohort=cohort).count() == 2


def test_the_task_reports_each_batch_written(cohort, dana, monkeypatch):
    upload = _roster_preview(cohort, dana, students=5)
    reports: list[tuple[int, int]] = []
    monkeypatch.setattr(coursework, "WRITE_BATCH", 2)
    monkeypatch.setattr(imports, "report_progress", lambda kind, pk, written, total: reports.append((written, total)))
    _set_state(upload, State.QUEUED)

    tasks.apply_import(upload.kind, upload.pk)

    assert reports == [(0, 5), (2, 5), (4, 5), (5, 5)]
    upload.refresh_from_db()
    assert upload.state == State.APPLIED


def test_a_second_run_of_the_task_does_nothing(cohort, dana):
    upload = _roster_preview(cohort, dana)
    _set_state(upload, State.QUEUED)
    tasks.apply_import(upload.kind, upload.pk)
    upload.refresh_from_db()
    applied_at = upload.applied_at

    tasks.apply_import(upload.kind, upload.pk)

    upload.refresh_from_db()
    assert upload.state == State.APPLIED and upload.applied_at == applied_at and upload.outcome == []
    assert Enrollment.objects.count() == 2


def test_the_task_never_applies_a_preview_nobody_queued(cohort, dana):
    """A late delivery after the preview changed must not apply the new preview unchecked."""
    upload = _roster_preview(cohort, dana)

    tasks.apply_import(upload.kind, upload.pk)

    upload.refresh_from_db()
    assert upload.state == State.PREVIEWED and upload.applied_at is None
    assert not Enrollment.objects.exists()


def test_a_changed_preview_is_previewed_again_with_what_changed(client, cohort, dana):
    upload = _roster_preview(cohort, dana)
    factories.UserFactory(email="student2@school.test")  # added meanwhile
    client.force_login(dana)

    page = post_applying(client, _apply_url(upload), follow=True).content.decode()

    upload.refresh_from_db()
    assert upload.state == State.PREVIEWED and upload.applied_at is None
    assert "the records changed since the preview, and 1 row would now do something else" in page
    assert _apply_url(upload) in page, "the new preview can be imported once checked"


def test_a_refusal_is_failed_with_its_reason_and_can_be_applied_again(client, cohort, dana):
    upload, _plan = services.preview_roster(
        program=cohort.program,
        uploaded_by=dana,
        file_name="roster.csv",
        content=roster_csv([student_row(cohort, 1), student_row(cohort, 2, cohort="NOPE")]),
    )
    client.force_login(dana)

    page = post_applying(client, _apply_url(upload), follow=True).content.decode()
    upload.refresh_from_db()

    assert upload.state == State.FAILED
    assert len(upload.outcome) == 1
    assert upload.outcome[0].startswith("Nothing was imported: ") and "“NOPE”" in upload.outcome[0]
    assert upload.outcome[0] in page and _apply_url(upload) in page

    post_applying(client, _apply_url(upload), {"skip_bad_rows": "on"})
    upload.refresh_from_db()
    assert upload.state == State.APPLIED and upload.outcome == []
    assert Enrollment.objects.count() == 1


def test_the_refusal_is_told_in_the_uploaders_language(cohort, dana):
    dana.preferred_language = "es"
    dana.save(update_fields=["preferred_language"])
    upload = _roster_preview(cohort, dana)
    RosterImport.objects.filter(pk=upload.pk).update(created_at=timezone.now() - timedelta(days=3))
    _set_state(upload, State.QUEUED)

    tasks.apply_import(upload.kind, upload.pk)

    upload.refresh_from_db()
    assert upload.state == State.FAILED
    assert upload.outcome[0].startswith("No se importó nada")


# --- A lost worker, a busy one, and the broker down -------------------------------------------------


def test_an_apply_with_no_news_did_not_finish_and_can_be_applied_again(client, cohort, dana, settings):
    upload = _roster_preview(cohort, dana)
    _set_state(upload, State.APPLYING, seconds_ago=settings.IMPORT_APPLY_STALE_SECONDS + 5)
    client.force_login(dana)

    page = client.get(_detail_url(upload)).content.decode()
    fragment = client.get(_progress_url(upload))

    assert "The import did not finish, and nothing was imported." in page
    assert _apply_url(upload) in page and "hx-trigger" not in page
    assert fragment.headers["HX-Refresh"] == "true", "a page still polling reloads to offer the import again"

    post_applying(client, _apply_url(upload))
    upload.refresh_from_db()
    assert upload.state == State.APPLIED
    assert Enrollment.objects.count() == 2


def test_recent_progress_keeps_a_long_apply_alive(cohort, dana, settings):
    upload = _roster_preview(cohort, dana)
    _set_state(upload, State.APPLYING, seconds_ago=settings.IMPORT_APPLY_STALE_SECONDS + 5)
    imports.report_progress(upload.kind, upload.pk, 1, 2)
    upload.refresh_from_db()

    assert not imports.has_stalled(upload, imports.progress_of(upload))


def test_pressing_import_while_it_runs_queues_nothing(client, cohort, dana, django_capture_on_commit_callbacks):
    upload = _roster_preview(cohort, dana)
    _set_state(upload, State.APPLYING)
    client.force_login(dana)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        page = client.post(_apply_url(upload), follow=True).content.decode()

    assert callbacks == []
    assert "Nothing was imported: This file is being imported right now." in page
    upload.refresh_from_db()
    assert upload.state == State.APPLYING


def test_with_the_broker_down_the_person_is_told_and_the_upload_stays_applicable(client, cohort, dana, monkeypatch):
    upload = _roster_preview(cohort, dana)
    client.force_login(dana)

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    monkeypatch.setattr(tasks.apply_import, "delay", refuse)
    response = post_applying(client, _apply_url(upload), follow=True)
    page = response.content.decode()

    assert response.status_code == 200
    assert "the import could not be started, as the background service is not answering" in page
    assert _apply_url(upload) in page
    upload.refresh_from_db()
    assert upload.state == State.FAILED and upload.applied_at is None
    assert not Enrollment.objects.exists()

    monkeypatch.undo()
    post_applying(client, _apply_url(upload))
    upload.refresh_from_db()
    assert upload.state == State.APPLIED


def test_an_applied_upload_is_not_queued_again(client, cohort, dana):
    upload = _roster_preview(cohort, dana)
    client.force_login(dana)
    post_applying(client, _apply_url(upload))

    page = post_applying(client, _apply_url(upload), follow=True).content.decode()

    assert "This file was imported already." in page
    upload.refresh_from_db()
    assert upload.state == State.APPLIED
