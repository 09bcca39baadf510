"""A check-off in Chromium: irene the instructor opens a checklist on a tablet,
checks maya off on blood pressure, confirms her password and signs; maya then sees it on her phone.
The checklist opens calm on a phone too, keeps its score in sight down to the last step, and says so
before a new attempt at a competency already achieved.

Data is made inside each test: the live server answers from another thread, which sees only
what was committed (live_server brings transactional_db).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import FloatRect, Locator, Page, expect

from accounts.models import User
from curriculum.models import Attempt, ChecklistStep, Cohort, Competency, Enrollment, Program, Signature, StaffRole
from tests import factories
from tests.browser.conftest import PHONE, TABLET, screenshot

NARROW_PHONE: dict[str, Any] = {"viewport": {"width": 320, "height": 720}, "is_mobile": True, "has_touch": True}

pytestmark = pytest.mark.browser

# Blood pressure's checklist: (text, points, critical). Missing hand hygiene alone leaves 80%, the
# program's passing score, so the critical rule is what fails the attempt.
BLOOD_PRESSURE_STEPS = [
    ("Perform hand hygiene", 2, True),
    ("Identify the patient with two identifiers", 2, True),
    ("Select the correct cuff size", 1, False),
    ("Position the arm at heart level", 1, False),
    ("Inflate and deflate at 2–3 mmHg a second", 1, False),
    ("Listen for the first and last sounds", 1, False),
    ("Explain the procedure to the patient", 1, False),
    ("Record the reading in the chart", 1, False),
]
HAND_HYGIENE = BLOOD_PRESSURE_STEPS[0][0]

# Bootstrap fades a toggled button over .15 s; with motion reduced it drops the transition, so a
# picture taken right after a tap shows the state the tap made, not a blend of before and after.
STILL_TABLET = {**TABLET, "reduced_motion": "reduce"}


@dataclass
class Cohort2026:
    """Irene teaches the Fall 2026 cohort; maya has not started blood pressure, noah passed pulse."""

    program: Program
    cohort: Cohort
    irene: User
    maya: User
    maya_enrollment: Enrollment
    blood_pressure: Competency
    pulse: Competency


def make_cohort() -> Cohort2026:
    framework = factories.FrameworkFactory.create(name="MAERB Core Curriculum", version="2022")
    program = factories.ProgramFactory.create(name="Medical Assisting Diploma", framework=framework)
    area = factories.ContentAreaFactory.create(
        framework=framework, code="I", title="Anatomy, Physiology, and Pharmacology", order=1
    )
    vital_signs = factories.CompetencyFactory.create(
        framework=framework, content_area=area, code="I.P.1", title="Accurately measure and record", is_tracked=False
    )
    blood_pressure, pulse, respirations = (
        factories.CompetencyFactory.create(
            framework=framework, content_area=area, parent=vital_signs, code=code, title=title, order=order
        )
        for order, (code, title) in enumerate(
            [("I.P.1.a", "blood pressure"), ("I.P.1.c", "pulse"), ("I.P.1.d", "respirations")], start=1
        )
    )
    for order, (text, points, critical) in enumerate(BLOOD_PRESSURE_STEPS, start=1):
        ChecklistStep.objects.create(
            program=program, competency=blood_pressure, order=order, text=text, points=points, is_critical=critical
        )
    for competency in (pulse, respirations):
        for order, (text, critical) in enumerate(
            [("Perform hand hygiene", True), ("Count for a full minute", False), ("Record", False)], start=1
        ):
            ChecklistStep.objects.create(
                program=program, competency=competency, order=order, text=text, is_critical=critical
            )

    cohort = factories.CohortFactory.create(program=program, code="2026-FALL", name="Fall 2026")
    irene = factories.StaffFactory.create(
        program=program, role=StaffRole.Role.INSTRUCTOR, first_name="Irene", user__last_name="Okafor"
    ).user
    cohort.instructors.add(irene)
    maya_enrollment = factories.EnrollmentFactory.create(
        cohort=cohort, student__first_name="Maya", student__last_name="Lopez"
    )
    noah_enrollment = factories.EnrollmentFactory.create(
        cohort=cohort, student__first_name="Noah", student__last_name="Kim"
    )
    factories.check_off(noah_enrollment, pulse, irene)
    return Cohort2026(program, cohort, irene, maya_enrollment.student, maya_enrollment, blood_pressure, pulse)


def checkoff_url(enrollment: Enrollment, competency: Competency) -> str:
    return reverse("curriculum:checkoff-new", args=[enrollment.pk, competency.pk])


def step(page: Page, text: str) -> Locator:
    """A step of the checklist: the toggle a finger taps (the checkbox itself is hidden)."""
    return page.locator("label.checkoff-step").filter(has_text=text)


def missed(page: Page, text: str) -> Locator:
    """A step's Missed toggle."""
    return page.locator(".checkoff-step-row").filter(has_text=text).locator("label.checkoff-miss")


