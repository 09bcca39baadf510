"""The eligibility checklist: each item met and unmet, in plain words with its dates, and a fixed
number of queries whatever the student's history."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from certifications.eligibility import Rule, add_months, checklist
from certifications.models import ExamAttempt
from curriculum.models import Enrollment
from externships.models import HoursEntry
from tests import factories
from tests.certification_factories import ExamAttemptFactory, track
from tests.externship_factories import PlacementFactory, shift


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
def enrollment(alice, cohort) -> Enrollment:
    """Alice, in a cohort expected to graduate on 30 June 2026."""
    cohort.start_on, cohort.expected_graduation_on = date(2025, 9, 1), date(2026, 6, 30)
    cohort.save()
    enrollment = alice.enrollments.select_related("cohort__program").get()
    enrollment.admitted_on = date(2025, 9, 1)
    enrollment.save()
    return enrollment


def item(enrollment, code, on, rule):
    enrollment.cohort.program.refresh_from_db()  # the framework may have been chosen after the fixture loaded it
    return checklist(enrollment, track(enrollment.cohort.program, code), on).item(rule)


class TestCompletion:
    def test_cma_opens_30_days_before_the_expected_completion(self, enrollment):
        opened = item(enrollment, "CMA", date(2026, 5, 31), Rule.COMPLETION)
        assert opened.met
        assert opened.sentence == (
            "Within 30 days of completing the program (expected on Jun 30, 2026): CMA may be taken from May 31, 2026."
        )

    def test_cma_a_day_before_the_window_says_from_when(self, enrollment):
        early = item(enrollment, "CMA", date(2026, 5, 30), Rule.COMPLETION)
        assert not early.met
        assert early.sentence == (
            "CMA may be taken from May 31, 2026, 30 days before completing the program (expected on Jun 30, 2026)."
        )

    def test_a_track_without_a_window_waits_for_completion(self, enrollment):
        waiting = item(enrollment, "RMA", date(2026, 6, 29), Rule.COMPLETION)
        assert not waiting.met
        assert waiting.sentence == "RMA may be taken only after completing the program, expected on Jun 30, 2026."

    def test_a_recorded_graduation_date_counts_over_the_cohorts(self, enrollment):
        enrollment.graduated_on = date(2026, 7, 20)
        assert item(enrollment, "CMA", date(2026, 6, 20), Rule.COMPLETION).sentence.startswith(
            "Within 30 days of completing the program (expected on Jul 20, 2026)"
        )

    def test_a_graduate_has_completed(self, enrollment):
        enrollment.graduated_on = date(2026, 6, 26)
        done = item(enrollment, "RMA", date(2026, 7, 1), Rule.COMPLETION)
        assert done.met
        assert done.sentence == "Graduated on Jun 26, 2026."

    def test_a_withdrawn_student_is_not_eligible(self, enrollment):
        enrollment.withdrawn_on = date(2026, 2, 1)
        result = checklist(enrollment, track(enrollment.cohort.program, "CMA"), date(2026, 6, 29))
        assert not result.eligible
        assert result.item(Rule.COMPLETION).sentence == (
            "Withdrew from the program on Feb 1, 2026: the school route to this exam is closed."
        )


class TestGraduateWindow:
    def test_it_is_open_until_the_months_run_out(self, enrollment):
        enrollment.graduated_on = date(2026, 6, 26)
        last_day = item(enrollment, "RMA", date(2030, 6, 26), Rule.GRADUATE_WINDOW)
        assert last_day.met
        assert last_day.sentence == (
            "The school route to RMA stays open until Jun 26, 2030, 48 months after graduating."
        )

    def test_it_closes_the_day_after(self, enrollment):
        enrollment.graduated_on = date(2026, 6, 26)
        closed = item(enrollment, "RMA", date(2030, 6, 27), Rule.GRADUATE_WINDOW)
        assert not closed.met
        assert closed.sentence == "The school route to RMA closed on Jun 26, 2030, 48 months after graduating."

    def test_before_graduating_it_says_how_long_it_will_stay_open(self, enrollment):
        ahead = item(enrollment, "CCMA", date(2026, 1, 5), Rule.GRADUATE_WINDOW)
        assert ahead.met
        assert ahead.sentence == "After graduating, the school route to CCMA stays open for 60 months."

    def test_a_track_without_a_limit_has_no_such_item(self, enrollment):
        enrollment.graduated_on = date(2010, 6, 26)
        assert item(enrollment, "CMA", date(2026, 1, 5), Rule.GRADUATE_WINDOW) is None

    def test_a_director_setting_a_limit_adds_it(self, enrollment):
        cma = track(enrollment.cohort.program, "CMA")
        cma.graduate_window_months = 12
        cma.save()
        enrollment.graduated_on = date(2025, 1, 31)
        closed = checklist(enrollment, cma, date(2026, 2, 1)).item(Rule.GRADUATE_WINDOW)
        assert not closed.met
        assert "closed on Jan 31, 2026" in closed.sentence

    def test_months_end_on_a_shorter_months_last_day(self):
        assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
        assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)


class TestPracticum:
    def test_no_placement_says_how_many_hours_are_needed(self, enrollment):
        missing = item(enrollment, "CMA", date(2026, 6, 1), Rule.PRACTICUM)
        assert not missing.met
        assert missing.sentence == "No practicum placement yet: 160 hours must be approved."

    def test_only_approved_hours_count(self, enrollment):
        placement = PlacementFactory(enrollment=enrollment, required_hours=16, state="active")
        shift(placement, placement.start_on, state=HoursEntry.State.APPROVED)
        shift(placement, placement.start_on + timedelta(days=1))  # waiting for approval
        partly = item(enrollment, "CMA", date(2026, 6, 1), Rule.PRACTICUM)
        assert not partly.met
        assert partly.sentence == "8 of 16 practicum hours approved so far."

    def test_approved_hours_across_placements_reach_the_latest_placements_requirement(self, enrollment):
        first = PlacementFactory(
            enrollment=enrollment,
            required_hours=16,
            state="withdrawn",
            start_on=date.today() - timedelta(days=40),
            end_on=date.today() - timedelta(days=20),
        )
        shift(first, first.start_on, state=HoursEntry.State.APPROVED)
        second = PlacementFactory(enrollment=enrollment, required_hours=16, state="active")
        shift(second, second.start_on, state=HoursEntry.State.APPROVED)
        done = item(enrollment, "CMA", date(2026, 6, 1), Rule.PRACTICUM)
        assert done.met
        assert done.sentence == "16 of 16 practicum hours approved."

    def test_a_track_without_practicum_has_no_such_item(self, enrollment):
        assert item(enrollment, "CMAA", date(2026, 6, 1), Rule.PRACTICUM) is None


class TestCompetencies:
    def test_missing_ones_are_named(self, enrollment, irene, vitals, empathy):
        factories.check_off(enrollment, vitals, irene)
        missing = item(enrollment, "CMA", date(2026, 6, 1), Rule.COMPETENCIES)
        assert not missing.met
        assert missing.sentence == "1 of 2 psychomotor and affective competencies is not achieved yet: V.A.1."

    def test_a_failed_attempt_is_not_achieved_and_cognitive_items_do_not_count(
        self, enrollment, irene, vitals, empathy, framework
    ):
        factories.CompetencyFactory(framework=framework, code="I.C.1", domain="C")
        factories.check_off(enrollment, vitals, irene)
        factories.check_off(enrollment, empathy, irene, passed=False)
        assert "V.A.1" in item(enrollment, "CMA", date(2026, 6, 1), Rule.COMPETENCIES).sentence

    def test_all_achieved_is_met(self, enrollment, irene, vitals, empathy):
        factories.check_off(enrollment, vitals, irene)
        factories.check_off(enrollment, empathy, irene)
        done = item(enrollment, "CMA", date(2026, 6, 1), Rule.COMPETENCIES)
        assert done.met
        assert done.sentence == "All 2 psychomotor and affective competencies are achieved."

    def test_without_a_framework_nothing_can_be_checked(self, enrollment):
        assert not item(enrollment, "CMA", date(2026, 6, 1), Rule.COMPETENCIES).met

    def test_a_track_without_the_rule_has_no_such_item(self, enrollment, vitals):
        assert item(enrollment, "CMAA", date(2026, 6, 1), Rule.COMPETENCIES) is None


class TestRetake:
    def test_no_attempt_yet_is_met(self, enrollment):
        assert item(enrollment, "CCMA", date(2026, 6, 1), Rule.RETAKE).met

    def test_a_recent_fail_says_from_when(self, enrollment):
        ccma = track(enrollment.cohort.program, "CCMA")
        ExamAttemptFactory(enrollment=enrollment, track=ccma, taken_on=date(2026, 7, 1), result="fail")
        waiting = checklist(enrollment, ccma, date(2026, 7, 30)).item(Rule.RETAKE)
        assert not waiting.met
        assert waiting.sentence == "After a failed attempt on 2026-07-01, CCMA may be retaken from 2026-07-31."
        assert checklist(enrollment, ccma, date(2026, 7, 31)).item(Rule.RETAKE).met


def test_everything_met_is_eligible_with_one_line(enrollment, irene, vitals, empathy):
    enrollment.graduated_on = date(2026, 6, 26)
    enrollment.save()
    factories.check_off(enrollment, vitals, irene)
    factories.check_off(enrollment, empathy, irene)
    placement = PlacementFactory(enrollment=enrollment, required_hours=8, state="active")
    shift(placement, placement.start_on, state=HoursEntry.State.APPROVED)
    enrollment.cohort.program.refresh_from_db()
    result = checklist(enrollment, track(enrollment.cohort.program, "CMA"), date(2026, 7, 1))
    assert [(entry.rule, entry.met) for entry in result.items] == [
        (Rule.COMPLETION, True),
        (Rule.PRACTICUM, True),
        (Rule.COMPETENCIES, True),
        (Rule.RETAKE, True),
    ]
    assert result.eligible
    assert result.summary == "Eligible for CMA on Jul 1, 2026."


def test_the_summary_names_what_is_missing(enrollment):
    result = checklist(enrollment, track(enrollment.cohort.program, "CMA"), date(2026, 1, 5))
    assert not result.eligible
    missing = ", ".join(item.label for item in result.missing)
    assert len(result.missing) == 3
    assert result.summary == f"Not eligible for CMA yet. Missing: {missing}."


def test_the_checklist_costs_the_same_queries_at_1x_and_5x(enrollment, irene, framework):
    ccma = track(enrollment.cohort.program, "CCMA")
    enrollment.cohort.program.refresh_from_db()

    def grow(times: int) -> int:
        for _ in range(times):
            competency = factories.CompetencyFactory(framework=framework, domain="P")
            factories.check_off(enrollment, competency, irene)
            placement = PlacementFactory(enrollment=enrollment, required_hours=8, state="completed")
            shift(placement, placement.start_on + timedelta(days=placement.pk % 14), state=HoursEntry.State.APPROVED)
            last = ExamAttempt.objects.filter(enrollment=enrollment).order_by("-taken_on").first()
            taken_on = last.taken_on + timedelta(days=40) if last else date(2020, 1, 1)
            ExamAttemptFactory(enrollment=enrollment, track=ccma, taken_on=taken_on, result="fail")
        with CaptureQueriesContext(connection) as captured:
            checklist(enrollment, ccma, date(2026, 6, 1))
        return len(captured.captured_queries)

    once = grow(1)
    assert once == 3
    assert grow(4) == once


def test_a_tracks_display_name_carries_its_code_once(db):
    from certifications.models import CertificationTrack

    assert CertificationTrack(code="CMA", name="Certified Medical Assistant (CMA (AAMA))").display_name == (
        "Certified Medical Assistant (CMA (AAMA))"
    )
    assert CertificationTrack(code="PHL", name="Phlebotomy Technician").display_name == "Phlebotomy Technician (PHL)"
