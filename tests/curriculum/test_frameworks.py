"""Framework management: the framework page, choosing a framework, confirming and correcting rows,
a program's own competencies, skill checklists and course mapping; and the reference loader
leaving a director's rows alone."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from curriculum import frameworks, services
from curriculum.forms import ProgramForm
from curriculum.models import (
    Attempt,
    ChecklistStep,
    Competency,
    CompetencyChange,
    CompetencyCourse,
    CompetencyFramework,
    Confidence,
    ContentArea,
    Course,
    StaffRole,
    StepResult,
)
from tests import factories
from tests.queries import queries_for


@pytest.fixture
def framework(program):
    """A shared reference framework (no owner) that the program follows."""
    framework = factories.FrameworkFactory(code="REF-2022", name="Reference 2022")
    program.framework = framework
    program.save()
    return framework


@pytest.fixture
def area(framework):
    return factories.ContentAreaFactory(framework=framework, code="I", title="Clinical", order=1)


@pytest.fixture
def heading(framework, area):
    return factories.CompetencyFactory(
        framework=framework, content_area=area, code="I.P.1", title="Accurately measure and record",
        is_tracked=False, confidence=Confidence.RECALLED, source="memory", order=1,
    )  # fmt: skip


@pytest.fixture
def blood_pressure(framework, area, heading):
    return factories.CompetencyFactory(
        framework=framework, content_area=area, parent=heading, code="I.P.1.a", title="blood pressure",
        tags=["vitals"], confidence=Confidence.SECONDARY, source="a school's checklist", order=2,
    )  # fmt: skip


@pytest.fixture
def verified(framework, area):
    return factories.CompetencyFactory(
        framework=framework, content_area=area, code="I.P.2", title="Perform venipuncture",
        confidence=Confidence.VERIFIED, order=3,
    )  # fmt: skip


@pytest.fixture
def rows(heading, blood_pressure, verified):
    return [heading, blood_pressure, verified]


@pytest.fixture
def sharer(framework):
    """Sam directs another program of the same school that follows the same shared framework."""
    staff = factories.StaffFactory(role=StaffRole.Role.DIRECTOR, first_name="Sam")
    staff.program.framework = framework
    staff.program.save()
    return staff


@pytest.fixture
def elsewhere(db):
    """Elena directs a program with a framework of its own, with one row."""
    staff = factories.StaffFactory(role=StaffRole.Role.DIRECTOR, first_name="Elena")
    own = factories.FrameworkFactory(owner=staff.program)
    staff.program.framework = own
    staff.program.save()
    return {"director": staff.user, "program": staff.program, "row": factories.CompetencyFactory(framework=own)}


def get(client, user, url, **params):
    client.force_login(user)
    return client.get(url, params)


def post(client, user, url, data=None):
    client.force_login(user)
    return client.post(url, data or {})


def framework_url(program) -> str:
    return reverse("curriculum:framework", args=[program.code])


def edit_url(program, competency) -> str:
    return reverse("curriculum:competency-edit", args=[program.code, competency.pk])


def checklist_url(program, competency) -> str:
    return reverse("curriculum:checklist-edit", args=[program.code, competency.pk])


def step_url(name, step) -> str:
    return reverse(f"curriculum:checklist-step-{name}", args=[step.program.code, step.competency_id, step.pk])


def correction(competency, **changes) -> dict:
    data = {
        "action": "correct",
        "code": competency.code,
        "title": competency.title,
        "domain": competency.domain,
        "tags": ", ".join(competency.tags),
        "passing_score": competency.passing_score or "",
    }
    if competency.is_tracked:
        data["is_tracked"] = "on"
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def signed_attempt(program, competency, student, evaluator):
    """A signed check-off of the student on the competency, with a one-step checklist if it has none."""
    if not ChecklistStep.objects.filter(program=program, competency=competency).exists():
        factories.ChecklistStepFactory(program=program, competency=competency, order=1, text="Hand hygiene")
    attempt = services.record_attempt(
        enrollment=student.enrollments.get(),
        competency=competency,
        evaluator=evaluator,
        performed_step_ids=set(
            ChecklistStep.objects.filter(program=program, competency=competency).values_list("pk", flat=True)
        ),
        setting="lab",
    )
    services.sign_attempt(attempt=attempt, signer=evaluator)
    return attempt


def orders(program, competency) -> list[tuple[int, str]]:
    return list(
        ChecklistStep.objects.filter(program=program, competency=competency)
        .order_by("order")
        .values_list("order", "text")
    )


# --- The framework page ----------------------------------------------------------------------------


class TestFrameworkPage:
    def test_the_director_sees_the_rows_by_content_area_and_how_many_need_confirming(self, client, dana, program, rows):
        page = get(client, dana, framework_url(program)).content.decode()
        assert "Clinical" in page
        assert all(row.code in page for row in rows)
        assert "Needs confirming: 2" in page
        assert 'class="table-warning"' in page
        assert "vitals" in page

    def test_the_filter_shows_only_the_rows_that_need_confirming(self, client, dana, program, rows):
        page = get(client, dana, framework_url(program), show="needs-confirming").content.decode()
        assert f'id="competency-{rows[0].pk}"' in page
        assert f'id="competency-{rows[1].pk}"' in page
        assert f'id="competency-{rows[2].pk}"' not in page

    def test_the_domain_filter_and_an_unknown_value_are_harmless(self, client, dana, program, rows):
        factories.CompetencyFactory(framework=program.framework, content_area=rows[0].content_area, domain="A")
        assert get(client, dana, framework_url(program), domain="A").context["shown_count"] == 1
        assert get(client, dana, framework_url(program), domain="Z", show="nonsense").context["shown_count"] == 4

    def test_confirmed_rows_say_who_confirmed_them_and_when(self, client, dana, program, blood_pressure):
        services.confirm_competency(competency=blood_pressure, by=dana)
        page = get(client, dana, framework_url(program)).content.decode()
        assert "Needs confirming: 1" in page  # the heading is still to confirm
        assert f"by {dana}" in page

    def test_it_shows_the_passing_rule_courses_and_checklist(self, client, dana, program, blood_pressure, verified):
        verified.passing_score = 90
        verified.save()
        course = factories.CourseFactory(program=program, code="MA110")
        CompetencyCourse.objects.create(competency=blood_pressure, course=course, role=CompetencyCourse.Role.TEACHES)
        factories.ChecklistStepFactory(program=program, competency=blood_pressure, order=1, is_critical=True)
        factories.ChecklistStepFactory(program=program, competency=blood_pressure, order=2)
        page = get(client, dana, framework_url(program)).content.decode()
        assert "MA110" in page
        assert "2 steps" in page
        assert "90%" in page
        assert "80%" in page
        assert "no critical step missed" in page

    def test_another_programs_checklists_and_courses_do_not_show(self, client, dana, program, sharer, blood_pressure):
        course = factories.CourseFactory(program=sharer.program, code="OTHER1")
        CompetencyCourse.objects.create(competency=blood_pressure, course=course)
        factories.ChecklistStepFactory(program=sharer.program, competency=blood_pressure, order=1)
        page = get(client, dana, framework_url(program)).content.decode()
        assert "OTHER1" not in page
        assert "1 step" not in page
        assert "shared with 1 other program" in page

    @pytest.mark.parametrize("who", ["carlos", "irene"])
    def test_coordinators_and_instructors_see_it_read_only(self, client, request, program, who, rows):
        response = get(client, request.getfixturevalue(who), framework_url(program))
        assert response.status_code == 200
        page = response.content.decode()
        assert rows[1].code in page
        assert edit_url(program, rows[1]) not in page
        assert reverse("curriculum:competency-create", args=[program.code]) not in page

    def test_another_programs_director_gets_404(self, client, program, rows, elsewhere):
        assert get(client, elsewhere["director"], framework_url(program)).status_code == 404

    def test_a_student_gets_404(self, client, program, rows, alice):
        assert get(client, alice, framework_url(program)).status_code == 404

    def test_it_rejects_post(self, client, dana, program, rows):
        assert post(client, dana, framework_url(program)).status_code == 405

    def test_without_a_framework_it_offers_to_choose_one(self, client, dana, program):
        factories.FrameworkFactory(name="MAERB Core Curriculum 2022")
        page = get(client, dana, framework_url(program)).content.decode()
        assert "has not chosen its competency framework" in page
        assert reverse("curriculum:program-edit", args=[program.code]) in page
        assert "MAERB Core Curriculum 2022" in page

    def test_the_program_page_links_to_it(self, client, dana, program):
        assert (
            framework_url(program)
            in get(client, dana, reverse("curriculum:program-detail", args=[program.code])).content.decode()
        )


# --- Choosing the framework ------------------------------------------------------------------------


def program_data(program, **changes) -> dict:
    data = {
        "code": program.code,
        "name": program.name,
        "accreditor": program.accreditor,
        "time_zone": program.time_zone,
        "practicum_hours": program.practicum_hours,
        "passing_score": program.passing_score,
        "framework": program.framework_id or "",
    }
    data.update(changes)
    return data


class TestChoosingTheFramework:
    def test_the_director_chooses_the_framework_and_passing_score(self, client, dana, program):
        shared = factories.FrameworkFactory()
        response = post(
            client, dana, reverse("curriculum:program-edit", args=[program.code]),
            program_data(program, framework=shared.pk, passing_score=85),
        )  # fmt: skip
        assert response.status_code == 302
        program.refresh_from_db()
        assert (program.framework, program.passing_score) == (shared, 85)

    def test_a_new_program_may_choose_one_too(self, dana):
        shared = factories.FrameworkFactory()
        form = ProgramForm(
            {"code": "NEW", "name": "New", "accreditor": "caahep", "time_zone": "America/Chicago",
             "practicum_hours": 160, "passing_score": 80, "framework": shared.pk}
        )  # fmt: skip
        assert form.is_valid(), form.errors

    def test_another_programs_own_framework_is_not_offered(self, program, elsewhere):
        form = ProgramForm(program_data(program, framework=elsewhere["program"].framework_id), instance=program)
        assert not form.is_valid()
        assert "framework" in form.errors

    def test_the_programs_own_framework_is_offered(self, program):
        own = factories.FrameworkFactory(owner=program)
        assert ProgramForm(program_data(program, framework=own.pk), instance=program).is_valid()

    def test_an_empty_passing_score_keeps_the_current_one(self, program):
        program.passing_score = 75
        program.save()
        form = ProgramForm(program_data(program, passing_score=""), instance=program)
        assert form.is_valid(), form.errors
        assert form.save().passing_score == 75

    def test_a_passing_score_over_100_is_refused(self, program):
        form = ProgramForm(program_data(program, passing_score=101), instance=program)
        assert not form.is_valid()
        assert "passing_score" in form.errors

    def test_switching_is_refused_once_attempts_exist(self, client, dana, program, blood_pressure, alice, irene):
        signed_attempt(program, blood_pressure, alice, irene)
        other = factories.FrameworkFactory()
        response = post(
            client, dana, reverse("curriculum:program-edit", args=[program.code]),
            program_data(program, framework=other.pk),
        )  # fmt: skip
        assert response.status_code == 200
        assert "cannot change" in response.context["form"].errors["framework"][0]
        program.refresh_from_db()
        assert program.framework == blood_pressure.framework

    def test_an_unsigned_draft_also_holds_the_framework(self, program, blood_pressure, alice, irene):
        factories.ChecklistStepFactory(program=program, competency=blood_pressure, order=1)
        services.record_attempt(
            enrollment=alice.enrollments.get(), competency=blood_pressure, evaluator=irene,
            performed_step_ids=set(ChecklistStep.objects.values_list("pk", flat=True)), setting="lab",
        )  # fmt: skip
        with pytest.raises(ValidationError):
            services.check_framework_change(program=program, framework=None)

    def test_the_service_itself_refuses_the_switch_whoever_calls_it(self, program, blood_pressure, alice, irene):
        signed_attempt(program, blood_pressure, alice, irene)
        program.framework = None
        with pytest.raises(ValidationError):
            services.update_program(program=program)
        program.refresh_from_db()
        assert program.framework == blood_pressure.framework

    def test_saving_the_same_framework_is_fine_with_attempts(self, program, blood_pressure, alice, irene):
        signed_attempt(program, blood_pressure, alice, irene)
        assert ProgramForm(program_data(program, name="Renamed"), instance=program).is_valid()

    def test_switching_without_attempts_keeps_the_old_checklists_for_a_switch_back(self, program, blood_pressure):
        factories.ChecklistStepFactory(program=program, competency=blood_pressure, order=1)
        other = factories.FrameworkFactory()
        form = ProgramForm(program_data(program, framework=other.pk), instance=program)
        assert form.is_valid(), form.errors
        form.save()
        assert ChecklistStep.objects.filter(program=program, competency=blood_pressure).count() == 1
        assert not Competency.objects.for_program(program).exists()


# --- Confirming and correcting a row ----------------------------------------------------------------


class TestConfirming:
    def test_confirming_as_is_records_who_when_and_the_row_before(self, client, dana, program, blood_pressure):
        response = post(client, dana, edit_url(program, blood_pressure), {"action": "confirm"})
        assert response.status_code == 302
        blood_pressure.refresh_from_db()
        assert (blood_pressure.confidence, blood_pressure.confirmed_by) == (Confidence.CONFIRMED, dana)
        assert blood_pressure.confirmed_at is not None
        change = CompetencyChange.objects.get(competency=blood_pressure)
        assert change.changed_by == dana
        assert change.before["confidence"] == Confidence.SECONDARY
        assert change.after["confidence"] == Confidence.CONFIRMED
        assert change.before["title"] == change.after["title"] == "blood pressure"

    def test_confirming_as_is_ignores_unsaved_edits(self, client, dana, program, blood_pressure):
        post(client, dana, edit_url(program, blood_pressure), {"action": "confirm", "title": "something else"})
        blood_pressure.refresh_from_db()
        assert blood_pressure.title == "blood pressure"

    def test_a_correction_is_kept_with_before_and_after(self, client, dana, program, blood_pressure):
        data = correction(blood_pressure, title="Blood pressure", tags="vitals, cardiology ,, vitals", passing_score=90)
        response = post(client, dana, edit_url(program, blood_pressure), data)
        assert response.status_code == 302
        assert response.url.endswith(f"#competency-{blood_pressure.pk}")
        blood_pressure.refresh_from_db()
        assert (blood_pressure.title, blood_pressure.tags, blood_pressure.passing_score) == (
            "Blood pressure", ["vitals", "cardiology"], 90,
        )  # fmt: skip
        assert (blood_pressure.confidence, blood_pressure.confirmed_by) == (Confidence.CONFIRMED, dana)
        change = CompetencyChange.objects.get(competency=blood_pressure)
        assert (change.before["title"], change.after["title"]) == ("blood pressure", "Blood pressure")
        assert (change.before["tags"], change.after["tags"]) == (["vitals"], ["vitals", "cardiology"])

    def test_the_page_shows_the_history(self, client, dana, program, blood_pressure):
        post(client, dana, edit_url(program, blood_pressure), correction(blood_pressure, title="Blood pressure"))
        page = get(client, dana, edit_url(program, blood_pressure)).content.decode()
        assert "Corrected and confirmed" in page
        assert "<del>blood pressure</del>" in page
        assert str(dana) in page

    def test_it_returns_to_the_filtered_list(self, client, dana, program, blood_pressure):
        response = post(
            client, dana, edit_url(program, blood_pressure), {"action": "confirm", "show": "needs-confirming"}
        )
        assert "?show=needs-confirming" in response.url

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("code", "I P 1"),
            ("code", ""),
            ("title", ""),
            ("domain", "X"),
            ("passing_score", "101"),
            ("passing_score", "0"),
            ("passing_score", "eighty"),
            ("tags", "vitals, " + "x" * 41),
            ("tags", "vitals, card\x00iology"),
        ],
    )
    def test_a_bad_correction_names_the_field_and_changes_nothing(
        self, client, dana, program, blood_pressure, field, value
    ):
        response = post(client, dana, edit_url(program, blood_pressure), correction(blood_pressure, **{field: value}))
        assert response.status_code == 200
        assert field in response.context["form"].errors
        blood_pressure.refresh_from_db()
        assert blood_pressure.confidence == Confidence.SECONDARY
        assert not CompetencyChange.objects.exists()

    def test_confirming_a_stored_row_that_no_longer_validates_says_why(self, client, dana, program, blood_pressure):
        Competency.objects.filter(pk=blood_pressure.pk).update(passing_score=150)
        response = post(client, dana, edit_url(program, blood_pressure), {"action": "confirm"})
        assert response.status_code == 200
        assert "passing_score" in response.context["form"].errors
        blood_pressure.refresh_from_db()
        assert blood_pressure.confidence == Confidence.SECONDARY

    def test_an_unknown_action_is_refused(self, client, dana, program, blood_pressure):
        response = post(client, dana, edit_url(program, blood_pressure), correction(blood_pressure, action="delete"))
        assert response.status_code == 200
        assert response.context["form"].non_field_errors()
        assert not CompetencyChange.objects.exists()

    def test_a_code_already_in_the_framework_is_refused(self, client, dana, program, blood_pressure, verified):
        response = post(client, dana, edit_url(program, blood_pressure), correction(blood_pressure, code="i.p.2"))
        assert "already a competency" in response.context["form"].errors["code"][0]
        blood_pressure.refresh_from_db()
        assert blood_pressure.code == "I.P.1.a"

    def test_a_code_cited_by_signed_attempts_cannot_change_but_the_title_can(
        self, client, dana, program, blood_pressure, alice, irene
    ):
        attempt = signed_attempt(program, blood_pressure, alice, irene)
        response = post(client, dana, edit_url(program, blood_pressure), correction(blood_pressure, code="I.P.1.z"))
        assert "signed check-offs cite it" in response.context["form"].errors["code"][0]
        assert (
            post(client, dana, edit_url(program, blood_pressure), correction(blood_pressure, title="BP")).status_code
            == 302
        )
        blood_pressure.refresh_from_db()
        assert (blood_pressure.code, blood_pressure.title) == ("I.P.1.a", "BP")
        assert attempt.signature.is_intact()

    def test_a_code_without_signed_attempts_may_be_corrected(self, dana, blood_pressure):
        services.confirm_competency(competency=blood_pressure, by=dana, changes={"code": "I.P.1.b"})
        blood_pressure.refresh_from_db()
        assert blood_pressure.code == "I.P.1.b"

    def test_a_director_of_another_program_following_the_shared_framework_may_confirm(
        self, client, program, sharer, blood_pressure
    ):
        """The rule: shared reference rows are the school's; any director of a program using them confirms."""
        response = post(client, sharer.user, edit_url(sharer.program, blood_pressure), {"action": "confirm"})
        assert response.status_code == 302
        blood_pressure.refresh_from_db()
        assert blood_pressure.confirmed_by == sharer.user

    def test_the_page_warns_that_a_shared_row_changes_for_other_programs(
        self, client, dana, program, sharer, blood_pressure
    ):
        page = get(client, dana, edit_url(program, blood_pressure)).content.decode()
        assert "1 other program follows it" in page

    @pytest.mark.parametrize("who", ["carlos", "irene"])
    def test_other_staff_of_the_program_get_403(self, client, request, program, who, blood_pressure):
        user = request.getfixturevalue(who)
        assert get(client, user, edit_url(program, blood_pressure)).status_code == 403
        assert post(client, user, edit_url(program, blood_pressure), {"action": "confirm"}).status_code == 403
        blood_pressure.refresh_from_db()
        assert blood_pressure.confirmed_by is None

    def test_another_programs_director_gets_404(self, client, program, blood_pressure, elsewhere):
        assert get(client, elsewhere["director"], edit_url(program, blood_pressure)).status_code == 404
        # Through their own program's address, a row of a framework they do not follow is not found either.
        assert get(client, elsewhere["director"], edit_url(elsewhere["program"], blood_pressure)).status_code == 404

    def test_a_row_of_another_framework_is_404(self, client, dana, program, framework, elsewhere):
        assert get(client, dana, edit_url(program, elsewhere["row"])).status_code == 404

    def test_it_rejects_put(self, client, dana, program, blood_pressure):
        client.force_login(dana)
        assert client.put(edit_url(program, blood_pressure)).status_code == 405