def expect_calm_opening(page: Page, steps: int) -> None:
    """Nothing scored, nothing red: no 0%, no verdict, no list of critical steps before a step is marked."""
    score = page.locator("#running-score")
    expect(score).to_contain_text(f"Not scored yet — 0 of {steps} steps marked")
    expect(score.locator("[data-score]")).to_have_text("—")
    expect(score.locator("[data-verdict]")).not_to_have_class(re.compile(r"\btext-danger\b"))
    expect(page.locator("[data-critical-missed]")).to_be_hidden()
    expect(page.locator(".text-danger:visible, .text-bg-danger:visible, .alert-danger:visible")).to_have_count(0)


def test_an_instructor_checks_a_student_off_on_a_tablet_signs_and_the_student_sees_it(
    live_server: Any, sign_in: Callable[..., Page]
) -> None:
    school = make_cohort()
    irene, maya, blood_pressure = school.irene, school.maya, school.blood_pressure

    # Irene, beside maya with a tablet, opens the checklist (the grid's cells lead there; the grid has journeys
    # of its own). It opens calm: nothing is marked, so nothing is scored yet, and nothing is red.
    instructor = sign_in(irene.email, STILL_TABLET)
    instructor.goto(checkoff_url(school.maya_enrollment, blood_pressure))
    expect(instructor.get_by_role("heading", level=1)).to_have_text(
        "I.P.1.a Accurately measure and record: blood pressure"
    )
    expect_calm_opening(instructor, len(BLOOD_PRESSURE_STEPS))
    expect(instructor.locator("#attempt-notice")).to_have_count(0)  # her first attempt: nothing to say
    screenshot(instructor, "checkoff-2-instructor-checklist-empty-tablet")

    score = instructor.locator("#running-score")
    for text, _points, _critical in BLOOD_PRESSURE_STEPS:
        step(instructor, text).tap()
    expect(instructor.locator("input[name=steps]:checked")).to_have_count(len(BLOOD_PRESSURE_STEPS))
    expect(score.locator("[data-score]")).to_have_text("100%")
    expect(score.locator("[data-verdict]")).to_have_text("Passing")
    expect(score.locator("[data-progress]")).to_have_text("8 of 8 steps marked")
    expect(score.locator("[data-verdict]")).to_have_class(re.compile(r"\btext-success\b"))
    expect(instructor.locator("[data-critical-missed]")).to_be_hidden()

    instructor.locator("label", has_text="Simulation").tap()
    expect(instructor.get_by_label("Simulation")).to_be_checked()
    screenshot(instructor, "checkoff-3-instructor-checklist-complete-tablet")
    instructor.get_by_role("button", name="Review and sign").tap()

    # The review: passed, unsigned, with the button to sign.
    expect(instructor).to_have_url(re.compile(r"/attempts/\d+/$"))
    attempt = Attempt.objects.get(enrollment=school.maya_enrollment, competency=blood_pressure)
    assert (attempt.passed, attempt.score, attempt.setting, attempt.evaluator) == (True, 100, "simulation", irene)
    assert not Signature.objects.filter(attempt=attempt).exists()
    result = instructor.locator("#attempt-result")
    expect(result).to_contain_text("Passed")
    expect(result).to_contain_text("100.0% (10 of 10 points; pass at 80%)")
    expect(instructor.get_by_text(re.compile(r"^Maya Lopez · .+ · Simulation$"))).to_be_visible()
    screenshot(instructor, "checkoff-4-instructor-review-tablet")

    # Signing asks for her password: a sign-in is not a re-authentication.
    instructor.get_by_role("button", name="Sign", exact=True).tap()
    expect(instructor).to_have_url(re.compile(r"/accounts/reauthenticate/"))
    expect(instructor.get_by_role("heading", level=1)).to_have_text("Confirm Access")
    assert not Signature.objects.filter(attempt=attempt).exists(), "signed before the password was confirmed"
    instructor.get_by_label("Password").fill(factories.PASSWORD)
    screenshot(instructor, "checkoff-5-instructor-reauthenticate-tablet")
    instructor.get_by_role("button", name="Confirm").tap()

    # allauth replays the sign request; she lands back on the attempt, signed.
    expect(instructor).to_have_url(re.compile(rf"/attempts/{attempt.pk}/$"))
    expect(instructor.get_by_role("status")).to_contain_text(
        "Signed. The attempt is now part of the student's record and cannot change."
    )
    expect(instructor.locator("#signature")).to_contain_text("Signed: performed and evaluated by Irene Okafor")
    expect(instructor.get_by_role("button", name="Sign", exact=True)).to_have_count(0)
    screenshot(instructor, "checkoff-6-instructor-signed-tablet")

    signature = Signature.objects.select_related("attempt__enrollment", "attempt__competency").get(attempt=attempt)
    assert signature.signer == irene
    assert signature.is_intact()
    assert Signature.objects.filter(attempt__enrollment=school.maya_enrollment).count() == 1

    # Maya, on her phone, follows "See your progress" from home.
    student = sign_in(maya.email, PHONE)
    expect(student.get_by_role("heading", name=re.compile("Skills check-offs"))).to_contain_text("1 of 3 achieved")
    student.get_by_role("link", name="See your progress").tap()
    expect(student.get_by_role("heading", level=1)).to_have_text("Skills check-offs")
    item = student.locator(f"#competency-{blood_pressure.pk}")
    expect(item).to_contain_text("I.P.1.a Accurately measure and record: blood pressure")
    expect(item).to_contain_text("Achieved")
    item.get_by_text("1 attempt", exact=True).tap()
    expect(item.get_by_text("Signed: performed and evaluated by Irene Okafor")).to_be_visible()
    expect(item).to_contain_text("Simulation")
    remaining = student.get_by_role("region", name="What remains before the practicum")
    expect(remaining).not_to_contain_text("blood pressure")
    expect(remaining).to_contain_text("pulse")
    screenshot(student, "checkoff-7-student-competencies-phone")


