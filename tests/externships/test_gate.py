"""The practicum gate: each condition blocks with its own words; all met lets the placement start."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError

from externships import readiness
from externships.models import ComplianceRequirement, Placement
from externships.services import placements as placement_services
from tests import factories
from tests.externship_factories import ComplianceRecordFactory, PlacementFactory, RequirementFactory, SiteFactory


@pytest.fixture
def framework(program):
    framework = factories.FrameworkFactory()
    program.framework = framework
    program.save(update_fields=["framework"])
    return framework


@pytest.fixture
def vitals(framework):
    return factories.CompetencyFactory(framework=framework, code="I.P.1", title="Measure vital signs", domain="P")


@pytest.fixture
def empathy(framework):
    return factories.CompetencyFactory(framework=framework, code="V.A.1", title="Demonstrate empathy", domain="A")


@pytest.fixture
def knowledge(framework):
    """A cognitive item: never checked off, never part of the gate."""
    return factories.CompetencyFactory(framework=framework, code="I.C.1", title="Describe the heart", domain="C")


@pytest.fixture
def only_requirement(program):
    """The program's reference requirements replaced by one, to keep the scene small."""
    ComplianceRequirement.objects.filter(program=program).delete()
    return RequirementFactory(program=program, name="BLS/CPR", validity_months=24)


@pytest.fixture
def ready_alice(alice, irene, vitals, empathy, knowledge, only_requirement, placement):
    enrollment = alice.enrollments.get()
    factories.check_off(enrollment, vitals, irene)
    factories.check_off(enrollment, empathy, irene)
    ComplianceRecordFactory(
        student=alice, requirement=only_requirement, expires_on=placement.end_on + timedelta(days=1)
    )
    return alice


def problems(placement: Placement) -> list[str]:
    return readiness.placement_problems(placement)


class TestGate:
    def test_all_met_lets_the_placement_start(self, ready_alice, placement, carlos):
        assert problems(placement) == []
        started = placement_services.activate_placement(placement, by=carlos)
        assert started.state == Placement.State.ACTIVE
        assert started.activated_at is not None

    def test_a_competency_not_achieved_blocks_and_is_named(self, ready_alice, placement, carlos, framework):
        factories.CompetencyFactory(framework=framework, code="II.P.3", title="Perform venipuncture", domain="P")
        with pytest.raises(ValidationError) as refused:
            placement_services.activate_placement(placement, by=carlos)
        assert refused.value.messages == ["Competency not achieved yet: II.P.3 Perform venipuncture."]
        placement.refresh_from_db()
        assert placement.state == Placement.State.PLANNED

    def test_a_failed_or_revoked_pass_is_not_achieved(
        self, alice, irene, dana, vitals, empathy, only_requirement, placement
    ):
        enrollment = alice.enrollments.get()
        factories.check_off(enrollment, vitals, irene, passed=False)
        passed = factories.check_off(enrollment, empathy, irene)
        from curriculum import services

        services.revoke_signature(signature=passed.signature, revoked_by=dana, reason="Wrong student")
        ComplianceRecordFactory(student=alice, requirement=only_requirement)
        assert [p.split(":")[0] for p in problems(placement)] == ["Competency not achieved yet"] * 2

    def test_a_cognitive_item_does_not_count(self, ready_alice, placement, knowledge):
        assert problems(placement) == []

    def test_no_document_blocks(self, alice, irene, vitals, empathy, only_requirement, placement):
        enrollment = alice.enrollments.get()
        factories.check_off(enrollment, vitals, irene)
        factories.check_off(enrollment, empathy, irene)
        assert problems(placement) == ["BLS/CPR: no document uploaded."]

    def test_a_document_expiring_before_the_placement_ends_blocks(
        self, ready_alice, placement, only_requirement, carlos
    ):
        record = only_requirement.records.get()
        ComplianceRecordFactory._meta.model.objects.filter(pk=record.pk).delete()
        ComplianceRecordFactory(
            student=ready_alice, requirement=only_requirement, expires_on=placement.end_on - timedelta(days=1)
        )
        with pytest.raises(ValidationError) as refused:
            placement_services.activate_placement(placement, by=carlos)
        (message,) = refused.value.messages
        assert message.startswith("BLS/CPR expires on ") and "before" in message

    def test_a_pending_or_rejected_document_does_not_count(
        self, alice, irene, vitals, empathy, only_requirement, placement
    ):
        enrollment = alice.enrollments.get()
        factories.check_off(enrollment, vitals, irene)
        factories.check_off(enrollment, empathy, irene)
        ComplianceRecordFactory(student=alice, requirement=only_requirement, state="pending")
        assert problems(placement) == ["BLS/CPR: the document is waiting for review."]
        ComplianceRecordFactory._meta.model.objects.all().delete()
        ComplianceRecordFactory(student=alice, requirement=only_requirement, state="rejected")
        assert problems(placement) == ["BLS/CPR: the document was rejected (Illegible); upload a new one."]

    def test_an_optional_requirement_does_not_block(self, ready_alice, placement, program):
        RequirementFactory(program=program, name="COVID-19 vaccination", is_required=False)
        assert problems(placement) == []

    def test_a_site_requirement_blocks_at_that_site_only(self, ready_alice, placement, program):
        RequirementFactory(program=program, site=placement.site, name="Site badge training")
        other = SiteFactory(program=program)
        RequirementFactory(program=program, site=other, name="Other site's training")
        assert problems(placement) == ["Site badge training: no document uploaded."]

    def test_an_agreement_expiring_before_the_end_blocks(self, ready_alice, placement, site):
        site.agreement_expires_on = placement.end_on - timedelta(days=1)
        site.save()
        (message,) = problems(placement)
        assert message.startswith("The affiliation agreement with Lakeside Family Clinic expires on ")

    def test_no_agreement_on_file_blocks(self, ready_alice, placement, site):
        site.agreement_expires_on = None
        site.save()
        assert problems(placement) == ["Lakeside Family Clinic has no affiliation agreement on file."]

    def test_every_unmet_item_is_listed_at_once(self, alice, placement, vitals, empathy, only_requirement, site):
        site.agreement_expires_on = None
        site.save()
        assert len(problems(placement)) == 4

    def test_a_program_without_framework_cannot_start_placements(self, alice, placement, only_requirement):
        assert problems(placement)[0].startswith("The program has no competency framework")