# --- The loader and a director's rows -------------------------------------------------------------


def snapshot(code: str) -> tuple[list[dict], list[dict]]:
    framework = CompetencyFramework.objects.get(code=code)
    return (
        list(Competency.objects.filter(framework=framework).order_by("pk").values()),
        list(ContentArea.objects.filter(framework=framework).order_by("pk").values()),
    )


class TestLoader:
    def test_rerunning_on_unchanged_data_changes_nothing(self, db):
        first = frameworks.load_framework("MAERB-2022")
        assert first.created > 100
        before = snapshot("MAERB-2022")
        again = frameworks.load_framework("MAERB-2022")
        assert (again.created, again.updated, again.unchanged) == (0, 0, first.created)
        assert snapshot("MAERB-2022") == before

    def test_rows_a_director_confirmed_or_corrected_are_left_alone(self, dana, program):
        frameworks.load_framework("MAERB-2022")
        maerb = CompetencyFramework.objects.get(code="MAERB-2022")
        program.framework = maerb
        program.save()
        rows = {row.code: row for row in Competency.objects.filter(framework=maerb)}
        services.confirm_competency(competency=rows["I.P.1.a"], by=dana)
        services.confirm_competency(competency=rows["I.P.1.b"], by=dana, changes={"title": "body temperature"})
        # The heading's code corrected: the file's old code must neither come back nor orphan its sub-items.
        services.confirm_competency(competency=rows["IX.P.1"], by=dana, changes={"code": "IX.P.1-corrected"})
        services.confirm_competency(competency=rows["I.P.1"], by=dana, changes={"code": "I.P.01"})
        before = snapshot("MAERB-2022")
        report = frameworks.load_framework("MAERB-2022")
        assert snapshot("MAERB-2022") == before
        assert (report.created, report.updated) == (0, 0)
        assert {"I.P.1.a", "I.P.1.b", "IX.P.1-corrected", "I.P.01"} <= set(report.kept)
        assert not Competency.objects.filter(framework=maerb, code__in=["IX.P.1", "I.P.1"]).exists()

    def test_a_programs_own_competency_survives_a_reload(self, dana, program):
        frameworks.load_framework("MAERB-2022")
        maerb = CompetencyFramework.objects.get(code="MAERB-2022")
        program.framework = maerb
        program.save()
        own = services.create_competency(
            program=program, content_area=maerb.content_areas.get(code="I"), code="I.P.99", title="Ear irrigation",
            domain="P", created_by=dana,
        )  # fmt: skip
        before = snapshot("MAERB-2022")
        frameworks.load_framework("MAERB-2022")
        assert snapshot("MAERB-2022") == before
        own.refresh_from_db()
        assert own.program == program


