"""Competency progress: the cohort grid, the program across cohorts, and a student's own progress."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from html import unescape
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils.formats import date_format

from accounts.models import AccessLog
from curriculum import progress, services
from curriculum.models import Competency, StaffRole
from tests import factories
from tests.curriculum.test_checkoffs import without_triggers
from tests.queries import queries_for


@pytest.fixture
def framework(program):
    framework = factories.FrameworkFactory()
    program.framework = framework
    program.save()
    return framework


@pytest.fixture
def vitals(framework):
    return factories.ContentAreaFactory(framework=framework, code="I", title="Anatomy and physiology", order=1)


@pytest.fixture
def ethics(framework):
    return factories.ContentAreaFactory(framework=framework, code="X", title="Legal and ethics", order=2)


@pytest.fixture
def blood_pressure(framework, vitals):
    return factories.CompetencyFactory(framework=framework, content_area=vitals, code="I.P.1.a", title="blood pressure")


@pytest.fixture
def pulse(framework, vitals):
    return factories.CompetencyFactory(framework=framework, content_area=vitals, code="I.P.1.c", title="pulse")


@pytest.fixture
def empathy(framework, ethics):
    return factories.CompetencyFactory(
        framework=framework, content_area=ethics, code="X.A.1", title="Demonstrate empathy", domain="A"
    )


@pytest.fixture
def competencies(framework, vitals, blood_pressure, pulse, empathy):
    """Three signed-off items, and two that are not: a cognitive one and a heading."""
    factories.CompetencyFactory(framework=framework, content_area=vitals, code="I.C.1", domain="C")
    factories.CompetencyFactory(framework=framework, content_area=vitals, code="I.P.1", is_tracked=False)
    return [blood_pressure, pulse, empathy]


def enrollment_of(student):
    return student.enrollments.get()


def cell_status(student, competency) -> str:
    enrollment = enrollment_of(student)
    cell = progress.cells([enrollment.pk], [competency.pk]).get((enrollment.pk, competency.pk), progress.NOT_STARTED)
    return cell.status


class TestStatus:
    def test_a_signed_pass_is_achieved(self, alice, irene, blood_pressure):
        factories.check_off(enrollment_of(alice), blood_pressure, irene)
        assert cell_status(alice, blood_pressure) == "achieved"

    def test_a_signed_fail_is_attempted(self, alice, irene, blood_pressure):
        factories.check_off(enrollment_of(alice), blood_pressure, irene, passed=False)
        assert cell_status(alice, blood_pressure) == "attempted"

    def test_a_revoked_pass_does_not_count(self, alice, irene, dana, blood_pressure):
        attempt = factories.check_off(enrollment_of(alice), blood_pressure, irene)
        services.revoke_signature(signature=attempt.signature, revoked_by=dana, reason="Wrong student on the tablet.")
        assert cell_status(alice, blood_pressure) == "attempted"
        assert progress.summary(enrollment_of(alice))[0] == 0

    def test_a_later_failed_attempt_leaves_the_pass_standing(self, alice, irene, blood_pressure):
        factories.check_off(enrollment_of(alice), blood_pressure, irene)
        factories.check_off(enrollment_of(alice), blood_pressure, irene, passed=False)
        assert cell_status(alice, blood_pressure) == "achieved"

    def test_an_unsigned_draft_counts_for_nothing(self, alice, irene, blood_pressure):
        factories.check_off(enrollment_of(alice), blood_pressure, irene, signed=False)
        assert cell_status(alice, blood_pressure) == "not_started"

    def test_the_summary_counts_only_signed_off_competencies(self, alice, irene, competencies, blood_pressure, pulse):
        factories.check_off(enrollment_of(alice), blood_pressure, irene)
        factories.check_off(enrollment_of(alice), blood_pressure, irene)
        factories.check_off(enrollment_of(alice), pulse, irene, signed=False)
        assert progress.summary(enrollment_of(alice)) == (1, 3)


def grid_url(cohort, **params) -> str:
    url = reverse("curriculum:competency-grid", args=[cohort.pk])
    return f"{url}?{urlencode(params)}" if params else url


def open_grid(client, user, cohort, **params):
    client.force_login(user)
    return client.get(grid_url(cohort, **params))


def plan_practicum(student, starts_in_days: int, **fields):
    from tests.externship_factories import PlacementFactory

    start_on = date.today() + timedelta(days=starts_in_days)
    return PlacementFactory(
        enrollment=enrollment_of(student), start_on=start_on, end_on=start_on + timedelta(days=60), **fields
    )


VIEWS = ["attention", "student", "competency", "all"]


class TestGridViews:
    def test_the_default_view_is_who_needs_attention(self, client, irene, alice, cohort, competencies):
        response = open_grid(client, irene, cohort)
        page = response.content.decode()
        assert response.status_code == 200
        assert response.context["view"] == "attention"
        assert 'aria-current="page">Needs attention</a>' in page
        for view in ("student", "competency", "all"):
            assert f'href="{grid_url(cohort, view=view)}"' in page

    def test_an_unknown_view_is_the_default(self, client, irene, alice, cohort, competencies):
        assert open_grid(client, irene, cohort, view="everything\x00").context["view"] == "attention"

    @pytest.mark.parametrize("view", VIEWS)
    @pytest.mark.parametrize("who", ["irene", "carlos", "dana"])
    def test_the_cohorts_instructor_and_the_programs_staff_see_each_view(
        self, client, request, cohort, alice, competencies, view, who
    ):
        response = open_grid(client, request.getfixturevalue(who), cohort, view=view)
        assert response.status_code == 200
        assert f'aria-current="page">{response.context["views"][VIEWS.index(view)][0].label}</a>' in (
            response.content.decode()
        )

    @pytest.mark.parametrize("view", VIEWS)
    @pytest.mark.parametrize("who", ["ivan", "alice", "olga"])
    def test_another_cohorts_instructor_a_student_and_an_outsider_get_404(
        self, client, request, cohort, alice, competencies, view, who
    ):
        assert open_grid(client, request.getfixturevalue(who), cohort, view=view).status_code == 404

    @pytest.mark.parametrize("view", VIEWS)
    def test_each_view_rejects_post(self, client, irene, cohort, competencies, view):
        client.force_login(irene)
        assert client.post(grid_url(cohort, view=view)).status_code == 405

    def test_a_coordinator_may_look_but_not_check_off(self, client, carlos, alice, cohort, competencies):
        """Every view leads a coordinator to the attempts; the checklist itself refuses them."""
        for view, params in [("attention", {}), ("competency", {"competency": competencies[0].pk}), ("all", {})]:
            page = open_grid(client, carlos, cohort, view=view, **params).content.decode()
            attempts = reverse("curriculum:competency-attempts", args=[enrollment_of(alice).pk, competencies[0].pk])
            assert attempts in page, view
            assert '/checkoff/"' not in page, view
        checklist = reverse("curriculum:checkoff-new", args=[enrollment_of(alice).pk, competencies[0].pk])
        assert client.get(checklist).status_code == 403

    def test_looking_at_any_view_is_not_a_view_of_one_students_record(self, client, irene, alice, cohort, competencies):
        factories.check_off(enrollment_of(alice), competencies[0], irene)
        for view in VIEWS:
            open_grid(client, irene, cohort, view=view, competency=competencies[0].pk)
        assert not AccessLog.objects.filter(action="view").exists()

    @pytest.mark.parametrize("view", VIEWS)
    def test_a_program_without_a_framework_says_so(self, client, irene, alice, cohort, view):
        response = open_grid(client, irene, cohort, view=view)
        assert response.status_code == 200
        assert "no competency framework" in response.content.decode()

    def test_the_cohort_page_links_to_the_grid(self, client, irene, cohort):
        client.force_login(irene)
        page = client.get(reverse("curriculum:cohort-detail", args=[cohort.pk])).content.decode()
        assert reverse("curriculum:competency-grid", args=[cohort.pk]) in page


class TestNeedsAttention:
    def test_it_lists_who_is_missing_what_by_code_and_name(
        self, client, irene, alice, bob, cohort, competencies, blood_pressure, pulse, empathy
    ):
        for competency in competencies:
            factories.check_off(enrollment_of(alice), competency, irene)
        factories.check_off(enrollment_of(bob), blood_pressure, irene)
        factories.check_off(enrollment_of(bob), pulse, irene, passed=False)
        response = open_grid(client, irene, cohort)
        (student,) = response.context["students"]
        assert student.enrollment.student == bob
        assert [(item.competency, item.words) for item in student.missing] == [
            (pulse, "Attempted, not passed yet, 1 attempt"),
            (empathy, "Not started"),
        ]
        page = response.content.decode()
        assert "1 of 2 current students has competencies left." in page
        assert "2 of 3 competencies missing" in page
        assert '<span class="fw-semibold">X.A.1</span> Demonstrate empathy' in page
        assert reverse("curriculum:checkoff-new", args=[enrollment_of(bob).pk, empathy.pk]) in page
        assert reverse("curriculum:checkoff-new", args=[enrollment_of(bob).pk, blood_pressure.pk]) not in page
        assert alice.sortable_name not in page

    def test_the_soonest_practicum_comes_first_then_the_most_missing(self, client, irene, cohort, competencies):
        def student(name: str, achieved: int, practicum_in: int | None = None):
            enrollment = factories.EnrollmentFactory(cohort=cohort, student__last_name=name)
            for competency in competencies[:achieved]:
                factories.check_off(enrollment, competency, irene)
            if practicum_in is not None:
                plan_practicum(enrollment.student, practicum_in)
            return enrollment.student

        later = student("Later", achieved=2, practicum_in=30)
        soon = student("Soon", achieved=2, practicum_in=10)
        most_missing = student("Most", achieved=0)
        fewer_missing = student("Fewer", achieved=1)
        student("Done", achieved=3, practicum_in=5)
        response = open_grid(client, irene, cohort)
        assert [row.enrollment.student for row in response.context["students"]] == [
            soon,
            later,
            most_missing,
            fewer_missing,
        ]
        day = date_format(date.today() + timedelta(days=10), "DATE_FORMAT")
        page = response.content.decode()
        assert f"Practicum starts on {day}" in page
        assert "No practicum planned yet" in page

    def test_a_withdrawn_placement_is_no_practicum(self, client, irene, alice, cohort, competencies):
        from externships.models import Placement

        plan_practicum(alice, 10, state=Placement.State.WITHDRAWN)
        (student,) = open_grid(client, irene, cohort).context["students"]
        assert student.practicum_starts_on is None

    def test_a_student_missing_many_shows_a_few_and_folds_the_rest(
        self, client, irene, alice, cohort, framework, vitals, competencies
    ):
        for number in range(5):
            factories.CompetencyFactory(framework=framework, content_area=vitals, code=f"I.P.{number + 2}")
        (student,) = open_grid(client, irene, cohort).context["students"]
        assert (len(student.missing), len(student.shown), len(student.folded)) == (8, 5, 3)
        assert "3 more competencies" in open_grid(client, irene, cohort).content.decode()

    def test_one_more_than_the_few_is_listed_rather_than_folded(
        self, client, irene, alice, cohort, framework, vitals, competencies
    ):
        for number in range(3):
            factories.CompetencyFactory(framework=framework, content_area=vitals, code=f"I.P.{number + 2}")
        (student,) = open_grid(client, irene, cohort).context["students"]
        assert (len(student.shown), student.folded) == (6, [])

    def test_a_revoked_pass_leaves_the_competency_missing(self, client, irene, dana, alice, cohort, competencies):
        attempts = [factories.check_off(enrollment_of(alice), competency, irene) for competency in competencies]
        services.revoke_signature(signature=attempts[1].signature, revoked_by=dana, reason="Wrong student.")
        (student,) = open_grid(client, irene, cohort).context["students"]
        assert [(item.competency, item.cell.status) for item in student.missing] == [(competencies[1], "attempted")]

    def test_withdrawn_students_are_not_listed(self, client, irene, alice, bob, cohort, competencies):
        enrollment = enrollment_of(bob)
        enrollment.withdrawn_on = enrollment.admitted_on
        enrollment.save()
        assert [row.enrollment.student for row in open_grid(client, irene, cohort).context["students"]] == [alice]

    def test_a_cohort_with_everything_achieved_is_told_so(self, client, irene, alice, cohort, competencies):
        for competency in competencies:
            factories.check_off(enrollment_of(alice), competency, irene)
        page = open_grid(client, irene, cohort).content.decode()
        assert "check-offs no longer stand in the way of anyone's practicum" in page


class TestByStudent:
    def test_it_offers_the_current_students_and_how_far_each_is(self, client, irene, alice, bob, cohort, competencies):
        factories.check_off(enrollment_of(alice), competencies[0], irene)
        enrollment = enrollment_of(bob)
        enrollment.withdrawn_on = enrollment.admitted_on
        enrollment.save()
        response = open_grid(client, irene, cohort, view="student")
        assert response.context["enrollments"] == [enrollment_of(alice)]
        page = response.content.decode()
        assert f'<option value="{enrollment_of(alice).pk}">{alice.sortable_name}</option>' in page
        assert "1 of 3 achieved" in page
        assert reverse("curriculum:student-competencies", args=[enrollment_of(alice).pk]) in page

    def test_choosing_a_student_opens_their_record(self, client, irene, alice, cohort, competencies):
        response = open_grid(client, irene, cohort, view="student", enrollment=enrollment_of(alice).pk)
        assert response.status_code == 302
        assert response["Location"] == reverse("curriculum:student-competencies", args=[enrollment_of(alice).pk])

    @pytest.mark.parametrize("value", ["", "abc", "1" * 40, "\x00"])
    def test_no_student_or_one_that_is_not_there_asks_again(self, client, irene, alice, cohort, competencies, value):
        response = open_grid(client, irene, cohort, view="student", enrollment=value)
        assert response.status_code == 200
        assert "Choose a current student of this cohort." in response.content.decode()

    def test_a_student_of_another_cohort_is_not_opened(self, client, irene, alice, other_cohort, cohort, competencies):
        stranger = factories.EnrollmentFactory(cohort=other_cohort)
        response = open_grid(client, irene, cohort, view="student", enrollment=stranger.pk)
        assert response.status_code == 200
        assert response.context["not_found"]


class TestByCompetency:
    def test_every_current_student_is_grouped_by_status(
        self, client, irene, alice, bob, cohort, competencies, blood_pressure
    ):
        carol = factories.EnrollmentFactory(cohort=cohort, student__first_name="Carol").student
        factories.check_off(enrollment_of(alice), blood_pressure, irene, passed=False)
        factories.check_off(enrollment_of(alice), blood_pressure, irene, passed=False)
        factories.check_off(enrollment_of(bob), blood_pressure, irene)
        response = open_grid(client, irene, cohort, view="competency", competency=blood_pressure.pk)
        groups = {status: [row.enrollment.student for row in rows] for status, rows in response.context["groups"]}
        assert groups == {"attempted": [alice], "not_started": [carol], "achieved": [bob]}
        page = response.content.decode()
        assert "1 of 3 current students have achieved it." in page
        assert "2 signed attempts, the last on" in page

    def test_an_instructor_checks_off_who_has_not_achieved_it_and_sees_the_attempts_of_who_has(
        self, client, irene, alice, bob, cohort, competencies, blood_pressure
    ):
        factories.check_off(enrollment_of(bob), blood_pressure, irene)
        page = open_grid(client, irene, cohort, view="competency", competency=blood_pressure.pk).content.decode()
        assert reverse("curriculum:checkoff-new", args=[enrollment_of(alice).pk, blood_pressure.pk]) in page
        assert reverse("curriculum:competency-attempts", args=[enrollment_of(bob).pk, blood_pressure.pk]) in page
        assert reverse("curriculum:checkoff-new", args=[enrollment_of(bob).pk, blood_pressure.pk]) not in page

    def test_the_picker_groups_competencies_by_content_area(self, client, irene, cohort, competencies, vitals):
        page = open_grid(client, irene, cohort, view="competency").content.decode()
        assert f'<optgroup label="{vitals}">' in page
        assert "I.P.1.a blood pressure</option>" in page

    @pytest.mark.parametrize("value", ["", "abc", "1" * 40, "\x00"])
    def test_no_competency_or_one_that_is_not_there_asks_again(self, client, irene, alice, cohort, competencies, value):
        response = open_grid(client, irene, cohort, view="competency", competency=value)
        assert response.status_code == 200
        assert "Choose a competency of this program." in response.content.decode()

    def test_a_competency_not_signed_off_is_not_offered(self, client, irene, alice, cohort, competencies):
        cognitive = Competency.objects.get(code="I.C.1")
        response = open_grid(client, irene, cohort, view="competency", competency=cognitive.pk)
        assert (response.context["competency"], response.context["not_found"]) == (None, True)


@dataclass
class PrintedCell:
    status: str
    symbol: str
    label: str
    shown: bool


CELL = re.compile(
    r'<td class="grid-td( grid-filtered)?">(?:<a class="grid-cell grid-(\w+)" href="[^"]*">'
    r'<span aria-hidden="true">([^<]*)</span><span class="visually-hidden">([^<]*)</span></a>)?</td>'
)


def printed_cells(row) -> list[PrintedCell]:
    """A row's cells as the page prints them: a cell the filter leaves out is an empty, shaded one."""
    return [
        PrintedCell(status, unescape(symbol), unescape(label), shown=not filtered)
        for filtered, status, symbol, label in CELL.findall(str(row.cells_html))
    ]


