"""Placement, hours and evaluation pages: who sees what (404), who may act (403), methods (405),
bad input (a message, nothing changed), and fixed query counts as data grows."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.urls import reverse

from curriculum.models import StaffRole
from externships.models import Evaluation, HoursEntry, Kind, Placement
from externships.services import evaluations as evaluation_services
from externships.services import hours as hours_services
from tests import factories
from tests.externship_factories import PlacementFactory, PreceptorFactory, SiteFactory, shift
from tests.queries import queries_for


@pytest.fixture
def other_preceptor(program):
    """A preceptor at another site of the same program."""
    return PreceptorFactory(
        site=SiteFactory(program=program, name="Hillside Pediatrics"), user__first_name="Pedro"
    ).user


@pytest.fixture
def outside_coordinator(db):
    return factories.StaffFactory(role=StaffRole.Role.COORDINATOR).user


def signed_in_by_code(client, user) -> None:
    """As after allauth's login by code: the session records a fresh code sign-in."""
    client.force_login(user)
    session = client.session
    session["account_authentication_methods_user"] = str(user.pk)
    session["account_authentication_methods"] = [{"method": "code", "at": time.time(), "email": user.email}]
    session.save()


class TestPlacementPage:
    @pytest.mark.parametrize("who", ["alice", "paula", "carlos", "dana"])
    def test_the_people_involved_see_it(self, client, request, active, who):
        client.force_login(request.getfixturevalue(who))
        response = client.get(reverse("externships:placement-detail", args=[active.pk]))
        assert response.status_code == 200
        assert b"Lakeside Family Clinic" in response.content

    @pytest.mark.parametrize("who", ["bob", "irene", "olga", "other_preceptor", "outside_coordinator"])
    def test_nobody_else_finds_it(self, client, request, active, who):
        client.force_login(request.getfixturevalue(who))
        assert client.get(reverse("externships:placement-detail", args=[active.pk])).status_code == 404

    def test_a_withdrawn_placement_is_no_longer_the_preceptors(self, client, active, paula):
        Placement.objects.filter(pk=active.pk).update(state=Placement.State.WITHDRAWN)
        client.force_login(paula)
        assert client.get(reverse("externships:placement-detail", args=[active.pk])).status_code == 404

    def test_staff_viewing_it_leaves_a_trace(self, client, active, carlos, alice):
        client.force_login(carlos)
        client.get(reverse("externships:placement-detail", args=[active.pk]))
        assert alice.access_log.filter(actor=carlos).exists()

    def test_wrong_method(self, client, active, alice):
        client.force_login(alice)
        assert client.post(reverse("externships:placement-detail", args=[active.pk])).status_code == 405


