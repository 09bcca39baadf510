"""Every curriculum page: the right person, someone else's record (404), a forbidden action (403),
and the wrong method (405)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from curriculum.models import Assignment, Cohort, Course, CourseOffering, Grade, Program, StaffRole
from tests import factories


@pytest.fixture
def elsewhere(db):
    """A director of another program, with a cohort, an offering and a student of their own."""
    director = factories.StaffFactory(role=StaffRole.Role.DIRECTOR, first_name="Elena")
    cohort = factories.CohortFactory(program=director.program)
    offering = factories.OfferingFactory(cohort=cohort)
    enrollment = factories.EnrollmentFactory(cohort=cohort)
    return {
        "director": director.user,
        "program": director.program,
        "cohort": cohort,
        "offering": offering,
        "assignment": factories.AssignmentFactory(offering=offering),
        "enrollment": enrollment,
    }


def get(client, user, url):
    client.force_login(user)
    return client.get(url)


def post(client, user, url, data=None, **extra):
    client.force_login(user)
    return client.post(url, data or {}, **extra)


class TestHome:
    def test_it_requires_sign_in(self, client):
        response = client.get(reverse("home"))
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))

    def test_it_shows_a_person_without_a_role_what_to_do(self, client, olga):
        assert "no program role" in get(client, olga, reverse("home")).content.decode()

    def test_it_shows_the_student_only_their_own_grades(self, client, alice, bob, offering, assignment):
        bob_enrollment = bob.enrollments.get()
        factories.GradeFactory(assignment=assignment, enrollment=bob_enrollment, points_earned=Decimal("17.5"))
        page = get(client, alice, reverse("home")).content.decode()
        assert offering.course.title in page
        assert "17.5" not in page

    def test_it_marks_overdue_work(self, client, alice, offering):
        factories.AssignmentFactory(offering=offering, title="Late essay", due_at=offering_due_past())
        page = get(client, alice, reverse("home")).content.decode()
        assert "Late essay" in page and "Overdue" in page

    def test_it_rejects_post(self, client, alice):
        assert post(client, alice, reverse("home")).status_code == 405


def offering_due_past():
    from django.utils import timezone

    return timezone.now() - timedelta(days=1)


class TestPrograms:
    def test_a_director_creates_a_program_and_directs_it(self, client, dana):
        response = post(
            client,
            dana,
            reverse("curriculum:program-create"),
            {
                "code": "MA-EVE",
                "name": "Evening MA",
                "accreditor": "abhes",
                "time_zone": "America/Denver",
                "practicum_hours": "180",
            },
        )
        program = Program.objects.get(code="MA-EVE")
        assert response.status_code == 302
        assert StaffRole.objects.filter(program=program, user=dana, role=StaffRole.Role.DIRECTOR).exists()

    def test_it_names_the_field_that_is_wrong(self, client, dana, program):
        response = post(
            client,
            dana,
            reverse("curriculum:program-create"),
            {
                "code": program.code,
                "name": "",
                "accreditor": "caahep",
                "time_zone": "Mars/Base",
                "practicum_hours": "0",
            },
        )
        form = response.context["form"]
        assert response.status_code == 200
        assert set(form.errors) == {"code", "name", "time_zone", "practicum_hours"}

    def test_an_instructor_may_not_create_programs(self, client, irene):
        assert get(client, irene, reverse("curriculum:program-create")).status_code == 403

    def test_someone_without_a_role_may_not_create_programs(self, client, olga):
        assert post(client, olga, reverse("curriculum:program-create")).status_code == 403

    def test_program_create_rejects_put(self, client, dana):
        client.force_login(dana)
        assert client.put(reverse("curriculum:program-create")).status_code == 405

    def test_the_director_sees_the_program(self, client, dana, program, cohort):
        response = get(client, dana, reverse("curriculum:program-detail", args=[program.code]))
        assert response.status_code == 200
        assert cohort.name in response.content.decode()

    def test_another_programs_director_gets_404(self, client, elsewhere, program):
        assert (
            get(client, elsewhere["director"], reverse("curriculum:program-detail", args=[program.code])).status_code
            == 404
        )

    @pytest.mark.parametrize("code", ["%00", "MA%00", "%00/edit"])
    def test_a_code_holding_a_nul_is_not_found_signed_in_or_out(self, client, dana, code):
        # A NUL reached PostgreSQL and answered 500; the address now matches no pattern.
        assert client.get(f"/programs/{code}/").status_code == 404
        assert get(client, dana, f"/programs/{code}/").status_code == 404

    def test_a_student_gets_404_for_the_program_page(self, client, alice, program):
        assert get(client, alice, reverse("curriculum:program-detail", args=[program.code])).status_code == 404

    def test_program_detail_rejects_post(self, client, dana, program):
        assert post(client, dana, reverse("curriculum:program-detail", args=[program.code])).status_code == 405

    def test_the_program_list_shows_only_ones_own_programs(self, client, dana, program, elsewhere):
        page = get(client, dana, reverse("curriculum:program-list")).content.decode()
        assert program.name in page
        assert elsewhere["program"].name not in page

    def test_the_director_edits_the_program_and_may_require_two_factor(self, client, dana, program):
        url = reverse("curriculum:program-edit", args=[program.code])
        data = {
            "code": program.code,
            "name": "Renamed",
            "accreditor": "caahep",
            "time_zone": "America/Chicago",
            "practicum_hours": "200",
            "require_staff_two_factor": "on",
        }
        assert post(client, dana, url, data).status_code == 302
        program.refresh_from_db()
        assert (program.name, program.practicum_hours, program.require_staff_two_factor) == ("Renamed", 200, True)

    def test_a_coordinator_may_not_edit_the_program(self, client, carlos, program):
        assert get(client, carlos, reverse("curriculum:program-edit", args=[program.code])).status_code == 403

    def test_program_edit_rejects_delete(self, client, dana, program):
        client.force_login(dana)
        assert client.delete(reverse("curriculum:program-edit", args=[program.code])).status_code == 405


class TestStaff:
    def test_the_director_adds_a_new_instructor_who_is_invited(
        self, client, dana, program, mailoutbox, django_capture_on_commit_callbacks
    ):
        data = {"email": "New.Person@School.test", "first_name": "New", "last_name": "Person", "role": "instructor"}
        with django_capture_on_commit_callbacks(execute=True):
            response = post(client, dana, reverse("curriculum:staff-add", args=[program.code]), data)
        assert response.status_code == 302
        assert StaffRole.objects.filter(program=program, user__email="new.person@school.test").exists()
        assert [message.to for message in mailoutbox] == [["new.person@school.test"]]

    def test_a_duplicate_role_is_refused_on_the_email_field(self, client, dana, irene, program):
        data = {"email": irene.email, "first_name": "I", "last_name": "R", "role": "instructor"}
        response = post(client, dana, reverse("curriculum:staff-add", args=[program.code]), data)
        assert response.status_code == 200
        assert "email" in response.context["form"].errors

    def test_a_coordinator_may_not_add_staff(self, client, carlos, program):
        assert get(client, carlos, reverse("curriculum:staff-add", args=[program.code])).status_code == 403

    def test_the_last_director_cannot_be_removed(self, client, dana, program):
        role = StaffRole.objects.get(user=dana, program=program)
        response = post(client, dana, reverse("curriculum:staff-remove", args=[program.code, role.pk]))
        assert response.status_code == 302
        assert StaffRole.objects.filter(pk=role.pk).exists()

    def test_the_director_removes_an_instructor(self, client, dana, irene, program):
        role = StaffRole.objects.get(user=irene, program=program)
        post(client, dana, reverse("curriculum:staff-remove", args=[program.code, role.pk]))
        assert not StaffRole.objects.filter(pk=role.pk).exists()

    def test_removing_a_role_of_another_program_is_404(self, client, dana, program, elsewhere):
        role = StaffRole.objects.get(user=elsewhere["director"])
        assert post(client, dana, reverse("curriculum:staff-remove", args=[program.code, role.pk])).status_code == 404

    def test_an_instructor_may_not_remove_staff(self, client, irene, dana, program):
        role = StaffRole.objects.get(user=dana, program=program)
        assert post(client, irene, reverse("curriculum:staff-remove", args=[program.code, role.pk])).status_code == 403

    def test_staff_remove_rejects_get(self, client, dana, program):
        role = StaffRole.objects.get(user=dana, program=program)
        assert get(client, dana, reverse("curriculum:staff-remove", args=[program.code, role.pk])).status_code == 405


class TestCohorts:
    def cohort_data(self, **overrides):
        data = {
            "code": "2027-SPRING",
            "name": "Spring 2027",
            "start_on": "2027-01-11",
            "expected_graduation_on": "2027-12-17",
        }
        return data | overrides

    def test_a_coordinator_creates_a_cohort_with_instructors(self, client, carlos, irene, program):
        url = reverse("curriculum:cohort-create", args=[program.code])
        response = post(client, carlos, url, self.cohort_data(instructors=[irene.pk]))
        cohort = Cohort.objects.get(code="2027-SPRING")
        assert response.status_code == 302
        assert list(cohort.instructors.all()) == [irene]

    def test_graduation_before_start_is_refused_on_its_field(self, client, carlos, program):
        url = reverse("curriculum:cohort-create", args=[program.code])
        response = post(client, carlos, url, self.cohort_data(expected_graduation_on="2026-01-01"))
        assert "expected_graduation_on" in response.context["form"].errors
        assert not Cohort.objects.filter(code="2027-SPRING").exists()

    def test_an_instructor_may_not_create_cohorts(self, client, irene, program):
        assert get(client, irene, reverse("curriculum:cohort-create", args=[program.code])).status_code == 403

    def test_the_instructor_sees_the_roster_of_the_cohort_they_teach(self, client, irene, cohort, alice, bob):
        page = get(client, irene, reverse("curriculum:cohort-detail", args=[cohort.pk])).content.decode()
        assert alice.last_name in page and bob.last_name in page

    def test_an_instructor_of_another_cohort_gets_404(self, client, ivan, cohort):
        assert get(client, ivan, reverse("curriculum:cohort-detail", args=[cohort.pk])).status_code == 404

    def test_a_student_gets_404_for_the_cohort_roster(self, client, alice, cohort):
        assert get(client, alice, reverse("curriculum:cohort-detail", args=[cohort.pk])).status_code == 404

    def test_cohort_detail_rejects_post(self, client, irene, cohort):
        assert post(client, irene, reverse("curriculum:cohort-detail", args=[cohort.pk])).status_code == 405

    def test_the_roster_can_show_withdrawn_students(self, client, dana, cohort, alice):
        factories.EnrollmentFactory(cohort=cohort, student__last_name="Gone", withdrawn_on=cohort.start_on)
        url = reverse("curriculum:cohort-detail", args=[cohort.pk])
        assert "Gone" not in get(client, dana, url).content.decode()
        assert "Gone" in get(client, dana, url + "?status=withdrawn").content.decode()

    def test_a_coordinator_edits_a_cohort(self, client, carlos, cohort):
        url = reverse("curriculum:cohort-edit", args=[cohort.pk])
        data = self.cohort_data(
            code=cohort.code,
            name="Renamed",
            start_on=cohort.start_on.isoformat(),
            expected_graduation_on=cohort.expected_graduation_on.isoformat(),
        )
        assert post(client, carlos, url, data).status_code == 302
        cohort.refresh_from_db()
        assert cohort.name == "Renamed"

    def test_an_instructor_may_not_edit_their_cohort(self, client, irene, cohort):
        assert get(client, irene, reverse("curriculum:cohort-edit", args=[cohort.pk])).status_code == 403

    def test_editing_another_programs_cohort_is_404(self, client, carlos, elsewhere):
        assert get(client, carlos, reverse("curriculum:cohort-edit", args=[elsewhere["cohort"].pk])).status_code == 404

    def test_cohort_edit_rejects_put(self, client, carlos, cohort):
        client.force_login(carlos)
        assert client.put(reverse("curriculum:cohort-edit", args=[cohort.pk])).status_code == 405


class TestCoursesAndOfferings:
    def test_a_coordinator_creates_a_course(self, client, carlos, program):
        url = reverse("curriculum:course-create", args=[program.code])
        assert post(client, carlos, url, {"code": "MA200", "title": "EKG"}).status_code == 302
        assert Course.objects.filter(program=program, code="MA200").exists()

    def test_a_duplicate_course_code_is_refused(self, client, carlos, program):
        factories.CourseFactory(program=program, code="MA200")
        response = post(
            client, carlos, reverse("curriculum:course-create", args=[program.code]), {"code": "MA200", "title": "x"}
        )
        assert response.status_code == 200
        assert response.context["form"].errors

    def test_an_instructor_may_not_create_courses(self, client, irene, program):
        assert post(client, irene, reverse("curriculum:course-create", args=[program.code])).status_code == 403

    def test_course_edit_of_another_program_is_404(self, client, carlos, elsewhere):
        course = elsewhere["offering"].course
        assert get(client, carlos, reverse("curriculum:course-edit", args=[course.pk])).status_code == 404

    def test_course_edit_rejects_delete(self, client, carlos, offering):
        client.force_login(carlos)
        assert client.delete(reverse("curriculum:course-edit", args=[offering.course.pk])).status_code == 405

    def test_a_coordinator_schedules_an_offering_and_its_instructor_joins_the_cohort(
        self, client, carlos, cohort, program
    ):
        course = factories.CourseFactory(program=program)
        teacher = factories.StaffFactory(program=program, role=StaffRole.Role.INSTRUCTOR).user
        data = {
            "course": course.pk,
            "instructor": teacher.pk,
            "starts_on": cohort.start_on.isoformat(),
            "ends_on": (cohort.start_on + timedelta(days=30)).isoformat(),
        }
        response = post(client, carlos, reverse("curriculum:offering-create", args=[cohort.pk]), data)
        assert response.status_code == 302
        assert CourseOffering.objects.filter(course=course, cohort=cohort, instructor=teacher).exists()
        assert cohort.instructors.filter(pk=teacher.pk).exists()

    def test_an_offering_outside_the_cohorts_dates_is_refused_on_its_field(self, client, carlos, cohort, program):
        course = factories.CourseFactory(program=program)
        data = {
            "course": course.pk,
            "starts_on": (cohort.start_on - timedelta(days=1)).isoformat(),
            "ends_on": (cohort.start_on + timedelta(days=30)).isoformat(),
        }
        response = post(client, carlos, reverse("curriculum:offering-create", args=[cohort.pk]), data)
        assert "starts_on" in response.context["form"].errors
        assert not CourseOffering.objects.filter(course=course).exists()

    def test_a_course_of_another_program_cannot_be_chosen(self, client, carlos, cohort, elsewhere):
        data = {
            "course": elsewhere["offering"].course.pk,
            "starts_on": cohort.start_on.isoformat(),
            "ends_on": cohort.start_on.isoformat(),
        }
        response = post(client, carlos, reverse("curriculum:offering-create", args=[cohort.pk]), data)
        assert "course" in response.context["form"].errors

    def test_an_instructor_may_not_schedule_offerings(self, client, irene, cohort):
        assert get(client, irene, reverse("curriculum:offering-create", args=[cohort.pk])).status_code == 403

    def test_an_instructor_may_not_edit_the_offering_they_teach(self, client, irene, offering):
        assert get(client, irene, reverse("curriculum:offering-edit", args=[offering.pk])).status_code == 403

    def test_offering_edit_of_another_program_is_404(self, client, carlos, elsewhere):
        assert (
            get(client, carlos, reverse("curriculum:offering-edit", args=[elsewhere["offering"].pk])).status_code == 404
        )

    def test_offering_create_rejects_patch(self, client, carlos, cohort):
        client.force_login(carlos)
        assert client.patch(reverse("curriculum:offering-create", args=[cohort.pk])).status_code == 405


class TestOfferingPage:
    def test_the_instructor_sees_assignments_with_grading_progress(self, client, irene, offering, assignment):
        response = get(client, irene, reverse("curriculum:offering-detail", args=[offering.pk]))
        assert response.templates[0].name == "curriculum/offering_detail.html"
        assert assignment.title in response.content.decode()

    def test_the_student_sees_their_own_assignments_and_grades(self, client, alice, bob, offering, assignment):
        factories.GradeFactory(assignment=assignment, enrollment=alice.enrollments.get(), points_earned=Decimal("18"))
        factories.GradeFactory(assignment=assignment, enrollment=bob.enrollments.get(), points_earned=Decimal("11"))
        response = get(client, alice, reverse("curriculum:offering-detail", args=[offering.pk]))
        page = response.content.decode()
        assert response.templates[0].name == "curriculum/offering_student.html"
        assert "18 / 20" in page
        assert "11 / 20" not in page

    def test_a_student_of_another_cohort_gets_404(self, client, offering, other_cohort):
        stranger = factories.EnrollmentFactory(cohort=other_cohort).student
        assert get(client, stranger, reverse("curriculum:offering-detail", args=[offering.pk])).status_code == 404

    def test_an_instructor_of_another_cohort_gets_404(self, client, ivan, offering):
        assert get(client, ivan, reverse("curriculum:offering-detail", args=[offering.pk])).status_code == 404

    def test_offering_detail_rejects_post(self, client, irene, offering):
        assert post(client, irene, reverse("curriculum:offering-detail", args=[offering.pk])).status_code == 405


class TestAssignments:
    def test_the_instructor_adds_an_assignment_due_in_the_programs_time_zone(self, client, irene, offering):
        data = {"title": "Vitals quiz", "kind": "quiz", "due_at": "2026-12-01T23:59", "points": "25"}
        assert post(client, irene, reverse("curriculum:assignment-create", args=[offering.pk]), data).status_code == 302
        assignment = Assignment.objects.get(title="Vitals quiz")
        # 23:59 in Chicago (UTC-6 in December) is 05:59 UTC the next day.
        assert assignment.due_at.isoformat() == "2026-12-02T05:59:00+00:00"

    def test_zero_points_are_refused_on_the_points_field(self, client, irene, offering):
        data = {"title": "Quiz", "kind": "quiz", "due_at": "2026-12-01T10:00", "points": "0"}
        response = post(client, irene, reverse("curriculum:assignment-create", args=[offering.pk]), data)
        assert "points" in response.context["form"].errors

    def test_a_student_may_not_add_assignments(self, client, alice, offering):
        assert get(client, alice, reverse("curriculum:assignment-create", args=[offering.pk])).status_code == 403

    def test_an_instructor_of_another_cohort_gets_404(self, client, ivan, offering):
        assert get(client, ivan, reverse("curriculum:assignment-create", args=[offering.pk])).status_code == 404

    def test_the_instructor_edits_an_assignment(self, client, irene, assignment):
        data = {"title": "Renamed", "kind": "exam", "due_at": "2026-12-01T10:00", "points": "50"}
        assert post(client, irene, reverse("curriculum:assignment-edit", args=[assignment.pk]), data).status_code == 302
        assignment.refresh_from_db()
        assert (assignment.title, assignment.points) == ("Renamed", Decimal(50))

    def test_a_student_may_not_edit_assignments(self, client, alice, assignment):
        assert post(client, alice, reverse("curriculum:assignment-edit", args=[assignment.pk])).status_code == 403

    def test_assignment_edit_of_another_program_is_404(self, client, irene, elsewhere):
        assert (
            get(client, irene, reverse("curriculum:assignment-edit", args=[elsewhere["assignment"].pk])).status_code
            == 404
        )

    def test_assignment_create_rejects_put(self, client, irene, offering):
        client.force_login(irene)
        assert client.put(reverse("curriculum:assignment-create", args=[offering.pk])).status_code == 405


class TestGradebook:
    def test_the_instructor_sees_every_current_student(self, client, irene, offering, alice, bob, assignment):
        page = get(client, irene, reverse("curriculum:gradebook", args=[offering.pk])).content.decode()
        assert alice.last_name in page and bob.last_name in page

    def test_a_student_may_not_open_the_gradebook(self, client, alice, offering):
        assert get(client, alice, reverse("curriculum:gradebook", args=[offering.pk])).status_code == 403

    def test_an_instructor_of_another_cohort_gets_404(self, client, ivan, offering):
        assert get(client, ivan, reverse("curriculum:gradebook", args=[offering.pk])).status_code == 404

    def test_gradebook_rejects_post(self, client, irene, offering):
        assert post(client, irene, reverse("curriculum:gradebook", args=[offering.pk])).status_code == 405

    def test_a_grade_entered_with_htmx_returns_the_cell_alone(self, client, irene, assignment, alice):
        enrollment = alice.enrollments.get()
        url = reverse("curriculum:grade-cell", args=[assignment.pk, enrollment.pk])
        response = post(client, irene, url, {"points_earned": "17.5"}, HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        assert response.content.decode().lstrip().startswith("<td")
        grade = Grade.objects.get(assignment=assignment, enrollment=enrollment)
        assert (grade.points_earned, grade.graded_by) == (Decimal("17.5"), irene)

    def test_a_grade_can_be_changed_and_cleared(self, client, irene, assignment, alice):
        enrollment = alice.enrollments.get()
        url = reverse("curriculum:grade-cell", args=[assignment.pk, enrollment.pk])
        post(client, irene, url, {"points_earned": "10"}, HTTP_HX_REQUEST="true")
        post(client, irene, url, {"points_earned": "12"}, HTTP_HX_REQUEST="true")
        assert Grade.objects.get(assignment=assignment, enrollment=enrollment).points_earned == 12
        post(client, irene, url, {"points_earned": ""}, HTTP_HX_REQUEST="true")
        assert not Grade.objects.filter(assignment=assignment, enrollment=enrollment).exists()

    @pytest.mark.parametrize(
        ("points", "message"), [("21", "At most 20"), ("-1", "greater than or equal"), ("ten", "number")]
    )
    def test_a_bad_grade_says_why_and_saves_nothing(self, client, irene, assignment, alice, points, message):
        enrollment = alice.enrollments.get()
        url = reverse("curriculum:grade-cell", args=[assignment.pk, enrollment.pk])
        response = post(client, irene, url, {"points_earned": points}, HTTP_HX_REQUEST="true")
        assert response.status_code == 422
        assert message in response.content.decode()
        assert not Grade.objects.exists()

    def test_without_htmx_the_gradebook_is_shown_again(self, client, irene, assignment, alice):
        url = reverse("curriculum:grade-cell", args=[assignment.pk, alice.enrollments.get().pk])
        response = post(client, irene, url, {"points_earned": "20"})
        assert response.status_code == 302
        assert response.url == reverse("curriculum:gradebook", args=[assignment.offering_id])

    def test_a_student_may_not_grade_even_themselves(self, client, alice, assignment):
        url = reverse("curriculum:grade-cell", args=[assignment.pk, alice.enrollments.get().pk])
        assert post(client, alice, url, {"points_earned": "20"}).status_code == 403
        assert not Grade.objects.exists()

    def test_a_cohort_instructor_who_does_not_teach_the_course_may_not_grade_it(
        self, client, cohort, assignment, alice, program
    ):
        colleague = factories.StaffFactory(program=program, role=StaffRole.Role.INSTRUCTOR).user
        cohort.instructors.add(colleague)
        url = reverse("curriculum:grade-cell", args=[assignment.pk, alice.enrollments.get().pk])
        assert post(client, colleague, url, {"points_earned": "20"}).status_code == 403

    def test_grading_a_student_of_another_cohort_is_404(self, client, irene, assignment, other_cohort):
        stranger = factories.EnrollmentFactory(cohort=other_cohort)
        url = reverse("curriculum:grade-cell", args=[assignment.pk, stranger.pk])
        assert post(client, irene, url, {"points_earned": "20"}).status_code == 404

    def test_an_instructor_of_another_cohort_cannot_grade_404(self, client, ivan, assignment, alice):
        url = reverse("curriculum:grade-cell", args=[assignment.pk, alice.enrollments.get().pk])
        assert post(client, ivan, url, {"points_earned": "20"}).status_code == 404

    def test_grade_cell_rejects_get(self, client, irene, assignment, alice):
        url = reverse("curriculum:grade-cell", args=[assignment.pk, alice.enrollments.get().pk])
        assert get(client, irene, url).status_code == 405


def test_a_cohort_instructor_who_does_not_grade_sees_the_gradebook_read_only(client, cohort, offering, alice, program):
    colleague = factories.StaffFactory(program=program, role=StaffRole.Role.INSTRUCTOR).user
    cohort.instructors.add(colleague)
    graded, ungraded = factories.AssignmentFactory(offering=offering), factories.AssignmentFactory(offering=offering)
    factories.GradeFactory(assignment=graded, enrollment=alice.enrollments.get(), points_earned=Decimal("12.50"))
    client.force_login(colleague)
    page = client.get(reverse("curriculum:gradebook", args=[offering.pk])).content.decode()
    assert "12.5" in page
    assert 'name="points_earned"' not in page
    assert ungraded.title in page
