"""Sites and preceptors: the services' rules, and every page for the right person, someone else (404),
a forbidden action (403) and the wrong method (405); the list and the site page cost fixed queries."""

from __future__ import annotations

from datetime import date, timedelta
from unittest import mock

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import User
from curriculum.models import StaffRole
from externships import permissions
from externships.models import Placement, Preceptor, Site
from externships.services import sites as services
from tests import factories
from tests.externship_factories import PlacementFactory, PreceptorFactory, RequirementFactory, SiteFactory
from tests.queries import queries_for


@pytest.fixture
def elsewhere(db):
    """A coordinator of another program, with a site and a preceptor of their own."""
    coordinator = factories.StaffFactory(role=StaffRole.Role.COORDINATOR, first_name="Elena")
    site = SiteFactory(program=coordinator.program, name="Hillside Pediatrics")
    return {"coordinator": coordinator.user, "site": site, "preceptor": PreceptorFactory(site=site)}


@pytest.fixture
def preceptor(paula):
    return paula.preceptorships.get()


def get(client, user, url):
    client.force_login(user)
    return client.get(url)


def post(client, user, url, data=None):
    client.force_login(user)
    return client.post(url, data or {})


def add(site, email="rosa.diaz@clinic.test", **overrides):
    values = {"first_name": "Rosa", "last_name": "Díaz", "title": "CMA (AAMA)", "phone": "555-0100"}
    values.update(overrides)
    return services.add_preceptor(site=site, email=email, added_by=site.program.staff_roles.first().user, **values)


def site_form(**overrides):
    data = {
        "name": "Riverside Internal Medicine",
        "address": "20 River Road",
        "phone": "555-0199",
        "specialties": "internal medicine, geriatrics",
        "capacity": "3",
        "agreement_expires_on": (date.today() + timedelta(days=400)).isoformat(),
        "is_active": "on",
        "notes": "",
    }
    data.update(overrides)
    return data


# --- Services -----------------------------------------------------------------------------------


class TestSiteServices:
    def test_a_site_is_created_in_the_program(self, program):
        site = services.create_site(program=program, site=Site(name="  Northside Clinic ", capacity=2))
        assert (site.program, site.name) == (program, "Northside Clinic")

    def test_a_name_taken_in_the_program_is_refused_whatever_its_case(self, program, site):
        with pytest.raises(ValidationError) as error:
            services.create_site(program=program, site=Site(name="LAKESIDE family clinic", capacity=2))
        assert list(error.value.message_dict) == ["name"]
        assert Site.objects.filter(program=program).count() == 1

    def test_another_program_may_use_the_same_name(self, site, elsewhere):
        other = services.create_site(program=elsewhere["site"].program, site=Site(name=site.name, capacity=2))
        assert other.pk

    def test_a_site_keeps_its_own_name_when_edited(self, site):
        site.capacity = 6
        assert services.update_site(site=site).capacity == 6

    def test_renaming_to_another_sites_name_is_refused(self, program, site):
        other = SiteFactory(program=program, name="Northside Clinic")
        other.name = site.name
        with pytest.raises(ValidationError) as error:
            services.update_site(site=other)
        assert list(error.value.message_dict) == ["name"]
        assert Site.objects.get(pk=other.pk).name == "Northside Clinic"


class TestAgreementStatus:
    @pytest.mark.parametrize(
        ("expires_in_days", "state"),
        [(None, "none"), (-1, "expired"), (0, "expiring"), (90, "expiring"), (91, "valid")],
    )
    def test_it_says_where_the_agreement_stands(self, expires_in_days, state):
        today = date(2025, 3, 1)
        expires_on = today + timedelta(days=expires_in_days) if expires_in_days is not None else None
        status = services.agreement_status(Site(agreement_expires_on=expires_on), today=today)
        assert status.state == state
        assert status.allows_placements == (state in ("expiring", "valid"))