def test_a_missed_critical_step_fails_live_and_a_fail_needs_a_comment(
    live_server: Any, sign_in: Callable[..., Page]
) -> None:
    school = make_cohort()
    instructor = sign_in(school.irene.email, STILL_TABLET)
    instructor.goto(checkoff_url(school.maya_enrollment, school.blood_pressure))

    for text, _points, _critical in BLOOD_PRESSURE_STEPS[1:]:
        step(instructor, text).tap()

    # 8 of 10 points is the passing score, but hand hygiene is not marked yet: undecided, and still calm.
    score = instructor.locator("#running-score")
    warning = instructor.locator("[data-critical-missed]")
    expect(score.locator("[data-score]")).to_have_text("80%")
    expect(score.locator("[data-verdict]")).to_have_text("Not decided yet")
    expect(score.locator("[data-progress]")).to_have_text("7 of 8 steps marked")
    expect(warning).to_be_hidden()

    # Sending it so is held back once, with the critical step left unmarked named, and the focus on it.
    instructor.get_by_role("button", name="Review and sign").tap()
    expect(warning).to_be_visible()
    expect(warning).to_be_focused()
    expect(warning).to_have_text(
        f"Critical steps not marked yet: {HAND_HYGIENE}. A step left unmarked counts as missed, and a missed "
        "critical step fails the attempt. Mark each one, or press Review and sign again to record them as missed."
    )
    assert not Attempt.objects.filter(enrollment=school.maya_enrollment).exists()

    # She marks it missed: not passing, and why.
    missed(instructor, HAND_HYGIENE).tap()
    expect(score.locator("[data-verdict]")).to_have_text("Not passing")
    expect(score.locator("[data-verdict]")).to_have_class(re.compile(r"\btext-danger\b"))
    expect(warning).to_have_text(f"Critical step missed: fails whatever the score: {HAND_HYGIENE}")
    screenshot(instructor, "checkoff-8-instructor-critical-missed-tablet")

    # Performed after all, then missed again: a step is one or the other, and the card follows each tap.
    step(instructor, HAND_HYGIENE).tap()
    expect(instructor.locator("input[name=missed]:checked")).to_have_count(0)
    expect(score.locator("[data-verdict]")).to_have_text("Passing")
    expect(warning).to_be_hidden()
    missed(instructor, HAND_HYGIENE).tap()
    expect(instructor.locator("input[name=steps]:checked")).to_have_count(len(BLOOD_PRESSURE_STEPS) - 1)
    expect(score.locator("[data-verdict]")).to_have_text("Not passing")

    instructor.get_by_role("button", name="Review and sign").tap()

    # Refused with the reason under the comment; the marks are kept, and nothing is saved.
    comment = instructor.get_by_label("Comment")
    error = comment.locator("xpath=..").get_by_role("alert")
    expect(error).to_have_text("A failed attempt needs a comment: say what to work on.")
    expect(instructor.locator("input[name=steps]:checked")).to_have_count(len(BLOOD_PRESSURE_STEPS) - 1)
    expect(instructor.locator("input[name=missed]:checked")).to_have_count(1)
    expect(score.locator("[data-score]")).to_have_text("80%")
    expect(warning).to_be_visible()
    screenshot(instructor, "checkoff-9-instructor-comment-required-tablet")
    assert not Attempt.objects.filter(enrollment=school.maya_enrollment).exists()
    assert Attempt.objects.count() == Signature.objects.count() == 1  # noah's pulse, made before