class TestPlanningAndStarting:
    def test_the_coordinator_plans_a_placement(self, client, carlos, program, cohort, site, paula, bob):
        client.force_login(carlos)
        response = client.post(
            reverse("externships:placement-create", args=[program.code]),
            {
                "enrollment": bob.enrollments.get().pk,
                "site": site.pk,
                "preceptor": paula.preceptorships.get().pk,
                "start_on": "2027-01-04",
                "end_on": "2027-03-26",
                "required_hours": "",
            },
        )
        placement = Placement.objects.get(enrollment__student=bob)
        assert response.status_code == 302
        assert placement.required_hours == program.practicum_hours
        assert placement.state == Placement.State.PLANNED

    def test_bad_dates_are_refused_by_field(self, client, carlos, program, site, paula, bob):
        client.force_login(carlos)
        response = client.post(
            reverse("externships:placement-create", args=[program.code]),
            {
                "enrollment": bob.enrollments.get().pk,
                "site": site.pk,
                "preceptor": paula.preceptorships.get().pk,
                "start_on": "2027-03-26",
                "end_on": "2027-01-04",
            },
        )
        assert response.status_code == 200
        assert "The end date must be on or after the start date." in response.context["form"].errors["end_on"]
        assert not Placement.objects.filter(enrollment__student=bob).exists()

    def test_the_instructor_may_not_plan(self, client, irene, program):
        client.force_login(irene)
        assert client.get(reverse("externships:placement-create", args=[program.code])).status_code == 403

    def test_outsiders_do_not_find_the_program(self, client, olga, alice, program):
        for who in (olga, alice):
            client.force_login(who)
            assert client.get(reverse("externships:placement-list", args=[program.code])).status_code == 404

    def test_starting_refused_lists_what_is_missing(self, client, carlos, placement):
        client.force_login(carlos)
        response = client.post(reverse("externships:placement-activate", args=[placement.pk]), follow=True)
        placement.refresh_from_db()
        assert placement.state == Placement.State.PLANNED
        text = response.content.decode()
        assert "The placement cannot start yet." in text
        assert "no document uploaded" in text

    def test_the_student_may_not_start_their_own_placement(self, client, alice, placement):
        client.force_login(alice)
        assert client.post(reverse("externships:placement-activate", args=[placement.pk])).status_code == 403
        assert client.get(reverse("externships:placement-activate", args=[placement.pk])).status_code == 405

    def test_withdrawing_needs_a_reason(self, client, carlos, placement):
        client.force_login(carlos)
        client.post(reverse("externships:placement-withdraw", args=[placement.pk]), {"reason": ""})
        placement.refresh_from_db()
        assert placement.state == Placement.State.PLANNED
        client.post(reverse("externships:placement-withdraw", args=[placement.pk]), {"reason": "Site closed"})
        placement.refresh_from_db()
        assert placement.state == Placement.State.WITHDRAWN

    def test_editing_is_the_programs(self, client, carlos, alice, placement):
        url = reverse("externships:placement-edit", args=[placement.pk])
        client.force_login(alice)
        assert client.get(url).status_code == 403
        client.force_login(carlos)
        response = client.post(
            url,
            {
                "preceptor": placement.preceptor_id,
                "start_on": placement.start_on.isoformat(),
                "end_on": placement.end_on.isoformat(),
                "required_hours": "180",
            },
        )
        assert response.status_code == 302
        placement.refresh_from_db()
        assert placement.required_hours == 180

    def test_readiness_page(self, client, carlos, irene, olga, cohort, alice, bob):
        url = reverse("externships:cohort-readiness", args=[cohort.pk])
        client.force_login(carlos)
        response = client.get(url)
        assert response.status_code == 200
        assert len(response.context["page"]) == 2
        client.force_login(irene)
        assert client.get(url).status_code == 403
        client.force_login(olga)
        assert client.get(url).status_code == 404
        client.force_login(carlos)
        assert client.post(url).status_code == 405


class TestHoursPages:
    def test_the_student_logs_a_shift(self, client, alice, active):
        client.force_login(alice)
        yesterday = active.enrollment.cohort.program.today() - timedelta(days=1)
        response = client.post(
            reverse("externships:shift-log", args=[active.pk]),
            {"work_date": yesterday.isoformat(), "start": "08:00", "end": "12:30", "activity": "Rooming patients"},
        )
        assert response.status_code == 302
        assert HoursEntry.objects.get().hours == 4.5

    def test_the_form_warns_about_patients_once_under_the_field(self, client, alice, active):
        client.force_login(alice)
        page = client.get(reverse("externships:shift-log", args=[active.pk])).content.decode()
        assert page.count("Never enter patient") == 1
        assert 'id="id_activity-help"' in page

    def test_a_bad_shift_says_why_and_saves_nothing(self, client, alice, active):
        client.force_login(alice)
        yesterday = active.enrollment.cohort.program.today() - timedelta(days=1)
        response = client.post(
            reverse("externships:shift-log", args=[active.pk]),
            {"work_date": yesterday.isoformat(), "start": "12:00", "end": "08:00"},
        )
        assert response.status_code == 422
        assert response.context["form"].errors["end"] == ["The end time must be after the start time."]
        assert not HoursEntry.objects.exists()

    def test_nonsense_input_is_a_form_error_not_a_crash(self, client, alice, active):
        client.force_login(alice)
        response = client.post(
            reverse("externships:shift-log", args=[active.pk]), {"work_date": "soon", "start": "25:99", "end": ""}
        )
        assert response.status_code == 422
        assert set(response.context["form"].errors) == {"work_date", "start", "end"}

    def test_only_the_student_logs(self, client, bob, paula, carlos, active):
        url = reverse("externships:shift-log", args=[active.pk])
        client.force_login(bob)
        assert client.get(url).status_code == 404
        for who in (paula, carlos):
            client.force_login(who)
            assert client.get(url).status_code == 403
        client.force_login(active.enrollment.student)
        assert client.put(url).status_code == 405

    def test_the_preceptor_approves_the_week(self, client, paula, active):
        monday = hours_services.week_of(active.start_on + timedelta(days=7))[0]
        for offset in range(3):
            shift(active, monday + timedelta(days=offset))
        signed_in_by_code(client, paula)
        response = client.post(reverse("externships:week-approve", args=[active.pk, monday.isoformat()]))
        assert response.status_code == 302
        assert HoursEntry.objects.filter(state=HoursEntry.State.APPROVED).count() == 3

    def test_nobody_else_approves(self, client, alice, carlos, other_preceptor, active):
        entry = shift(active, active.start_on)
        client.force_login(other_preceptor)
        assert client.post(reverse("externships:shift-approve", args=[entry.pk])).status_code == 404
        for who in (alice, carlos):
            client.force_login(who)
            assert client.post(reverse("externships:shift-approve", args=[entry.pk])).status_code == 403
            assert client.post(reverse("externships:week-approve", args=[active.pk, "2026-01-05"])).status_code == 403
        entry.refresh_from_db()
        assert entry.state == HoursEntry.State.SUBMITTED

    @pytest.mark.parametrize("week", ["not-a-date", "2026-02-30", "0000-00-00", "%00"])
    def test_a_bad_week_is_not_found(self, client, paula, active, week):
        client.force_login(paula)
        assert client.post(f"/placements/{active.pk}/weeks/{week}/approve/").status_code == 404

    def test_returning_needs_a_reason(self, client, paula, active):
        entry = shift(active, active.start_on)
        client.force_login(paula)
        client.post(reverse("externships:shift-return", args=[entry.pk]), {"reason": ""})
        entry.refresh_from_db()
        assert entry.state == HoursEntry.State.SUBMITTED
        client.post(reverse("externships:shift-return", args=[entry.pk]), {"reason": "Left at noon"})
        entry.refresh_from_db()
        assert entry.state == HoursEntry.State.RETURNED

    def test_an_approved_shift_cannot_be_corrected(self, client, alice, active):
        entry = shift(active, active.start_on, state=HoursEntry.State.APPROVED)
        client.force_login(alice)
        assert client.get(reverse("externships:shift-edit", args=[entry.pk])).status_code == 403
        assert client.post(reverse("externships:shift-delete", args=[entry.pk])).status_code == 403
        assert HoursEntry.objects.filter(pk=entry.pk, state=HoursEntry.State.APPROVED).exists()