# --- A program's own competencies ------------------------------------------------------------------


def new_competency(area, **changes) -> dict:
    data = {"content_area": area.pk, "code": "I.P.50", "title": "Ear irrigation", "domain": "P", "is_tracked": "on"}
    data.update(changes)
    return data


class TestProgramsOwnCompetencies:
    def test_the_director_adds_one_confirmed_by_them(self, client, dana, program, area, rows):
        url = reverse("curriculum:competency-create", args=[program.code])
        response = post(client, dana, url, new_competency(area, tags="procedures"))
        competency = Competency.objects.get(code="I.P.50")
        assert response.status_code == 302
        assert response.url == edit_url(program, competency)
        assert (competency.program, competency.framework, competency.content_area) == (program, area.framework, area)
        assert (competency.confidence, competency.confirmed_by, competency.tags) == (
            Confidence.CONFIRMED, dana, ["procedures"],
        )  # fmt: skip
        assert competency.confirmed_at is not None
        assert CompetencyChange.objects.get(competency=competency).before == {}
        assert "I.P.50" in get(client, dana, framework_url(program)).content.decode()

    def test_a_sub_item_sorts_with_its_heading(self, dana, program, area, heading, blood_pressure, verified):
        services.create_competency(
            program=program, content_area=area, parent=heading, code="I.P.1.z", title="pain scale", domain="P",
            created_by=dana,
        )  # fmt: skip
        codes = list(Competency.objects.for_program(program).order_by("content_area__order", "order", "code"))
        assert [row.code for row in codes] == ["I.P.1", "I.P.1.a", "I.P.1.z", "I.P.2"]

    @pytest.mark.parametrize("code", ["I.P.1.a", "i.p.1.A", "OWN.1"])
    def test_a_code_already_used_is_a_form_error(self, client, dana, program, area, rows, code):
        factories.CompetencyFactory(framework=area.framework, content_area=area, program=program, code="OWN.1")
        count = Competency.objects.count()
        url = reverse("curriculum:competency-create", args=[program.code])
        response = post(client, dana, url, new_competency(area, code=code))
        assert response.status_code == 200
        assert "already a competency" in response.context["form"].errors["code"][0]
        assert Competency.objects.count() == count

    def test_two_programs_may_each_add_the_same_code(self, dana, program, area, sharer):
        services.create_competency(
            program=program, content_area=area, code="X.1", title="Ours", domain="P", created_by=dana
        )
        services.create_competency(
            program=sharer.program, content_area=area, code="X.1", title="Theirs", domain="P", created_by=sharer.user
        )
        assert Competency.objects.filter(code="X.1").count() == 2

    def test_a_content_area_of_another_framework_is_refused(self, client, dana, program, area, elsewhere):
        foreign = elsewhere["row"].content_area
        url = reverse("curriculum:competency-create", args=[program.code])
        response = post(client, dana, url, new_competency(foreign))
        assert "content_area" in response.context["form"].errors
        with pytest.raises(ValidationError):
            services.create_competency(
                program=program, content_area=foreign, code="Z.1", title="Z", domain="P", created_by=dana
            )

    def test_a_heading_of_another_area_is_refused(self, dana, program, area, heading):
        other_area = factories.ContentAreaFactory(framework=area.framework)
        with pytest.raises(ValidationError) as refusal:
            services.create_competency(
                program=program, content_area=other_area, parent=heading, code="Z.1", title="Z", domain="P",
                created_by=dana,
            )  # fmt: skip
        assert "parent" in refusal.value.error_dict

    def test_it_is_invisible_to_another_program_sharing_the_framework(self, client, dana, program, area, sharer):
        own = services.create_competency(
            program=program, content_area=area, code="OURS.1", title="Ours", domain="P", created_by=dana
        )
        assert "OURS.1" not in get(client, sharer.user, framework_url(sharer.program)).content.decode()
        assert get(client, sharer.user, edit_url(sharer.program, own)).status_code == 404

    def test_without_a_framework_the_director_is_sent_to_choose_one(self, client, dana, program):
        response = get(client, dana, reverse("curriculum:competency-create", args=[program.code]))
        assert response.status_code == 302
        assert response.url == framework_url(program)

    @pytest.mark.parametrize("who", ["carlos", "irene"])
    def test_other_staff_get_403(self, client, request, program, area, who):
        url = reverse("curriculum:competency-create", args=[program.code])
        assert post(client, request.getfixturevalue(who), url, new_competency(area)).status_code == 403
        assert not Competency.objects.filter(code="I.P.50").exists()

    def test_another_program_gets_404(self, client, program, area, elsewhere):
        url = reverse("curriculum:competency-create", args=[program.code])
        assert get(client, elsewhere["director"], url).status_code == 404

    def test_it_rejects_put(self, client, dana, program, area):
        client.force_login(dana)
        assert client.put(reverse("curriculum:competency-create", args=[program.code])).status_code == 405


