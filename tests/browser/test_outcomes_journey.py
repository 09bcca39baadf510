"""Outcome reports in Chromium, at a desk: dana the director imports the exam results of the class of
2025, opens the report, follows the exam passage figure to the students behind it and finds the
graduate she imported, then downloads the CSV and finds the same figures in it.

Data is made inside the test: the live server answers from another thread, which sees only what was
committed (live_server brings transactional_db, whose flush also empties the outcome measures the
migrations seeded, so the test loads them again).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils.http import urlencode
from playwright.sync_api import Page, expect

from accounts.models import User
from certifications import defaults, exports
from certifications.models import ExamAttempt
from curriculum.models import Enrollment, Program, StaffRole
from tests import factories
from tests.browser.conftest import DESKTOP, screenshot
from tests.certification_factories import ExamAttemptFactory, track

NARROW_PHONE: dict[str, Any] = {"viewport": {"width": 320, "height": 720}, "is_mobile": True, "has_touch": True}
# The smallest text a chart may draw on a phone, in CSS pixels, once the drawing is scaled to the screen.
SMALLEST_CHART_TEXT = 11

# Every drawn text of the charts a person sees, at the size it is drawn on the screen.
CHART_TEXT_SIZES = """() => Array.from(document.querySelectorAll("svg.outcome-chart"))
    .filter((svg) => svg.getBoundingClientRect().width > 0)
    .flatMap((svg) => {
        const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
        return Array.from(svg.querySelectorAll("text"))
            .map((text) => [text.textContent, parseFloat(getComputedStyle(text).fontSize) * scale]);
    })"""

pytestmark = pytest.mark.browser

RESULTS_CSV = (
    "email,credential,taken_on,result,score\r\n"
    "maria.lopez@example.com,CMA,2025-06-14,pass,212\r\n"
    "james.chen@example.com,CMA,2025-06-20,fail,\r\n"
)


@dataclass
class ClassOf2025:
    """Maria Lopez and James Chen graduated in May 2025 and sat the CMA in June; nothing is recorded yet."""

    program: Program
    dana: User
    maria: User


def make_class_of_2025() -> ClassOf2025:
    defaults.install_measures()
    program = factories.ProgramFactory.create(name="Medical Assisting Diploma")
    dana = factories.StaffFactory.create(program=program, role=StaffRole.Role.DIRECTOR, first_name="Dana").user
    cohort = factories.CohortFactory.create(
        program=program, code="2024-SPRING", start_on=date(2024, 1, 8), expected_graduation_on=date(2025, 5, 15)
    )
    graduates = {}
    for first, last in (("Maria", "Lopez"), ("James", "Chen")):
        graduates[first] = factories.EnrollmentFactory.create(
            cohort=cohort,
            student__first_name=first,
            student__last_name=last,
            student__email=f"{first.lower()}.{last.lower()}@example.com",
            admitted_on=date(2024, 1, 8),
            trigger_course_completed_on=date(2024, 3, 1),
            graduated_on=date(2025, 5, 15),
        ).student
    return ClassOf2025(program, dana, graduates["Maria"])


def program_enrollments(program: Program) -> list[Enrollment]:
    return list(Enrollment.objects.filter(cohort__program=program).select_related("student"))


def figure_url(program: Program, measure: str, year: str, part: str) -> str:
    query = urlencode({"accreditor": "maerb", "measure": measure, "year": year, "part": part})
    return f"{reverse('certifications:report-students', args=[program.code])}?{query}"


def test_a_director_imports_exam_results_follows_a_figure_to_its_students_and_downloads_the_csv(
    live_server: Any, sign_in: Callable[..., Page]
) -> None:
    made = make_class_of_2025()
    program = made.program

    # Dana opens her program and, under Certifications and outcomes, the exam results import.
    page = sign_in(made.dana.email, DESKTOP)
    page.goto(reverse("curriculum:program-detail", args=[program.code]))
    card = page.get_by_role("region", name="Certifications and outcomes")
    card.get_by_role("link", name="Import exam results").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import exam results")

    # She uploads the testing center's file; the preview shows two new sittings and writes nothing.
    page.get_by_label("File (.csv or .xlsx)").set_input_files(
        files=[{"name": "cma-june-2025.csv", "mimeType": "text/csv", "buffer": RESULTS_CSV.encode()}]
    )
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("cma-june-2025.csv")
    expect(page.locator("#import-summary")).to_contain_text("New")
    rows = page.locator("#import-rows tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="Lopez, Maria")).to_contain_text("Passed")
    expect(rows.filter(has_text="Chen, James")).to_contain_text("Failed")
    assert not ExamAttempt.objects.filter(enrollment__cohort__program=program).exists()
    screenshot(page, "outcomes-1-import-preview")

    # She imports it.
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Imported: 2 new, 0 changed, 0 unchanged.")
    assert ExamAttempt.objects.filter(enrollment__cohort__program=program).count() == 2

    # The report: both graduates of 2025 sat an exam (2 of 2), one passed (1 of 2, 50.0%: below 60%).
    page.goto(reverse("curriculum:program-detail", args=[program.code]))
    page.get_by_role("region", name="Certifications and outcomes").get_by_role("link", name="Outcome reports").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Outcome reports")
    passage = page.get_by_role("region", name="Credentialing exam passage")
    passed_link = passage.locator(f'a[href="{figure_url(program, "credentialing_exam_passage", "2025", "numerator")}"]')
    sat_link = passage.locator(f'a[href="{figure_url(program, "credentialing_exam_passage", "2025", "denominator")}"]')
    expect(passed_link).to_have_text("1")
    expect(sat_link.first).to_have_text("2")
    expect(sat_link.last).to_have_text("50.0%")
    expect(passage.get_by_role("row", name=re.compile("^2025"))).to_contain_text("Below threshold")
    expect(passage.get_by_role("img", name="Credentialing exam passage by year against its threshold")).to_be_visible()
    screenshot(page, "outcomes-2-report")

    # She follows the 1 to the student behind it: Maria, whose imported pass is listed.
    passed_link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Graduates of 2025 who passed a credentialing exam: 1")
    students = page.get_by_role("table")
    expect(students.get_by_role("row")).to_have_count(2)  # the header and Maria
    maria = students.get_by_role("row", name=re.compile("Lopez, Maria"))
    expect(maria).to_contain_text("maria.lopez@example.com")
    expect(maria).to_contain_text("2024-SPRING")
    expect(maria).to_contain_text("CMA · Jun 14, 2025 · Passed")
    screenshot(page, "outcomes-3-students-behind-the-figure")

    # Back on the report, she downloads the CSV: the passage row says what the page said.
    page.get_by_role("link", name="Outcome reports").click()
    with page.expect_download() as downloading:
        page.get_by_role("link", name="Download CSV").click()
    download = downloading.value
    assert download.suggested_filename == f"outcomes-{program.code}-maerb.csv"
    text = Path(download.path()).read_bytes().decode("utf-8")
    assert text == exports.outcomes_csv([program])
    rows_by_figure = {(row["measure"], row["year"]): row for row in csv.DictReader(io.StringIO(text))}
    assert {
        name: rows_by_figure[("credentialing_exam_passage", "2025")][name]
        for name in ("accreditor", "numerator", "denominator", "rate", "threshold", "meets_threshold")
    } == {
        "accreditor": "maerb",
        "numerator": "1",
        "denominator": "2",
        "rate": "50.0",
        "threshold": "60",
        "meets_threshold": "no",
    }
    participation = rows_by_figure[("credentialing_exam_participation", "2025")]
    assert (participation["numerator"], participation["denominator"], participation["rate"]) == ("2", "2", "100.0")
    # Every figure of the file is on the page, each number a link to its students.
    for (measure, year), row in rows_by_figure.items():
        table = page.locator(f'section[aria-labelledby="measure-{measure}"] table')
        numerator = table.locator(f'a[href="{figure_url(program, measure, year, "numerator")}"]')
        denominator = table.locator(f'a[href="{figure_url(program, measure, year, "denominator")}"]')
        expect(numerator).to_have_text(row["numerator"])
        expect(denominator.first).to_have_text(row["denominator"])
        if row["rate"]:
            expect(denominator.last).to_have_text(f"{row['rate']}%")


def test_a_director_reads_the_report_on_a_narrow_phone(live_server: Any, sign_in: Callable[..., Page]) -> None:
    """At 320 px: the summary says in words how the measures stand, the formulas wait behind a disclosure,
    each year's figures are a card of their own with nothing to scroll sideways, and the charts' text is
    drawn at a size a person reads."""
    made = make_class_of_2025()
    program = made.program
    enrollments = {enrollment.student.first_name: enrollment for enrollment in program_enrollments(program)}
    cma = track(program, "CMA")
    ExamAttemptFactory.create(enrollment=enrollments["Maria"], track=cma, taken_on=date(2025, 6, 14), result="pass")
    ExamAttemptFactory.create(enrollment=enrollments["James"], track=cma, taken_on=date(2025, 6, 20), result="fail")

    page = sign_in(made.dana.email, NARROW_PHONE)
    page.goto(reverse("certifications:report", args=[program.code]))
    expect(page.get_by_role("heading", level=1)).to_have_text("Outcome reports")

    # Retention 2024 (2 of 2) and participation 2025 (2 of 2) meet theirs; no job placement is recorded
    # (0 of 2) and one of the two passed (50%): those two are named, each year and its 5-year average.
    summary = page.get_by_role("region", name="In short")
    expect(summary.locator("#summary-headline")).to_have_text("2 of 4 measures meet their threshold.")
    below = summary.locator(".summary-below li")
    expect(below).to_have_text(
        [
            "Job placement, graduates of 2025: 0.0%, under its threshold of 60%",
            "Job placement, the 5-year weighted average of 2021–2025: 0.0%, under its threshold of 60%",
            "Credentialing exam passage, graduates of 2025: 50.0%, under its threshold of 60%",
            "Credentialing exam passage, the 5-year weighted average of 2021–2025: 50.0%, under its threshold of 60%",
        ]
    )

    # The formula is behind a disclosure until asked for.
    passage = page.get_by_role("region", name="Credentialing exam passage")
    formula = passage.locator("code[lang=en]")
    expect(formula).to_be_hidden()
    passage.get_by_text("Formula and how it is counted").tap()
    expect(formula).to_be_visible()

    # A year is a card: its figures are under one another, each named, inside the screen.
    year = passage.get_by_role("row", name=re.compile("^2025"))
    expect(year).to_contain_text("Counted")
    expect(year).to_contain_text("Below threshold")
    box = year.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 320

    # The phone's chart, not the desk's, and no text in it smaller than a person reads.
    expect(passage.get_by_role("img", name="Credentialing exam passage by year against its threshold")).to_have_count(1)
    sizes = page.evaluate(CHART_TEXT_SIZES)
    assert len(sizes) > 20
    assert min(size for _text, size in sizes) >= SMALLEST_CHART_TEXT, sorted(sizes, key=lambda pair: pair[1])[:3]
    screenshot(page, "outcomes-4-report-phone-320")

    # The students behind a figure are cards too.
    page.locator(f'a[href="{figure_url(program, "credentialing_exam_passage", "2025", "numerator")}"]').tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Graduates of 2025 who passed a credentialing exam: 1")
    expect(page.get_by_role("row", name=re.compile("Lopez, Maria"))).to_contain_text("maria.lopez@example.com")
    screenshot(page, "outcomes-5-students-phone-320")