class TestMatrix:
    def get(self, client, user, cohort, **params):
        return open_grid(client, user, cohort, view="all", **params)

    def test_the_instructor_sees_every_student_and_competency(self, client, irene, alice, bob, cohort, competencies):
        factories.check_off(enrollment_of(alice), competencies[0], irene)
        response = self.get(client, irene, cohort)
        page = response.content.decode()
        assert response.status_code == 200
        assert alice.sortable_name in page and bob.sortable_name in page
        assert all(competency.code in page for competency in competencies)
        assert "I.C.1" not in page
        assert "1 of 3 achieved" in page and "0 of 3 achieved" in page
        assert reverse("curriculum:checkoff-new", args=[enrollment_of(bob).pk, competencies[1].pk]) in page

    def test_cells_say_their_status_in_words_not_colour_alone(self, client, irene, alice, cohort, competencies):
        factories.check_off(enrollment_of(alice), competencies[0], irene)
        factories.check_off(enrollment_of(alice), competencies[1], irene, passed=False)
        rows = self.get(client, irene, cohort).context["rows"]
        assert [cell.label for cell in printed_cells(rows[0])] == [
            "Achieved",
            "Attempted, not passed yet, 1 attempt",
            "Not started",
        ]
        assert [cell.symbol for cell in printed_cells(rows[0])] == ["✓", "✗\u00a01", "○"]
        assert 'class="visually-hidden">Attempted, not passed yet, 1 attempt</span>' in rows[0].cells_html

    def test_the_codes_are_explained_on_the_page_not_on_hover(self, client, irene, alice, cohort, competencies):
        page = self.get(client, irene, cohort).content.decode()
        assert "<abbr" not in page and " title=" not in page
        codes = page.split('id="grid-codes"', 1)[1]
        assert "<dt>I.P.1.a</dt><dd>blood pressure</dd>" in codes
        assert "<dt>X.A.1</dt><dd>Demonstrate empathy</dd>" in codes

    def test_a_code_leads_to_the_cohort_on_that_competency(self, client, irene, alice, cohort, competencies):
        page = self.get(client, irene, cohort).content.decode()
        assert f'href="{grid_url(cohort, view="competency")}&amp;competency={competencies[0].pk}"' in page

    def test_the_matrix_is_one_keyboard_grid(self, client, irene, alice, cohort, competencies):
        page = self.get(client, irene, cohort).content.decode()
        assert page.count('role="grid"') == 1 and "data-competency-grid" in page
        assert "/static/js/competency_grid.js" in page

    def test_a_coordinator_is_led_to_the_attempts_not_the_checklist(self, client, carlos, alice, cohort, competencies):
        page = self.get(client, carlos, cohort).content.decode()
        assert reverse("curriculum:competency-attempts", args=[enrollment_of(alice).pk, competencies[0].pk]) in page
        assert "/checkoff/" not in page.split("<table", 1)[1]

    def test_the_area_filter_keeps_that_areas_columns_and_codes(
        self, client, irene, alice, cohort, competencies, ethics
    ):
        response = self.get(client, irene, cohort, area=ethics.pk)
        assert [competency.code for competency in response.context["columns"]] == ["X.A.1"]
        assert "<dt>I.P.1.a</dt>" not in response.content.decode()

    def test_the_not_achieved_filter_hides_students_who_are_done(self, client, irene, alice, bob, cohort, competencies):
        for competency in competencies:
            factories.check_off(enrollment_of(alice), competency, irene)
        factories.check_off(enrollment_of(bob), competencies[0], irene)
        rows = self.get(client, irene, cohort, status="not_achieved").context["rows"]
        assert [row.enrollment.student for row in rows] == [bob]
        assert [cell.shown for cell in printed_cells(rows[0])] == [False, True, True]

    def test_the_attempted_filter_finds_who_needs_a_retry(self, client, irene, alice, bob, cohort, competencies):
        factories.check_off(enrollment_of(alice), competencies[1], irene, passed=False)
        factories.check_off(enrollment_of(bob), competencies[1], irene)
        rows = self.get(client, irene, cohort, status="attempted").context["rows"]
        assert [row.enrollment.student for row in rows] == [alice]
        assert [cell.shown for cell in printed_cells(rows[0])] == [False, True, False]

    def test_filters_combine_per_area(self, client, irene, alice, bob, cohort, competencies, ethics):
        factories.check_off(enrollment_of(alice), competencies[2], irene)
        rows = self.get(client, irene, cohort, area=ethics.pk, status="not_achieved").context["rows"]
        assert [row.enrollment.student for row in rows] == [bob]

    def test_a_malformed_area_or_status_is_no_filter(self, client, irene, alice, cohort, competencies):
        response = self.get(client, irene, cohort, area="1" * 40, status="\x00")
        assert (len(response.context["columns"]), response.context["status"]) == (3, "")

    def test_a_revoked_pass_shows_as_attempted_and_is_not_counted(
        self, client, irene, dana, alice, cohort, competencies
    ):
        attempt = factories.check_off(enrollment_of(alice), competencies[0], irene)
        services.revoke_signature(signature=attempt.signature, revoked_by=dana, reason="Wrong student.")
        (row,) = self.get(client, irene, cohort).context["rows"]
        assert (row.achieved, printed_cells(row)[0].status) == (0, "attempted")

    def test_a_cohort_of_forty_is_one_page_not_a_page_and_a_few(self, client, irene, cohort, competencies):
        for _ in range(40):
            factories.EnrollmentFactory(cohort=cohort)
        response = self.get(client, irene, cohort)
        assert (len(response.context["rows"]), response.context["page"].paginator.num_pages) == (40, 1)

    def test_pages_keep_the_view_and_the_filters(self, client, irene, cohort, competencies):
        for _ in range(41):
            factories.EnrollmentFactory(cohort=cohort)
        response = self.get(client, irene, cohort, status="not_started")
        assert [len(response.context["rows"]), response.context["page"].paginator.num_pages] == [30, 2]
        assert "?view=all&amp;status=not_started&amp;page=2" in response.content.decode()

    def test_withdrawn_students_are_not_in_the_grid(self, client, irene, alice, bob, cohort, competencies):
        enrollment = enrollment_of(bob)
        enrollment.withdrawn_on = enrollment.admitted_on
        enrollment.save()
        assert bob.sortable_name not in self.get(client, irene, cohort).content.decode()


