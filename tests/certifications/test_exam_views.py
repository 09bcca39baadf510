"""One student's certification pages: the student's own, the program office's with its actions, the
home-page section. Who finds what (404), who may act (403), methods (405), bad input (a message,
nothing changed), and fixed query counts as attempts and competencies grow."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils.html import escape

from accounts.models import AccessLog
from certifications import services
from certifications.eligibility import day
from certifications.models import Credential, ExamAttempt, JobPlacement, TargetTrack
from curriculum.models import StaffRole
from tests import factories
from tests.certification_factories import ExamAttemptFactory, track
from tests.queries import queries_for

BOOKED_ON = date.today() + timedelta(days=30)  # the booking fixture's day, in the future


@pytest.fixture
def enrollment(alice):
    return alice.enrollments.select_related("cohort__program").get()


@pytest.fixture
def ccma(program):
    return track(program, "CCMA")


@pytest.fixture
def target(enrollment, ccma):
    return services.choose_target_track(enrollment=enrollment, track=ccma)


@pytest.fixture
def booking(enrollment, ccma):
    return services.schedule_exam(
        enrollment=enrollment, track=ccma, scheduled_on=BOOKED_ON, location="Main Campus", by=None
    )


@pytest.fixture
def credential(enrollment, program):
    attempt = ExamAttemptFactory(enrollment=enrollment, track=track(program, "CMA"), taken_on=date(2026, 3, 2))
    return Credential.objects.create(
        enrollment=enrollment,
        track=attempt.track,
        exam_attempt=attempt,
        issued_on=attempt.taken_on,
        expires_on=attempt.track.expiry_for(attempt.taken_on),
    )


@pytest.fixture
def outside_coordinator(db):
    return factories.StaffFactory(role=StaffRole.Role.COORDINATOR).user


def page_url(enrollment) -> str:
    return reverse("certifications:student-certification", args=[enrollment.pk])


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


class TestMyCertification:
    def test_the_student_sees_their_target_eligibility_readiness_exams_and_credentials(
        self, client, alice, target, booking, credential
    ):
        client.force_login(alice)
        response = client.get(reverse("certifications:my-certification"))
        page = response.content.decode()
        assert response.status_code == 200
        assert "Eligibility for CCMA" in page
        assert "Exam readiness for CCMA" in page
        assert 'data-rule="completion"' in page
        assert "Main Campus" in page and day(BOOKED_ON) in page
        assert "Recertification due" in page
        assert "Mar 31, 2031" in page  # CMA: 60 months from the end of the month certified

    def test_without_a_target_it_asks_for_one(self, client, alice, enrollment):
        client.force_login(alice)
        page = client.get(reverse("certifications:my-certification")).content.decode()
        assert "Choose a target credential to see whether you may sit its exam" in page
        assert "Eligibility for" not in page

    def test_someone_with_no_enrollment_is_told_so(self, client, olga):
        client.force_login(olga)
        response = client.get(reverse("certifications:my-certification"))
        assert response.status_code == 200
        assert "You are not enrolled in a program" in response.content.decode()

    def test_wrong_method(self, client, alice):
        client.force_login(alice)
        assert client.post(reverse("certifications:my-certification")).status_code == 405

    def test_a_result_shows_with_its_score(self, client, alice, enrollment, ccma):
        ExamAttemptFactory(enrollment=enrollment, track=ccma, taken_on=date(2026, 2, 2), result="fail", score=350)
        client.force_login(alice)
        page = client.get(reverse("certifications:my-certification")).content.decode()
        assert "score 350.0" in page


class TestChoosingTheTarget:
    def url(self, enrollment) -> str:
        return reverse("certifications:target-track", args=[enrollment.pk])

    def test_the_student_chooses_their_own(self, client, alice, enrollment, ccma):
        client.force_login(alice)
        response = client.post(self.url(enrollment), {"track": ccma.pk})
        assert response.url == reverse("certifications:my-certification")
        assert TargetTrack.objects.get(enrollment=enrollment).track == ccma

    def test_the_director_sets_it_and_returns_to_the_students_page(self, client, dana, enrollment, ccma):
        client.force_login(dana)
        response = client.post(self.url(enrollment), {"track": ccma.pk})
        assert response.url == page_url(enrollment)
        assert TargetTrack.objects.get(enrollment=enrollment).track == ccma

    def test_a_track_not_offered_is_refused_and_nothing_changes(self, client, alice, enrollment, target, program):
        rma = track(program, "RMA")
        rma.is_offered = False
        rma.save(update_fields=["is_offered"])
        client.force_login(alice)
        response = client.post(self.url(enrollment), {"track": rma.pk}, follow=True)
        assert any(message.startswith("Target credential: nothing was changed.") for message in messages_of(response))
        assert TargetTrack.objects.get(enrollment=enrollment).track.code == "CCMA"

    def test_another_programs_track_is_refused(self, client, alice, enrollment):
        other = track(factories.ProgramFactory(), "CMA")
        client.force_login(alice)
        client.post(self.url(enrollment), {"track": other.pk})
        assert not TargetTrack.objects.filter(enrollment=enrollment).exists()

    def test_a_classmate_does_not_find_it(self, client, bob, enrollment, ccma):
        client.force_login(bob)
        assert client.post(self.url(enrollment), {"track": ccma.pk}).status_code == 404

    def test_the_instructor_may_not(self, client, irene, enrollment, ccma):
        client.force_login(irene)
        assert client.post(self.url(enrollment), {"track": ccma.pk}).status_code == 403
        assert not TargetTrack.objects.filter(enrollment=enrollment).exists()

    def test_wrong_method(self, client, alice, enrollment):
        client.force_login(alice)
        assert client.get(self.url(enrollment)).status_code == 405


class TestStudentCertificationPage:
    @pytest.mark.parametrize("who", ["dana", "carlos"])
    def test_the_program_office_sees_it(self, client, request, who, enrollment, target, booking):
        client.force_login(request.getfixturevalue(who))
        response = client.get(page_url(enrollment))
        page = response.content.decode()
        assert response.status_code == 200
        assert "Eligibility for CCMA" in page
        assert "Record the result" in page and "Cancel booking" in page
        assert 'data-track="CCMA"' in page

    def test_the_student_is_sent_to_their_own_page(self, client, alice, enrollment):
        client.force_login(alice)
        assert client.get(page_url(enrollment)).url == reverse("certifications:my-certification")

    def test_the_instructor_is_refused(self, client, irene, enrollment):
        client.force_login(irene)
        assert client.get(page_url(enrollment)).status_code == 403

    @pytest.mark.parametrize("who", ["bob", "olga", "ivan", "outside_coordinator"])
    def test_nobody_else_finds_it(self, client, request, who, enrollment):
        client.force_login(request.getfixturevalue(who))
        assert client.get(page_url(enrollment)).status_code == 404

    def test_wrong_method(self, client, dana, enrollment):
        client.force_login(dana)
        assert client.post(page_url(enrollment)).status_code == 405

    def test_reading_it_leaves_a_trace_for_the_student(self, client, dana, alice, enrollment):
        client.force_login(dana)
        client.get(page_url(enrollment))
        assert AccessLog.objects.filter(student=alice, actor=dana).exists()

    def test_the_retake_rule_is_shown_beside_the_date(self, client, dana, enrollment, ccma):
        ExamAttemptFactory(enrollment=enrollment, track=ccma, taken_on=date.today() - timedelta(days=3), result="fail")
        allowed = (date.today() + timedelta(days=27)).isoformat()
        client.force_login(dana)
        page = client.get(page_url(enrollment)).content.decode()
        assert f"CCMA may be retaken from {allowed}." in page

    def test_an_exam_already_passed_is_shown_beside_the_date(self, client, dana, enrollment, credential):
        client.force_login(dana)
        page = client.get(page_url(enrollment)).content.decode()
        assert "CMA: The student has already passed this exam." in page
        assert "RMA: may be booked." in page

    def test_readiness_speaks_of_the_student(self, client, dana, enrollment, target):
        client.force_login(dana)
        page = client.get(page_url(enrollment)).content.decode()
        assert "The student's achieved competencies cover 0% of the exam outline" in page

    def test_the_cohort_roster_links_to_it_for_the_program_office(self, client, dana, irene, enrollment, cohort):
        link = f'href="{page_url(enrollment)}"'
        client.force_login(dana)
        assert link in client.get(reverse("curriculum:cohort-detail", args=[cohort.pk])).content.decode()
        client.force_login(irene)
        assert link not in client.get(reverse("curriculum:cohort-detail", args=[cohort.pk])).content.decode()


class TestBooking:
    def url(self, enrollment) -> str:
        return reverse("certifications:exam-book", args=[enrollment.pk])

    def test_the_coordinator_books_an_exam(self, client, carlos, enrollment, ccma):
        client.force_login(carlos)
        response = client.post(
            self.url(enrollment), {"track": ccma.pk, "scheduled_on": "2026-12-01", "location": "Hall"}
        )
        assert response.status_code == 302
        booked = ExamAttempt.objects.get(enrollment=enrollment)
        assert (booked.scheduled_on, booked.location, booked.created_by) == (date(2026, 12, 1), "Hall", carlos)

    def test_a_retake_too_soon_is_refused_beside_the_field_saying_until_when(self, client, dana, enrollment, ccma):
        ExamAttemptFactory(enrollment=enrollment, track=ccma, taken_on=date(2026, 11, 1), result="fail")
        client.force_login(dana)
        response = client.post(self.url(enrollment), {"track": ccma.pk, "scheduled_on": "2026-11-30", "location": ""})
        assert response.status_code == 200
        assert response.context["book_form"].errors["scheduled_on"] == [
            "After a failed attempt on 2026-11-01, CCMA may be retaken from 2026-12-01."
        ]
        assert "The exam was not booked." in messages_of(response)[0]
        assert not ExamAttempt.objects.filter(enrollment=enrollment, result="").exists()

    def test_a_missing_date_is_named(self, client, dana, enrollment, ccma):
        client.force_login(dana)
        response = client.post(self.url(enrollment), {"track": ccma.pk, "scheduled_on": ""})
        assert response.status_code == 200
        assert "Exam date: This field is required." in messages_of(response)[0]
        assert not ExamAttempt.objects.exists()

    def test_a_second_booking_for_the_track_is_refused(self, client, dana, enrollment, ccma, booking):
        client.force_login(dana)
        response = client.post(self.url(enrollment), {"track": ccma.pk, "scheduled_on": "2026-12-20"})
        assert response.context["book_form"].errors["track"] == [
            "CCMA is already booked; record or cancel that booking first."
        ]
        assert ExamAttempt.objects.filter(enrollment=enrollment).count() == 1

    def test_the_student_may_not_book_their_own(self, client, alice, enrollment, ccma):
        client.force_login(alice)
        assert client.post(self.url(enrollment), {"track": ccma.pk, "scheduled_on": "2026-12-01"}).status_code == 403
        assert not ExamAttempt.objects.exists()

    def test_the_instructor_may_not(self, client, irene, enrollment, ccma):
        client.force_login(irene)
        assert client.post(self.url(enrollment), {"track": ccma.pk, "scheduled_on": "2026-12-01"}).status_code == 403

    @pytest.mark.parametrize("who", ["bob", "outside_coordinator"])
    def test_others_do_not_find_the_student(self, client, request, who, enrollment, ccma):
        client.force_login(request.getfixturevalue(who))
        response = client.post(self.url(enrollment), {"track": ccma.pk, "scheduled_on": "2026-12-01"})
        assert response.status_code == 404

    def test_wrong_method(self, client, dana, enrollment):
        client.force_login(dana)
        assert client.get(self.url(enrollment)).status_code == 405


class TestMovingAndCancelling:
    def test_the_director_moves_a_booking(self, client, dana, booking):
        client.force_login(dana)
        response = client.post(
            reverse("certifications:exam-move", args=[booking.pk]), {"scheduled_on": "2026-10-20", "location": "Annex"}
        )
        assert response.status_code == 302
        booking.refresh_from_db()
        assert (booking.scheduled_on, booking.location) == (date(2026, 10, 20), "Annex")

    def test_a_move_into_the_wait_is_refused_naming_the_exam(self, client, dana, enrollment, ccma, booking):
        ExamAttemptFactory(enrollment=enrollment, track=ccma, taken_on=date(2026, 9, 1), result="fail")
        client.force_login(dana)
        response = client.post(
            reverse("certifications:exam-move", args=[booking.pk]), {"scheduled_on": "2026-09-15"}, follow=True
        )
        assert messages_of(response) == [
            f"CCMA exam of {day(BOOKED_ON)}: nothing was changed. "
            "New exam date: After a failed attempt on 2026-09-01, CCMA may be retaken from 2026-10-01."
        ]
        booking.refresh_from_db()
        assert booking.scheduled_on == BOOKED_ON

    def test_a_bad_date_is_refused(self, client, dana, booking):
        client.force_login(dana)
        response = client.post(
            reverse("certifications:exam-move", args=[booking.pk]), {"scheduled_on": "soon"}, follow=True
        )
        assert "New exam date: Enter a valid date." in messages_of(response)[0]
        booking.refresh_from_db()
        assert booking.scheduled_on == BOOKED_ON

    def test_the_coordinator_cancels_a_booking(self, client, carlos, booking):
        client.force_login(carlos)
        assert client.post(reverse("certifications:exam-cancel", args=[booking.pk])).status_code == 302
        assert not ExamAttempt.objects.filter(pk=booking.pk).exists()

    def test_an_exam_with_a_result_cannot_be_cancelled(self, client, dana, enrollment, ccma):
        sat = ExamAttemptFactory(enrollment=enrollment, track=ccma, taken_on=date(2026, 9, 1), result="fail")
        client.force_login(dana)
        response = client.post(reverse("certifications:exam-cancel", args=[sat.pk]), follow=True)
        assert "Only a booked exam can be cancelled" in messages_of(response)[0]
        assert ExamAttempt.objects.filter(pk=sat.pk).exists()

    @pytest.mark.parametrize("action", ["exam-move", "exam-cancel", "exam-result"])
    def test_the_student_may_not_change_their_own_exam(self, client, alice, booking, action):
        client.force_login(alice)
        assert client.post(reverse(f"certifications:{action}", args=[booking.pk]), {}).status_code == 403
        assert ExamAttempt.objects.get(pk=booking.pk).is_booked

    @pytest.mark.parametrize("action", ["exam-move", "exam-cancel", "exam-result"])
    @pytest.mark.parametrize("who", ["bob", "irene", "outside_coordinator"])
    def test_others_do_not_find_the_exam(self, client, request, booking, action, who):
        client.force_login(request.getfixturevalue(who))
        assert client.post(reverse(f"certifications:{action}", args=[booking.pk]), {}).status_code == 404

    @pytest.mark.parametrize("action", ["exam-move", "exam-cancel", "exam-result"])
    def test_wrong_method(self, client, dana, booking, action):
        client.force_login(dana)
        assert client.get(reverse(f"certifications:{action}", args=[booking.pk])).status_code == 405


class TestRecordingResults:
    def url(self, booking) -> str:
        return reverse("certifications:exam-result", args=[booking.pk])

    def test_a_pass_issues_the_credential(self, client, dana, booking):
        client.force_login(dana)
        response = client.post(self.url(booking), {"result": "pass", "taken_on": "2026-10-05", "score": "420"})
        assert response.status_code == 302
        booking.refresh_from_db()
        assert (booking.result, booking.score, booking.recorded_by) == ("pass", Decimal(420), dana)
        assert booking.credential.expires_on == date(2028, 10, 31)  # CCMA: 24 months from the end of the month

    def test_a_no_show_needs_no_date(self, client, dana, booking):
        client.force_login(dana)
        client.post(self.url(booking), {"result": "no_show", "taken_on": "", "score": ""})
        booking.refresh_from_db()
        assert (booking.result, booking.scheduled_on) == ("no_show", BOOKED_ON)

    def test_a_pass_without_a_date_is_refused_naming_the_field(self, client, dana, booking):
        client.force_login(dana)
        response = client.post(self.url(booking), {"result": "pass", "taken_on": ""}, follow=True)
        assert messages_of(response) == [
            f"CCMA exam of {day(BOOKED_ON)}: nothing was changed. Taken on: Give the day the exam was taken."
        ]
        assert ExamAttempt.objects.get(pk=booking.pk).is_booked
        assert not Credential.objects.exists()

    def test_a_future_day_is_refused(self, client, dana, booking):
        client.force_login(dana)
        future = (date.today() + timedelta(days=3)).isoformat()
        response = client.post(self.url(booking), {"result": "fail", "taken_on": future}, follow=True)
        assert "Taken on: The exam day is in the future." in messages_of(response)[0]
        assert ExamAttempt.objects.get(pk=booking.pk).is_booked

    def test_an_unknown_result_and_a_negative_score_are_refused(self, client, dana, booking):
        client.force_login(dana)
        response = client.post(
            self.url(booking), {"result": "maybe", "taken_on": "2026-10-05", "score": "-1"}, follow=True
        )
        message = messages_of(response)[0]
        assert "Result: Select a valid choice." in message
        assert "Score: Ensure this value is greater than or equal to 0." in message
        assert ExamAttempt.objects.get(pk=booking.pk).is_booked


class TestCredentialNumber:
    def url(self, credential) -> str:
        return reverse("certifications:credential-number", args=[credential.pk])

    def test_the_director_sets_it(self, client, dana, credential):
        client.force_login(dana)
        assert client.post(self.url(credential), {"number": " CMA-123 "}).status_code == 302
        credential.refresh_from_db()
        assert credential.number == "CMA-123"

    def test_a_number_taken_in_the_track_is_refused(self, client, dana, credential, bob, program):
        other_attempt = ExamAttemptFactory(enrollment=bob.enrollments.get(), track=track(program, "CMA"))
        Credential.objects.create(
            enrollment=other_attempt.enrollment,
            track=other_attempt.track,
            exam_attempt=other_attempt,
            issued_on=other_attempt.taken_on,
            number="CMA-123",
        )
        client.force_login(dana)
        response = client.post(self.url(credential), {"number": "CMA-123"}, follow=True)
        assert messages_of(response) == [
            "CMA credential: nothing was changed. Credential number: Another CMA credential has this number."
        ]
        credential.refresh_from_db()
        assert credential.number == ""

    def test_a_number_too_long_is_refused(self, client, dana, credential):
        client.force_login(dana)
        response = client.post(self.url(credential), {"number": "9" * 61}, follow=True)
        assert "Credential number: Ensure this value has at most 60 characters" in messages_of(response)[0]

    def test_the_student_may_not(self, client, alice, credential):
        client.force_login(alice)
        assert client.post(self.url(credential), {"number": "X"}).status_code == 403

    @pytest.mark.parametrize("who", ["bob", "irene"])
    def test_others_do_not_find_it(self, client, request, who, credential):
        client.force_login(request.getfixturevalue(who))
        assert client.post(self.url(credential), {"number": "X"}).status_code == 404

    def test_wrong_method(self, client, dana, credential):
        client.force_login(dana)
        assert client.get(self.url(credential)).status_code == 405


class TestJobPlacement:
    @pytest.fixture
    def graduate(self, enrollment):
        enrollment.graduated_on = enrollment.admitted_on + timedelta(days=30)
        enrollment.save(update_fields=["graduated_on"])
        return enrollment

    def url(self, enrollment) -> str:
        return reverse("certifications:job-placement", args=[enrollment.pk])

    def test_the_coordinator_records_it(self, client, carlos, graduate):
        client.force_login(carlos)
        response = client.post(
            self.url(graduate),
            {
                "status": "in_field",
                "employed_on": graduate.graduated_on.isoformat(),
                "employer": "Lakeside",
                "position": "MA",
            },
        )
        assert response.status_code == 302
        placement = JobPlacement.objects.get(enrollment=graduate)
        assert (placement.status, placement.employer, placement.recorded_by) == ("in_field", "Lakeside", carlos)

    def test_the_page_shows_it(self, client, carlos, graduate):
        JobPlacement.objects.create(enrollment=graduate, status="related_field", employer="Lakeside")
        client.force_login(carlos)
        page = client.get(page_url(graduate)).content.decode()
        assert "Recorded: Employed in a related field" in page
        assert 'value="Lakeside"' in page

    def test_military_service_is_offered_and_needs_no_reason(self, client, carlos, graduate):
        client.force_login(carlos)
        page = client.get(page_url(graduate)).content.decode()
        assert '<option value="military_service">Serving in the military</option>' in page

        response = client.post(self.url(graduate), {"status": "military_service", "unavailable_reason": ""})

        assert response.status_code == 302
        assert JobPlacement.objects.get(enrollment=graduate).status == "military_service"
        assert "Recorded: Serving in the military" in client.get(page_url(graduate)).content.decode()

    def test_unavailable_without_a_reason_is_refused_beside_the_field(self, client, carlos, graduate):
        client.force_login(carlos)
        response = client.post(self.url(graduate), {"status": "unavailable", "unavailable_reason": " "})
        assert response.status_code == 200
        assert response.context["job_form"].errors["unavailable_reason"] == [
            "Say why the graduate is unavailable for employment."
        ]
        assert not JobPlacement.objects.exists()

    def test_a_student_not_graduated_is_refused(self, client, carlos, enrollment):
        client.force_login(carlos)
        response = client.post(self.url(enrollment), {"status": "in_field"})
        assert "Only a graduate has a job placement" in messages_of(response)[0]
        assert not JobPlacement.objects.exists()

    @pytest.mark.parametrize("who", ["alice", "irene"])
    def test_the_student_and_the_instructor_may_not(self, client, request, who, graduate):
        client.force_login(request.getfixturevalue(who))
        assert client.post(self.url(graduate), {"status": "in_field"}).status_code == 403
        assert not JobPlacement.objects.exists()

    def test_a_classmate_does_not_find_it(self, client, bob, graduate):
        client.force_login(bob)
        assert client.post(self.url(graduate), {"status": "in_field"}).status_code == 404

    def test_wrong_method(self, client, carlos, graduate):
        client.force_login(carlos)
        assert client.get(self.url(graduate)).status_code == 405


class TestHomeSection:
    def test_the_student_sees_target_next_exam_and_eligibility(self, client, alice, target, booking, ccma):
        client.force_login(alice)
        page = client.get(reverse("home")).content.decode()
        assert f"Target: {escape(ccma.display_name)}" in page
        assert page.count("CCMA (") <= 1  # the code once, not "CCMA (… (CCMA))"
        assert f"Next exam: CCMA on {day(BOOKED_ON)}" in page
        assert "Not eligible for CCMA yet" in page
        assert reverse("certifications:my-certification") in page

    def test_without_a_target_it_invites_a_choice(self, client, alice, enrollment):
        client.force_login(alice)
        assert "Choose your target credential" in client.get(reverse("home")).content.decode()

    def test_staff_without_an_enrollment_have_no_such_section(self, client, irene):
        client.force_login(irene)
        assert 'id="certification-heading"' not in client.get(reverse("home")).content.decode()


class TestQueryCounts:
    """The pages cost the same at 1x and 5x attempts, credentials and competencies."""

    @pytest.fixture
    def framework(self, program):
        framework = factories.FrameworkFactory()
        program.framework = framework
        program.save(update_fields=["framework"])
        return framework

    def grow(self, enrollment, framework, irene, times: int) -> None:
        program = enrollment.cohort.program
        for _ in range(times):
            for tags in (["vitals"], ["billing"], ["communication"]):
                skill = factories.CompetencyFactory(framework=framework, domain="P", tags=tags)
                factories.check_off(enrollment, skill, irene)
            sat = ExamAttempt.objects.filter(enrollment=enrollment, taken_on__isnull=False).count()
            taken_on = date(2020, 1, 1) + timedelta(days=40 * sat)
            ExamAttemptFactory(enrollment=enrollment, track=track(program, "CCMA"), taken_on=taken_on, result="fail")
            passed = ExamAttemptFactory(
                enrollment=enrollment, track=track(program, "NCMA"), taken_on=taken_on, result="pass"
            )
            Credential.objects.create(
                enrollment=enrollment, track=passed.track, exam_attempt=passed, issued_on=taken_on
            )

    @pytest.mark.parametrize(
        ("who", "url_name"),
        [("dana", "student-certification"), ("alice", "my-certification"), ("alice", "home")],
    )
    def test_pages_cost_the_same_queries(
        self, client, request, who, url_name, enrollment, framework, irene, target, booking
    ):
        user = request.getfixturevalue(who)
        if url_name == "student-certification":
            url = page_url(enrollment)
        elif url_name == "home":
            url = reverse("home")
        else:
            url = reverse(f"certifications:{url_name}")
        self.grow(enrollment, framework, irene, 1)
        once = queries_for(client, user, url)
        self.grow(enrollment, framework, irene, 4)
        five_times = queries_for(client, user, url)
        print(f"QUERIES {url_name} as {who}: {once} at 1x, {five_times} at 5x")
        assert once == five_times
