"""The compliance vault: uploads judged by their content, reviews, documents served only to the student
and their program's directors and coordinators, and every page's access rules and query budget."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccessLog
from curriculum.models import StaffRole
from externships import readiness
from externships.models import ComplianceRecord, ComplianceRequirement
from externships.services import compliance as services
from tests import factories
from tests.externship_factories import (
    JPEG_BYTES,
    PDF_BYTES,
    PNG_BYTES,
    ComplianceRecordFactory,
    RequirementFactory,
    SiteFactory,
)
from tests.queries import queries_for

TEXT_BYTES = b"Just some words, not a document at all.\n"


@pytest.fixture
def bls(program):
    return RequirementFactory(program=program, name="BLS/CPR", category="certification", validity_months=24)


@pytest.fixture
def mmr(program):
    """A requirement that never expires once met."""
    return ComplianceRequirement.objects.get(program=program, name__startswith="MMR")


@pytest.fixture
def elena(db):
    """A coordinator of another program."""
    return factories.StaffFactory(role=StaffRole.Role.COORDINATOR, first_name="Elena").user


def document(name: str = "bls-card.pdf", content: bytes = PDF_BYTES, content_type: str = "application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def upload(student, requirement, file=None, *, completed_on=None, expires_on=None) -> ComplianceRecord:
    return services.upload_record(
        student=student,
        requirement=requirement,
        file=file or document(),
        completed_on=completed_on or date.today() - timedelta(days=10),
        expires_on=expires_on,
    )


def stored_files(student) -> list[str]:
    try:
        return storages["private"].listdir(f"compliance/{student.pk}")[1]
    except FileNotFoundError:
        return []


def refusal(call) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as refused:
        call()
    return refused.value.message_dict


def get(client, user, url, **extra):
    client.force_login(user)
    return client.get(url, **extra)


def post(client, user, url, data=None, **extra):
    client.force_login(user)
    return client.post(url, data or {}, **extra)


# --- Uploads --------------------------------------------------------------------------------


class TestUpload:
    def test_a_pdf_waits_for_review_under_a_random_name_with_its_own_name_kept(self, alice, bls):
        record = upload(alice, bls, document("My BLS card.pdf"))
        assert record.state == ComplianceRecord.State.PENDING
        assert (record.document_name, record.document_type, record.document_size) == (
            "My BLS card.pdf",
            "application/pdf",
            len(PDF_BYTES),
        )
        assert record.document.name.startswith(f"compliance/{alice.pk}/")
        assert "BLS" not in record.document.name
        with record.document.open("rb") as stored:
            assert stored.read() == PDF_BYTES

    def test_a_pdf_name_with_png_content_is_kept_as_a_png(self, alice, bls):
        record = upload(alice, bls, document("card.pdf", PNG_BYTES, "application/pdf"))
        assert record.document_type == "image/png"
        assert record.document.name.endswith(".png")
        assert record.document_name == "card.pdf"

    def test_a_jpeg_photo_from_a_phone_is_accepted(self, alice, bls):
        assert upload(alice, bls, document("IMG_0042.jpg", JPEG_BYTES, "image/jpeg")).document_type == "image/jpeg"

    @pytest.mark.parametrize(
        ("name", "content", "declared"),
        [
            ("card.pdf", TEXT_BYTES, "application/pdf"),
            ("photo.png", b"<html><script>alert(1)</script></html>", "image/png"),
            ("card.jpg", b"GIF89a" + b"\x00" * 20, "image/jpeg"),
        ],
    )
    def test_other_content_is_refused_whatever_its_name_and_nothing_is_written(
        self, alice, bls, name, content, declared
    ):
        problems = refusal(lambda: upload(alice, bls, document(name, content, declared)))
        assert list(problems) == ["document"]
        assert "PDF" in problems["document"][0]
        assert not ComplianceRecord.objects.exists()
        assert stored_files(alice) == []

    def test_a_file_over_the_limit_is_refused_with_the_limit_in_mb(self, settings, alice, bls):
        settings.COMPLIANCE_UPLOAD_MAX_BYTES = 1024 * 1024
        too_big = PDF_BYTES + b"\x00" * (1024 * 1024)
        problems = refusal(lambda: upload(alice, bls, document(content=too_big)))
        assert problems == {"document": ["The file is 1.1 MB; the limit is 1 MB."]}
        assert not ComplianceRecord.objects.exists()
        assert stored_files(alice) == []

    def test_a_file_at_the_limit_is_accepted(self, settings, alice, bls):
        settings.COMPLIANCE_UPLOAD_MAX_BYTES = len(PDF_BYTES)
        assert upload(alice, bls).document_size == len(PDF_BYTES)

    def test_an_empty_file_is_refused(self, alice, bls):
        assert refusal(lambda: upload(alice, bls, document(content=b""))) == {"document": ["The file is empty."]}

    def test_the_date_completed_cannot_be_in_the_future(self, alice, bls):
        problems = refusal(lambda: upload(alice, bls, completed_on=date.today() + timedelta(days=2)))
        assert list(problems) == ["completed_on"]
        assert not ComplianceRecord.objects.exists()

    def test_the_expiry_cannot_come_before_the_date_completed(self, alice, bls):
        completed = date.today() - timedelta(days=10)
        problems = refusal(lambda: upload(alice, bls, completed_on=completed, expires_on=completed - timedelta(days=1)))
        assert problems == {"expires_on": ["The expiry date cannot be before the date completed."]}

    def test_every_problem_is_named_at_once(self, alice, bls):
        problems = refusal(
            lambda: upload(alice, bls, document(content=TEXT_BYTES), completed_on=date.today() + timedelta(days=1))
        )
        assert set(problems) == {"document", "completed_on"}

    def test_without_an_expiry_it_is_worked_out_from_the_validity(self, alice, bls):
        completed = date.today() - timedelta(days=10)
        record = upload(alice, bls, completed_on=completed)
        assert record.expires_on == services.add_months(completed, 24)

    def test_a_given_expiry_is_kept(self, alice, bls):
        expires = date.today() + timedelta(days=100)
        assert upload(alice, bls, expires_on=expires).expires_on == expires

    def test_a_requirement_that_never_expires_gets_no_expiry(self, alice, mmr):
        assert upload(alice, mmr, completed_on=date(2010, 5, 1)).expires_on is None

    def test_a_document_that_has_run_out_already_is_refused(self, alice, bls):
        # The program's today, not the machine's: in the hours after midnight UTC they differ.
        today = bls.program.today()
        old = today - timedelta(days=800)
        assert list(refusal(lambda: upload(alice, bls, completed_on=old))) == ["completed_on"]
        expired = today - timedelta(days=1)
        assert list(refusal(lambda: upload(alice, bls, completed_on=old, expires_on=expired))) == ["expires_on"]

    def test_months_are_added_to_the_end_of_a_shorter_month(self):
        assert services.add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
        assert services.add_months(date(2023, 11, 30), 3) == date(2024, 2, 29)
        assert services.add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
        assert services.add_months(date(2024, 12, 15), 24) == date(2026, 12, 15)

    def test_only_a_current_student_of_the_program_uploads(self, alice, olga, bls):
        assert list(refusal(lambda: upload(olga, bls))) == ["requirement"]
        other_program = RequirementFactory()
        assert list(refusal(lambda: upload(alice, other_program))) == ["requirement"]
        enrollment = alice.enrollments.get()
        enrollment.withdrawn_on = date.today()
        enrollment.save()
        assert list(refusal(lambda: upload(alice, bls))) == ["requirement"]
        assert stored_files(alice) == stored_files(olga) == []


# --- Review ---------------------------------------------------------------------------------


@pytest.fixture
def pending(alice, bls):
    return upload(alice, bls)


class TestReview:
    def test_an_approved_document_counts_until_it_expires(self, alice, carlos, bls, pending):
        through = pending.expires_on
        [before] = readiness.compliance_statuses(alice.pk, [bls], through)
        record = services.approve_record(record=pending, by=carlos)
        assert (record.state, record.reviewed_by, record.rejection_reason) == ("approved", carlos, "")
        assert record.reviewed_at is not None
        [after] = readiness.compliance_statuses(alice.pk, [bls], through)
        [too_late] = readiness.compliance_statuses(alice.pk, [bls], through + timedelta(days=1))
        assert (before.met, after.met, too_late.met) == (False, True, False)

    def test_a_rejection_keeps_its_reason_for_the_student(self, alice, dana, bls, pending):
        record = services.reject_record(record=pending, by=dana, reason="  The card is not signed.  ")
        assert (record.state, record.reviewed_by, record.rejection_reason) == (
            "rejected",
            dana,
            "The card is not signed.",
        )
        [status] = readiness.compliance_statuses(alice.pk, [bls], date.today())
        assert "The card is not signed." in status.problem

    def test_a_rejection_needs_a_reason(self, carlos, pending):
        assert refusal(lambda: services.reject_record(record=pending, by=carlos, reason="   ")) == {
            "reason": ["Say why the document is rejected, so the student knows what to fix."]
        }
        pending.refresh_from_db()
        assert pending.state == ComplianceRecord.State.PENDING

    def test_only_a_pending_document_is_reviewed(self, carlos, dana, pending):
        services.approve_record(record=pending, by=carlos)
        with pytest.raises(ValidationError, match="reviewed already"):
            services.approve_record(record=pending, by=dana)
        with pytest.raises(ValidationError, match="reviewed already"):
            services.reject_record(record=pending, by=dana, reason="Too late")
        pending.refresh_from_db()
        assert (pending.state, pending.reviewed_by) == ("approved", carlos)

    def test_nobody_reviews_their_own_document(self, alice, pending):
        with pytest.raises(ValidationError, match="own document"):
            services.approve_record(record=pending, by=alice)
        with pytest.raises(ValidationError, match="own document"):
            services.reject_record(record=pending, by=alice, reason="Mine")
        pending.refresh_from_db()
        assert pending.state == ComplianceRecord.State.PENDING

    def test_staff_opening_a_document_is_logged_for_the_student_and_the_student_is_not(self, alice, carlos, pending):
        services.record_document_view(viewer=alice, record=pending)
        services.record_document_view(viewer=carlos, record=pending)
        [entry] = AccessLog.objects.filter(student=alice)
        assert (entry.actor, entry.action) == (carlos, AccessLog.Action.DOCUMENT)
        assert "BLS/CPR" in entry.target


# --- The document -------------------------------------------------------------------------


def document_url(record) -> str:
    return reverse("externships:compliance-document", args=[record.pk])


class TestDocument:
    @pytest.mark.parametrize("who", ["alice", "carlos", "dana"])
    def test_it_is_served_to_the_student_and_the_programs_admins(self, client, request, who, bls):
        user = request.getfixturevalue(who)
        alice = request.getfixturevalue("alice")
        record = upload(alice, bls, document("Carte BLS été.png", PNG_BYTES, "application/pdf"))
        response = get(client, user, document_url(record))
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PNG_BYTES
        assert response["Content-Type"] == "image/png"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Security-Policy"] == "sandbox"
        assert response["Cache-Control"] == "private, no-store"
        assert response["Content-Disposition"].startswith("inline; filename")
        assert "Carte%20BLS%20%C3%A9t%C3%A9.png" in response["Content-Disposition"]
        logged = AccessLog.objects.filter(student=alice, action=AccessLog.Action.DOCUMENT)
        assert [entry.actor for entry in logged] == ([] if who == "alice" else [user])

    @pytest.mark.parametrize("who", ["bob", "paula", "irene", "elena", "olga"])
    def test_everyone_else_is_told_it_does_not_exist(self, client, request, who, alice, placement, pending):
        user = request.getfixturevalue(who)
        assert get(client, user, document_url(pending)).status_code == 404
        assert not AccessLog.objects.filter(student=alice).exists()

    def test_it_answers_only_get(self, client, alice, pending):
        assert post(client, alice, document_url(pending)).status_code == 405

    def test_a_lost_file_is_not_found(self, client, carlos, pending):
        pending.document.delete(save=False)
        assert get(client, carlos, document_url(pending)).status_code == 404


# --- The student's page ---------------------------------------------------------------------


def my_page() -> str:
    return reverse("externships:my-compliance")


@pytest.fixture
def small_program(program):
    """The reference requirements replaced by a handful, to read the page with."""
    ComplianceRequirement.objects.filter(program=program).delete()
    return program


class TestMyCompliance:
    def test_each_requirement_says_where_it_stands(self, client, small_program, alice, carlos, placement):
        program, site = small_program, placement.site
        make = RequirementFactory
        met = make(program=program, name="Hepatitis B series", validity_months=None)
        waiting = make(program=program, name="Tuberculosis screening")
        rejected = make(program=program, name="Background check")
        expiring = make(program=program, name="Influenza vaccine")
        make(program=program, name="Drug screen")
        site_extra = make(program=program, site=site, name="Lakeside badge form")
        make(program=program, site=SiteFactory(program=program), name="Another clinic's form")
        ComplianceRecordFactory(student=alice, requirement=met, expires_on=None)
        ComplianceRecordFactory(student=alice, requirement=waiting, state="pending")
        ComplianceRecordFactory(
            student=alice, requirement=rejected, state="rejected", rejection_reason="The photo is blurry."
        )
        ComplianceRecordFactory(student=alice, requirement=expiring, expires_on=placement.end_on - timedelta(days=5))
        response = get(client, alice, my_page())
        assert response.status_code == 200
        rows = {row.requirement.name: row for row in response.context["compliance"].rows}
        assert {name: row.state for name, row in rows.items()} == {
            "Hepatitis B series": "met",
            "Tuberculosis screening": "pending",
            "Background check": "rejected",
            "Influenza vaccine": "expiring",
            "Drug screen": "missing",
            "Lakeside badge form": "missing",
        }
        page = response.content.decode()
        assert "Approved; it does not expire." in page
        assert "The photo is blurry." in page
        assert "Influenza vaccine expires on" in page
        assert "Drug screen: no document uploaded." in page
        assert "Another clinic" not in page
        assert f"?requirement={site_extra.pk}#upload" in page
        assert 'accept="application/pdf,image/png,image/jpeg"' in page
        assert 'enctype="multipart/form-data"' in page

    def test_a_met_requirement_says_until_when(self, client, alice, bls):
        ComplianceRecordFactory(student=alice, requirement=bls, expires_on=date(2099, 3, 4))
        assert "Approved, valid until Mar 4, 2099." in get(client, alice, my_page()).content.decode()

    def test_the_student_uploads_a_document(self, client, alice, bls):
        response = post(
            client,
            alice,
            my_page(),
            {"requirement": bls.pk, "document": document(), "completed_on": date.today() - timedelta(days=3)},
        )
        assert response.status_code == 302
        record = ComplianceRecord.objects.get(student=alice)
        assert (record.requirement, record.state) == (bls, ComplianceRecord.State.PENDING)

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            ({"document": document("card.pdf", TEXT_BYTES)}, "document"),
            ({"document": document(content=b"")}, "document"),
            ({"completed_on": ""}, "completed_on"),
            ({"completed_on": (date.today() + timedelta(days=3)).isoformat()}, "completed_on"),
            ({"expires_on": "2001-01-01"}, "expires_on"),
            ({"requirement": ""}, "requirement"),
        ],
    )
    def test_bad_input_is_named_on_its_field_and_nothing_is_kept(self, client, alice, bls, data, field):
        sent = {"requirement": bls.pk, "document": document(), "completed_on": bls.program.today().isoformat(), **data}
        response = post(client, alice, my_page(), sent)
        assert response.status_code == 200
        assert list(response.context["form"].errors) == [field]
        assert not ComplianceRecord.objects.exists()
        assert stored_files(alice) == []

    def test_an_oversized_file_is_refused_with_the_limit(self, client, settings, alice, bls):
        settings.COMPLIANCE_UPLOAD_MAX_BYTES = 2 * 1024 * 1024
        big = document(content=PDF_BYTES + b"\x00" * (3 * 1024 * 1024))
        response = post(
            client, alice, my_page(), {"requirement": bls.pk, "document": big, "completed_on": bls.program.today()}
        )
        assert "the limit is 2 MB" in response.context["form"].errors["document"][0]
        assert not ComplianceRecord.objects.exists()

    def test_a_requirement_of_another_program_cannot_be_chosen(self, client, alice):
        elsewhere = RequirementFactory()
        sent = {"requirement": elsewhere.pk, "document": document(), "completed_on": date.today()}
        response = post(client, alice, my_page(), sent)
        assert list(response.context["form"].errors) == ["requirement"]
        assert not ComplianceRecord.objects.exists()

    def test_a_requirement_of_a_site_the_student_is_not_placed_at_cannot_be_chosen(self, client, program, alice):
        other_site = RequirementFactory(program=program, site=SiteFactory(program=program))
        sent = {"requirement": other_site.pk, "document": document(), "completed_on": date.today()}
        assert list(post(client, alice, my_page(), sent).context["form"].errors) == ["requirement"]

    def test_a_withdrawn_student_reads_the_page_but_uploads_nothing(self, client, alice, bls):
        enrollment = alice.enrollments.get()
        enrollment.withdrawn_on = date.today()
        enrollment.save()
        response = get(client, alice, my_page())
        assert response.status_code == 200 and response.context["form"] is None
        sent = {"requirement": bls.pk, "document": document(), "completed_on": date.today()}
        assert post(client, alice, my_page(), sent).status_code == 403
        assert not ComplianceRecord.objects.exists()

    @pytest.mark.parametrize("who", ["irene", "paula", "olga"])
    def test_someone_who_is_not_a_student_finds_nothing(self, client, request, who, placement):
        assert get(client, request.getfixturevalue(who), my_page()).status_code == 404

    def test_it_answers_only_get_and_post(self, client, alice):
        client.force_login(alice)
        assert client.put(my_page()).status_code == 405


# --- One student's status for staff -------------------------------------------------------


def student_url(student) -> str:
    return reverse("externships:student-compliance", args=[student.enrollments.get().pk])


class TestStudentCompliance:
    @pytest.mark.parametrize("who", ["carlos", "dana"])
    def test_the_programs_admins_see_a_students_documents_and_can_review(self, client, request, who, alice, pending):
        response = get(client, request.getfixturevalue(who), student_url(alice))
        assert response.status_code == 200
        page = response.content.decode()
        assert "BLS/CPR" in page
        assert reverse("externships:compliance-approve", args=[pending.pk]) in page
        assert document_url(pending) in page

    def test_the_student_reads_their_own_without_review_actions(self, client, alice, pending):
        response = get(client, alice, student_url(alice))
        assert response.status_code == 200
        assert reverse("externships:compliance-approve", args=[pending.pk]) not in response.content.decode()

    @pytest.mark.parametrize("who", ["bob", "irene", "paula", "elena", "olga"])
    def test_nobody_else_finds_it(self, client, request, who, alice, placement):
        assert get(client, request.getfixturevalue(who), student_url(alice)).status_code == 404

    def test_it_answers_only_get(self, client, carlos, alice):
        assert post(client, carlos, student_url(alice)).status_code == 405


# --- The review queue and its actions -----------------------------------------------------


def review_url(program, **query) -> str:
    url = reverse("externships:compliance-review", args=[program.code])
    return url + ("?" + "&".join(f"{key}={value}" for key, value in query.items()) if query else "")


def approve_url(record) -> str:
    return reverse("externships:compliance-approve", args=[record.pk])


def reject_url(record) -> str:
    return reverse("externships:compliance-reject", args=[record.pk])


class TestReviewQueue:
    def test_the_coordinator_sees_what_waits_oldest_first(self, client, program, carlos, alice, bob, bls):
        newer = ComplianceRecordFactory(student=alice, requirement=bls, state="pending")
        older = ComplianceRecordFactory(
            student=bob, requirement=bls, state="pending", uploaded_at=timezone.now() - timedelta(days=3)
        )
        ComplianceRecordFactory(student=bob, requirement=bls)  # approved: not in the queue
        response = get(client, carlos, review_url(program))
        assert response.status_code == 200
        assert list(response.context["page"]) == [older, newer]
        page = response.content.decode()
        assert document_url(older) in page and approve_url(older) in page and reject_url(older) in page
        assert reverse("externships:student-compliance", args=[bob.enrollments.get().pk]) in page

    def test_it_filters_by_state(self, client, program, dana, alice, bls):
        approved = ComplianceRecordFactory(student=alice, requirement=bls)
        rejected = ComplianceRecordFactory(student=alice, requirement=bls, state="rejected")
        assert list(get(client, dana, review_url(program, status="approved")).context["page"]) == [approved]
        assert list(get(client, dana, review_url(program, status="rejected")).context["page"]) == [rejected]
        assert get(client, dana, review_url(program, status="nonsense")).context["status"] == "pending"

    def test_another_programs_documents_are_not_listed(self, client, program, carlos, bls):
        ComplianceRecordFactory(requirement=RequirementFactory(), state="pending")
        assert list(get(client, carlos, review_url(program)).context["page"]) == []

    def test_an_instructor_may_not_review(self, client, program, irene):
        assert get(client, irene, review_url(program)).status_code == 403

    @pytest.mark.parametrize("who", ["alice", "paula", "elena", "olga"])
    def test_others_find_no_queue(self, client, request, program, who, placement):
        assert get(client, request.getfixturevalue(who), review_url(program)).status_code == 404

    def test_it_answers_only_get(self, client, program, carlos):
        assert post(client, carlos, review_url(program)).status_code == 405


class TestReviewActions:
    def test_the_coordinator_approves_and_returns_to_the_queue(self, client, program, carlos, pending):
        response = post(client, carlos, approve_url(pending), {"next": review_url(program, page=1)})
        assert response.status_code == 302 and response.url == review_url(program, page=1)
        pending.refresh_from_db()
        assert (pending.state, pending.reviewed_by) == ("approved", carlos)

    def test_a_foreign_next_address_is_ignored(self, client, program, dana, pending):
        response = post(client, dana, approve_url(pending), {"next": "https://evil.example/"})
        assert response.url == review_url(program)

    @pytest.mark.parametrize("target", ["walker", "wal\x00ker", "1" + "0" * 30, "//evil.example/"])
    def test_a_next_that_is_not_a_path_here_goes_to_the_queue(self, client, program, dana, pending, target):
        # redirect() read a word without a slash or a dot as a URL pattern's name: NoReverseMatch, a 500.
        response = post(client, dana, approve_url(pending), {"next": target})
        assert response.status_code == 302 and response.url == review_url(program)
        response = post(client, dana, reject_url(pending), {"reason": "Expired card.", "next": target})
        assert response.status_code == 302 and response.url == review_url(program)

    def test_the_director_rejects_with_a_reason(self, client, dana, pending):
        assert post(client, dana, reject_url(pending), {"reason": "Expired card."}).status_code == 302
        pending.refresh_from_db()
        assert (pending.state, pending.rejection_reason, pending.reviewed_by) == ("rejected", "Expired card.", dana)

    def test_a_rejection_without_a_reason_asks_for_one_and_changes_nothing(self, client, carlos, pending):
        response = post(client, carlos, reject_url(pending), {"reason": " "})
        assert response.status_code == 200
        assert list(response.context["form"].errors) == ["reason"]
        pending.refresh_from_db()
        assert pending.state == ComplianceRecord.State.PENDING

    def test_a_reviewed_document_is_not_reviewed_again(self, client, carlos, dana, pending):
        services.approve_record(record=pending, by=dana)
        response = post(client, carlos, reject_url(pending), {"reason": "No"}, follow=True)
        assert "reviewed already" in response.content.decode()
        pending.refresh_from_db()
        assert (pending.state, pending.reviewed_by) == ("approved", dana)

    @pytest.mark.parametrize("action", [approve_url, reject_url])
    def test_the_student_may_not_review_their_own(self, client, alice, pending, action):
        assert post(client, alice, action(pending), {"reason": "Fine by me"}).status_code == 403
        pending.refresh_from_db()
        assert pending.state == ComplianceRecord.State.PENDING

    def test_a_coordinator_who_is_also_the_student_may_not_review_their_own(self, client, program, alice, pending):
        factories.StaffFactory(program=program, user=alice, role=StaffRole.Role.COORDINATOR)
        assert post(client, alice, approve_url(pending)).status_code == 403

    @pytest.mark.parametrize("who", ["bob", "irene", "paula", "elena", "olga"])
    @pytest.mark.parametrize("action", [approve_url, reject_url])
    def test_nobody_else_finds_the_document(self, client, request, who, action, placement, pending):
        assert post(client, request.getfixturevalue(who), action(pending), {"reason": "x"}).status_code == 404
        pending.refresh_from_db()
        assert pending.state == ComplianceRecord.State.PENDING

    @pytest.mark.parametrize("action", [approve_url, reject_url])
    def test_they_answer_only_post(self, client, carlos, pending, action):
        assert get(client, carlos, action(pending)).status_code == 405


# --- Requirements -------------------------------------------------------------------------


def requirements_url(program) -> str:
    return reverse("externships:requirement-list", args=[program.code])


def new_requirement_url(program) -> str:
    return reverse("externships:requirement-create", args=[program.code])


def edit_requirement_url(requirement) -> str:
    return reverse("externships:requirement-edit", args=[requirement.pk])


class TestRequirements:
    @pytest.mark.parametrize("who", ["carlos", "dana"])
    def test_admins_see_the_seeded_requirements_with_their_source(self, client, request, who, program):
        page = get(client, request.getfixturevalue(who), requirements_url(program)).content.decode()
        assert "MMR (measles, mumps, rubella)" in page
        assert "cdc.gov/vaccines" in page and "verified" in page

    def test_an_instructor_may_not_manage_requirements(self, client, program, irene, mmr):
        assert get(client, irene, requirements_url(program)).status_code == 403
        assert post(client, irene, new_requirement_url(program), {"name": "X"}).status_code == 403
        assert get(client, irene, edit_requirement_url(mmr)).status_code == 404

    @pytest.mark.parametrize("who", ["alice", "paula", "elena", "olga"])
    def test_others_find_no_requirement_pages(self, client, request, who, program, placement):
        user = request.getfixturevalue(who)
        assert get(client, user, requirements_url(program)).status_code == 404
        assert get(client, user, new_requirement_url(program)).status_code == 404

    def test_a_student_may_read_but_not_edit_a_requirement(self, client, alice, mmr):
        assert post(client, alice, edit_requirement_url(mmr), {"name": "Changed"}).status_code == 403
        mmr.refresh_from_db()
        assert mmr.name.startswith("MMR")

    def test_another_programs_coordinator_finds_no_requirement(self, client, elena, mmr):
        assert get(client, elena, edit_requirement_url(mmr)).status_code == 404

    def test_a_coordinator_adds_a_requirement_for_one_site(self, client, program, carlos, site):
        response = post(
            client,
            carlos,
            new_requirement_url(program),
            {
                "name": "Lakeside orientation",
                "category": "training",
                "validity_months": "",
                "is_required": "on",
                "site": site.pk,
                "notes": "One-hour session at the clinic",
                "order": "30",
            },
        )
        assert response.status_code == 302
        requirement = ComplianceRequirement.objects.get(name="Lakeside orientation")
        assert (requirement.program, requirement.site, requirement.validity_months) == (program, site, None)

    def test_a_new_requirement_goes_to_the_end_of_the_list(self, client, program, dana):
        last = ComplianceRequirement.objects.filter(program=program).order_by("-order").first()
        form = get(client, dana, new_requirement_url(program)).context["form"]
        assert form.initial["order"] == last.order + 1

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            ({"name": "mmr (MEASLES, mumps, rubella)"}, "name"),
            ({"name": ""}, "name"),
            ({"validity_months": "0"}, "validity_months"),
            ({"category": "astrology"}, "category"),
        ],
    )
    def test_bad_input_is_named_on_its_field(self, client, program, dana, data, field):
        before = ComplianceRequirement.objects.count()
        sent = {"name": "New one", "category": "other", "order": "1", **data}
        response = post(client, dana, new_requirement_url(program), sent)
        assert response.status_code == 200
        assert list(response.context["form"].errors) == [field]
        assert ComplianceRequirement.objects.count() == before

    def test_the_site_must_be_one_of_the_programs(self, client, program, dana):
        elsewhere = SiteFactory()
        sent = {"name": "Badge", "category": "other", "order": "1", "site": elsewhere.pk}
        assert list(post(client, dana, new_requirement_url(program), sent).context["form"].errors) == ["site"]

    def test_the_same_name_may_serve_a_site_and_the_program(self, client, program, dana, site, mmr):
        sent = {"name": mmr.name, "category": "immunization", "order": "1", "site": site.pk}
        assert post(client, dana, new_requirement_url(program), sent).status_code == 302

    def test_a_requirement_with_documents_is_switched_off_not_deleted(self, client, program, carlos, alice, mmr):
        ComplianceRecordFactory(student=alice, requirement=mmr, expires_on=None)
        sent = {"name": mmr.name, "category": mmr.category, "order": mmr.order, "notes": mmr.notes}
        assert post(client, carlos, edit_requirement_url(mmr), sent).status_code == 302
        mmr.refresh_from_db()
        assert mmr.is_required is False

    def test_the_pages_answer_only_their_methods(self, client, program, dana, mmr):
        client.force_login(dana)
        assert client.post(requirements_url(program)).status_code == 405
        assert client.put(new_requirement_url(program)).status_code == 405
        assert client.delete(edit_requirement_url(mmr)).status_code == 405


# --- Query budgets ------------------------------------------------------------------------


def grow(program, placement, reviewer, times: int) -> None:
    """`times` more classmates with a document waiting, and `times` more site requirements for alice,
    each with an approved, a pending and a rejected document."""
    alice = placement.enrollment.student
    for _ in range(times):
        classmate = factories.EnrollmentFactory(cohort=placement.enrollment.cohort).student
        requirement = RequirementFactory(program=program, site=placement.site)
        ComplianceRecordFactory(student=classmate, requirement=requirement, state="pending")
        ComplianceRecordFactory(student=alice, requirement=requirement, reviewed_by=reviewer)
        ComplianceRecordFactory(student=alice, requirement=requirement, state="pending")
        ComplianceRecordFactory(student=alice, requirement=requirement, state="rejected", reviewed_by=reviewer)


@pytest.mark.parametrize(
    ("page", "who"),
    [
        ("my-compliance", "alice"),
        ("student-compliance", "carlos"),
        ("compliance-review", "carlos"),
        ("compliance-review-approved", "dana"),
        ("requirement-list", "dana"),
    ],
)
def test_pages_cost_the_same_queries_at_1x_and_5x(client, request, page, who, program, placement, carlos):
    user = request.getfixturevalue(who)
    alice = placement.enrollment.student
    urls = {
        "my-compliance": my_page(),
        "student-compliance": student_url(alice),
        "compliance-review": review_url(program),
        "compliance-review-approved": review_url(program, status="approved"),
        "requirement-list": requirements_url(program),
    }
    grow(program, placement, carlos, 1)
    once = queries_for(client, user, urls[page])
    grow(program, placement, carlos, 4)
    five_times = queries_for(client, user, urls[page])
    print(f"QUERIES {page} as {who}: {once} at 1x, {five_times} at 5x")  # for `pytest -s`: the figures
    assert once == five_times, f"{page} for {who}: {once} queries at 1x, {five_times} at 5x"
