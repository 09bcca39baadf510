"""The master competency checklist PDF and `manage.py verify_signatures`."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from accounts.models import AccessLog
from curriculum import pdf, services
from curriculum.models import ChecklistStep, Competency, StaffRole
from tests import factories
from tests.curriculum.test_checkoffs import without_triggers


@pytest.fixture
def framework(program):
    framework = factories.FrameworkFactory(name="MAERB Core Curriculum", version="2022")
    program.framework = framework
    program.save()
    return framework


def add_competency(program, framework, area, code, title, **fields):
    competency = factories.CompetencyFactory(framework=framework, content_area=area, code=code, title=title, **fields)
    for order in (1, 2):
        ChecklistStep.objects.create(program=program, competency=competency, order=order, text=f"Step {order}")
    return competency


@pytest.fixture
def vitals(program, framework):
    area = factories.ContentAreaFactory(framework=framework, code="I", title="Anatomy, Physiology, and Pharmacology")
    return add_competency(program, framework, area, "I.P.1.a", "blood pressure")


@pytest.fixture
def empathy(program, framework):
    area = factories.ContentAreaFactory(framework=framework, code="V", title="Concepts of Effective Communication")
    return add_competency(program, framework, area, "V.A.1", "Demonstrate empathy", domain="A")


def check_off(student, evaluator, competency, *, passed=True, sign=True, days_ago=0):
    """A check-off as an instructor performs it: all steps (or none, failing), then signed."""
    enrollment = student.enrollments.get()
    steps = ChecklistStep.objects.filter(program=enrollment.cohort.program, competency=competency)
    attempt = services.record_attempt(
        enrollment=enrollment,
        competency=competency,
        evaluator=evaluator,
        performed_step_ids=set(steps.values_list("pk", flat=True)) if passed else set(),
        setting="lab",
        performed_at=timezone.now() - timedelta(days=days_ago),
        comment="" if passed else "Practise the cuff placement.",
    )
    if sign:
        services.sign_attempt(attempt=attempt, signer=evaluator)
    return attempt


def pdf_text(content: bytes) -> str:
    """The words of every page, one space apart, so a wrapped cell reads as one phrase."""
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(content)).pages)


def checklist_url(student) -> str:
    return reverse("curriculum:master-checklist-pdf", args=[student.enrollments.get().pk])


class TestChecklistContent:
    def test_the_first_standing_pass_is_the_date_achieved(self, alice, irene, vitals):
        check_off(alice, irene, vitals, passed=False, days_ago=9)
        first = check_off(alice, irene, vitals, days_ago=5)
        check_off(alice, irene, vitals, days_ago=1)
        [section] = pdf.master_checklist(alice.enrollments.get()).sections
        assert section.rows[0].achieved_by == first

    def test_a_revoked_pass_does_not_count_and_a_later_standing_one_does(self, alice, irene, dana, vitals):
        revoked = check_off(alice, irene, vitals, days_ago=5)
        services.revoke_signature(signature=revoked.signature, revoked_by=dana, reason="Wrong student.")
        later = check_off(alice, irene, vitals, days_ago=1)
        [section] = pdf.master_checklist(alice.enrollments.get()).sections
        assert section.rows[0].achieved_by == later

    def test_a_tampered_pass_is_not_printed_as_achieved_and_the_pdf_says_so(self, client, alice, irene, dana, vitals):
        tampered = check_off(alice, irene, vitals)
        with without_triggers() as cursor:
            cursor.execute("UPDATE curriculum_attempt SET comment = 'edited' WHERE id = %s", [tampered.pk])
        checklist = pdf.master_checklist(alice.enrollments.get())
        assert (checklist.achieved, checklist.unverified) == (0, 1)
        client.force_login(dana)
        assert "does not verify and is left out" in pdf_text(client.get(checklist_url(alice)).content)

    def test_a_pass_whose_chain_link_is_gone_is_not_printed(self, alice, irene, vitals, empathy):
        """An earlier signature removed with triggers off: the next one no longer follows from its chain."""
        removed = check_off(alice, irene, vitals, days_ago=3)
        check_off(alice, irene, empathy, days_ago=1)
        with without_triggers() as cursor:
            cursor.execute("DELETE FROM curriculum_signature WHERE attempt_id = %s", [removed.pk])
        checklist = pdf.master_checklist(alice.enrollments.get())
        assert (checklist.achieved, checklist.unverified) == (0, 1)

    def test_drafts_fails_and_revoked_passes_leave_the_row_blank(self, alice, irene, dana, vitals):
        check_off(alice, irene, vitals, sign=False)
        check_off(alice, irene, vitals, passed=False)
        revoked = check_off(alice, irene, vitals)
        services.revoke_signature(signature=revoked.signature, revoked_by=dana, reason="Wrong student.")
        checklist = pdf.master_checklist(alice.enrollments.get())
        assert checklist.sections[0].rows[0].achieved_by is None
        assert (checklist.achieved, checklist.total) == (0, 1)

    def test_only_tracked_psychomotor_and_affective_items_are_listed_by_content_area(
        self, program, framework, vitals, empathy, alice
    ):
        add_competency(program, framework, vitals.content_area, "I.C.1", "Describe the cell", domain="C")
        add_competency(program, framework, vitals.content_area, "I.P.1", "Measure and record", is_tracked=False)
        other_program = factories.ProgramFactory()
        factories.CompetencyFactory(framework=framework, content_area=vitals.content_area, program=other_program)
        sections = pdf.master_checklist(alice.enrollments.get()).sections
        assert [(section.content_area.code, [row.competency.code for row in section.rows]) for section in sections] == [
            ("I", ["I.P.1.a"]),
            ("V", ["V.A.1"]),
        ]

    def test_another_students_passes_do_not_count(self, alice, bob, irene, vitals):
        check_off(bob, irene, vitals)
        assert pdf.master_checklist(alice.enrollments.get()).achieved == 0

    def test_letters_helvetica_cannot_draw_are_folded_and_spanish_is_kept(self):
        assert pdf.printable("Sofía Núñez ¿Qué? Łukasz Nguyễn <b>") == "Sofía Núñez ¿Qué? Lukasz Nguyen &lt;b&gt;"


class TestChecklistPdf:
    def test_the_director_downloads_the_achieved_competency_with_its_signer(
        self, client, alice, irene, dana, vitals, empathy
    ):
        alice.first_name, alice.last_name = "Sofía", "Núñez"
        alice.save()
        irene.first_name, irene.last_name = "Irene", "Ibáñez"
        irene.save()
        enrollment = alice.enrollments.get()
        enrollment.student_number = "S-2041"
        enrollment.save()
        check_off(alice, irene, vitals)
        client.force_login(dana)
        response = client.get(checklist_url(alice))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == 'attachment; filename="master-checklist-nunez-sofia.pdf"'
        assert response.content.startswith(b"%PDF")
        text = pdf_text(response.content)
        assert "Sofía Núñez" in text and "S-2041" in text
        assert "I.P.1.a" in text and "Irene Ibáñez" in text
        assert "V.A.1" in text  # listed, not yet achieved
        assert "1 of 2 competencies" in text
        assert "MAERB Core Curriculum, version 2022" in text
        assert "Revoked signatures are excluded." in text and "Page 1 of 1" in text

    def test_a_staff_download_is_logged_for_the_student(self, client, alice, dana, vitals):
        client.force_login(dana)
        client.get(checklist_url(alice), REMOTE_ADDR="10.0.0.9")
        entry = AccessLog.objects.get()
        assert (entry.actor, entry.student, entry.action, entry.ip_address) == (dana, alice, "download", "10.0.0.9")

    def test_the_student_downloads_their_own_without_a_log_row(self, client, alice, vitals):
        client.force_login(alice)
        response = client.get(checklist_url(alice))
        assert response.status_code == 200 and response.content.startswith(b"%PDF")
        assert not AccessLog.objects.exists()

    def test_the_coordinator_may_download(self, client, alice, carlos, vitals):
        client.force_login(carlos)
        assert client.get(checklist_url(alice)).status_code == 200

    def test_an_instructor_of_the_cohort_is_refused(self, client, alice, irene, vitals):
        client.force_login(irene)
        assert client.get(checklist_url(alice)).status_code == 403
        assert not AccessLog.objects.exists()

    def test_another_programs_director_gets_404(self, client, alice, vitals):
        outsider = factories.StaffFactory(role=StaffRole.Role.DIRECTOR).user
        client.force_login(outsider)
        assert client.get(checklist_url(alice)).status_code == 404

    def test_a_classmate_gets_404(self, client, alice, bob, vitals):
        client.force_login(bob)
        assert client.get(checklist_url(alice)).status_code == 404

    def test_it_rejects_post(self, client, alice, dana, vitals):
        client.force_login(dana)
        assert client.post(checklist_url(alice)).status_code == 405

    def test_it_is_rendered_in_the_requesters_language(self, client, alice, dana, vitals):
        dana.preferred_language = "es"
        dana.save()
        client.force_login(dana)
        text = pdf_text(client.get(checklist_url(alice)).content)
        assert "Número de estudiante" in text

    def test_a_program_without_a_framework_still_gets_its_header(self, client, alice, dana):
        client.force_login(dana)
        text = pdf_text(client.get(checklist_url(alice)).content)
        assert "None chosen yet" in text and "0 of 0 competencies" in text

    def test_a_long_checklist_repeats_its_headings_on_every_page(self, client, program, framework, alice, dana, vitals):
        for number in range(2, 80):
            add_competency(program, framework, vitals.content_area, f"I.P.{number}", f"Skill number {number}")
        client.force_login(dana)
        pages = PdfReader(io.BytesIO(client.get(checklist_url(alice)).content)).pages
        assert len(pages) > 1
        for number, page in enumerate(pages, start=1):
            text = page.extract_text()
            assert "Anatomy, Physiology, and Pharmacology" in text and "Signed by" in text
            assert f"Page {number} of {len(pages)}" in text

    def test_it_costs_the_same_queries_at_1x_and_5x(self, client, program, framework, alice, irene, dana, vitals):
        def grow(times: int) -> None:
            for _ in range(times):
                area = factories.ContentAreaFactory(framework=framework)
                for _ in range(3):
                    competency = add_competency(program, framework, area, f"X.P.{Competency.objects.count()}", "Skill")
                    check_off(alice, irene, competency, passed=False)
                    check_off(alice, irene, competency)

        def queries() -> int:
            with CaptureQueriesContext(connection) as captured:
                assert client.get(checklist_url(alice)).status_code == 200
            return len(captured.captured_queries)

        client.force_login(dana)
        client.get(checklist_url(alice))  # the session's time zone is looked up once
        grow(1)
        once = queries()
        grow(4)
        assert queries() == once


class TestVerifySignatures:
    def run(self, **options) -> tuple[str, CommandError | None]:
        out = io.StringIO()
        try:
            call_command("verify_signatures", stdout=out, **options)
        except CommandError as error:
            return out.getvalue(), error
        return out.getvalue(), None

    def test_all_intact_succeeds(self, alice, bob, irene, vitals, empathy):
        for student in (alice, bob):
            check_off(student, irene, vitals)
            check_off(student, irene, empathy)
        out, error = self.run()
        assert error is None
        assert "4 signatures checked, 0 mismatches" in out

    def test_a_changed_comment_is_reported_and_fails(self, alice, irene, vitals, empathy):
        attempt = check_off(alice, irene, vitals)
        check_off(alice, irene, empathy)
        with without_triggers() as cursor:
            cursor.execute("UPDATE curriculum_attempt SET comment = 'Great job' WHERE id = %s", [attempt.pk])
        out, error = self.run()
        assert error is not None and "2 signatures checked, 1 mismatches" in str(error)
        [line] = out.splitlines()
        assert f"signature {attempt.signature.pk}: attempt {attempt.pk}, student {alice.email}" in line
        assert f"competency I.P.1.a, signed by {irene.email} at {attempt.signature.signed_at.isoformat()}" in line

    def test_a_changed_step_result_is_reported(self, alice, irene, vitals):
        attempt = check_off(alice, irene, vitals)
        with without_triggers() as cursor:
            cursor.execute(
                'UPDATE curriculum_stepresult SET performed = false WHERE attempt_id = %s AND "order" = 1', [attempt.pk]
            )
        out, error = self.run()
        assert error is not None
        assert f"signature {attempt.signature.pk}: attempt {attempt.pk}," in out

    def test_a_moved_signature_is_reported(self, alice, irene, vitals):
        signed = check_off(alice, irene, vitals, days_ago=2)
        draft = check_off(alice, irene, vitals, sign=False)
        with without_triggers() as cursor:
            cursor.execute(
                "UPDATE curriculum_signature SET attempt_id = %s WHERE id = %s", [draft.pk, signed.signature.pk]
            )
        out, error = self.run()
        assert error is not None
        assert f"signature {signed.signature.pk}: attempt {draft.pk}," in out

    def test_a_signature_whose_attempt_is_gone_is_reported(self, alice, irene, vitals):
        attempt = check_off(alice, irene, vitals)
        signature = attempt.signature
        with without_triggers() as cursor:
            cursor.execute("DELETE FROM curriculum_stepresult WHERE attempt_id = %s", [attempt.pk])
            cursor.execute("DELETE FROM curriculum_attempt WHERE id = %s", [attempt.pk])
        out, error = self.run()
        assert error is not None and "1 signatures checked, 1 mismatches" in str(error)
        assert f"signature {signature.pk}: attempt {attempt.pk}" in out and "missing" in out
        with without_triggers() as cursor:  # PostgreSQL checks the deferred foreign keys at the end of the test
            cursor.execute("DELETE FROM curriculum_signature WHERE id = %s", [signature.pk])

    def test_it_reads_in_chunks_with_a_bounded_number_of_queries(self, alice, irene, vitals):
        for days_ago in range(7):
            check_off(alice, irene, vitals, days_ago=days_ago)
        with CaptureQueriesContext(connection) as captured:
            out, error = self.run(chunk_size=3)
        assert error is None and "7 signatures checked" in out
        # Three chunks of at most three queries (ids, signatures with their rows, step results), and the empty read.
        assert len(captured.captured_queries) == 3 * 3 + 1