class TestProgramCompetencies:
    def url(self, program):
        return reverse("curriculum:program-competencies", args=[program.code])

    def test_the_director_sees_who_is_ready_per_cohort_and_the_share_per_area(
        self, client, dana, irene, alice, bob, cohort, program, competencies, vitals
    ):
        for competency in competencies:
            factories.check_off(enrollment_of(alice), competency, irene)
        factories.check_off(enrollment_of(bob), competencies[0], irene)
        client.force_login(dana)
        response = client.get(self.url(program))
        assert response.status_code == 200
        (row,) = [row for row in response.context["rows"] if row.cohort == cohort]
        assert (row.cohort.current_students, row.cohort.ready) == (2, 1)
        # Vitals: alice 2 of 2, bob 1 of 2 → 3 of 4; ethics: alice only → 1 of 2.
        assert [(share.achieved, share.possible, share.percent) for share in row.areas] == [(3, 4, 75), (1, 2, 50)]
        assert row.percent == 67
        assert reverse("curriculum:competency-grid", args=[cohort.pk]) in response.content.decode()

    def test_a_revoked_pass_keeps_a_student_from_being_ready(
        self, client, dana, irene, alice, cohort, program, competencies
    ):
        attempts = [factories.check_off(enrollment_of(alice), competency, irene) for competency in competencies]
        services.revoke_signature(signature=attempts[0].signature, revoked_by=dana, reason="Wrong student.")
        client.force_login(dana)
        (row,) = client.get(self.url(program)).context["rows"]
        assert row.cohort.ready == 0

    def test_a_program_without_a_framework_says_so(self, client, dana, alice, program):
        client.force_login(dana)
        response = client.get(self.url(program))
        assert response.status_code == 200
        assert "no competency framework" in response.content.decode()

    def test_the_coordinator_sees_it(self, client, carlos, program, competencies):
        client.force_login(carlos)
        assert client.get(self.url(program)).status_code == 200

    def test_an_instructor_of_the_program_is_refused(self, client, irene, program, competencies):
        client.force_login(irene)
        assert client.get(self.url(program)).status_code == 403

    def test_another_programs_director_gets_404(self, client, program, competencies):
        stranger = factories.StaffFactory(role=StaffRole.Role.DIRECTOR).user
        client.force_login(stranger)
        assert client.get(self.url(program)).status_code == 404

    def test_it_rejects_post(self, client, dana, program):
        client.force_login(dana)
        assert client.post(self.url(program)).status_code == 405