def focus_ring(page: Page) -> tuple[str, float]:
    """The ring around what has the focus: on a hidden checkbox or radio it is drawn on its label."""
    return tuple(
        page.evaluate(
            """() => {
                let shown = document.activeElement;
                if (shown.classList.contains('btn-check')) shown = document.querySelector(`label[for="${shown.id}"]`);
                const style = getComputedStyle(shown);
                return [style.outlineStyle, parseFloat(style.outlineWidth)];
            }"""
        )
    )


def test_an_instructor_checks_a_student_off_with_the_keyboard_alone(
    live_server: Any, sign_in: Callable[..., Page]
) -> None:
    """No pointer: from the checklist to the signature with Tab, Space and Enter, the focus seen all along."""
    school = make_cohort()
    irene, blood_pressure = school.irene, school.blood_pressure
    instructor = sign_in(irene.email, STILL_TABLET)
    instructor.goto(checkoff_url(school.maya_enrollment, blood_pressure))
    expect(instructor.get_by_role("heading", level=1)).to_contain_text("blood pressure")

    # Each step is a checkbox and so is its Missed toggle: Tab reaches each, Space ticks the step, and the
    # ring shows which one has the focus.
    first = instructor.locator("input[name=steps]").first
    first.focus()
    for index in range(len(BLOOD_PRESSURE_STEPS)):
        assert focus_ring(instructor) == ("solid", 3.0), f"step {index + 1}"
        instructor.keyboard.press("Space")
        instructor.keyboard.press("Tab")
        assert focus_ring(instructor) == ("solid", 3.0), f"step {index + 1} missed"
        instructor.keyboard.press("Tab")
    expect(instructor.locator("input[name=steps]:checked")).to_have_count(len(BLOOD_PRESSURE_STEPS))
    expect(instructor.locator("#running-score [data-verdict]")).to_have_text("Passing")

    # The setting is a group of radios: the arrow keys choose within it.
    instructor.get_by_label("Lab").focus()
    instructor.keyboard.press("ArrowRight")
    expect(instructor.get_by_label("Simulation")).to_be_checked()
    instructor.get_by_role("button", name="Review and sign").focus()
    assert focus_ring(instructor) == ("solid", 3.0)
    instructor.keyboard.press("Enter")
    expect(instructor).to_have_url(re.compile(r"/attempts/\d+/$"))

    instructor.get_by_role("button", name="Sign", exact=True).focus()
    instructor.keyboard.press("Enter")
    expect(instructor.get_by_role("heading", level=1)).to_have_text("Confirm Access")
    instructor.get_by_label("Password").focus()
    instructor.keyboard.type(factories.PASSWORD)
    instructor.keyboard.press("Enter")
    expect(instructor.locator("#signature")).to_contain_text("Signed: performed and evaluated by Irene Okafor")
    attempt = Attempt.objects.get(enrollment=school.maya_enrollment, competency=blood_pressure)
    assert (attempt.setting, Signature.objects.filter(attempt=attempt, signer=irene).exists()) == ("simulation", True)


