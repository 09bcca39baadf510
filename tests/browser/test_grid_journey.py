"""The cohort's competency grid in Chromium: who needs attention before the practicum, one competency
across the cohort, one student's record, and the full matrix walked with the keyboard alone; at a desk,
on a tablet and on a 320 px phone.

Data is made inside each test: the live server answers from another thread, which sees only what was
committed (live_server brings transactional_db).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from curriculum.models import Cohort, Competency, Enrollment, StaffRole
from tests import factories
from tests.browser.conftest import DESKTOP, TABLET, screenshot
from tests.externship_factories import PlacementFactory

pytestmark = pytest.mark.browser

SMALLEST_PHONE: dict[str, Any] = {"viewport": {"width": 320, "height": 720}, "is_mobile": True, "has_touch": True}

# Three content areas of ten competencies: wider than any screen, as a real framework is.
AREAS = [
    (
        "I",
        "Anatomy, Physiology, and Pharmacology",
        [
            "Measure and record blood pressure",
            "Measure and record temperature",
            "Measure and record pulse",
            "Measure and record respirations",
            "Measure and record height",
            "Measure and record weight",
            "Measure and record oxygen saturation",
            "Perform electrocardiography",
            "Perform venipuncture",
            "Perform capillary puncture",
        ],
    ),
    (
        "II",
        "Applied Mathematics",
        [
            "Calculate proper dosages of medication",
            "Record laboratory test results",
            "Document on a growth chart",
            "Convert among measurement systems",
            "Calculate body mass index",
            "Read a syringe scale",
            "Calculate an infusion rate",
            "Chart intake and output",
            "Record a vital-signs flow sheet",
            "Graph a patient's weight over time",
        ],
    ),
    (
        "III",
        "Infection Control",
        [
            "Participate in a blood-borne pathogen training",
            "Select appropriate barrier protection",
            "Perform hand washing",
            "Prepare items for autoclaving",
            "Perform sterilization procedures",
            "Prepare a sterile field",
            "Perform within a sterile field",
            "Perform wound care",
            "Perform a dressing change",
            "Dispose of biohazardous materials",
        ],
    ),
]


@dataclass
class School:
    """Irene teaches Fall 2026; carlos coordinates the program. Noah's practicum starts in ten days and he
    lacks three competencies; Maya's in a month and she lacks most; Ava has achieved everything."""

    cohort: Cohort
    irene: User
    carlos: User
    competencies: list[Competency]
    noah: Enrollment
    maya: Enrollment


def make_school() -> School:
    framework = factories.FrameworkFactory.create(name="MAERB Core Curriculum", version="2022")
    program = factories.ProgramFactory.create(name="Medical Assisting Diploma", framework=framework)
    competencies = []
    for area_order, (area_code, area_title, titles) in enumerate(AREAS, start=1):
        area = factories.ContentAreaFactory.create(
            framework=framework, code=area_code, title=area_title, order=area_order
        )
        competencies += [
            factories.CompetencyFactory.create(
                framework=framework, content_area=area, code=f"{area_code}.P.{number}", title=title, order=number
            )
            for number, title in enumerate(titles, start=1)
        ]
    cohort = factories.CohortFactory.create(program=program, code="2026-FALL", name="Fall 2026")
    irene = factories.StaffFactory.create(
        program=program, role=StaffRole.Role.INSTRUCTOR, first_name="Irene", user__last_name="Okafor"
    ).user
    cohort.instructors.add(irene)
    carlos = factories.StaffFactory.create(
        program=program, role=StaffRole.Role.COORDINATOR, first_name="Carlos", user__last_name="Reyes"
    ).user

    def student(first: str, last: str, achieved: list[Competency], practicum_in: int | None = None) -> Enrollment:
        enrollment = factories.EnrollmentFactory.create(
            cohort=cohort, student__first_name=first, student__last_name=last
        )
        for competency in achieved:
            factories.check_off(enrollment, competency, irene)
        if practicum_in is not None:
            starts = date.today() + timedelta(days=practicum_in)
            PlacementFactory.create(enrollment=enrollment, start_on=starts, end_on=starts + timedelta(days=60))
        return enrollment

    student("Ava", "Chen", competencies, practicum_in=5)
    noah = student("Noah", "Kim", competencies[:27], practicum_in=10)
    factories.check_off(noah, competencies[27], irene, passed=False)
    maya = student("Maya", "Lopez", competencies[:4], practicum_in=30)
    student("Omar", "Reed", competencies[:12])
    student("Lena", "Novak", competencies[:20])
    return School(cohort, irene, carlos, competencies, noah, maya)