class TestStudentProgress:
    def test_the_student_sees_progress_by_area_and_what_remains(
        self, client, alice, irene, dana, competencies, blood_pressure, pulse, empathy
    ):
        factories.check_off(enrollment_of(alice), blood_pressure, irene, passed=False)
        factories.check_off(enrollment_of(alice), blood_pressure, irene)
        revoked = factories.check_off(enrollment_of(alice), empathy, irene)
        services.revoke_signature(signature=revoked.signature, revoked_by=dana, reason="Recorded on the wrong day.")
        client.force_login(alice)
        response = client.get(reverse("curriculum:my-competencies"))
        page = response.content.decode()
        assert response.status_code == 200
        assert (response.context["achieved"], response.context["total"]) == (1, 3)
        remaining = response.context["remaining"]
        assert [(item.competency, item.status) for item in remaining] == [
            (pulse, "not_started"),
            (empathy, "attempted"),
        ]
        assert "Signature revoked" in page and "Recorded on the wrong day." in page
        assert "Practise the critical step." in page
        assert reverse("curriculum:attempt-detail", args=[revoked.pk]) in page
        assert not AccessLog.objects.filter(action="view").exists()

    def test_every_attempt_shows_its_steps_score_and_signer(self, client, alice, irene, blood_pressure, competencies):
        attempt = factories.check_off(enrollment_of(alice), blood_pressure, irene)
        client.force_login(alice)
        page = client.get(reverse("curriculum:my-competencies")).content.decode()
        step = attempt.step_results.get()
        assert step.text in page
        assert "100.0%" in page
        assert f"Signed: performed and evaluated by {irene}" in page

    def test_a_pass_whose_signature_does_not_verify_is_not_shown_as_signed(
        self, client, alice, irene, dana, blood_pressure, pulse, competencies
    ):
        tampered = factories.check_off(enrollment_of(alice), blood_pressure, irene)
        factories.check_off(enrollment_of(alice), pulse, irene)
        with without_triggers() as cursor:
            cursor.execute("UPDATE curriculum_attempt SET comment = 'edited' WHERE id = %s", [tampered.pk])
        client.force_login(dana)
        response = client.get(reverse("curriculum:student-competencies", args=[enrollment_of(alice).pk]))
        page = response.content.decode()
        assert response.context["achieved"] == 1  # the pulse only
        assert page.count("Signature does not verify") == 1
        assert page.count(f"Signed: performed and evaluated by {irene}") == 1

    def test_a_signature_whose_chain_link_is_gone_does_not_verify(self, client, alice, irene, pulse, competencies):
        """Removing an earlier signature (its pass then reads as a draft) breaks the next one's link."""
        removed = factories.check_off(enrollment_of(alice), pulse, irene)
        factories.check_off(enrollment_of(alice), pulse, irene)
        with without_triggers() as cursor:
            cursor.execute("DELETE FROM curriculum_signature WHERE attempt_id = %s", [removed.pk])
        client.force_login(alice)
        response = client.get(reverse("curriculum:my-competencies"))
        assert "Signature does not verify" in response.content.decode()
        assert response.context["achieved"] == 0

    def test_a_student_with_everything_achieved_is_told_so(self, client, alice, irene, competencies):
        for competency in competencies:
            factories.check_off(enrollment_of(alice), competency, irene)
        client.force_login(alice)
        response = client.get(reverse("curriculum:my-competencies"))
        assert response.context["remaining"] == []
        assert "no longer stand in the way of the practicum" in response.content.decode()

    def test_someone_with_no_enrollment_gets_404(self, client, olga):
        client.force_login(olga)
        assert client.get(reverse("curriculum:my-competencies")).status_code == 404

    def test_staff_opening_a_record_is_logged_for_the_student(self, client, irene, alice, competencies):
        client.force_login(irene)
        response = client.get(reverse("curriculum:student-competencies", args=[enrollment_of(alice).pk]))
        assert response.status_code == 200
        assert list(AccessLog.objects.values_list("actor", "student", "action")) == [(irene.pk, alice.pk, "view")]

    def test_the_student_opening_their_own_record_is_not_logged(self, client, alice, competencies):
        client.force_login(alice)
        response = client.get(reverse("curriculum:student-competencies", args=[enrollment_of(alice).pk]))
        assert response.status_code == 200
        assert not AccessLog.objects.exists()

    @pytest.mark.parametrize("who", ["bob", "ivan", "olga"])
    def test_someone_elses_record_is_404(self, client, request, alice, competencies, who):
        client.force_login(request.getfixturevalue(who))
        assert client.get(reverse("curriculum:student-competencies", args=[enrollment_of(alice).pk])).status_code == 404
        assert not AccessLog.objects.exists()

    def test_it_rejects_post(self, client, alice, irene):
        client.force_login(irene)
        assert (
            client.post(reverse("curriculum:student-competencies", args=[enrollment_of(alice).pk])).status_code == 405
        )
        client.force_login(alice)
        assert client.post(reverse("curriculum:my-competencies")).status_code == 405

    def test_the_home_page_shows_how_far_the_student_is(self, client, alice, irene, competencies):
        factories.check_off(enrollment_of(alice), competencies[0], irene)
        client.force_login(alice)
        page = client.get(reverse("home")).content.decode()
        assert "Skills check-offs: 1 of 3 achieved" in page
        assert reverse("curriculum:my-competencies") in page


