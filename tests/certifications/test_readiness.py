"""Exam readiness by domain: which competencies prepare each domain of the outline (by their tags),
how many the student has achieved, each domain's share of the outline, and the weighted whole."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from certifications.models import ContentDomain
from certifications.readiness import readiness, shares
from tests import factories
from tests.certification_factories import track


@pytest.fixture
def framework(program):
    framework = factories.FrameworkFactory()
    program.framework = framework
    program.save(update_fields=["framework"])
    return framework


@pytest.fixture
def enrollment(alice, framework):
    return alice.enrollments.select_related("cohort__program").get()


def competency(framework, code, tags, domain="P", **fields):
    return factories.CompetencyFactory(
        framework=framework, code=code, title=f"Skill {code}", domain=domain, tags=tags, **fields
    )


@pytest.fixture
def skills(framework):
    """Two clinical skills, one administrative, one affective for the General domain (CMA's outline)."""
    return {
        "vitals": competency(framework, "I.P.1", ["vitals"]),
        "phlebotomy": competency(framework, "I.P.2", ["phlebotomy"]),
        "billing": competency(framework, "VIII.P.1", ["billing", "coding"]),
        "empathy": competency(framework, "A.1", ["communication", "professionalism"], domain="A"),
    }


def by_name(result):
    return {row.domain.name: row for row in result.domains}


class TestCoverage:
    def test_each_domain_counts_its_tagged_competencies(self, enrollment, skills, irene, program):
        factories.check_off(enrollment, skills["vitals"], irene)
        rows = by_name(readiness(enrollment, track(program, "CMA")))
        assert (rows["Clinical Competency"].achieved, rows["Clinical Competency"].total) == (1, 2)
        assert (rows["General"].achieved, rows["General"].total) == (0, 1)
        assert (rows["Administrative"].achieved, rows["Administrative"].total) == (0, 1)
        assert [c.code for c in rows["Clinical Competency"].missing] == ["I.P.2"]

    def test_the_whole_is_weighted_by_the_outline(self, enrollment, skills, irene, program):
        factories.check_off(enrollment, skills["vitals"], irene)
        result = readiness(enrollment, track(program, "CMA"))
        assert result.coverage == Decimal("29.5")  # half of Clinical Competency's 59 %
        factories.check_off(enrollment, skills["billing"], irene)
        result = readiness(enrollment, track(program, "CMA"))
        assert result.coverage == Decimal("49.5")  # and all of Administrative's 20 %
        assert result.percent == 50

    def test_everything_achieved_covers_the_outline(self, enrollment, skills, irene, program):
        for skill in skills.values():
            factories.check_off(enrollment, skill, irene)
        assert readiness(enrollment, track(program, "CMA")).coverage == Decimal(100)

    def test_a_competency_with_tags_of_two_domains_prepares_both(self, enrollment, framework, irene, program):
        both = competency(framework, "IX.P.1", ["scheduling", "communication"])
        factories.check_off(enrollment, both, irene)
        rows = by_name(readiness(enrollment, track(program, "CMA")))
        assert rows["General"].achieved == rows["Administrative"].achieved == 1

    def test_only_standing_passes_of_tracked_check_offs_count(self, enrollment, framework, skills, irene, program):
        competency(framework, "I.C.1", ["vitals"], domain="C")  # taught as coursework, never checked off
        competency(framework, "I.P.9", ["vitals"], is_tracked=False)  # a heading over lettered sub-items
        factories.check_off(enrollment, skills["vitals"], irene, passed=False)
        factories.check_off(enrollment, skills["phlebotomy"], irene, signed=False)
        clinical = by_name(readiness(enrollment, track(program, "CMA")))["Clinical Competency"]
        assert (clinical.achieved, clinical.total) == (0, 2)

    def test_another_programs_own_competency_does_not_count(self, enrollment, framework, skills, program):
        competency(framework, "I.P.99", ["vitals"], program=factories.ProgramFactory())
        assert by_name(readiness(enrollment, track(program, "CMA")))["Clinical Competency"].total == 2

    def test_a_domain_nothing_prepares_covers_nothing(self, enrollment, skills, irene, program):
        for skill in skills.values():
            factories.check_off(enrollment, skill, irene)
        rows = by_name(readiness(enrollment, track(program, "RMA")))
        anatomy = rows["Anatomy and Physiology"]
        assert (anatomy.total, anatomy.coverage) == (0, Decimal(0))
        assert readiness(enrollment, track(program, "RMA")).coverage < 100

    def test_without_a_framework_nothing_is_prepared(self, alice, program):
        enrollment = alice.enrollments.select_related("cohort__program").get()
        result = readiness(enrollment, track(program, "CMA"))
        assert [row.total for row in result.domains] == [0, 0, 0]
        assert result.coverage == 0


class TestShares:
    def test_percent_weights_are_used_as_given(self, program):
        assert [round(share) for share in shares(list(track(program, "CMA").domains.all()))] == [59, 21, 20]

    def test_item_counts_give_the_share_of_the_items(self, program):
        rma = list(track(program, "RMA").domains.order_by("order"))
        assert [domain.items for domain in rma] == [44, 56, 39, 71]
        assert shares(rma)[0] == Decimal(100) * 44 / 210
        assert sum(shares(rma)) == pytest.approx(Decimal(100))

    def test_no_weights_share_equally(self, program):
        ccma = track(program, "CCMA")
        ccma.domains.update(items=None, weight_percent=None)
        domains = list(ccma.domains.all())
        assert shares(domains) == [Decimal(100) / 7] * 7

    def test_a_partly_weighted_outline_falls_back_to_items_then_equal_shares(self, program):
        cma = list(track(program, "CMA").domains.order_by("order"))
        cma[0].weight_percent = None
        assert shares(cma) == [Decimal(100) / 3] * 3
        for domain, items in zip(cma, (10, 20, 10), strict=True):
            domain.items = items
        assert shares(cma) == [Decimal(25), Decimal(50), Decimal(25)]

    def test_weights_not_summing_to_100_are_scaled(self, program):
        cma = list(track(program, "CMA").domains.order_by("order"))
        ContentDomain.objects.filter(pk=cma[0].pk).update(weight_percent=Decimal(9))  # 9 + 21 + 20 = 50
        assert shares(list(track(program, "CMA").domains.order_by("order"))) == [
            Decimal(18),
            Decimal(42),
            Decimal(40),
        ]


def test_readiness_costs_two_queries_at_1x_and_5x(enrollment, framework, irene, program):
    cma = track(program, "CMA")

    def grow(times: int) -> int:
        for _ in range(times):
            skill = factories.CompetencyFactory(framework=framework, domain="P", tags=["vitals", "billing"])
            factories.check_off(enrollment, skill, irene)
            factories.CompetencyFactory(framework=framework, domain="A", tags=["communication"])
        with CaptureQueriesContext(connection) as captured:
            readiness(enrollment, cma)
        return len(captured.captured_queries)

    once = grow(1)
    assert once == 2
    assert grow(4) == once