# --- Skill checklists ---------------------------------------------------------------------------------


@pytest.fixture
def steps(program, blood_pressure):
    return [
        factories.ChecklistStepFactory(program=program, competency=blood_pressure, order=order, text=text)
        for order, text in enumerate(["Hand hygiene", "Identify the patient", "Choose cuff", "Record"], start=1)
    ]


def step_data(step, **changes) -> dict:
    data = {f"step-{step.pk}-text": step.text, f"step-{step.pk}-points": step.points}
    if step.is_critical:
        data[f"step-{step.pk}-is_critical"] = "on"
    data.update({f"step-{step.pk}-{name}": value for name, value in changes.items()})
    return data


class TestChecklist:
    def test_the_director_sees_the_steps_and_the_note_on_signed_attempts(
        self, client, dana, program, blood_pressure, steps
    ):
        page = get(client, dana, checklist_url(program, blood_pressure)).content.decode()
        assert all(step.text in page for step in steps)
        assert "keep their own copy" in page

    def test_adding_a_step_puts_it_at_the_end(self, client, dana, program, blood_pressure, steps):
        data = {"new-text": "Wash hands again", "new-points": "2", "new-is_critical": "on"}
        response = post(client, dana, checklist_url(program, blood_pressure), data)
        assert response.status_code == 302
        added = ChecklistStep.objects.get(text="Wash hands again")
        assert (added.order, added.points, added.is_critical) == (5, 2, True)

    def test_the_first_step_of_an_empty_checklist_is_number_one(self, client, dana, program, verified):
        post(client, dana, checklist_url(program, verified), {"new-text": "Hand hygiene", "new-points": "1"})
        assert orders(program, verified) == [(1, "Hand hygiene")]

    @pytest.mark.parametrize(
        ("text", "points"), [("", "1"), ("   ", "1"), ("Step", "0"), ("Step", "-1"), ("Step", "x")]
    )
    def test_a_bad_step_is_refused_with_the_field_named(
        self, client, dana, program, blood_pressure, steps, text, points
    ):
        response = post(client, dana, checklist_url(program, blood_pressure), {"new-text": text, "new-points": points})
        assert response.status_code == 200
        errors = response.context["add_form"].errors
        assert "text" in errors or "points" in errors
        assert ChecklistStep.objects.count() == 4

    def test_editing_a_step_changes_its_text_points_and_criticality(self, client, dana, steps):
        step = steps[0]
        response = post(
            client,
            dana,
            step_url("edit", step),
            step_data(step, text="Perform hand hygiene", points=3, is_critical="on"),
        )
        assert response.status_code == 302
        step.refresh_from_db()
        assert (step.text, step.points, step.is_critical, step.order) == ("Perform hand hygiene", 3, True, 1)

    def test_a_bad_edit_shows_the_error_on_that_step_and_changes_nothing(self, client, dana, steps):
        step = steps[1]
        response = post(client, dana, step_url("edit", step), step_data(step, points=0))
        assert response.status_code == 200
        bound = next(row["form"] for row in response.context["rows"] if row["step"].pk == step.pk)
        assert "points" in bound.errors
        step.refresh_from_db()
        assert step.points == 1

    def test_deleting_a_step_closes_the_gap(self, client, dana, program, blood_pressure, steps):
        assert post(client, dana, step_url("delete", steps[1])).status_code == 302
        assert orders(program, blood_pressure) == [(1, "Hand hygiene"), (2, "Choose cuff"), (3, "Record")]

    def test_moving_steps_up_and_down_keeps_the_order_unique(self, client, dana, program, blood_pressure, steps):
        post(client, dana, step_url("move", steps[3]), {"direction": "up"})
        post(client, dana, step_url("move", steps[0]), {"direction": "down"})
        assert orders(program, blood_pressure) == [
            (1, "Identify the patient"), (2, "Hand hygiene"), (3, "Record"), (4, "Choose cuff"),
        ]  # fmt: skip

    def test_moving_past_either_end_changes_nothing(self, dana, program, blood_pressure, steps):
        services.move_checklist_step(step=steps[0], direction="up")
        services.move_checklist_step(step=steps[3], direction="down")
        assert [text for _order, text in orders(program, blood_pressure)] == [step.text for step in steps]

    def test_a_bad_direction_is_a_message_not_an_error(self, client, dana, program, blood_pressure, steps):
        response = post(client, dana, step_url("move", steps[1]), {"direction": "sideways"})
        assert response.status_code == 302
        assert [text for _order, text in orders(program, blood_pressure)] == [step.text for step in steps]

    def test_renumbering_repairs_gaps_and_a_zero(self, program, blood_pressure):
        for order, text in [(0, "A"), (5, "B"), (7, "C")]:
            factories.ChecklistStepFactory(program=program, competency=blood_pressure, order=order, text=text)
        services.move_checklist_step(step=ChecklistStep.objects.get(text="C"), direction="up")
        assert orders(program, blood_pressure) == [(1, "A"), (2, "C"), (3, "B")]
        services.add_checklist_step(program=program, competency=blood_pressure, text="D")
        assert orders(program, blood_pressure)[-1] == (4, "D")

    def test_another_programs_checklist_is_untouched(self, program, blood_pressure, steps, sharer):
        theirs = factories.ChecklistStepFactory(
            program=sharer.program, competency=blood_pressure, order=1, text="Theirs"
        )
        services.delete_checklist_step(step=steps[0])
        services.move_checklist_step(step=steps[2], direction="up")
        theirs.refresh_from_db()
        assert (theirs.order, theirs.text) == (1, "Theirs")

    def test_editing_never_changes_a_signed_attempt(self, client, dana, program, blood_pressure, steps, alice, irene):
        attempt = signed_attempt(program, blood_pressure, alice, irene)
        post(client, dana, step_url("edit", steps[0]), step_data(steps[0], text="Changed"))
        post(client, dana, step_url("delete", steps[1]))
        post(client, dana, step_url("move", steps[3]), {"direction": "up"})
        assert list(StepResult.objects.filter(attempt=attempt).values_list("order", "text")) == [
            (1, "Hand hygiene"), (2, "Identify the patient"), (3, "Choose cuff"), (4, "Record"),
        ]  # fmt: skip
        assert Attempt.objects.get(pk=attempt.pk).signature.is_intact()

    def test_a_step_of_another_program_is_404(self, client, dana, program, blood_pressure, sharer):
        theirs = factories.ChecklistStepFactory(program=sharer.program, competency=blood_pressure, order=1)
        url = reverse("curriculum:checklist-step-delete", args=[program.code, blood_pressure.pk, theirs.pk])
        assert post(client, dana, url).status_code == 404
        assert ChecklistStep.objects.filter(pk=theirs.pk).exists()

    def test_another_programs_director_gets_404(self, client, program, blood_pressure, steps, elsewhere):
        assert get(client, elsewhere["director"], checklist_url(program, blood_pressure)).status_code == 404
        assert post(client, elsewhere["director"], step_url("delete", steps[0])).status_code == 404

    @pytest.mark.parametrize("who", ["carlos", "irene"])
    def test_other_staff_get_403(self, client, request, program, blood_pressure, steps, who):
        user = request.getfixturevalue(who)
        assert get(client, user, checklist_url(program, blood_pressure)).status_code == 403
        assert post(client, user, step_url("delete", steps[0])).status_code == 403
        assert post(client, user, step_url("move", steps[1]), {"direction": "up"}).status_code == 403
        assert ChecklistStep.objects.count() == 4

    @pytest.mark.parametrize("name", ["edit", "move", "delete"])
    def test_step_actions_reject_get(self, client, dana, steps, name):
        assert get(client, dana, step_url(name, steps[0])).status_code == 405

    def test_the_checklist_page_rejects_put(self, client, dana, program, blood_pressure):
        client.force_login(dana)
        assert client.put(checklist_url(program, blood_pressure)).status_code == 405


