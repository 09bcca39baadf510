"""Moving a real program in, in Chromium at a desk: a director of another program creates a new one,
imports its courses and cohorts, a roster whose two 2021 intakes the program lacks (created from the
preview), the alumni's exam results and graduate outcomes, and downloads both accreditors' CSVs,
whose figures the test computes by hand from its own small files.

Data is made inside the test: the live server answers from another thread, which sees only what was
committed (live_server brings transactional_db, whose flush also empties the outcome measures the
migrations seeded, so the test loads them again).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from certifications import defaults
from certifications.models import ExamAttempt
from curriculum.models import Cohort, Course, Enrollment, Program, StaffRole
from tests import factories
from tests.browser.conftest import DESKTOP, screenshot

pytestmark = pytest.mark.browser

PROGRAM_CODE = "MA-DIPLOMA"

COURSES_CSV = (
    "code,title,hours,is_trigger_course\n"
    "MA101,Medical Terminology,60,no\n"
    "MA110,Clinical Procedures I,120,yes\n"
    "MA290,Practicum,160,no\n"
)

# The intake of today's student; the two 2021 intakes come from the roster.
COHORTS_CSV = "code,name,starts_on,expected_graduation_on\n2026-FALL,2026 Fall,2026-08-31,2027-08-27\n"

# Spring 2021: admitted 2021-01-11, four graduates on 2021-12-17, one withdrawal after the trigger course.
# Fall 2021: admitted 2021-08-30, three graduates on 2022-07-29, one withdrawal before the trigger course
# (not in MAERB's retention cohort) and one after it; Gia's row spells the intake loosely, as a
# spreadsheet may. One current student in the 2026 Fall cohort.
ROSTER_CSV = (
    "email,first_name,last_name,cohort,admitted_on,trigger_course_completed_on,withdrawn_on,graduated_on\n"
    "ana.ruiz@example.test,Ana,Ruiz,2021 Spring,2021-01-11,2021-03-05,,2021-12-17\n"
    "ben.cho@example.test,Ben,Cho,2021 Spring,2021-01-11,2021-03-05,,2021-12-17\n"
    "cara.diaz@example.test,Cara,Diaz,2021 Spring,2021-01-11,2021-03-05,,2021-12-17\n"
    "dev.patel@example.test,Dev,Patel,2021 Spring,2021-01-11,2021-03-05,,2021-12-17\n"
    "eva.stone@example.test,Eva,Stone,2021 Spring,2021-01-11,2021-03-05,2021-04-15,\n"
    "finn.ward@example.test,Finn,Ward,2021 Fall,2021-08-30,2021-11-05,,2022-07-29\n"
    "gia.nunez@example.test,Gia,Nunez,2021  fall,2021-08-30,2021-11-05,,2022-07-29\n"
    "hugo.lam@example.test,Hugo,Lam,2021 Fall,2021-08-30,2021-11-05,,2022-07-29\n"
    "ines.roy@example.test,Ines,Roy,2021 Fall,2021-08-30,,2021-10-01,\n"
    "jon.berg@example.test,Jon,Berg,2021 Fall,2021-08-30,2021-11-05,2022-02-15,\n"
    "kim.soto@example.test,Kim,Soto,2026-FALL,2026-08-31,,,\n"
)
ALUMNI = [
    "ana.ruiz@example.test",
    "ben.cho@example.test",
    "cara.diaz@example.test",
    "dev.patel@example.test",
    "eva.stone@example.test",
    "finn.ward@example.test",
    "gia.nunez@example.test",
    "hugo.lam@example.test",
    "ines.roy@example.test",
    "jon.berg@example.test",
]
CURRENT_STUDENT = "kim.soto@example.test"

# CMA and RMA count for MAERB and ABHES; the CMAA counts for ABHES only. Cara sat nothing.
RESULTS_CSV = (
    "email,credential,taken_on,result,score\n"
    "ana.ruiz@example.test,CMA,2022-01-20,pass,\n"
    "ben.cho@example.test,CMA,2022-01-20,fail,\n"
    "dev.patel@example.test,RMA,2022-02-03,pass,\n"
    "finn.ward@example.test,CMA,2022-08-20,pass,\n"
    "gia.nunez@example.test,CMA,2022-08-20,fail,\n"
    "hugo.lam@example.test,CMAA,2022-08-27,pass,\n"
)

OUTCOMES_CSV = (
    "email,status,employed_on,employer,position,unavailable_reason\n"
    "ana.ruiz@example.test,in_field,2022-02-01,Lakeside Clinic,Medical assistant,\n"
    "ben.cho@example.test,not_employed,,,,\n"
    "cara.diaz@example.test,related_field,2022-03-01,City Pharmacy,Pharmacy technician,\n"
    "dev.patel@example.test,unavailable,,,,Health issues\n"
    "finn.ward@example.test,in_field,2022-09-01,Riverside Health,Medical assistant,\n"
    "gia.nunez@example.test,in_field,2022-09-15,Northside Pediatrics,Medical assistant,\n"
    "hugo.lam@example.test,not_employed,,,,\n"
)


def upload(page: Page, label: str, name: str, text: str) -> None:
    """Choose a file the school keeps and ask for its preview."""
    page.get_by_label(label).set_input_files(files=[{"name": name, "mimeType": "text/csv", "buffer": text.encode()}])
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


def open_program_card_link(page: Page, program: Program, card: str, link: str) -> None:
    page.goto(reverse("curriculum:program-detail", args=[program.code]))
    page.get_by_role("region", name=card).get_by_role("link", name=link).click()


def intake(program: Program, code: str) -> tuple[str, str, str]:
    """A cohort's name, start and expected graduation, as the roster preview planned them."""
    cohort = Cohort.objects.get(program=program, code=code)
    return cohort.name, cohort.start_on.isoformat(), cohort.expected_graduation_on.isoformat()


