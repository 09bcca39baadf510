"""The exam results and graduate outcomes import pages: upload → preview (a dry run) → apply."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from certifications import imports
from certifications.models import CertificationTrack, Credential, ExamAttempt, JobPlacement, ResultImport
from curriculum.models import StaffRole
from tests import factories
from tests.certifications.test_imports import (
    EXAM_COLUMNS,
    OUTCOME_COLUMNS,
    days_ago,
    exam_row,
    outcome_row,
    to_csv,
    written_state,
)
from tests.imports import post_applying
from tests.queries import queries_for

EXAM = ResultImport.Kind.EXAM_RESULTS
OUTCOMES = ResultImport.Kind.GRADUATE_OUTCOMES
UPLOAD_URLS: dict[str, str] = {EXAM: "certifications:exam-import", OUTCOMES: "certifications:outcomes-import"}
EXAMPLE_URLS: dict[str, str] = {
    EXAM: "certifications:exam-import-example",
    OUTCOMES: "certifications:outcomes-import-example",
}


def _upload(client, program, content: bytes, kind: str = EXAM, file_name: str = "results.csv"):
    return client.post(
        reverse(UPLOAD_URLS[kind], args=[program.code]),
        {"file": SimpleUploadedFile(file_name, content, content_type="text/csv")},
    )


def _stored(program: Any, content: bytes, uploaded_by: Any, kind: str = EXAM) -> ResultImport:
    upload, _plan = imports.preview_result_import(
        program=program, kind=kind, uploaded_by=uploaded_by, file_name="results.csv", content=content
    )
    return upload


@pytest.fixture
def graduate(cohort):
    return factories.EnrollmentFactory(
        cohort=cohort, student__first_name="Gina", graduated_on=cohort.start_on + timedelta(days=30)
    )


# --- The upload pages ---------------------------------------------------------------------


@pytest.mark.parametrize("person", ["dana", "carlos"])
@pytest.mark.parametrize("kind", [EXAM, OUTCOMES])
def test_directors_and_coordinators_see_the_upload_page_with_the_format(client, program, person, kind, request):
    client.force_login(request.getfixturevalue(person))

    response = client.get(reverse(UPLOAD_URLS[kind], args=[program.code]))

    assert response.status_code == 200
    page = response.content.decode()
    for column in imports.FORMATS[kind].columns:
        assert f"<code>{column}</code>" in page
    assert reverse(EXAMPLE_URLS[kind], args=[program.code]) in page


def test_the_exam_upload_page_lists_the_programs_credential_codes(client, program, dana):
    client.force_login(dana)

    page = client.get(reverse("certifications:exam-import", args=[program.code])).content.decode()

    assert "CMA, RMA, CCMA, CMAA, NCMA" in page


@pytest.mark.parametrize("kind", [EXAM, OUTCOMES])
def test_the_example_file_is_in_the_format(client, program, dana, kind):
    client.force_login(dana)

    response = client.get(reverse(EXAMPLE_URLS[kind], args=[program.code]))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    content = response.content
    assert content.decode().splitlines()[0] == ",".join(imports.FORMATS[kind].columns)
    result = imports.plan_import(kind=kind, program=program, content=content, file_name="example.csv")
    assert {error.column for error in result.errors} == {"email"}, "only its made-up students are unknown"


def test_an_upload_is_kept_and_previewed_without_writing(client, program, alice, dana):
    client.force_login(dana)

    response = _upload(client, program, to_csv([exam_row(alice, days_ago(program, 3))], EXAM_COLUMNS))

    upload = ResultImport.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("certifications:result-import-detail", args=[upload.pk])
    assert (upload.kind, upload.file_name, upload.uploaded_by, upload.summary["new"]) == (EXAM, "results.csv", dana, 1)
    assert not ExamAttempt.objects.exists()


@pytest.mark.parametrize(
    ("content", "file_name", "message"),
    [
        (b"email,credential,taken_on,result,grade\n", "results.csv", "Unknown columns: grade"),
        (b"email,credential\n", "results.csv", "Missing required columns: taken_on, result"),
        (b"email,credential,taken_on,result\n", "results.txt", "The file must be a .csv or .xlsx file."),
        (b"not a workbook", "results.xlsx", "not a readable .xlsx workbook"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_on_the_upload_page(client, program, dana, content, file_name, message):
    client.force_login(dana)

    response = _upload(client, program, content, file_name=file_name)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ResultImport.objects.exists()


def test_a_file_over_the_size_limit_is_refused(client, program, dana, settings):
    settings.ROSTER_UPLOAD_MAX_BYTES = 1024 * 1024
    client.force_login(dana)

    response = _upload(client, program, b"email,credential,taken_on,result\n" + b"x" * (1024 * 1024))

    assert "The file is larger than 1 MB." in response.content.decode()
    assert not ResultImport.objects.exists()


# --- Preview and apply --------------------------------------------------------------------


def test_the_preview_lists_every_row_and_every_error_by_row_and_column(client, program, alice, bob, dana):
    content = to_csv(
        [
            exam_row(alice, days_ago(program, 3), score="212"),
            exam_row(bob, days_ago(program, 3), credential="CPT"),
            exam_row(bob, days_ago(program, 4), result="maybe"),
        ],
        EXAM_COLUMNS,
    )
    upload = _stored(program, content, dana)
    client.force_login(dana)

    response = client.get(reverse("certifications:result-import-detail", args=[upload.pk]))

    assert response.status_code == 200
    assert response.context["summary"] == {"rows": 3, "new": 1, "changed": 0, "unchanged": 0, "errors": 2}
    page = response.content.decode()
    assert "Row 3, <code>credential</code>: “CPT” is not a credential of this program" in page
    assert "Row 4, <code>result</code>: “maybe” is not one of: pass, fail" in page
    assert alice.email in page
    assert reverse("certifications:result-import-apply", args=[upload.pk]) not in page, "no Import button"


def test_a_file_with_errors_is_not_applied(client, program, alice, bob, dana):
    content = to_csv(
        [exam_row(alice, days_ago(program, 3)), exam_row(bob, days_ago(program, 3), result="?")], EXAM_COLUMNS
    )
    upload = _stored(program, content, dana)
    client.force_login(dana)

    response = post_applying(client, reverse("certifications:result-import-apply", args=[upload.pk]), follow=True)

    page = response.content.decode()
    assert "Nothing was imported: 1 row has errors." in page
    assert "Row 3, result: “?” is not one of: pass, fail" in page
    upload.refresh_from_db()
    assert upload.applied_at is None
    assert written_state() == {"attempts": [], "credentials": [], "placements": []}


@pytest.mark.parametrize("person", ["dana", "carlos"])
def test_applying_writes_the_results_and_a_second_click_does_nothing(client, program, alice, bob, person, request):
    admin = request.getfixturevalue(person)
    content = to_csv(
        [exam_row(alice, days_ago(program, 3)), exam_row(bob, days_ago(program, 3), result="fail")], EXAM_COLUMNS
    )
    client.force_login(admin)
    _upload(client, program, content)
    upload = ResultImport.objects.get()
    apply_url = reverse("certifications:result-import-apply", args=[upload.pk])
    assert apply_url in client.get(reverse("certifications:result-import-detail", args=[upload.pk])).content.decode()

    applied = post_applying(client, apply_url)

    assert applied.status_code == 302
    assert applied.url == reverse("certifications:result-import-detail", args=[upload.pk])
    upload.refresh_from_db()
    assert upload.applied_at is not None
    assert upload.summary == {"rows": 2, "new": 2, "changed": 0, "unchanged": 0, "errors": 0}
    assert ExamAttempt.objects.filter(source=ExamAttempt.Source.IMPORT, recorded_by=admin).count() == 2
    assert Credential.objects.get().enrollment.student == alice
    assert "Imported: 2 new, 0 changed, 0 unchanged." in client.get(applied.url).content.decode()

    first = written_state()
    second = post_applying(client, apply_url, follow=True)
    assert "This file was imported already." in second.content.decode()
    assert written_state() == first


def test_graduate_outcomes_are_uploaded_previewed_and_applied(client, program, graduate, dana):
    client.force_login(dana)
    content = to_csv([outcome_row(graduate.student, status="related_field", employer="Lakeside")], OUTCOME_COLUMNS)

    response = _upload(client, program, content, kind=OUTCOMES)
    preview = client.get(response.url)
    post_applying(client, reverse("certifications:result-import-apply", args=[ResultImport.objects.get().pk]))

    assert "Employed in a related field" in preview.content.decode()
    placement = JobPlacement.objects.get()
    assert (placement.enrollment, placement.status, placement.employer) == (graduate, "related_field", "Lakeside")


def test_a_second_upload_of_the_same_file_previews_every_row_unchanged(client, program, alice, dana):
    content = to_csv([exam_row(alice, days_ago(program, 3))], EXAM_COLUMNS)
    client.force_login(dana)
    _upload(client, program, content)
    post_applying(client, reverse("certifications:result-import-apply", args=[ResultImport.objects.get().pk]))

    again = client.get(_upload(client, program, content).url)

    assert again.context["summary"] == {"rows": 1, "new": 0, "changed": 0, "unchanged": 1, "errors": 0}


def _preview_with(program: Any, count: int, dana: Any) -> str:
    cohort = factories.CohortFactory(program=program)
    rows = []
    for number in range(count):
        enrollment = factories.EnrollmentFactory(cohort=cohort)
        if number % 2:
            ExamAttempt.objects.create(
                enrollment=enrollment,
                track=enrollment.cohort.program.certification_tracks.get(code="CMA"),
                taken_on=days_ago(program, 3),
                result="fail",
            )
        rows.append(exam_row(enrollment.student, days_ago(program, 3)))
    rows.append(exam_row(enrollment.student, days_ago(program, 3), credential="CPT"))
    upload = _stored(program, to_csv(rows, EXAM_COLUMNS), dana)
    return reverse("certifications:result-import-detail", args=[upload.pk])


def test_the_preview_costs_the_same_queries_at_one_and_five_times_the_rows(client, program, dana):
    small = queries_for(client, dana, _preview_with(program, 4, dana))
    large = queries_for(client, dana, _preview_with(program, 20, dana))

    assert small == large


# --- Who may ------------------------------------------------------------------------------


def _every_url(program: Any, upload: ResultImport) -> list[tuple[str, str]]:
    return [
        ("get", reverse("certifications:exam-import", args=[program.code])),
        ("get", reverse("certifications:outcomes-import", args=[program.code])),
        ("get", reverse("certifications:exam-import-example", args=[program.code])),
        ("get", reverse("certifications:outcomes-import-example", args=[program.code])),
        ("get", reverse("certifications:result-import-detail", args=[upload.pk])),
        ("post", reverse("certifications:result-import-apply", args=[upload.pk])),
        ("get", reverse("certifications:result-import-progress", args=[upload.pk])),
    ]


def test_an_instructor_is_refused_every_import_page(client, program, alice, dana, irene):
    upload = _stored(program, to_csv([exam_row(alice, days_ago(program, 3))], EXAM_COLUMNS), dana)
    client.force_login(irene)

    for method, url in _every_url(program, upload):
        assert getattr(client, method)(url).status_code == 403, url
    assert _upload(client, program, to_csv([exam_row(alice, days_ago(program, 3))], EXAM_COLUMNS)).status_code == 403
    upload.refresh_from_db()
    assert upload.applied_at is None
    assert ResultImport.objects.count() == 1
    assert not ExamAttempt.objects.exists()


@pytest.mark.parametrize("person", ["olga", "alice", "diego"])
def test_anyone_outside_the_programs_staff_finds_nothing(client, program, alice, dana, person, request):
    """An outsider, a student of the program, and the director of another program."""
    upload = _stored(program, to_csv([exam_row(alice, days_ago(program, 3))], EXAM_COLUMNS), dana)
    if person == "diego":
        user = factories.StaffFactory(role=StaffRole.Role.DIRECTOR, first_name="Diego").user
    else:
        user = request.getfixturevalue(person)
    client.force_login(user)

    for method, url in _every_url(program, upload):
        assert getattr(client, method)(url).status_code == 404, url
    upload.refresh_from_db()
    assert upload.applied_at is None
    assert not ExamAttempt.objects.exists()


def test_each_page_refuses_the_wrong_method(client, program, alice, dana):
    upload = _stored(program, to_csv([exam_row(alice, days_ago(program, 3))], EXAM_COLUMNS), dana)
    client.force_login(dana)

    assert client.get(reverse("certifications:result-import-apply", args=[upload.pk])).status_code == 405
    assert client.post(reverse("certifications:result-import-detail", args=[upload.pk])).status_code == 405
    assert client.post(reverse("certifications:exam-import-example", args=[program.code])).status_code == 405
    assert client.delete(reverse("certifications:exam-import", args=[program.code])).status_code == 405
    assert client.put(reverse("certifications:outcomes-import", args=[program.code])).status_code == 405
    upload.refresh_from_db()
    assert upload.applied_at is None


# --- The stored preview -------------------------------------------------------------------


def test_the_preview_shows_a_past_retake_inside_the_wait_as_a_warning_and_offers_the_import(
    client, program, alice, dana
):
    cma = CertificationTrack.objects.get(program=program, code="CMA")
    # Open all through the program, so that the retake wait is the only rule Alice's sittings break.
    cma.retake_wait_days, cma.max_attempts, cma.completion_window_days = 30, None, 3650
    cma.save()
    failed_on = days_ago(program, 50)
    content = to_csv([exam_row(alice, failed_on, result="fail"), exam_row(alice, days_ago(program, 40))], EXAM_COLUMNS)
    client.force_login(dana)

    upload = ResultImport.objects.get(pk=_stored(program, content, dana).pk)
    response = client.get(reverse("certifications:result-import-detail", args=[upload.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert response.context["warned_rows"] == 1
    assert 'id="import-warnings"' in page
    assert f"may be retaken from {(failed_on + timedelta(days=30)).isoformat()}" in page
    assert reverse("certifications:result-import-apply", args=[upload.pk]) in page
    assert not ExamAttempt.objects.exists()


def test_the_preview_shows_the_plan_stored_at_upload_without_reading_the_file_again(client, program, alice, dana):
    upload = _stored(program, to_csv([exam_row(alice, days_ago(program, 3))], EXAM_COLUMNS), dana)
    ResultImport.objects.filter(pk=upload.pk).update(content=b"no longer a file")
    client.force_login(dana)

    response = client.get(reverse("certifications:result-import-detail", args=[upload.pk]))

    assert response.context["summary"] == {"rows": 1, "new": 1, "changed": 0, "unchanged": 0, "errors": 0}
    assert alice.sortable_name in response.content.decode()


def test_applying_after_the_records_changed_writes_nothing_and_shows_the_new_preview(client, program, alice, dana):
    taken_on = days_ago(program, 3)
    upload = _stored(program, to_csv([exam_row(alice, taken_on, result="pass")], EXAM_COLUMNS), dana)
    enrollment = alice.enrollments.get()
    ExamAttempt.objects.create(
        enrollment=enrollment, track=program.certification_tracks.get(code="CMA"), taken_on=taken_on, result="fail"
    )  # typed on a page meanwhile
    client.force_login(dana)
    apply_url = reverse("certifications:result-import-apply", args=[upload.pk])

    refused = post_applying(client, apply_url, follow=True)

    assert "the records changed since the preview, and 1 row would now do something else" in (refused.content.decode())
    assert refused.context["summary"]["changed"] == 1
    assert list(ExamAttempt.objects.values_list("result", flat=True)) == ["fail"]
    assert not Credential.objects.exists()

    post_applying(client, apply_url)

    assert list(ExamAttempt.objects.values_list("result", flat=True)) == ["pass"]
    upload.refresh_from_db()
    assert upload.applied_at is not None
    assert (upload.rows, upload.plan) == (None, None)


def test_an_expired_preview_is_not_applied(client, program, alice, dana, settings):
    upload = _stored(program, to_csv([exam_row(alice, days_ago(program, 3))], EXAM_COLUMNS), dana)
    ResultImport.objects.filter(pk=upload.pk).update(
        created_at=timezone.now() - timedelta(hours=settings.IMPORT_PREVIEW_HOURS, minutes=1)
    )
    client.force_login(dana)

    preview = client.get(reverse("certifications:result-import-detail", args=[upload.pk])).content.decode()
    refused = post_applying(client, reverse("certifications:result-import-apply", args=[upload.pk]), follow=True)

    assert "This preview has expired" in preview
    assert "Nothing was imported: This preview has expired" in refused.content.decode()
    assert not ExamAttempt.objects.exists()


def test_the_coordinator_does_not_find_the_directors_preview(client, program, alice, dana, carlos):
    upload = _stored(program, to_csv([exam_row(alice, days_ago(program, 3))], EXAM_COLUMNS), dana)
    client.force_login(carlos)

    assert client.get(reverse("certifications:result-import-detail", args=[upload.pk])).status_code == 404
    assert client.post(reverse("certifications:result-import-apply", args=[upload.pk])).status_code == 404
    page = client.get(reverse("certifications:exam-import", args=[program.code])).content.decode()
    assert upload.file_name in page
    assert reverse("certifications:result-import-detail", args=[upload.pk]) not in page
    assert not ExamAttempt.objects.exists()


def test_the_preview_lists_at_most_a_hundred_errors_above_the_rows(client, program, dana):
    rows = [
        exam_row(factories.UserFactory.build(email=f"nobody{n}@school.test"), days_ago(program, 3)) for n in range(120)
    ]
    upload = _stored(program, to_csv(rows, EXAM_COLUMNS), dana)
    client.force_login(dana)

    page = client.get(reverse("certifications:result-import-detail", args=[upload.pk])).content.decode()

    assert page.count("no student with this email") == 100 + 50, "a hundred above, a page of fifty rows below"
    assert "and 20 more errors, in the rows below" in page