class TestPreceptorServices:
    def test_a_new_person_gets_an_account_that_signs_in_by_code_and_a_welcome(
        self, site, carlos, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            preceptor = add(site, email=" Rosa.Diaz@Clinic.TEST ")
        user = preceptor.user
        assert (user.email, user.first_name, user.last_name) == ("rosa.diaz@clinic.test", "Rosa", "Díaz")
        assert not user.has_usable_password()
        assert EmailAddress.objects.get(user=user).verified
        assert (preceptor.site, preceptor.title, preceptor.phone, preceptor.is_active) == (
            site,
            "CMA (AAMA)",
            "555-0100",
            True,
        )
        assert [message.to for message in mail.outbox] == [["rosa.diaz@clinic.test"]]

    def test_the_welcome_leaves_only_after_commit(self, site, carlos, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            add(site)
        assert len(callbacks) == 1
        assert mail.outbox == []

    def test_an_existing_person_is_found_by_email_whatever_its_case_and_keeps_their_name(self, site, carlos):
        known = factories.UserFactory(email="rosa@clinic.test", first_name="Rosa María")
        preceptor = add(site, email="ROSA@clinic.test", first_name="R.")
        assert preceptor.user == known
        assert User.objects.get(pk=known.pk).first_name == "Rosa María"
        assert User.objects.filter(email__iexact="rosa@clinic.test").count() == 1

    def test_one_person_may_supervise_at_two_sites(self, program, site, paula, carlos):
        other = SiteFactory(program=program)
        assert add(other, email=paula.email).user == paula
        assert paula.preceptorships.count() == 2

    def test_the_same_person_is_added_to_a_site_once(self, site, paula, carlos):
        with pytest.raises(ValidationError) as error:
            add(site, email=paula.email.upper())
        assert error.value.message_dict["email"] == [f"{paula} is already a preceptor at {site.name}."]
        assert Preceptor.objects.filter(site=site).count() == 1

    def test_a_former_preceptor_is_to_be_reactivated_rather_than_added(self, site, preceptor, carlos):
        services.deactivate_preceptor(preceptor=preceptor)
        with pytest.raises(ValidationError) as error:
            add(site, email=preceptor.user.email)
        assert "reactivate them instead" in error.value.message_dict["email"][0]

    def test_a_current_student_of_the_program_cannot_supervise(self, site, alice, carlos):
        with pytest.raises(ValidationError) as error:
            add(site, email=alice.email)
        assert list(error.value.message_dict) == ["email"]
        assert not Preceptor.objects.filter(user=alice).exists()

    def test_a_graduate_of_the_program_may_come_back_as_a_preceptor(self, site, alice, carlos):
        alice.enrollments.update(graduated_on=date.today() - timedelta(days=30))
        assert add(site, email=alice.email).user == alice

    def test_the_programs_staff_are_not_preceptors(self, site, irene, carlos):
        with pytest.raises(ValidationError) as error:
            add(site, email=irene.email)
        assert list(error.value.message_dict) == ["email"]

    def test_a_closed_account_is_refused(self, site, carlos):
        closed = factories.UserFactory(is_active=False)
        with pytest.raises(ValidationError) as error:
            add(site, email=closed.email)
        assert list(error.value.message_dict) == ["email"]

    def test_a_dead_broker_costs_the_coordinator_nothing(self, site, carlos, django_capture_on_commit_callbacks):
        down = mock.patch("notifications.tasks.send_outbox.apply_async", side_effect=ConnectionError("broker down"))
        with down, django_capture_on_commit_callbacks(execute=True):
            preceptor = add(site)
        assert Preceptor.objects.filter(pk=preceptor.pk).exists()
        assert mail.outbox == []

    def test_a_title_and_phone_are_updated(self, preceptor):
        preceptor.title, preceptor.phone = " Lead MA ", "555-0111"
        services.update_preceptor(preceptor=preceptor)
        assert Preceptor.objects.values_list("title", "phone").get(pk=preceptor.pk) == ("Lead MA", "555-0111")

    def test_a_deactivated_preceptor_sees_nothing_and_their_placements_keep_them(self, placement, paula):
        preceptor = placement.preceptor
        assert permissions.visible_placements(paula).count() == 1
        services.deactivate_preceptor(preceptor=preceptor)
        assert not permissions.visible_placements(paula).exists()
        assert not permissions.visible_hours(paula).exists()
        assert not permissions.is_preceptor(paula)
        assert Placement.objects.get(pk=placement.pk).preceptor == preceptor
        services.reactivate_preceptor(preceptor=preceptor)
        assert permissions.visible_placements(paula).count() == 1

    def test_the_welcome_is_sent_again_on_request(self, preceptor, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            services.resend_welcome(preceptor=preceptor)
        assert [message.to for message in mail.outbox] == [[preceptor.user.email]]

    def test_no_welcome_for_a_deactivated_preceptor(self, preceptor):
        services.deactivate_preceptor(preceptor=preceptor)
        with pytest.raises(ValidationError):
            services.resend_welcome(preceptor=preceptor)
        assert mail.outbox == []


# --- Pages --------------------------------------------------------------------------------------

OUTSIDERS = ["elsewhere_coordinator", "irene", "alice", "paula", "olga"]


@pytest.fixture
def elsewhere_coordinator(elsewhere):
    return elsewhere["coordinator"]


def person(request, name):
    return request.getfixturevalue(name)


class TestSiteList:
    def test_the_coordinator_sees_each_site_with_its_room_agreement_and_preceptors(self, client, carlos, placement):
        site = placement.site
        PlacementFactory(
            enrollment=factories.EnrollmentFactory(cohort=placement.enrollment.cohort),
            site=site,
            preceptor=placement.preceptor,
            state=Placement.State.COMPLETED,
        )
        SiteFactory(program=site.program, name="Old Town Clinic", agreement_expires_on=None)
        SiteFactory(
            program=site.program, name="Eastside Clinic", agreement_expires_on=date.today() + timedelta(days=30)
        )
        response = get(client, carlos, reverse("externships:site-list", args=[site.program.code]))
        page = response.content.decode()
        assert response.status_code == 200
        rows = {row_site.name: row_site for row_site, _status in response.context["rows"]}
        assert (rows[site.name].placed_now, rows[site.name].preceptor_count) == (1, 1)
        assert "1 of 4" in page
        assert "No agreement on file" in page
        assert "Expires on" in page and "Valid until" in page
        assert reverse("externships:site-create", args=[site.program.code]) in page

    def test_the_director_sees_it_too(self, client, dana, site):
        assert get(client, dana, reverse("externships:site-list", args=[site.program.code])).status_code == 200

    def test_another_programs_sites_are_not_listed(self, client, carlos, site, elsewhere):
        page = get(client, carlos, reverse("externships:site-list", args=[site.program.code])).content.decode()
        assert site.name in page and elsewhere["site"].name not in page

    def test_an_instructor_of_the_program_is_forbidden(self, client, irene, program):
        assert get(client, irene, reverse("externships:site-list", args=[program.code])).status_code == 403

    @pytest.mark.parametrize("who", ["elsewhere_coordinator", "alice", "paula", "olga"])
    def test_people_outside_the_programs_staff_get_404(self, client, request, who, program, paula):
        assert (
            get(client, person(request, who), reverse("externships:site-list", args=[program.code])).status_code == 404
        )

    def test_it_rejects_post(self, client, carlos, program):
        assert post(client, carlos, reverse("externships:site-list", args=[program.code])).status_code == 405


class TestSiteCreate:
    def test_the_coordinator_adds_a_site(self, client, carlos, program):
        response = post(client, carlos, reverse("externships:site-create", args=[program.code]), site_form())
        site = Site.objects.get(program=program, name="Riverside Internal Medicine")
        assert response.status_code == 302
        assert response.url == reverse("externships:site-detail", args=[site.pk])
        assert site.specialties == ["internal medicine", "geriatrics"]
        assert site.capacity == 3

    def test_specialties_drop_blanks_and_repeats(self, client, carlos, program):
        data = site_form(specialties=" pediatrics,, Pediatrics , family  medicine,")
        post(client, carlos, reverse("externships:site-create", args=[program.code]), data)
        assert Site.objects.get(program=program).specialties == ["pediatrics", "family medicine"]

    def test_bad_input_names_the_fields_and_saves_nothing(self, client, carlos, program):
        data = site_form(name="", capacity="0", agreement_expires_on="someday", specialties="x" * 81)
        response = post(client, carlos, reverse("externships:site-create", args=[program.code]), data)
        assert response.status_code == 200
        assert set(response.context["form"].errors) == {"name", "capacity", "agreement_expires_on", "specialties"}
        assert not Site.objects.filter(program=program).exists()

    @pytest.mark.parametrize("specialties", ["pediatrics, cardio\x00logy", "\x00"])
    def test_a_nul_in_the_specialties_is_refused_on_that_field(self, client, carlos, program, specialties):
        # The list's repr hid the NUL from Django's check and PostgreSQL refused the row: a 500.
        response = post(
            client, carlos, reverse("externships:site-create", args=[program.code]), site_form(specialties=specialties)
        )
        assert response.status_code == 200
        assert response.context["form"].errors["specialties"] == [
            "Specialties: remove the null character; it cannot be stored."
        ]
        assert not Site.objects.filter(program=program).exists()

    def test_a_taken_name_is_refused_on_the_name_field(self, client, carlos, site):
        data = site_form(name=site.name.upper())
        response = post(client, carlos, reverse("externships:site-create", args=[site.program.code]), data)
        assert response.context["form"].errors["name"] == [f"The program already has a site named {site.name.upper()}."]
        assert Site.objects.filter(program=site.program).count() == 1

    def test_an_instructor_of_the_program_is_forbidden(self, client, irene, program):
        response = post(client, irene, reverse("externships:site-create", args=[program.code]), site_form())
        assert response.status_code == 403
        assert not Site.objects.exists()

    @pytest.mark.parametrize("who", ["elsewhere_coordinator", "alice", "paula", "olga"])
    def test_people_outside_the_programs_staff_get_404(self, client, request, who, program, paula):
        url = reverse("externships:site-create", args=[program.code])
        assert post(client, person(request, who), url, site_form()).status_code == 404
        assert not Site.objects.filter(program=program, name="Riverside Internal Medicine").exists()

    def test_it_rejects_put(self, client, carlos, program):
        client.force_login(carlos)
        assert client.put(reverse("externships:site-create", args=[program.code])).status_code == 405


class TestSiteDetail:
    def test_the_coordinator_sees_facts_preceptors_requirements_and_placements(self, client, carlos, placement):
        site = placement.site
        RequirementFactory(program=site.program, site=site, name="Site badge photo")
        response = get(client, carlos, reverse("externships:site-detail", args=[site.pk]))
        page = response.content.decode()
        assert response.status_code == 200
        assert placement.preceptor.user.email in page
        assert "Site badge photo" in page
        assert placement.enrollment.student.sortable_name in page
        assert reverse("externships:placement-detail", args=[placement.pk]) in page
        assert "Planned" in page
        assert response.context["agreement"].state == "valid"
        assert response.context["placed_now"] == 1
        for name in ("preceptor-edit", "preceptor-deactivate", "preceptor-welcome"):
            assert reverse(f"externships:{name}", args=[placement.preceptor.pk]) in page

    def test_a_deactivated_preceptor_is_offered_reactivation(self, client, carlos, preceptor):
        services.deactivate_preceptor(preceptor=preceptor)
        page = get(client, carlos, reverse("externships:site-detail", args=[preceptor.site_id])).content.decode()
        assert reverse("externships:preceptor-reactivate", args=[preceptor.pk]) in page
        assert reverse("externships:preceptor-deactivate", args=[preceptor.pk]) not in page

    @pytest.mark.parametrize("who", OUTSIDERS)
    def test_everyone_else_gets_404(self, client, request, who, site, paula):
        assert get(client, person(request, who), reverse("externships:site-detail", args=[site.pk])).status_code == 404

    def test_it_rejects_post(self, client, carlos, site):
        assert post(client, carlos, reverse("externships:site-detail", args=[site.pk])).status_code == 405


class TestSiteEdit:
    def test_the_director_edits_a_site(self, client, dana, site):
        data = site_form(name=site.name, capacity="6", specialties="family medicine", agreement_expires_on="")
        response = post(client, dana, reverse("externships:site-edit", args=[site.pk]), data)
        site.refresh_from_db()
        assert response.status_code == 302
        assert (site.capacity, site.specialties, site.agreement_expires_on) == (6, ["family medicine"], None)

    def test_the_form_shows_specialties_as_one_line(self, client, carlos, site):
        Site.objects.filter(pk=site.pk).update(specialties=["family medicine", "pediatrics"])
        page = get(client, carlos, reverse("externships:site-edit", args=[site.pk])).content.decode()
        assert 'value="family medicine, pediatrics"' in page

    def test_bad_input_names_the_field_and_changes_nothing(self, client, carlos, program, site):
        SiteFactory(program=program, name="Northside Clinic")
        data = site_form(name="Northside Clinic")
        response = post(client, carlos, reverse("externships:site-edit", args=[site.pk]), data)
        assert list(response.context["form"].errors) == ["name"]
        assert Site.objects.get(pk=site.pk).name == "Lakeside Family Clinic"

    @pytest.mark.parametrize("who", OUTSIDERS)
    def test_everyone_else_gets_404(self, client, request, who, site, paula):
        url = reverse("externships:site-edit", args=[site.pk])
        assert post(client, person(request, who), url, site_form(name="Taken over")).status_code == 404
        assert Site.objects.get(pk=site.pk).name == "Lakeside Family Clinic"

    def test_it_rejects_delete(self, client, carlos, site):
        client.force_login(carlos)
        assert client.delete(reverse("externships:site-edit", args=[site.pk])).status_code == 405


class TestPreceptorPages:
    def test_the_coordinator_adds_a_preceptor_who_is_welcomed(
        self, client, carlos, site, django_capture_on_commit_callbacks
    ):
        data = {"email": "rosa@clinic.test", "first_name": "Rosa", "last_name": "Díaz", "title": "", "phone": ""}
        with django_capture_on_commit_callbacks(execute=True):
            response = post(client, carlos, reverse("externships:preceptor-add", args=[site.pk]), data)
        assert response.status_code == 302
        assert response.url == reverse("externships:site-detail", args=[site.pk])
        assert Preceptor.objects.filter(site=site, user__email="rosa@clinic.test").exists()
        assert [message.to for message in mail.outbox] == [["rosa@clinic.test"]]

    def test_bad_input_names_the_fields_and_adds_nobody(self, client, carlos, site):
        data = {"email": "not an address", "first_name": "", "last_name": "Díaz"}
        response = post(client, carlos, reverse("externships:preceptor-add", args=[site.pk]), data)
        assert set(response.context["form"].errors) == {"email", "first_name"}
        assert not Preceptor.objects.filter(site=site).exists()
        assert mail.outbox == []

    def test_adding_the_same_person_twice_says_so_on_the_email_field(self, client, carlos, site, paula):
        data = {"email": paula.email, "first_name": "Paula", "last_name": "X"}
        response = post(client, carlos, reverse("externships:preceptor-add", args=[site.pk]), data)
        assert response.context["form"].errors["email"] == [f"{paula} is already a preceptor at {site.name}."]
        assert mail.outbox == []

    def test_the_coordinator_edits_a_preceptors_title_and_phone(self, client, carlos, preceptor):
        data = {"title": "Clinical supervisor", "phone": "555-0142"}
        response = post(client, carlos, reverse("externships:preceptor-edit", args=[preceptor.pk]), data)
        preceptor.refresh_from_db()
        assert response.status_code == 302
        assert (preceptor.title, preceptor.phone) == ("Clinical supervisor", "555-0142")

    def test_a_too_long_title_is_refused_on_its_field(self, client, carlos, preceptor):
        data = {"title": "x" * 201, "phone": ""}
        response = post(client, carlos, reverse("externships:preceptor-edit", args=[preceptor.pk]), data)
        assert list(response.context["form"].errors) == ["title"]
        assert Preceptor.objects.get(pk=preceptor.pk).title == "CMA (AAMA)"

    def test_deactivating_warns_about_open_placements(self, client, carlos, placement):
        preceptor = placement.preceptor
        response = post(client, carlos, reverse("externships:preceptor-deactivate", args=[preceptor.pk]))
        assert response.status_code == 302
        assert not Preceptor.objects.get(pk=preceptor.pk).is_active
        page = client.get(response.url).content.decode()
        assert "1 open placement still names them as preceptor" in page

    def test_reactivating_restores_the_preceptor(self, client, carlos, preceptor):
        services.deactivate_preceptor(preceptor=preceptor)
        response = post(client, carlos, reverse("externships:preceptor-reactivate", args=[preceptor.pk]))
        assert response.status_code == 302
        assert Preceptor.objects.get(pk=preceptor.pk).is_active

    def test_the_welcome_is_resent(self, client, carlos, preceptor, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            response = post(client, carlos, reverse("externships:preceptor-welcome", args=[preceptor.pk]))
        assert response.status_code == 302
        assert [message.to for message in mail.outbox] == [[preceptor.user.email]]

    def test_no_welcome_is_resent_to_a_deactivated_preceptor(self, client, carlos, preceptor):
        services.deactivate_preceptor(preceptor=preceptor)
        response = post(client, carlos, reverse("externships:preceptor-welcome", args=[preceptor.pk]))
        assert "is not an active preceptor" in client.get(response.url).content.decode()
        assert mail.outbox == []

    @pytest.mark.parametrize("who", OUTSIDERS)
    def test_everyone_else_gets_404_and_nothing_changes(self, client, request, who, site, preceptor):
        user = person(request, who)
        data = {"email": "intruder@clinic.test", "first_name": "I", "last_name": "N", "title": "Boss", "phone": ""}
        urls = [
            reverse("externships:preceptor-add", args=[site.pk]),
            reverse("externships:preceptor-edit", args=[preceptor.pk]),
            reverse("externships:preceptor-deactivate", args=[preceptor.pk]),
            reverse("externships:preceptor-reactivate", args=[preceptor.pk]),
            reverse("externships:preceptor-welcome", args=[preceptor.pk]),
        ]
        assert [post(client, user, url, data).status_code for url in urls] == [404] * 5
        preceptor.refresh_from_db()
        assert (preceptor.title, preceptor.is_active) == ("CMA (AAMA)", True)
        assert not Preceptor.objects.filter(user__email="intruder@clinic.test").exists()
        assert mail.outbox == []

    def test_another_programs_preceptor_is_404_for_the_coordinator(self, client, carlos, elsewhere):
        url = reverse("externships:preceptor-deactivate", args=[elsewhere["preceptor"].pk])
        assert post(client, carlos, url).status_code == 404
        assert Preceptor.objects.get(pk=elsewhere["preceptor"].pk).is_active

    @pytest.mark.parametrize("name", ["preceptor-deactivate", "preceptor-reactivate", "preceptor-welcome"])
    def test_actions_reject_get(self, client, carlos, preceptor, name):
        assert get(client, carlos, reverse(f"externships:{name}", args=[preceptor.pk])).status_code == 405

    def test_forms_reject_put(self, client, carlos, site, preceptor):
        client.force_login(carlos)
        assert client.put(reverse("externships:preceptor-add", args=[site.pk])).status_code == 405
        assert client.put(reverse("externships:preceptor-edit", args=[preceptor.pk])).status_code == 405


# --- Query budgets ------------------------------------------------------------------------------


def grow(site, cohort, creator, times: int) -> None:
    """More sites, and at `site` more preceptors, requirements and placements."""
    for _ in range(times):
        SiteFactory(program=site.program)
        preceptor = PreceptorFactory(site=site)
        RequirementFactory(program=site.program, site=site)
        PlacementFactory(
            enrollment=factories.EnrollmentFactory(cohort=cohort), site=site, preceptor=preceptor, created_by=creator
        )


@pytest.mark.parametrize("page", ["site-list", "site-detail"])
def test_pages_cost_the_same_queries_at_1x_and_5x(client, page, site, cohort, carlos):
    url = (
        reverse("externships:site-list", args=[site.program.code])
        if page == "site-list"
        else reverse("externships:site-detail", args=[site.pk])
    )
    grow(site, cohort, carlos, 1)
    once = queries_for(client, carlos, url)
    grow(site, cohort, carlos, 4)
    five_times = queries_for(client, carlos, url)
    print(f"QUERIES {page}: {once} at 1x, {five_times} at 5x")  # for `pytest -s`: the figures
    assert once == five_times, f"{page}: {once} queries at 1x, {five_times} at 5x"