def download_csv(page: Page, link: str, file_name: str) -> dict[tuple[str, str], dict[str, str]]:
    """The CSV behind a link of the outcomes page, by (measure, year)."""
    with page.expect_download() as downloading:
        page.get_by_role("link", name=link, exact=True).click()
    assert downloading.value.suggested_filename == file_name
    text = Path(downloading.value.path()).read_bytes().decode("utf-8")
    return {(row["measure"], row["year"]): row for row in csv.DictReader(io.StringIO(text))}


def figure(rows: dict[tuple[str, str], dict[str, str]], measure: str, year: str) -> tuple[str, str, str, str]:
    row = rows[(measure, year)]
    return row["numerator"], row["denominator"], row["rate"], row["final"]


def test_a_director_moves_a_program_in_from_its_files_and_downloads_both_accreditors_figures(
    live_server: Any, mailoutbox: list[Any], sign_in: Callable[..., Page]
) -> None:
    defaults.install_measures()
    dana = factories.StaffFactory.create(role=StaffRole.Role.DIRECTOR, first_name="Dana").user

    # Dana directs another program, so she may start this one: Programs → New program, CAAHEP.
    page = sign_in(dana.email, DESKTOP)
    page.goto(reverse("curriculum:program-list"))
    page.get_by_role("link", name="New program").click()
    page.get_by_label("Code").fill(PROGRAM_CODE)
    page.get_by_label("Name").fill("Medical Assisting Diploma")
    page.get_by_label("Accreditor").select_option(label="CAAHEP / MAERB")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Program created. You are its director.")
    program = Program.objects.get(code=PROGRAM_CODE)
    assert StaffRole.objects.filter(program=program, user=dana, role=StaffRole.Role.DIRECTOR).exists()

    # Courses, then cohorts: each uploaded, previewed (nothing written), then imported.
    open_program_card_link(page, program, "Courses", "Import courses")
    upload(page, "File (.csv or .xlsx)", "courses.csv", COURSES_CSV)
    expect(page.locator("#import-rows tbody tr")).to_have_count(3)
    assert not Course.objects.filter(program=program).exists(), "the preview wrote courses"
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Imported: 3 new, 0 changed, 0 unchanged.")
    program.refresh_from_db()
    assert program.trigger_course is not None and program.trigger_course.code == "MA110"

    open_program_card_link(page, program, "Cohorts", "Import cohorts")
    upload(page, "File (.csv or .xlsx)", "cohorts.csv", COHORTS_CSV)
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Imported: 1 new, 0 changed, 0 unchanged.")

    # The roster names two intakes the program lacks: the preview lists them and refuses their rows
    # until Dana asks for them to be created; then it plans the file again and lists what they become.
    page.goto(reverse("curriculum:program-detail", args=[program.code]))
    page.get_by_role("link", name="Import roster").click()
    upload(page, "Roster file (.csv or .xlsx)", "students.csv", ROSTER_CSV)
    intakes = page.locator("#new-cohorts tbody tr")
    expect(intakes).to_have_count(2)
    # The ten alumni rows name those intakes: errors until they are to be created.
    expect(page.locator("#import-rows tbody tr.table-danger")).to_have_count(len(ALUMNI))
    page.get_by_label("Create the missing intakes").check()
    page.get_by_role("button", name="Check the file again").click()
    expect(intakes).to_have_count(2)
    # Each is coded from its name; Gia's loose "2021  fall" is the same intake.
    expect(intakes.filter(has_text="2021 Spring")).to_contain_text("2021-SPRING")
    expect(intakes.filter(has_text="2021 Fall")).to_contain_text("2021-FALL")
    expect(page.locator("#import-rows tbody tr.table-danger")).to_have_count(0)
    screenshot(page, "moving-in-1-roster-preview-with-new-intakes")
    assert not Cohort.objects.filter(program=program, code__startswith="2021").exists()
    assert mailoutbox == []

    # The invitation box stays ticked, as it comes: only the current student may be invited.
    expect(page.get_by_label("Email an invitation to the current students not invited yet")).to_be_checked()
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Roster imported")
    # Each starts on its rows' earliest admission and ends on their latest graduation.
    assert intake(program, "2021-SPRING") == ("2021 Spring", "2021-01-11", "2021-12-17")
    assert intake(program, "2021-FALL") == ("2021 Fall", "2021-08-30", "2022-07-29")
    assert Enrollment.objects.filter(cohort__program=program).count() == 11

    # Exam results and graduate outcomes of the alumni, from the certifications card.
    open_program_card_link(page, program, "Certifications and outcomes", "Import exam results")
    upload(page, "File (.csv or .xlsx)", "results.csv", RESULTS_CSV)
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Imported: 6 new, 0 changed, 0 unchanged.")
    assert ExamAttempt.objects.filter(enrollment__cohort__program=program).count() == 6

    open_program_card_link(page, program, "Certifications and outcomes", "Import graduate outcomes")
    upload(page, "File (.csv or .xlsx)", "outcomes.csv", OUTCOMES_CSV)
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Imported: 7 new, 0 changed, 0 unchanged.")

    # Nobody who left the program was emailed; today's student was invited, once.
    recipients = [address for message in mailoutbox for address in message.to]
    assert not set(recipients) & set(ALUMNI), f"an alumnus was emailed: {recipients}"
    assert recipients == [CURRENT_STUDENT]

    # The outcomes page, as CAAHEP's program sees it: MAERB's figures, and ABHES's as the other CSV.
    open_program_card_link(page, program, "Certifications and outcomes", "Outcome reports")
    expect(page.get_by_role("heading", level=1)).to_have_text("Outcome reports")
    screenshot(page, "moving-in-2-outcome-report")
    placement = page.get_by_role("region", name="Job placement")
    expect(placement.get_by_role("row").filter(has_text="Below threshold")).not_to_have_count(0)
    maerb = download_csv(page, "Download CSV", f"outcomes-{PROGRAM_CODE}-maerb.csv")
    assert {row["accreditor"] for row in maerb.values()} == {"maerb"}
    abhes = download_csv(page, "ABHES as CSV", f"outcomes-{PROGRAM_CODE}-abhes.csv")
    assert {row["accreditor"] for row in abhes.values()} == {"abhes"}

    # MAERB retention, admission year 2021: the cohort is those who completed the trigger course,
    # 5 of spring and 4 of fall (Ines left before it) = 9; retained, all but Eva and Jon = 7.
    # 7 / 9 = 77.77… → 77.8%.
    assert figure(maerb, "retention", "2021") == ("7", "9", "77.8", "yes")
    # Graduates of 2021 are Ana, Ben, Cara and Dev. MAERB's job placement leaves no graduate out of
    # the denominator (Dev, unavailable for health, stays in it): 4; placed in the field or a related
    # one, Ana and Cara: 2. 2 / 4 = 50.0%, below 60%.
    assert figure(maerb, "job_placement", "2021") == ("2", "4", "50.0", "yes")
    assert maerb[("job_placement", "2021")]["meets_threshold"] == "no"
    # Participation: Ana, Ben (CMA) and Dev (RMA) sat, of 4 graduates: 3 / 4 = 75.0%.
    assert figure(maerb, "credentialing_exam_participation", "2021") == ("3", "4", "75.0", "yes")
    # Passage: Ana and Dev passed, of the 3 who sat: 2 / 3 → 66.7%.
    assert figure(maerb, "credentialing_exam_passage", "2021") == ("2", "3", "66.7", "yes")
    # Graduates of 2022 are Finn, Gia and Hugo; Hugo's CMAA is not an exam MAERB counts.
    # Participation: Finn and Gia, 2 / 3 → 66.7%; passage: Finn, 1 / 2 = 50.0%, below 60%.
    assert figure(maerb, "credentialing_exam_participation", "2022") == ("2", "3", "66.7", "yes")
    assert figure(maerb, "credentialing_exam_passage", "2022") == ("1", "2", "50.0", "yes")
    assert maerb[("credentialing_exam_passage", "2022")]["meets_threshold"] == "no"
    # Job placement 2022: Finn and Gia in the field, Hugo not employed: 2 / 3 → 66.7%.
    assert figure(maerb, "job_placement", "2022") == ("2", "3", "66.7", "yes")
    # The 5-year passage average pools 2021 and 2022: (2 + 1) / (3 + 2) = 3 / 5 = 60.0%.
    assert figure(maerb, "credentialing_exam_passage", "5yr")[:3] == ("3", "5", "60.0")
    # Kim, admitted in 2026 and still enrolled, keeps 2026 in progress: no rate.
    assert figure(maerb, "retention", "2026") == ("0", "0", "", "no")

    # ABHES report years run July to June: spring was admitted in 2021's (Jul 2020–Jun 2021) and
    # graduated in 2022's; fall was admitted in 2022's and graduated in 2023's.
    # Retention 2021: NS = 5 spring starts; EE = the 4 still enrolled on 2021-06-30 (Eva withdrew
    # in April); G = 0. (EE + G) / (BE + NS + RE) = 4 / 5 = 80.0%.
    assert figure(abhes, "retention", "2021") == ("4", "5", "80.0", "yes")
    # Retention 2022: BE = the 4 spring students enrolled on 2021-07-01; NS = the 5 fall starts;
    # EE = Finn, Gia and Hugo, enrolled on 2022-06-30 (Ines and Jon withdrew); G = the 4 spring
    # graduates. (3 + 4) / (4 + 5) = 7 / 9 → 77.8%.
    assert figure(abhes, "retention", "2022") == ("7", "9", "77.8", "yes")
    # Credentialing 2023: GT = Finn, Gia and Hugo (the CMAA counts for ABHES); GP = Finn and Hugo.
    # 2 / 3 → 66.7%.
    assert figure(abhes, "credentialing", "2023") == ("2", "3", "66.7", "yes")
    # Credentialing 2022: GT = Ana, Ben and Dev; GP = Ana and Dev. 2 / 3 → 66.7%.
    assert figure(abhes, "credentialing", "2022") == ("2", "3", "66.7", "yes")
    # Placement 2022: (F + R) / (G - U): G = the 4 spring graduates, U = Dev (unavailable);
    # F + R = Ana and Cara. 2 / (4 - 1) → 66.7%, below ABHES's 70%.
    assert figure(abhes, "placement", "2022") == ("2", "3", "66.7", "yes")
    assert abhes[("placement", "2022")]["meets_threshold"] == "no"
    # Kim's report year (2027, July 2026 to June 2027) has not ended: in progress, no rate.
    assert figure(abhes, "retention", "2027")[2:] == ("", "no")
