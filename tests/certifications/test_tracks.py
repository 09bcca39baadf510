"""The program's certification tracks: the list with the thresholds in force, one track's values with
their sources, the director's edits, confirmation and outline; who may see and do what; bad input
changes nothing; the list costs the same queries at 1x and 5x the tracks."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from certifications import services_tracks as services
from certifications.forms_tracks import TrackForm
from certifications.models import CertificationTrack, ContentDomain
from certifications.services_tracks import DomainValues
from curriculum.models import Confidence, StaffRole
from tests import factories
from tests.certification_factories import track
from tests.queries import queries_for


@pytest.fixture
def cma(program):
    return track(program, "CMA")


@pytest.fixture
def elsewhere_director(db):
    """The director of another program."""
    return factories.StaffFactory(role=StaffRole.Role.DIRECTOR, first_name="Elena").user


def urls(program, code="CMA") -> dict[str, str]:
    return {
        "list": reverse("certifications:track-list", args=[program.code]),
        "detail": reverse("certifications:track-detail", args=[program.code, code]),
        "edit": reverse("certifications:track-edit", args=[program.code, code]),
        "confirm": reverse("certifications:track-confirm", args=[program.code, code]),
        "domains": reverse("certifications:track-domains", args=[program.code, code]),
    }


def rules_form(cma: CertificationTrack, **overrides) -> dict[str, str]:
    """The edit form as the page fills it in, with some values typed over."""
    data: dict[str, str] = {}
    for name, value in TrackForm.initial_for(cma).items():
        if isinstance(value, bool) and name != "annual_fee_required":
            if value:
                data[name] = "on"
        elif name == "annual_fee_required":
            data[name] = {None: "unknown", True: "true", False: "false"}[value]
        elif isinstance(value, list):
            data[name] = "\n".join(value)
        else:
            data[name] = "" if value is None else str(value)
    for name, value in overrides.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def outline_form(rows: list[dict[str, str]], initial: int) -> dict[str, str]:
    data = {
        "domains-TOTAL_FORMS": str(len(rows)),
        "domains-INITIAL_FORMS": str(initial),
        "domains-MIN_NUM_FORMS": "0",
        "domains-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        for name, value in row.items():
            data[f"domains-{index}-{name}"] = value
    return data


def cma_outline(cma: CertificationTrack) -> list[dict[str, str]]:
    return [
        {
            "id": str(domain.pk),
            "name": domain.name,
            "weight_percent": format(domain.weight_percent.normalize(), "f"),
            "items": "",
            "tags": ", ".join(domain.tags),
        }
        for domain in cma.domains.order_by("order")
    ]


def snapshot(cma: CertificationTrack) -> tuple:
    fresh = CertificationTrack.objects.get(pk=cma.pk)
    domains = list(ContentDomain.objects.filter(track=cma).order_by("order").values_list())
    fields = {f.name: getattr(fresh, f.name) for f in CertificationTrack._meta.fields}
    return fields, domains


# --- Who may see and do what ---------------------------------------------------------------------


class TestAccess:
    def test_the_director_opens_every_page(self, client, dana, program):
        client.force_login(dana)
        for name in ("list", "detail", "edit", "domains"):
            assert client.get(urls(program)[name]).status_code == 200, name

    def test_the_coordinator_reads_the_list_and_a_track_without_edit_links(self, client, carlos, program):
        client.force_login(carlos)
        pages = [client.get(urls(program)[name]) for name in ("list", "detail")]
        assert [page.status_code for page in pages] == [200, 200]
        for page in pages:
            text = page.content.decode()
            for name in ("edit", "confirm", "domains"):
                assert urls(program)[name] not in text
            assert "/edit/" not in text

    def test_the_coordinator_may_not_edit_confirm_or_outline(self, client, carlos, program, cma):
        before = snapshot(cma)
        client.force_login(carlos)
        assert client.get(urls(program)["edit"]).status_code == 403
        assert client.post(urls(program)["edit"], rules_form(cma, max_attempts="9")).status_code == 403
        assert client.post(urls(program)["confirm"]).status_code == 403
        assert client.get(urls(program)["domains"]).status_code == 403
        assert client.post(urls(program)["domains"], outline_form(cma_outline(cma), 3)).status_code == 403
        assert snapshot(cma) == before

    def test_an_instructor_is_forbidden_every_page(self, client, irene, program):
        client.force_login(irene)
        for name in ("list", "detail", "edit", "domains"):
            assert client.get(urls(program)[name]).status_code == 403, name
        assert client.post(urls(program)["confirm"]).status_code == 403

    @pytest.mark.parametrize("who", ["olga", "alice", "elsewhere_director"])
    def test_anyone_off_the_programs_staff_finds_nothing(self, client, request, program, who):
        client.force_login(request.getfixturevalue(who))
        for name in ("list", "detail", "edit", "domains"):
            assert client.get(urls(program)[name]).status_code == 404, name
        assert client.post(urls(program)["confirm"]).status_code == 404

    def test_a_code_holding_a_nul_is_not_found(self, client, dana, program):
        # A NUL reached PostgreSQL and answered 500; the address now matches no pattern.
        client.force_login(dana)
        for url in (
            f"/programs/{program.code}/certifications/tracks/%00/",
            f"/programs/{program.code}/certifications/tracks/CMA%00/edit/",
            "/programs/%00/certifications/tracks/",
        ):
            assert client.get(url).status_code == 404, url

    def test_another_programs_track_code_is_not_found_here(self, client, dana, program):
        client.force_login(dana)
        for name in ("detail", "edit", "domains"):
            assert client.get(urls(program, "XYZ")[name]).status_code == 404, name

    def test_confirming_takes_only_a_post(self, client, dana, program, cma):
        client.force_login(dana)
        assert client.get(urls(program)["confirm"]).status_code == 405
        assert CertificationTrack.objects.get(pk=cma.pk).confirmed_by is None

    def test_the_pages_refuse_other_methods(self, client, dana, program):
        client.force_login(dana)
        assert client.post(urls(program)["list"]).status_code == 405
        assert client.post(urls(program)["detail"]).status_code == 405
        assert client.delete(urls(program)["edit"]).status_code == 405
        assert client.put(urls(program)["domains"]).status_code == 405


# --- What the pages show ---------------------------------------------------------------------------


class TestPages:
    def test_the_list_flags_tracks_with_values_to_confirm_and_shows_the_thresholds(self, client, dana, program):
        client.force_login(dana)
        response = client.get(urls(program)["list"])
        rows = {row["track"].code: row for row in response.context["rows"]}
        assert list(rows) == ["CMA", "RMA", "CCMA", "CMAA", "NCMA"]
        assert "Days to wait after a fail" in rows["CMA"]["unconfirmed"]
        text = response.content.decode()
        assert "Needs confirming" in text
        assert "At most 3 attempts; failing the last one ends eligibility." in rows["CMA"]["retakes"]
        assert rows["CMA"]["recertification"].startswith("Every 60 months, 60 continuing education credits")
        assert "measure-maerb-retention" in text and "measure-abhes-placement" in text
        assert "a site administrator edits them in the admin" in text
        groups = response.context["accreditors"]
        assert groups[0]["accreditor"] == "maerb" and groups[0]["is_programs"]

    def test_a_track_shows_each_value_with_its_source_and_confidence(self, client, dana, program, cma):
        client.force_login(dana)
        response = client.get(urls(program)["detail"])
        values = {value.name: value for _title, group in response.context["sections"] for value in group}
        assert values["name"].confidence == "verified" and values["name"].source == "aama-ntl.org/cma-aama-exam"
        assert values["retake_wait_days"].needs_confirming
        assert values["completion_window_days"].shown == 30
        assert values["wait_after_max_attempts_days"].shown == "Failing the last allowed attempt ends eligibility"
        assert values["eligibility_routes"].is_list and len(values["eligibility_routes"].shown) == len(
            cma.eligibility_routes
        )
        text = response.content.decode()
        assert "Verified" in text and "Needs confirming" in text
        assert "Clinical Competency" in text and "phlebotomy" in text and "59%" in text
        assert reverse("certifications:track-confirm", args=[program.code, "CMA"]) in text

    def test_a_confirmed_value_says_who_and_when(self, client, dana, program, cma):
        services.confirm_track(track=cma, by=dana)
        client.force_login(dana)
        text = client.get(urls(program)["detail"]).content.decode()
        assert f"Confirmed by {dana}" in text
        assert "Needs confirming" not in text


# --- Editing the rules -----------------------------------------------------------------------------


class TestEdit:
    def test_saving_records_each_changed_value_as_edited_and_confirmed_by_the_director(
        self, client, dana, program, cma
    ):
        untouched = dict(cma.provenance)
        client.force_login(dana)
        response = client.post(
            urls(program)["edit"],
            rules_form(
                cma,
                retake_wait_days="45",
                max_attempts="4",
                eligibility_routes="  Graduates of an accredited program \n\n Recent graduates  ",
                is_offered=None,
            ),
        )
        assert response.status_code == 302
        cma.refresh_from_db()
        assert (cma.retake_wait_days, cma.max_attempts, cma.is_offered) == (45, 4, False)
        assert cma.eligibility_routes == ["Graduates of an accredited program", "Recent graduates"]
        edited = {"source": f"edited by {dana}", "confidence": Confidence.CONFIRMED}
        for name in ("retake_wait_days", "max_attempts", "eligibility_routes", "is_offered"):
            assert cma.provenance[name] == edited, name
        for name in ("passing_score", "ce_required", "name"):
            assert cma.provenance[name] == untouched[name], name
        assert cma.confirmed_by == dana and cma.confirmed_at is not None
        assert "retake_wait_days" not in cma.unconfirmed_fields

    def test_saving_unchanged_values_confirms_nothing(self, client, dana, program, cma):
        before = snapshot(cma)
        client.force_login(dana)
        response = client.post(urls(program)["edit"], rules_form(cma), follow=True)
        assert "Nothing changed in CMA." in response.content.decode()
        assert snapshot(cma) == before

    @pytest.mark.parametrize(
        ("field", "typed", "message"),
        [
            ("retake_wait_days", "-5", "Days to wait after a fail cannot be negative."),
            ("max_attempts", "0", "Attempts allowed must be at least 1."),
            ("completion_window_days", "soon", "Days before completion a student may test: enter a whole number"),
            ("recertification_months", "40000", "Recertification cycle (months) must be at most 32767."),
            ("eligibility_routes", "Graduates\nRecent\x00 graduates", "Eligibility routes: remove the null character"),
            ("eligibility_routes", "x" * 501, "Eligibility routes: “xxxxxxxx"),
        ],
    )
    def test_bad_input_names_the_value_and_changes_nothing(self, client, dana, program, cma, field, typed, message):
        before = snapshot(cma)
        client.force_login(dana)
        response = client.post(urls(program)["edit"], rules_form(cma, **{field: typed, "ce_required": "99"}))
        assert response.status_code == 200
        assert message in response.context["form"].errors[field][0]
        assert message in response.content.decode()
        assert snapshot(cma) == before

    def test_a_wait_after_the_last_attempt_needs_an_attempt_limit(self, client, dana, program, cma):
        before = snapshot(cma)
        client.force_login(dana)
        response = client.post(
            urls(program)["edit"], rules_form(cma, max_attempts="", wait_after_max_attempts_days="90")
        )
        assert response.status_code == 200
        assert (
            "set the number of attempts allowed first"
            in response.context["form"].errors["wait_after_max_attempts_days"][0]
        )
        assert snapshot(cma) == before

    def test_the_form_offers_every_rule_the_service_saves(self):
        assert list(TrackForm.base_fields) == list(services.EDITABLE_FIELDS)

    def test_the_service_refuses_what_the_model_refuses(self, dana, cma):
        with pytest.raises(ValidationError) as error:
            services.update_track(track=cma, by=dana, values={"max_attempts": 0})
        assert "max_attempts" in error.value.message_dict
        with pytest.raises(ValueError):
            services.update_track(track=cma, by=dana, values={"program_id": 1})
        assert CertificationTrack.objects.get(pk=cma.pk).max_attempts == 3


# --- Confirming every value --------------------------------------------------------------------------


class TestConfirm:
    def test_confirming_marks_every_value_and_domain_confirmed_and_keeps_the_sources(self, client, dana, program, cma):
        client.force_login(dana)
        response = client.post(urls(program)["confirm"])
        assert response.status_code == 302
        cma.refresh_from_db()
        assert cma.unconfirmed_fields == []
        assert {origin["confidence"] for origin in cma.provenance.values()} == {Confidence.CONFIRMED}
        assert cma.provenance["name"]["source"] == f"aama-ntl.org/cma-aama-exam (confirmed by {dana})"
        assert cma.provenance["total_items"]["source"] == f"confirmed by {dana}"  # had no source
        assert (cma.confirmed_by, cma.confirmed_at is not None) == (dana, True)
        assert set(cma.domains.values_list("confidence", flat=True)) == {Confidence.CONFIRMED}
        assert (
            cma.domains.get(name="General").source
            == f"domain.md research (third-party summaries) (confirmed by {dana})"
        )
        listed = {row["track"].code: row for row in client.get(urls(program)["list"]).context["rows"]}
        assert listed["CMA"]["unconfirmed"] == [] and listed["RMA"]["unconfirmed"]

    def test_confirming_again_replaces_the_earlier_confirmation(self, dana, program, cma):
        other = factories.StaffFactory(program=program, role=StaffRole.Role.DIRECTOR, first_name="Omar").user
        services.confirm_track(track=cma, by=dana)
        services.confirm_track(track=cma, by=other)
        cma.refresh_from_db()
        assert cma.provenance["name"]["source"] == f"aama-ntl.org/cma-aama-exam (confirmed by {other})"
        assert cma.confirmed_by == other

    def test_confirming_one_track_leaves_another_programs_copy_alone(self, dana, program, cma, elsewhere_director):
        services.confirm_track(track=cma, by=dana)
        theirs = track(elsewhere_director.staff_roles.get().program, "CMA")
        assert theirs.unconfirmed_fields and theirs.confirmed_by is None


# --- The content outline ----------------------------------------------------------------------------


class TestOutline:
    def test_the_director_reweighs_retags_adds_and_removes_domains(self, client, dana, program, cma):
        rows = cma_outline(cma)
        rows[0]["weight_percent"] = "50"
        rows[0]["tags"] = " Vitals ,EKG,  , vitals,Phlebotomy  Draws "
        rows[1]["weight_percent"] = "21"
        rows[2]["DELETE"] = "on"
        rows.append({"id": "", "name": "  Pharmacology ", "weight_percent": "29", "items": "", "tags": "Injections"})
        rows.append({"id": "", "name": "", "weight_percent": "", "items": "", "tags": ""})
        client.force_login(dana)
        response = client.post(urls(program)["domains"], outline_form(rows, initial=3))
        assert response.status_code == 302
        domains = list(cma.domains.order_by("order"))
        assert [(d.name, d.weight_percent, d.order) for d in domains] == [
            ("Clinical Competency", Decimal("50"), 1),
            ("General", Decimal("21"), 2),
            ("Pharmacology", Decimal("29"), 3),
        ]
        assert domains[0].tags == ["vitals", "ekg", "phlebotomy draws"]
        assert domains[2].tags == ["injections"]
        assert (domains[0].source, domains[0].confidence) == (f"edited by {dana}", Confidence.CONFIRMED)
        assert (domains[2].source, domains[2].confidence) == (f"added by {dana}", Confidence.CONFIRMED)
        assert domains[1].source == "domain.md research (third-party summaries)"  # its weight did not change
        assert CertificationTrack.objects.get(pk=cma.pk).confirmed_by == dana

    def test_weights_that_do_not_add_up_to_100_change_nothing(self, client, dana, program, cma):
        before = snapshot(cma)
        rows = cma_outline(cma)
        rows[0]["weight_percent"] = "49"
        rows[1]["tags"] = "something new"
        client.force_login(dana)
        response = client.post(urls(program)["domains"], outline_form(rows, initial=3))
        assert response.status_code == 200
        assert "The weights add up to 90%" in response.content.decode()
        assert snapshot(cma) == before

    def test_weights_need_not_add_up_while_a_domain_has_none(self, dana, cma):
        rows = [DomainValues(name="One", weight_percent=Decimal(40)), DomainValues(name="Two", items=12)]
        assert services.domain_problems(rows) == []

    @pytest.mark.parametrize(
        ("row", "message"),
        [
            ({"name": ""}, "Row 2: give the domain a name."),
            ({"weight_percent": "140"}, "Row 2: the weight is a number from 0 to 100."),
            ({"weight_percent": "-1"}, "Row 2: the weight is a number from 0 to 100."),
            ({"items": "-3"}, "Row 2: the number of exam items cannot be negative."),
            ({"name": "clinical competency"}, "Rows 1 and 2 are both named"),
            ({"tags": "x" * 61}, "Row 2: the tag"),
        ],
    )
    def test_a_bad_row_is_named_and_nothing_changes(self, client, dana, program, cma, row, message):
        before = snapshot(cma)
        rows = cma_outline(cma)
        rows[1].update(row)
        client.force_login(dana)
        response = client.post(urls(program)["domains"], outline_form(rows, initial=3))
        assert response.status_code == 200
        assert message in response.content.decode()
        assert snapshot(cma) == before

    def test_two_domains_may_swap_names_in_one_save(self, dana, cma):
        first, second, third = cma.domains.order_by("order")
        rows = [
            DomainValues(pk=first.pk, name=second.name, weight_percent=Decimal(21), tags=list(second.tags)),
            DomainValues(pk=second.pk, name=first.name, weight_percent=Decimal(59), tags=list(first.tags)),
            DomainValues(pk=third.pk, name=third.name, weight_percent=Decimal(20), tags=list(third.tags)),
        ]
        services.update_domains(track=cma, by=dana, rows=rows)
        assert list(cma.domains.order_by("order").values_list("pk", "name")) == [
            (first.pk, "General"),
            (second.pk, "Clinical Competency"),
            (third.pk, "Administrative"),
        ]

    def test_a_domain_of_another_track_is_refused(self, dana, program, cma):
        foreign = track(program, "RMA").domains.first()
        with pytest.raises(ValidationError):
            services.update_domains(track=cma, by=dana, rows=[DomainValues(pk=foreign.pk, name="Taken over")])
        assert ContentDomain.objects.get(pk=foreign.pk).track == track(program, "RMA")


# --- Queries ------------------------------------------------------------------------------------------


def more_tracks(program, count: int, domains: int = 5) -> None:
    for number in range(count):
        added = CertificationTrack.objects.create(
            program=program,
            code=f"X{number}",
            name=f"Extra credential {number}",
            awarding_body="A body",
            order=10 + number,
            scored_items=100,
            max_attempts=3,
            wait_after_max_attempts_days=90,
            recertification_months=24,
            provenance={"scored_items": {"source": "a guide", "confidence": "secondary"}},
        )
        ContentDomain.objects.bulk_create(
            ContentDomain(track=added, name=f"Domain {index}", weight_percent=Decimal(20), tags=["vitals"], order=index)
            for index in range(domains)
        )


def test_the_list_costs_the_same_queries_at_5x_the_tracks(client, dana, program):
    url = urls(program)["list"]
    once = queries_for(client, dana, url)
    more_tracks(program, 20)
    assert queries_for(client, dana, url) == once


def test_a_track_page_costs_the_same_queries_at_5x_the_domains(client, dana, program, cma):
    url = urls(program)["detail"]
    once = queries_for(client, dana, url)
    ContentDomain.objects.bulk_create(
        ContentDomain(track=cma, name=f"Extra {index}", items=4, tags=["x"], order=10 + index) for index in range(12)
    )
    assert queries_for(client, dana, url) == once


# --- Which tracks count for each accreditor --------------------------------------------------------


def counted_url(program) -> str:
    return reverse("certifications:track-counting", args=[program.code])


def counted(program) -> dict[str, tuple[bool, bool]]:
    return {
        code: (maerb, abhes)
        for code, maerb, abhes in CertificationTrack.objects.filter(program=program).values_list(
            "code", "counts_for_maerb", "counts_for_abhes"
        )
    }


# A new program counts for MAERB the medical assisting credentials it names (not the administrative CMAA),
# and for ABHES every track it offers.
DEFAULT_COUNTED = {
    "CMA": (True, True),
    "RMA": (True, True),
    "CCMA": (True, True),
    "CMAA": (False, True),
    "NCMA": (True, True),
}


class TestCountedTracks:
    def test_a_new_program_counts_maerbs_credentials_for_maerb_and_every_track_for_abhes(self, program):
        assert counted(program) == DEFAULT_COUNTED

    def test_the_director_sees_a_box_per_track_and_accreditor(self, client, dana, program):
        client.force_login(dana)
        html = client.get(urls(program)["list"]).content.decode()
        assert f'action="{counted_url(program)}"' in html
        assert 'name="maerb" value="CMA" id="counted-maerb-CMA" checked' in html
        assert 'name="maerb" value="CMAA" id="counted-maerb-CMAA" aria-label' in html  # not ticked
        assert 'name="abhes" value="CMAA" id="counted-abhes-CMAA" checked' in html

    def test_the_director_chooses_per_accreditor_and_each_change_is_recorded_as_theirs(self, client, dana, program):
        client.force_login(dana)
        response = client.post(
            counted_url(program), {"maerb": ["CMA", "RMA", "CCMA", "NCMA"], "abhes": ["CMA", "CCMA", "CMAA"]}
        )
        assert response.status_code == 302
        assert response["Location"] == urls(program)["list"] + "#counted"
        assert counted(program) == {**DEFAULT_COUNTED, "RMA": (True, False), "NCMA": (True, False)}
        rma = track(program, "RMA")
        assert rma.confidence_of("counts_for_abhes") == Confidence.CONFIRMED
        assert rma.source_of("counts_for_abhes") == f"edited by {dana}"
        # A value left as it was keeps its source.
        assert rma.confidence_of("counts_for_maerb") == "secondary"

    def test_the_coordinator_sees_the_choice_but_may_not_make_it(self, client, carlos, program):
        client.force_login(carlos)
        html = client.get(urls(program)["list"]).content.decode()
        assert "Exams counted in the outcome reports" in html
        assert counted_url(program) not in html
        assert 'type="checkbox"' not in html
        assert client.post(counted_url(program), {"maerb": ["CMA"]}).status_code == 403
        assert counted(program) == DEFAULT_COUNTED

    def test_an_instructor_is_forbidden(self, client, irene, program):
        client.force_login(irene)
        assert client.post(counted_url(program), {"maerb": ["CMA"]}).status_code == 403
        assert counted(program) == DEFAULT_COUNTED

    @pytest.mark.parametrize("who", ["olga", "alice", "elsewhere_director"])
    def test_anyone_off_the_programs_staff_finds_nothing(self, client, request, program, who):
        client.force_login(request.getfixturevalue(who))
        assert client.post(counted_url(program), {"maerb": ["CMA"]}).status_code == 404
        assert counted(program) == DEFAULT_COUNTED

    def test_it_takes_only_a_post(self, client, dana, program):
        client.force_login(dana)
        assert client.get(counted_url(program)).status_code == 405

    def test_a_code_that_is_not_the_programs_is_named_and_nothing_changes(self, client, dana, program):
        client.force_login(dana)
        response = client.post(counted_url(program), {"maerb": ["CMA"], "abhes": ["CMA", "CMAC"]})
        assert response.status_code == 422
        assert "ABHES: CMAC is not a certification track of this program." in response.content.decode()
        assert counted(program) == DEFAULT_COUNTED
        # The page shows the boxes as they were posted, for the director to correct.
        assert 'name="maerb" value="RMA" id="counted-maerb-RMA" aria-label' in response.content.decode()

    def test_the_service_names_an_unknown_code(self, dana, program):
        with pytest.raises(ValidationError, match="MAERB: CMAC is not a certification track of this program"):
            services.set_counted_tracks(program=program, by=dana, counted={"maerb": ["CMA", "CMAC"]})
        assert counted(program) == DEFAULT_COUNTED

    def test_the_track_page_and_its_form_show_both_choices(self, client, dana, program, cma):
        client.force_login(dana)
        detail = client.get(urls(program)["detail"]).content.decode()
        assert "Counts for MAERB" in detail and "Counts for ABHES" in detail
        form = client.get(urls(program)["edit"]).content.decode()
        assert 'name="counts_for_maerb"' in form and 'name="counts_for_abhes"' in form


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_line_of_tags_gives_trimmed_lower_case_tags_once_each(text):
    tags = services.clean_tags(text)
    assert all(tag and tag == " ".join(tag.split()) and tag == tag.lower() and "," not in tag for tag in tags)
    assert len(set(tags)) == len(tags)
    assert services.clean_tags(", ".join(tags)) == tags