class TestCompetencyAttempts:
    def url(self, student, competency):
        return reverse("curriculum:competency-attempts", args=[enrollment_of(student).pk, competency.pk])

    def test_the_coordinator_sees_the_attempts_and_the_view_is_logged(
        self, client, carlos, irene, alice, blood_pressure, competencies
    ):
        attempt = factories.check_off(enrollment_of(alice), blood_pressure, irene, passed=False)
        client.force_login(carlos)
        response = client.get(self.url(alice, blood_pressure))
        assert response.status_code == 200
        assert reverse("curriculum:attempt-detail", args=[attempt.pk]) in response.content.decode()
        assert response.context["item"].status == "attempted"
        assert AccessLog.objects.filter(actor=carlos, student=alice, action="view").count() == 1

    def test_a_classmate_gets_404(self, client, bob, alice, blood_pressure, competencies):
        client.force_login(bob)
        assert client.get(self.url(alice, blood_pressure)).status_code == 404

    def test_a_competency_outside_the_program_gets_404(self, client, carlos, alice, competencies):
        stray = factories.CompetencyFactory()
        client.force_login(carlos)
        assert client.get(self.url(alice, stray)).status_code == 404

    def test_it_rejects_post(self, client, carlos, alice, blood_pressure):
        client.force_login(carlos)
        assert client.post(self.url(alice, blood_pressure)).status_code == 405