class TestEvaluationPages:
    def _post(self, client, placement, kind, rating="4", comments=""):
        data = {f"item_{item.pk}": rating for item in evaluation_services.form_items(placement, kind)}
        data["comments"] = comments
        return client.post(reverse("externships:evaluation-new", args=[placement.pk, kind]), data)

    def test_the_preceptor_signs_the_midpoint(self, client, paula, active):
        signed_in_by_code(client, paula)
        response = self._post(client, active, Kind.MIDPOINT)
        evaluation = Evaluation.objects.get()
        assert response.url == reverse("externships:evaluation-detail", args=[evaluation.pk])
        assert evaluation.is_intact()

    def test_a_stale_code_sign_in_must_be_renewed(self, client, paula, active):
        client.force_login(paula)  # no record of a recent sign-in
        response = self._post(client, active, Kind.MIDPOINT)
        assert response.status_code == 403
        assert not Evaluation.objects.exists()

    def test_a_password_user_reauthenticates(self, client, alice, active):
        client.force_login(alice)
        response = self._post(client, active, Kind.SITE)
        assert response.url.startswith(reverse("account_reauthenticate"))
        client.post(response.url, {"password": factories.PASSWORD}, follow=True)
        assert Evaluation.objects.filter(kind=Kind.SITE, evaluator=alice).exists()

    def test_a_missing_rating_is_named(self, client, paula, active):
        signed_in_by_code(client, paula)
        items = evaluation_services.form_items(active, Kind.MIDPOINT)
        data = {f"item_{item.pk}": "4" for item in items[1:]}
        response = client.post(reverse("externships:evaluation-new", args=[active.pk, Kind.MIDPOINT]), data)
        assert response.status_code == 422
        assert list(response.context["form"].errors) == [f"item_{items[0].pk}"]
        assert not Evaluation.objects.exists()

    def test_who_may_fill_what(self, client, alice, carlos, paula, other_preceptor, active):
        signed_in_by_code(client, other_preceptor)
        assert client.get(reverse("externships:evaluation-new", args=[active.pk, Kind.MIDPOINT])).status_code == 404
        signed_in_by_code(client, paula)
        assert client.get(reverse("externships:evaluation-new", args=[active.pk, Kind.SITE])).status_code == 403
        assert client.get(reverse("externships:evaluation-new", args=[active.pk, "nonsense"])).status_code == 404
        assert client.delete(reverse("externships:evaluation-new", args=[active.pk, Kind.MIDPOINT])).status_code == 405

    def test_the_site_evaluation_is_not_the_preceptors_to_read(self, client, alice, paula, carlos, active):
        evaluation = evaluation_services.submit_evaluation(
            placement=active,
            kind=Kind.SITE,
            evaluator=alice,
            ratings={item.pk: 5 for item in evaluation_services.form_items(active, Kind.SITE)},
        )
        url = reverse("externships:evaluation-detail", args=[evaluation.pk])
        for who, status in ((alice, 200), (carlos, 200), (paula, 404)):
            client.force_login(who)
            assert client.get(url).status_code == status

    def test_the_director_edits_the_form(self, client, dana, irene, program):
        url = reverse("externships:evaluation-items", args=[program.code, Kind.SITE])
        client.force_login(irene)
        assert client.get(url).status_code == 403
        client.force_login(dana)
        response = client.get(url)
        formset = response.context["formset"]
        data = {
            "items-TOTAL_FORMS": str(len(formset.forms)),
            "items-INITIAL_FORMS": str(formset.initial_form_count()),
            "items-MIN_NUM_FORMS": "0",
            "items-MAX_NUM_FORMS": "1000",
        }
        for index, form in enumerate(formset.forms):
            for name in ("id", "section", "text", "order"):
                value = form[name].value()
                data[f"items-{index}-{name}"] = "" if value is None else str(value)
        last = len(formset.forms) - 1
        data[f"items-{last}-section"], data[f"items-{last}-text"], data[f"items-{last}-order"] = (
            "Overall",
            "Parking was easy",
            "99",
        )
        assert client.post(url, data).status_code == 302
        assert program.evaluation_items.filter(kind=Kind.SITE, text="Parking was easy").exists()