# --- Where a competency is taught and assessed ------------------------------------------------------


def courses_url(program, competency) -> str:
    return reverse("curriculum:competency-courses", args=[program.code, competency.pk])


class TestCourseMapping:
    def test_the_director_ticks_courses_that_teach_and_assess(self, client, dana, program, blood_pressure):
        lecture = factories.CourseFactory(program=program, code="MA101")
        lab = factories.CourseFactory(program=program, code="MA102")
        response = post(
            client, dana, courses_url(program, blood_pressure),
            {"teaching": [lecture.pk, lab.pk], "assessing": [lab.pk]},
        )  # fmt: skip
        assert response.status_code == 302
        mapped = set(CompetencyCourse.objects.values_list("course__code", "role"))
        assert mapped == {("MA101", "teaches"), ("MA102", "teaches"), ("MA102", "assesses")}
        page = get(client, dana, framework_url(program)).content.decode()
        assert "Taught" in page and "MA101" in page

    def test_unticking_removes_only_this_programs_rows(self, client, dana, program, blood_pressure, sharer):
        ours = factories.CourseFactory(program=program)
        theirs = factories.CourseFactory(program=sharer.program)
        CompetencyCourse.objects.create(competency=blood_pressure, course=ours)
        CompetencyCourse.objects.create(competency=blood_pressure, course=theirs)
        post(client, dana, courses_url(program, blood_pressure), {})
        assert list(CompetencyCourse.objects.values_list("course", flat=True)) == [theirs.pk]

    def test_the_page_shows_the_current_mapping(self, client, dana, program, blood_pressure):
        course = factories.CourseFactory(program=program)
        CompetencyCourse.objects.create(competency=blood_pressure, course=course, role="assesses")
        form = get(client, dana, edit_url(program, blood_pressure)).context["courses_form"]
        assert form.initial == {"teaching": [], "assessing": [course.pk]}

    def test_another_programs_course_is_refused(self, client, dana, program, blood_pressure, sharer):
        theirs = factories.CourseFactory(program=sharer.program)
        response = post(client, dana, courses_url(program, blood_pressure), {"teaching": [theirs.pk]})
        assert response.status_code == 200
        assert "teaching" in response.context["courses_form"].errors
        assert not CompetencyCourse.objects.exists()
        with pytest.raises(ValidationError):
            services.map_competency_courses(
                program=program, competency=blood_pressure, teaching=Course.objects.filter(pk=theirs.pk), assessing=[]
            )

    def test_an_instructor_gets_403(self, client, irene, program, blood_pressure):
        course = factories.CourseFactory(program=program)
        assert post(client, irene, courses_url(program, blood_pressure), {"teaching": [course.pk]}).status_code == 403

    def test_another_program_gets_404(self, client, program, blood_pressure, elsewhere):
        assert post(client, elsewhere["director"], courses_url(program, blood_pressure)).status_code == 404

    def test_it_rejects_get(self, client, dana, program, blood_pressure):
        assert get(client, dana, courses_url(program, blood_pressure)).status_code == 405


