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
from curriculum.models import Program, StaffRole
from tests import factories
from tests.browser.conftest import DESKTOP, screenshot

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
    expect(passage.get_by_role("row", name=re.compile("^Against the threshold"))).to_contain_text("Below threshold")
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
    expect(maria).to_contain_text("CMA · 06/14/2025 · Passed")
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
        numerator = page.locator(f'a[href="{figure_url(program, measure, year, "numerator")}"]')
        denominator = page.locator(f'a[href="{figure_url(program, measure, year, "denominator")}"]')
        expect(numerator).to_have_text(row["numerator"])
        expect(denominator.first).to_have_text(row["denominator"])
        if row["rate"]:
            expect(denominator.last).to_have_text(f"{row['rate']}%")