def focus(page: Page) -> dict[str, Any]:
    """What has the focus: whether it is in the grid, its link, its text, and the ring drawn around it."""
    return dict(
        page.evaluate(
            """() => {
                const shown = document.activeElement;
                const style = getComputedStyle(shown);
                return {
                    inGrid: shown.closest('[data-competency-grid]') !== null,
                    href: shown.getAttribute('href') || '',
                    text: shown.textContent.trim(),
                    ring: [style.outlineStyle, parseFloat(style.outlineWidth)],
                };
            }"""
        )
    )


def in_sight(page: Page) -> bool:
    """The focused cell lies inside the grid's scrolling box, and the names column, held in place, beside it."""
    return bool(
        page.evaluate(
            """() => {
                const cell = document.activeElement.getBoundingClientRect();
                const box = document.querySelector('.competency-matrix-scroller').getBoundingClientRect();
                const names = document.querySelector('.competency-matrix tbody th').getBoundingClientRect();
                return names.left >= box.left - 1 && cell.left >= names.right - 1 && cell.right <= box.right + 1
                    && cell.top >= box.top - 1 && cell.bottom <= box.bottom + 1;
            }"""
        )
    )


def cell_path(enrollment: Enrollment, competency: Competency) -> str:
    return f"/enrollments/{enrollment.pk}/competencies/{competency.pk}/checkoff/"


def test_an_instructor_sees_who_needs_attention_and_walks_the_matrix_with_the_keyboard(
    live_server: Any, sign_in: Callable[..., Page]
) -> None:
    school = make_school()
    competencies = school.competencies
    page = sign_in(school.irene.email, DESKTOP)
    page.goto(f"/cohorts/{school.cohort.pk}/")
    page.get_by_role("link", name="Competencies", exact=True).click()

    # The default view: who needs attention, the soonest practicum first; Ava, done, is not there.
    views = page.get_by_role("navigation", name="Views of the competencies")
    expect(views.get_by_role("link", name="Needs attention")).to_have_attribute("aria-current", "page")
    students = page.locator(".attention-student")
    expect(students).to_have_count(4)
    expect(students.nth(0).get_by_role("heading")).to_have_text("Kim, Noah")
    expect(students.nth(0)).to_contain_text("Practicum starts on")
    expect(students.nth(0)).to_contain_text("3 of 30 competencies missing")
    expect(students.nth(0).get_by_role("link", name="III.P.8 Perform wound care")).to_have_attribute(
        "href", cell_path(school.noah, competencies[27])
    )
    expect(students.nth(0)).to_contain_text("Attempted, not passed yet, 1 attempt")
    expect(students.nth(1).get_by_role("heading")).to_have_text("Lopez, Maya")
    expect(page.get_by_text("Chen, Ava")).to_have_count(0)
    screenshot(page, "grid-1-attention-desktop")

    # The full matrix: codes explained on the page, one stop in the tab order.
    views.get_by_role("link", name="All competencies").click()
    expect(views.get_by_role("link", name="All competencies")).to_have_attribute("aria-current", "page")
    codes = page.get_by_role("region", name="What the codes mean")
    expect(codes).to_contain_text("I.P.1")
    expect(codes).to_contain_text("Measure and record blood pressure")
    grid = page.get_by_role("grid")
    expect(grid.locator('[tabindex="0"]')).to_have_count(1)
    expect(grid.locator('a:not([tabindex="-1"])')).to_have_count(1)
    screenshot(page, "grid-2-matrix-desktop")

    # Tab reaches the grid once, on the first student's first competency; Tab again leaves it.
    page.get_by_role("link", name="What the codes mean").focus()
    page.keyboard.press("Tab")
    ava = Enrollment.objects.get(cohort=school.cohort, student__last_name="Chen")
    assert focus(page) | {"ring": None} == {
        "inGrid": True,
        "href": cell_path(ava, competencies[0]),
        "text": "✓Achieved",
        "ring": None,
    }
    assert focus(page)["ring"] == ["solid", 3.0]
    page.keyboard.press("Tab")
    assert not focus(page)["inGrid"]
    page.keyboard.press("Shift+Tab")
    assert focus(page)["href"] == cell_path(ava, competencies[0])

    # The arrows move between cells, up to the codes and left to the names; the ring follows.
    page.keyboard.press("ArrowRight")
    assert focus(page)["href"] == cell_path(ava, competencies[1])
    page.keyboard.press("ArrowDown")
    assert focus(page)["href"] == cell_path(school.noah, competencies[1])
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    assert focus(page)["text"].startswith("I.P.2")
    page.keyboard.press("Home")
    assert focus(page)["text"] == "Student"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert focus(page)["text"].startswith("Kim, Noah")
    page.keyboard.press("End")
    assert focus(page)["href"] == cell_path(school.noah, competencies[-1])
    assert focus(page)["ring"] == ["solid", 3.0]
    assert in_sight(page), "the last column is scrolled into the box, clear of the names"
    screenshot(page, "grid-3-matrix-scrolled-by-keyboard-desktop")
    page.keyboard.press("Home")
    page.keyboard.press("ArrowDown")
    for _ in range(6):
        page.keyboard.press("ArrowRight")
    assert focus(page)["href"] == cell_path(school.maya, competencies[5])
    assert in_sight(page)

    # Enter opens the cell: Maya's check-off on weight.
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("I.P.6 Measure and record weight")
    page.go_back()
    expect(page.get_by_role("grid")).to_be_visible()