class TestCohortReadiness:
    def test_ready_and_lacking_students(self, ready_alice, bob, cohort, placement):
        rows = {row.enrollment.student: row for row in readiness.cohort_readiness(cohort)}
        assert rows[ready_alice].ready
        assert rows[ready_alice].through == placement.end_on
        assert not rows[bob].ready
        assert rows[bob].competencies_missing == 2
        assert [status.problem for status in rows[bob].compliance_missing] == ["BLS/CPR: no document uploaded."]

    def test_query_count_is_fixed_as_the_cohort_grows(
        self, ready_alice, cohort, program, only_requirement, django_assert_max_num_queries
    ):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        def count() -> int:
            with CaptureQueriesContext(connection) as captured:
                readiness.cohort_readiness(cohort)
            return len(captured)

        factories.EnrollmentFactory(cohort=cohort)
        once = count()
        for _ in range(8):
            enrollment = factories.EnrollmentFactory(cohort=cohort)
            ComplianceRecordFactory(student=enrollment.student, requirement=only_requirement)
            PlacementFactory(enrollment=enrollment, site=SiteFactory(program=program))
        assert count() == once


class TestPlacementRules:
    def test_capacity_is_kept(self, program, cohort, site, paula, carlos):
        site.capacity = 1
        site.save()
        preceptor = paula.preceptorships.get()
        first = factories.EnrollmentFactory(cohort=cohort)
        second = factories.EnrollmentFactory(cohort=cohort)
        start, end = date.today(), date.today() + timedelta(days=30)
        placement_services.create_placement(
            enrollment=first, site=site, preceptor=preceptor, start_on=start, end_on=end, created_by=carlos
        )
        with pytest.raises(ValidationError) as refused:
            placement_services.create_placement(
                enrollment=second, site=site, preceptor=preceptor, start_on=start, end_on=end, created_by=carlos
            )
        assert "takes 1 students at a time" in refused.value.message_dict["site"][0]

    def test_required_hours_default_to_the_program(self, program, cohort, site, paula, carlos):
        program.practicum_hours = 200
        program.save()
        placement = placement_services.create_placement(
            enrollment=factories.EnrollmentFactory(cohort=cohort),
            site=site,
            preceptor=paula.preceptorships.get(),
            start_on=date.today(),
            end_on=date.today() + timedelta(days=60),
            created_by=carlos,
        )
        assert placement.required_hours == 200

    def test_a_preceptor_of_another_site_is_refused(self, program, cohort, site, carlos):
        from tests.externship_factories import PreceptorFactory

        elsewhere = PreceptorFactory(site=SiteFactory(program=program))
        with pytest.raises(ValidationError) as refused:
            placement_services.create_placement(
                enrollment=factories.EnrollmentFactory(cohort=cohort),
                site=site,
                preceptor=elsewhere,
                start_on=date.today(),
                end_on=date.today() + timedelta(days=60),
                created_by=carlos,
            )
        assert "preceptor" in refused.value.message_dict

    def test_completion_needs_the_hours_and_the_final_evaluation(self, placement, carlos):
        Placement.objects.filter(pk=placement.pk).update(state=Placement.State.ACTIVE)
        placement.refresh_from_db()
        with pytest.raises(ValidationError) as refused:
            placement_services.complete_placement(placement, by=carlos)
        assert refused.value.messages == [
            "0 of 160 required hours are approved.",
            "The preceptor's final evaluation is not submitted yet.",
        ]

    def test_withdrawal_needs_a_reason(self, placement, carlos):
        with pytest.raises(ValidationError):
            placement_services.withdraw_placement(placement, by=carlos, reason=" ")
        placement_services.withdraw_placement(placement, by=carlos, reason="Moved away")
        placement.refresh_from_db()
        assert placement.state == Placement.State.WITHDRAWN