# --- Query budgets --------------------------------------------------------------------------------


def grow(program, competency, dana, times: int) -> None:
    """Add rows (some confirmed, some needing it) with checklists, course mappings and history."""
    framework = program.framework
    for _ in range(times):
        area = factories.ContentAreaFactory(framework=framework)
        course = factories.CourseFactory(program=program)
        for confidence in (Confidence.RECALLED, Confidence.VERIFIED):
            row = factories.CompetencyFactory(framework=framework, content_area=area, confidence=confidence)
            if confidence == Confidence.VERIFIED:
                services.confirm_competency(competency=row, by=dana)
            factories.ChecklistStepFactory(program=program, competency=row, order=1)
            CompetencyCourse.objects.create(competency=row, course=course)
        services.add_checklist_step(program=program, competency=competency, text="Another step")
        services.confirm_competency(competency=competency, by=dana, changes={"title": f"{competency.title}+"})
        CompetencyCourse.objects.create(competency=competency, course=course, role="teaches")


@pytest.mark.parametrize(
    ("page", "who"),
    [("framework", "dana"), ("framework", "irene"), ("competency-edit", "dana"), ("checklist-edit", "dana")],
)
def test_pages_cost_the_same_queries_at_1x_and_5x(client, request, page, who, program, dana, blood_pressure):
    user = request.getfixturevalue(who)
    url = (
        framework_url(program)
        if page == "framework"
        else reverse(f"curriculum:{page}", args=[program.code, blood_pressure.pk])
    )
    grow(program, blood_pressure, dana, 1)
    once = queries_for(client, user, url)
    grow(program, blood_pressure, dana, 4)
    five_times = queries_for(client, user, url)
    assert once == five_times, f"{page} for {who}: {once} queries at 1x, {five_times} at 5x"