def test_an_instructor_looks_at_one_competency_and_one_student_on_a_tablet(
    live_server: Any, sign_in: Callable[..., Page]
) -> None:
    school = make_school()
    wound_care = school.competencies[27]
    page = sign_in(school.irene.email, TABLET)
    page.goto(f"/cohorts/{school.cohort.pk}/competencies/")
    views = page.get_by_role("navigation", name="Views of the competencies")

    # One competency: who needs a retry, who has not started, who has it.
    views.get_by_role("link", name="By competency").tap()
    page.get_by_label("Competency").select_option(label="III.P.8 Perform wound care")
    page.get_by_role("button", name="Show").tap()
    expect(page.get_by_role("heading", level=3)).to_have_text("III.P.8 Perform wound care")
    expect(page.get_by_text("1 of 5 current students have achieved it.")).to_be_visible()
    retry = page.get_by_role("list", name=re.compile("^Attempted, not passed yet"))
    expect(retry.get_by_role("listitem")).to_have_count(1)
    expect(retry).to_contain_text("Kim, Noah")
    expect(retry).to_contain_text("1 signed attempt, the last on")
    not_started = page.get_by_role("list", name=re.compile("^Not started"))
    expect(not_started.get_by_role("listitem")).to_have_count(3)
    screenshot(page, "grid-4-competency-tablet")
    not_started.get_by_role("listitem").filter(has_text="Lopez, Maya").get_by_role(
        "link", name=re.compile("^Check off")
    ).tap()
    expect(page).to_have_url(re.compile(re.escape(cell_path(school.maya, wound_care)) + "$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("III.P.8 Perform wound care")

    # One student: chosen, then a button (choosing alone does nothing); their record opens.
    page.go_back()
    page.get_by_role("navigation", name="Views of the competencies").get_by_role("link", name="By student").tap()
    page.get_by_label("Student").select_option(label="Lopez, Maya")
    expect(page).to_have_url(re.compile(r"\?view=student$"))
    screenshot(page, "grid-5-student-tablet")
    page.get_by_role("button", name="Open their record").tap()
    expect(page).to_have_url(re.compile(rf"/enrollments/{school.maya.pk}/competencies/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Skills check-offs")
    expect(page.get_by_text("4 of 30 achieved", exact=True)).to_be_visible()


def test_a_coordinator_reads_every_view_on_a_320_px_phone(live_server: Any, sign_in: Callable[..., Page]) -> None:
    """Nothing scrolls the page sideways (screenshot() checks it); the matrix scrolls in its own box.
    A coordinator does not evaluate: the competencies lead to the attempts."""
    school = make_school()
    page = sign_in(school.carlos.email, SMALLEST_PHONE)
    page.goto(f"/cohorts/{school.cohort.pk}/competencies/")
    first = page.locator(".attention-student").first
    expect(first.get_by_role("heading")).to_have_text("Kim, Noah")
    expect(first.get_by_role("link", name="III.P.8 Perform wound care")).to_have_attribute(
        "href", f"/enrollments/{school.noah.pk}/competencies/{school.competencies[27].pk}/"
    )
    screenshot(page, "grid-6-attention-phone-320")
    maya = page.locator(".attention-student").nth(1)
    maya.get_by_text("21 more competencies").tap()
    expect(maya.get_by_role("link", name="III.P.10 Dispose of biohazardous materials")).to_be_visible()
    screenshot(page, "grid-7-attention-unfolded-phone-320")

    views = page.get_by_role("navigation", name="Views of the competencies")
    views.get_by_role("link", name="By competency").tap()
    page.get_by_label("Competency").select_option(label="I.P.1 Measure and record blood pressure")
    page.get_by_role("button", name="Show").tap()
    expect(page.get_by_text("5 of 5 current students have achieved it.")).to_be_visible()
    screenshot(page, "grid-8-competency-phone-320")

    page.get_by_role("navigation", name="Views of the competencies").get_by_role("link", name="All competencies").tap()
    scroller = page.locator(".competency-matrix-scroller")
    assert scroller.evaluate("box => box.scrollWidth > box.clientWidth"), "the matrix scrolls in its box"
    screenshot(page, "grid-9-matrix-phone-320")
    page.get_by_role("link", name=re.compile(r"^III\.P\.8 ")).tap()
    expect(page.get_by_role("heading", level=3)).to_have_text("III.P.8 Perform wound care")