def grow(program, cohort, site, preceptor, carlos, times: int) -> None:
    """`times` more placements with shifts in several weeks and states."""
    for _ in range(times):
        enrollment = factories.EnrollmentFactory(cohort=cohort)
        placement = PlacementFactory(
            enrollment=enrollment, site=site, preceptor=preceptor, state=Placement.State.ACTIVE, created_by=carlos
        )
        for offset, state in ((0, "approved"), (1, "submitted"), (8, "returned")):
            shift(placement, placement.start_on + timedelta(days=offset), state=state)


class TestQueryCounts:
    @pytest.mark.parametrize(
        "page",
        [
            "placement-list",
            "placement-detail",
            "cohort-readiness",
            "home-preceptor",
            "home-student",
            "home-coordinator",
        ],
    )
    def test_fixed_as_data_grows(self, client, page, program, cohort, site, paula, carlos, alice, active):
        preceptor = paula.preceptorships.get()
        urls = {
            "placement-list": (carlos, reverse("externships:placement-list", args=[program.code])),
            "placement-detail": (paula, reverse("externships:placement-detail", args=[active.pk])),
            "cohort-readiness": (carlos, reverse("externships:cohort-readiness", args=[cohort.pk])),
            "home-preceptor": (paula, reverse("home")),
            "home-student": (alice, reverse("home")),
            "home-coordinator": (carlos, reverse("home")),
        }
        who, url = urls[page]
        site.capacity = 100
        site.save()
        for day in range(3):
            shift(active, active.start_on + timedelta(days=day), state="approved")
        grow(program, cohort, site, preceptor, carlos, 1)
        once = queries_for(client, who, url)
        for day in range(3, 13):
            shift(active, active.start_on + timedelta(days=day))
        grow(program, cohort, site, preceptor, carlos, 5)
        assert queries_for(client, who, url) == once


def test_the_students_way_in_is_their_active_placement(client, alice, active, program, carlos):
    later = PlacementFactory(
        enrollment=active.enrollment,
        site=SiteFactory(program=program),
        start_on=active.end_on + timedelta(days=1),
        end_on=active.end_on + timedelta(days=30),
        created_by=carlos,
    )
    client.force_login(alice)
    response = client.get(reverse("externships:my-externship"))
    assert response.url == reverse("externships:placement-detail", args=[active.pk])
    assert later.state == Placement.State.PLANNED


def test_the_preceptor_reading_a_placement_leaves_a_trace(client, paula, alice, active):
    client.force_login(paula)
    client.get(reverse("externships:placement-detail", args=[active.pk]))
    client.force_login(alice)
    client.get(reverse("externships:placement-detail", args=[active.pk]))
    assert list(alice.access_log.values_list("actor", flat=True)) == [paula.pk]