# --- Query budgets --------------------------------------------------------------------------


def grow(program, cohort, alice, evaluator, director, competencies, times: int) -> None:
    """Add students with passes, fails, drafts and revoked passes; more attempts for alice; more cohorts."""
    for _ in range(times * 2):
        enrollment = factories.EnrollmentFactory(cohort=cohort)
        factories.check_off(enrollment, competencies[0], evaluator)
        factories.check_off(enrollment, competencies[1], evaluator, passed=False)
        factories.check_off(enrollment, competencies[2], evaluator, signed=False)
        revoked = factories.check_off(enrollment, competencies[2], evaluator)
        services.revoke_signature(signature=revoked.signature, revoked_by=director, reason="Re-do it.")
    for competency in competencies:
        for _ in range(times):
            factories.check_off(enrollment_of(alice), competency, evaluator, passed=False)
    for _ in range(times):
        other = factories.CohortFactory(program=program)
        factories.check_off(factories.EnrollmentFactory(cohort=other), competencies[0], evaluator)


@pytest.mark.parametrize(
    ("page", "who"),
    [
        ("program", "dana"),
        ("mine", "alice"),
        ("student", "irene"),
        ("attempts", "carlos"),
        ("home", "alice"),
    ],
)
def test_pages_cost_the_same_queries_at_1x_and_5x(
    client, request, page, who, program, cohort, alice, irene, carlos, dana, competencies
):
    user = request.getfixturevalue(who)
    urls = {
        "program": reverse("curriculum:program-competencies", args=[program.code]),
        "mine": reverse("curriculum:my-competencies"),
        "student": reverse("curriculum:student-competencies", args=[enrollment_of(alice).pk]),
        "attempts": reverse("curriculum:competency-attempts", args=[enrollment_of(alice).pk, competencies[0].pk]),
        "home": reverse("home"),
    }
    # Every cohort's instructor may evaluate; the director revokes.
    grow(program, cohort, alice, irene, dana, competencies, 1)
    once = queries_for(client, user, urls[page])
    grow(program, cohort, alice, irene, dana, competencies, 4)
    five_times = queries_for(client, user, urls[page])
    assert once == five_times, f"{page} for {who}: {once} queries at 1x, {five_times} at 5x"


# Each view of the grid, exactly: the session and user, the cohort, its competencies, whether the person
# teaches it and whether they run the program; then the view's own reads.
GRID_QUERIES = {
    "attention": 11,  # + the students needing attention counted and paged, the page's cells
    "student": 9,  # + the current students for the picker
    "competency": 10,  # + the current students, their cells on the competency
    "all": 12,  # + the students counted and paged, the page's cells, the achievers per competency
}


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("who", ["irene", "carlos"])
def test_each_grid_view_costs_a_fixed_number_of_queries_at_1x_and_5x(
    client, request, view, who, program, cohort, alice, irene, dana, competencies
):
    url = grid_url(cohort, view=view, **({"competency": competencies[0].pk} if view == "competency" else {}))
    user = request.getfixturevalue(who)
    grow(program, cohort, alice, irene, dana, competencies, 1)
    plan_practicum(alice, 20)
    once = queries_for(client, user, url)
    grow(program, cohort, alice, irene, dana, competencies, 4)
    for enrollment in cohort.enrollments.exclude(student=alice)[:4]:
        plan_practicum(enrollment.student, 10)
    five_times = queries_for(client, user, url)
    assert (once, five_times) == (GRID_QUERIES[view], GRID_QUERIES[view])