def in_view(page: Page, locator: Locator) -> FloatRect:
    """The element's box on the screen, asserted wholly inside the window."""
    box = locator.bounding_box()
    viewport = page.viewport_size
    assert box is not None and viewport is not None
    assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"], (box, viewport)
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], (box, viewport)
    return box


@pytest.mark.parametrize("phone", [NARROW_PHONE, PHONE], ids=["320px", "390px"])
def test_on_a_phone_the_checklist_opens_calm_and_keeps_its_score_in_sight(
    live_server: Any, sign_in: Callable[..., Page], phone: dict[str, Any]
) -> None:
    school = make_cohort()
    width = phone["viewport"]["width"]
    instructor = sign_in(school.irene.email, {**phone, "reduced_motion": "reduce"})
    instructor.goto(checkoff_url(school.maya_enrollment, school.blood_pressure))
    expect_calm_opening(instructor, len(BLOOD_PRESSURE_STEPS))
    screenshot(instructor, f"checkoff-10-instructor-checklist-opens-phone-{width}")

    # Down at the last step the score card is still on the screen, above the step, which it does not cover.
    score = instructor.locator("#running-score")
    last = step(instructor, BLOOD_PRESSURE_STEPS[-1][0])
    last.scroll_into_view_if_needed()
    assert instructor.evaluate("window.scrollY") > 0
    last.tap()  # Playwright taps only what is on top: the card is not over it
    expect(score.locator("[data-progress]")).to_have_text("1 of 8 steps marked")
    expect(score.locator("[data-verdict]")).to_have_text("Not decided yet")
    card = in_view(instructor, score)
    assert in_view(instructor, last)["y"] >= card["y"] + card["height"]

    # Down at the button that sends it too.
    instructor.get_by_role("button", name="Review and sign").scroll_into_view_if_needed()
    in_view(instructor, score)
    # Screen readers hear the change once, politely, when the taps pause.
    expect(instructor.get_by_role("status")).to_have_text("Score 10%. Not decided yet. 1 of 8 steps marked")
    screenshot(instructor, f"checkoff-11-instructor-score-in-sight-phone-{width}")


def test_a_new_attempt_at_an_achieved_competency_is_said_before_it_starts(
    live_server: Any, sign_in: Callable[..., Page]
) -> None:
    """Noah passed pulse: opening his cell says so and what starting would do, before any checklist."""
    school = make_cohort()
    noah = Enrollment.objects.get(cohort=school.cohort, student__first_name="Noah")
    instructor = sign_in(school.irene.email, {**PHONE, "reduced_motion": "reduce"})
    instructor.goto(checkoff_url(noah, school.pulse))
    notice = instructor.locator("#attempt-notice")
    expect(notice).to_contain_text(
        re.compile(r"Noah achieved this on .+\.\s+Starting records a new attempt, attempt 2; the achieved one stays\.")
    )
    expect(instructor.locator("#checkoff-form")).to_have_count(0)
    expect(instructor.get_by_role("region", name="Earlier attempts")).to_contain_text("Passed")
    screenshot(instructor, "checkoff-12-instructor-achieved-notice-phone")

    instructor.get_by_role("link", name="Start a new attempt").tap()
    expect(notice).to_contain_text("This checklist records a new attempt, attempt 2; the achieved one stays")
    expect_calm_opening(instructor, 3)
    assert Attempt.objects.filter(enrollment=noah).count() == 1  # opening it recorded nothing