class TestShippedChecklists:
    @pytest.fixture
    def maerb(self, program):
        frameworks.load_framework("MAERB-2022")
        program.framework = CompetencyFramework.objects.get(code="MAERB-2022")
        program.save()
        return program

    def test_the_director_adds_the_shipped_checklists_once(self, client, dana, maerb):
        client.force_login(dana)
        url = reverse("curriculum:framework-load-checklists", args=[maerb.code])
        assert client.post(url).status_code == 302
        added = ChecklistStep.objects.filter(program=maerb).count()
        assert added > 100
        client.post(url)
        assert ChecklistStep.objects.filter(program=maerb).count() == added

    def test_an_instructor_may_not(self, client, irene, maerb):
        client.force_login(irene)
        assert client.post(reverse("curriculum:framework-load-checklists", args=[maerb.code])).status_code == 403

    def test_another_programs_director_gets_404(self, client, maerb):
        stranger = factories.StaffFactory(role="director").user
        client.force_login(stranger)
        assert client.post(reverse("curriculum:framework-load-checklists", args=[maerb.code])).status_code == 404

    def test_it_rejects_get(self, client, dana, maerb):
        client.force_login(dana)
        assert client.get(reverse("curriculum:framework-load-checklists", args=[maerb.code])).status_code == 405
