"""The cohorts and courses import pages (curriculum/views/setup_imports.py): upload, preview, apply."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from curriculum import setup_imports
from curriculum.models import Cohort, Course, RosterImport, StaffRole
from tests import factories
from tests.curriculum.test_setup_imports import FALL, MA101, MA102, SPRING, cohorts_csv, courses_csv
from tests.imports import post_applying
from tests.queries import queries_for

UPLOAD_URL = {"cohorts": "curriculum:cohort-import", "courses": "curriculum:course-import"}
EXAMPLE_URL = {"cohorts": "curriculum:cohort-import-example", "courses": "curriculum:course-import-example"}


def upload(client, program, kind: str, content: bytes, file_name: str = "file.csv"):
    return client.post(reverse(UPLOAD_URL[kind], args=[program.code]), {"file": SimpleUploadedFile(file_name, content)})


def page_text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def cohorts_preview(client, program, dana) -> RosterImport:
    client.force_login(dana)
    upload(client, program, "cohorts", cohorts_csv(FALL, SPRING))
    return RosterImport.objects.get(kind="cohorts")


def test_a_director_uploads_previews_and_applies_a_cohorts_file(client, program, dana):
    client.force_login(dana)
    assert client.get(reverse("curriculum:cohort-import", args=[program.code])).status_code == 200

    response = upload(client, program, "cohorts", cohorts_csv(FALL, SPRING))
    preview = client.get(response.url)

    assert response.status_code == 302
    assert preview.status_code == 200
    assert "2026-FALL" in page_text(preview)
    assert "Fall 2026" in page_text(preview)
    assert not Cohort.objects.filter(program=program).exists(), "a preview writes nothing"

    applied = post_applying(
        client, reverse("curriculum:setup-import-apply", args=[RosterImport.objects.get().pk]), follow=True
    )

    assert "Imported: 2 new, 0 changed, 0 unchanged." in page_text(applied)
    assert sorted(Cohort.objects.filter(program=program).values_list("code", flat=True)) == ["2026-FALL", "2027-SPRING"]


def test_a_coordinator_imports_courses_and_the_same_file_again_changes_nothing(client, program, carlos):
    client.force_login(carlos)
    content = courses_csv(MA101, MA102)
    for _time in range(2):
        response = upload(client, program, "courses", content)
        upload_pk = int(response.url.rstrip("/").rsplit("/", 1)[1])
        post_applying(client, reverse("curriculum:setup-import-apply", args=[upload_pk]))

    last = RosterImport.objects.get(pk=upload_pk)
    assert last.summary == {"rows": 2, "new": 0, "updated": 0, "unchanged": 2, "errors": 0}
    assert Course.objects.filter(program=program).count() == 2
    program.refresh_from_db()
    assert program.trigger_course.code == "MA102"


def test_the_program_page_links_to_both_imports(client, program, dana):
    client.force_login(dana)

    text = page_text(client.get(reverse("curriculum:program-detail", args=[program.code])))

    assert reverse("curriculum:cohort-import", args=[program.code]) in text
    assert reverse("curriculum:course-import", args=[program.code]) in text


def test_a_file_with_row_errors_is_previewed_and_never_applied(client, program, dana):
    client.force_login(dana)
    upload(client, program, "courses", courses_csv(MA101, ["MA102", "Clinical", "lots", ""]))
    preview_url = reverse("curriculum:setup-import-detail", args=[RosterImport.objects.get().pk])

    preview = page_text(client.get(preview_url))
    applied = page_text(post_applying(client, preview_url + "apply/", follow=True))

    assert "“lots” is not a whole number of hours from 1 to 10000" in preview
    assert "Nothing was imported: 1 row has errors." in applied
    assert not Course.objects.filter(program=program).exists()


def test_an_unreadable_file_is_refused_on_the_upload_page(client, program, dana):
    client.force_login(dana)

    response = upload(client, program, "cohorts", b"code,name,room\nA,B,C\n")

    assert response.status_code == 200
    assert "Unknown columns: room. The cohorts format has" in page_text(response)
    assert not RosterImport.objects.exists()


def test_a_preview_the_records_outdated_writes_nothing_and_shows_the_new_plan(client, program, cohorts_preview):
    factories.CohortFactory(program=program, code="2026-FALL", name="Made meanwhile")

    applied = post_applying(client, reverse("curriculum:setup-import-apply", args=[cohorts_preview.pk]), follow=True)

    assert "Nothing was imported: the records changed since the preview" in page_text(applied)
    assert Cohort.objects.filter(program=program).count() == 1
    cohorts_preview.refresh_from_db()
    assert cohorts_preview.summary["updated"] == 1


def test_an_expired_preview_is_not_applied(client, program, cohorts_preview, settings):
    RosterImport.objects.filter(pk=cohorts_preview.pk).update(
        created_at=timezone.now() - timedelta(hours=settings.IMPORT_PREVIEW_HOURS + 1)
    )

    applied = post_applying(client, reverse("curriculum:setup-import-apply", args=[cohorts_preview.pk]), follow=True)

    assert "This preview has expired" in page_text(applied)
    assert not Cohort.objects.filter(program=program).exists()


def test_clicking_import_twice_imports_once(client, program, cohorts_preview):
    apply_url = reverse("curriculum:setup-import-apply", args=[cohorts_preview.pk])
    post_applying(client, apply_url)

    again = post_applying(client, apply_url, follow=True)

    assert "This file was imported already." in page_text(again)
    assert Cohort.objects.filter(program=program).count() == 2


@pytest.mark.parametrize("kind", ["cohorts", "courses"])
def test_the_example_file_imports_without_errors(client, program, dana, kind):
    client.force_login(dana)

    response = client.get(reverse(EXAMPLE_URL[kind], args=[program.code]))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{kind}-example.csv"'
    planner = setup_imports.plan_cohorts if kind == "cohorts" else setup_imports.plan_courses
    plan = planner(program=program, content=response.content, file_name="example.csv")
    assert plan.errors == []
    assert plan.summary["new"] == len(plan.rows) > 1


def test_a_roster_preview_page_does_not_show_a_cohorts_upload(client, cohorts_preview):
    response = client.get(reverse("curriculum:roster-import-detail", args=[cohorts_preview.pk]))

    assert response.status_code == 404


# --- Who may ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["cohorts", "courses"])
@pytest.mark.parametrize("url", ["upload", "example"])
def test_an_instructor_may_not_import(client, program, irene, kind, url):
    client.force_login(irene)
    name = UPLOAD_URL[kind] if url == "upload" else EXAMPLE_URL[kind]

    assert client.get(reverse(name, args=[program.code])).status_code == 403
    assert upload(client, program, kind, cohorts_csv(FALL)).status_code == 403
    assert not RosterImport.objects.exists()


@pytest.mark.parametrize("kind", ["cohorts", "courses"])
def test_someone_elses_program_is_not_found(client, program, olga, kind):
    other_director = factories.StaffFactory(role=StaffRole.Role.DIRECTOR).user
    for person in (olga, other_director):
        client.force_login(person)
        assert client.get(reverse(UPLOAD_URL[kind], args=[program.code])).status_code == 404
        assert client.get(reverse(EXAMPLE_URL[kind], args=[program.code])).status_code == 404
        assert upload(client, program, kind, courses_csv(MA101)).status_code == 404


def test_an_upload_is_only_its_uploaders(client, program, cohorts_preview, carlos, irene, olga):
    detail = reverse("curriculum:setup-import-detail", args=[cohorts_preview.pk])
    apply_url = reverse("curriculum:setup-import-apply", args=[cohorts_preview.pk])
    other_director = factories.StaffFactory(role=StaffRole.Role.DIRECTOR).user

    for person, status in ((carlos, 404), (olga, 404), (other_director, 404), (irene, 403)):
        client.force_login(person)
        assert client.get(detail).status_code == status, person
        assert client.post(apply_url).status_code == status, person
    assert not Cohort.objects.filter(program=program, code__in=["2026-FALL", "2027-SPRING"]).exists()


def test_each_page_refuses_the_wrong_method(client, program, cohorts_preview):
    detail = reverse("curriculum:setup-import-detail", args=[cohorts_preview.pk])

    assert client.put(reverse("curriculum:cohort-import", args=[program.code])).status_code == 405
    assert client.post(reverse("curriculum:cohort-import-example", args=[program.code])).status_code == 405
    assert client.post(detail).status_code == 405
    assert client.get(reverse("curriculum:setup-import-apply", args=[cohorts_preview.pk])).status_code == 405


# --- Query budgets ------------------------------------------------------------------------


def test_the_preview_costs_the_same_queries_at_1x_and_5x_the_rows(client, program, dana):
    def preview_queries(rows: int) -> int:
        client.force_login(dana)
        content = cohorts_csv(
            *[[f"C{number}", f"Cohort {number}", "2026-09-01", "2027-06-30", ""] for number in range(rows)]
        )
        response = upload(client, program, "cohorts", content)
        return queries_for(client, dana, response.url)

    assert preview_queries(10) == preview_queries(50)


def test_the_upload_page_costs_the_same_queries_at_1x_and_5x_the_uploads(client, program, dana):
    url = reverse("curriculum:course-import", args=[program.code])
    client.force_login(dana)
    upload(client, program, "courses", courses_csv(MA101))
    once = queries_for(client, dana, url)
    for _time in range(4):
        upload(client, program, "courses", courses_csv(MA101))

    assert queries_for(client, dana, url) == once


def test_the_preview_shows_each_change_beside_the_value_it_replaces(client, program, dana, cohort, irene, ivan):
    course = factories.CourseFactory(program=program, code="MA101", title="Old title", clock_hours=80)
    program.trigger_course = course
    program.save()
    client.force_login(dana)

    upload(client, program, "courses", courses_csv([*MA101[:3], "no"]))
    courses_preview = client.get(
        reverse("curriculum:setup-import-detail", args=[RosterImport.objects.get(kind="courses").pk])
    )
    dates = [cohort.start_on.isoformat(), cohort.expected_graduation_on.isoformat()]
    upload(client, program, "cohorts", cohorts_csv([cohort.code, cohort.name, *dates, ivan.email]))
    cohorts_preview = client.get(
        reverse("curriculum:setup-import-detail", args=[RosterImport.objects.get(kind="cohorts").pk])
    )

    courses_text = courses_preview.content.decode()
    assert "<code>title</code>: <del>Old title</del> → Anatomy and Physiology" in courses_text
    assert "<code>hours</code>: <del>80</del> → 90" in courses_text
    assert "<code>is_trigger_course</code>: <del>yes</del> → no" in courses_text
    assert f"<code>instructors</code>: <del>{irene.email}</del> → {ivan.email}" in cohorts_preview.content.decode()
