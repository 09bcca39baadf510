"""Externship hours in Chromium, on phones: maya logs a shift at the clinic, paula her preceptor
signs in with an emailed code and approves the week, and maya's approved hours move by the shift.

The placement is made ACTIVE by the factory (the practicum gate is tested elsewhere), with two
approved 8-hour shifts two weeks back so that progress starts above zero. Data is made inside each
test: the live server answers from another thread, which sees only what was committed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

import pytest
from django.core.mail import EmailMessage
from django.utils.formats import date_format
from playwright.sync_api import Locator, Page, expect

from accounts.models import User
from externships.models import HoursEntry, Placement
from externships.services.hours import week_of
from tests import factories
from tests.browser.conftest import PHONE, screenshot
from tests.externship_factories import PlacementFactory, PreceptorFactory, SiteFactory, shift

pytestmark = pytest.mark.browser

SIGN_IN_CODE = re.compile(r"^\s*([A-Z0-9]{4}-[A-Z0-9]{4})\s*$", re.MULTILINE)
PHONE_WIDTH = PHONE["viewport"]["width"]


@dataclass
class Externship:
    """Maya is placed at Lakeside Family Clinic under paula, who has no password; 16 of her 160
    hours are approved, from two shifts two weeks back; yesterday, in the program's time zone,
    she worked a shift she has not logged yet."""

    placement: Placement
    maya: User
    paula: User
    yesterday: date


def make_externship() -> Externship:
    enrollment = factories.EnrollmentFactory.create(student__first_name="Maya", student__last_name="Lopez")
    program = enrollment.cohort.program
    site = SiteFactory.create(program=program, name="Lakeside Family Clinic")
    preceptor = PreceptorFactory.create(site=site, user__first_name="Paula", user__last_name="Reyes")
    today = program.today()
    placement = PlacementFactory.create(
        enrollment=enrollment,
        site=site,
        preceptor=preceptor,
        start_on=today - timedelta(days=14),
        end_on=today + timedelta(days=60),
        required_hours=160,
        state=Placement.State.ACTIVE,
    )
    # Twelve and thirteen days back: always another week than yesterday's.
    for days_ago in (13, 12):
        shift(placement, today - timedelta(days=days_ago), time(8), time(16), state=HoursEntry.State.APPROVED)
    assert not preceptor.user.has_usable_password()
    return Externship(placement, enrollment.student, preceptor.user, today - timedelta(days=1))


# --- Steps ---------------------------------------------------------------------------------------


def sign_in_with_emailed_code(visit: Callable[..., Page], mailoutbox: list[EmailMessage], email: str) -> Page:
    """A preceptor's way in: ask for a code on the sign-in page, read it in the email actually sent,
    type it in; she lands on her home page."""
    page = visit(**PHONE)
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Email me a sign-in code").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Email me a sign-in code")
    page.get_by_label("Email").fill(email)
    sent_before = len(mailoutbox)
    page.get_by_role("button", name="Email me a code").tap()

    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your sign-in code")
    expect(page.get_by_text(f"We emailed a code to {email}")).to_be_visible()
    (message,) = mailoutbox[sent_before:]
    assert message.to == [email]
    assert message.subject == "[Checkoff] Your sign-in code"
    match = SIGN_IN_CODE.search(str(message.body))
    assert match, f"no sign-in code in the email:\n{message.body}"
    screenshot(page, "externship-3-preceptor-code-phone")
    page.get_by_label("Code").fill(match.group(1))
    page.get_by_role("button", name="Sign in").tap()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")
    return page


def fill_shift(page: Page, day: date, start: str, end: str, note: str = "") -> None:
    page.get_by_label("Date").fill(day.isoformat())
    page.get_by_label("Start").fill(start)
    page.get_by_label("End").fill(end)
    if note:
        page.get_by_label("What you did (optional)").fill(note)
    page.get_by_role("button", name="Log shift").tap()


def hours_card(page: Page) -> Locator:
    return page.get_by_role("region", name="Hours", exact=True)


def week(page: Page, day: date) -> Locator:
    return page.locator(f'.shift-week[data-week="{week_of(day)[0].isoformat()}"]')


def day_label(day: date) -> str:
    return date_format(day)


def shift_on(page: Page, day: date) -> Locator:
    """The shift worked on the day, in its week on the placement page."""
    return week(page, day).locator(".shift-entry").filter(has_text=day_label(day))


def assert_progress(area: Locator, approved: str, percent: int) -> None:
    expect(area).to_contain_text(f"{approved} of 160 hours approved")
    expect(area).to_contain_text(f"{percent}%")
    expect(area.get_by_role("progressbar", name="Approved hours")).to_have_attribute("aria-valuenow", str(percent))


def assert_fits_the_phone(page: Page) -> None:
    """Nothing is wider than the phone: no sideways scrolling."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"{page.url} is {width}px wide on a {PHONE_WIDTH}px phone"


# --- Journeys ------------------------------------------------------------------------------------


def test_a_student_logs_a_shift_her_preceptor_approves_the_week_by_code_and_her_hours_move(
    live_server: Any,
    mailoutbox: list[EmailMessage],
    sign_in: Callable[..., Page],
    visit: Callable[..., Page],
) -> None:
    externship = make_externship()
    placement, yesterday = externship.placement, externship.yesterday

    # Maya, on her phone, finds her externship on home: 16 of 160 hours approved.
    student = sign_in(externship.maya.email, PHONE)
    card = student.get_by_role("region", name="Externship")
    expect(card.get_by_role("link", name="Lakeside Family Clinic")).to_be_visible()
    assert_progress(card, "16", 10)
    assert_fits_the_phone(student)
    screenshot(student, "externship-1-student-home-phone")

    # She logs yesterday's shift, 8:00 to 14:30: six and a half hours.
    card.get_by_role("link", name="Log a shift").tap()
    expect(student.get_by_role("heading", level=1)).to_have_text("Log a shift")
    assert_fits_the_phone(student)
    fill_shift(student, yesterday, "08:00", "14:30", "Roomed patients and took vital signs.")

    # Back on the placement page, the shift waits for paula; the approved hours have not moved.
    expect(student).to_have_url(re.compile(rf"/placements/{placement.pk}/$"))
    expect(student.get_by_role("status")).to_contain_text("Shift logged. Your preceptor will approve it.")
    expect(student.get_by_role("heading", level=1)).to_have_text("Your externship")
    logged = shift_on(student, yesterday)
    expect(logged).to_contain_text("Waiting for approval")
    expect(logged).to_contain_text("8 a.m. – 2:30 p.m.")
    expect(logged).to_contain_text("6.5 h")
    expect(logged).to_contain_text("Roomed patients and took vital signs.")
    expect(week(student, yesterday)).to_contain_text("1 waiting")
    assert_progress(hours_card(student), "16", 10)
    expect(hours_card(student)).to_contain_text("6.5 hours waiting for approval.")
    assert_fits_the_phone(student)
    screenshot(student, "externship-2-student-shift-waiting-phone")

    entry = HoursEntry.objects.get(placement=placement, work_date=yesterday)
    assert (entry.state, entry.hours, entry.student) == (HoursEntry.State.SUBMITTED, 6.5, externship.maya)

    # Paula, on her own phone, signs in with the code emailed to her; home lists maya with a shift to approve.
    preceptor = sign_in_with_emailed_code(visit, mailoutbox, externship.paula.email)
    students = preceptor.get_by_role("region", name="Students placed with you")
    maya_card = students.locator(".preceptor-student").filter(has_text="Maya Lopez")
    expect(maya_card).to_contain_text("1 shift to approve")
    assert_fits_the_phone(preceptor)
    screenshot(preceptor, "externship-4-preceptor-home-phone")

    maya_card.get_by_role("link", name="Maya Lopez").tap()
    expect(preceptor.get_by_role("heading", level=1)).to_have_text("Maya Lopez")
    expect(shift_on(preceptor, yesterday)).to_contain_text("Waiting for approval")
    assert_fits_the_phone(preceptor)
    screenshot(preceptor, "externship-5-preceptor-placement-phone")
    approve_week = week(preceptor, yesterday).get_by_role("button", name="Approve the week")
    expect(approve_week).to_have_accessible_description(re.compile(r"^Week of .+ · 6\.5 h · 1 waiting\s*$"))
    approve_week.tap()

    expect(preceptor.get_by_role("status")).to_contain_text(re.compile(r"of the week of .+ approved\."))
    expect(shift_on(preceptor, yesterday)).to_contain_text("Approved by Paula Reyes")
    expect(week(preceptor, yesterday).get_by_role("button", name="Approve the week")).to_have_count(0)
    screenshot(preceptor, "externship-6-preceptor-week-approved-phone")
    entry.refresh_from_db()
    assert (entry.state, entry.reviewed_by) == (HoursEntry.State.APPROVED, externship.paula)

    # Maya reloads: 16 + 6.5 = 22.5 hours approved, 14% (was 10%), and the shift shows as approved.
    student.reload()
    assert_progress(hours_card(student), "22.5", 14)
    expect(hours_card(student)).not_to_contain_text("waiting for approval")
    approved = shift_on(student, yesterday)
    expect(approved).to_contain_text("Approved")
    expect(approved).to_contain_text("Approved by Paula Reyes")
    expect(approved.get_by_role("link", name="Correct")).to_have_count(0)
    assert_fits_the_phone(student)
    screenshot(student, "externship-7-student-shift-approved-phone")


def test_a_shift_that_ends_before_it_starts_is_refused_beside_the_end_time_and_nothing_is_saved(
    live_server: Any, sign_in: Callable[..., Page]
) -> None:
    externship = make_externship()
    student = sign_in(externship.maya.email, PHONE)
    student.get_by_role("region", name="Externship").get_by_role("link", name="Log a shift").tap()

    fill_shift(student, externship.yesterday, "14:00", "09:00")

    expect(student.get_by_role("heading", level=1)).to_have_text("Log a shift")
    end = student.get_by_label("End")
    expect(end).to_have_attribute("aria-invalid", "true")
    expect(end).to_have_accessible_description("The end time must be after the start time.")
    error = end.locator("xpath=..").get_by_text("The end time must be after the start time.")
    expect(error).to_be_visible()
    end_box, error_box = end.bounding_box(), error.bounding_box()
    assert end_box and error_box
    assert 0 <= error_box["y"] - (end_box["y"] + end_box["height"]) < 24, "the message is not right under the field"
    # What she typed is kept, to correct.
    expect(student.get_by_label("Start")).to_have_value("14:00")
    expect(student.get_by_label("Date")).to_have_value(externship.yesterday.isoformat())
    assert_fits_the_phone(student)
    screenshot(student, "externship-8-student-end-before-start-phone")
    assert HoursEntry.objects.filter(state=HoursEntry.State.SUBMITTED).count() == 0
    assert HoursEntry.objects.count() == 2  # the two approved shifts of the scene


def test_a_preceptor_returns_a_shift_with_a_reason_and_the_student_reads_it(
    live_server: Any,
    mailoutbox: list[EmailMessage],
    sign_in: Callable[..., Page],
    visit: Callable[..., Page],
) -> None:
    externship = make_externship()
    placement, yesterday = externship.placement, externship.yesterday
    entry = shift(placement, yesterday, time(9), time(17))
    reason = "You left at 3 p.m. yesterday: correct the end time."

    preceptor = sign_in_with_emailed_code(visit, mailoutbox, externship.paula.email)
    preceptor.get_by_role("region", name="Students placed with you").get_by_role("link", name="Maya Lopez").tap()
    waiting = shift_on(preceptor, yesterday)
    waiting.get_by_text("Return", exact=True).tap()
    waiting.get_by_label("What should the student correct?").fill(reason)
    assert_fits_the_phone(preceptor)
    screenshot(preceptor, "externship-9-preceptor-return-phone")
    waiting.get_by_role("button", name="Return to student").tap()

    expect(preceptor.get_by_role("status")).to_contain_text("Shift returned to the student.")
    entry.refresh_from_db()
    assert (entry.state, entry.return_reason) == (HoursEntry.State.RETURNED, reason)

    # Maya sees the reason on her placement page and again when she corrects the shift.
    student = sign_in(externship.maya.email, PHONE)
    card = student.get_by_role("region", name="Externship")
    assert_progress(card, "16", 10)
    card.get_by_role("link", name="Lakeside Family Clinic").tap()
    returned = shift_on(student, yesterday)
    expect(returned).to_contain_text("Returned for correction")
    expect(returned).to_contain_text(f"Returned: {reason}")
    assert_progress(hours_card(student), "16", 10)
    assert_fits_the_phone(student)
    screenshot(student, "externship-10-student-shift-returned-phone")

    correct = returned.get_by_role("link", name="Correct")
    expect(correct).to_have_accessible_description(f"{day_label(yesterday)} · 9 a.m. – 5 p.m. · 8 h")
    correct.tap()
    expect(student.get_by_role("heading", level=1)).to_have_text("Correct a shift")
    expect(student.get_by_text(f"Your preceptor returned this shift: {reason}")).to_be_visible()
    expect(student.get_by_label("End")).to_have_value("17:00")
    assert_fits_the_phone(student)


def test_a_preceptor_approves_a_week_with_the_keyboard_alone(
    live_server: Any, visit: Callable[..., Page], mailoutbox: list[EmailMessage]
) -> None:
    """No pointer: Tab to the student, Enter, Tab to the week's approval, Enter; the ring shows each stop."""
    externship = make_externship()
    shift(externship.placement, externship.yesterday, time(8), time(14), state=HoursEntry.State.SUBMITTED)
    preceptor = sign_in_with_emailed_code(visit, mailoutbox, externship.paula.email)

    def tab_to(name: str) -> None:
        for _ in range(40):
            preceptor.keyboard.press("Tab")
            if preceptor.evaluate("() => document.activeElement.textContent.trim()") == name:
                style = preceptor.evaluate(
                    "() => [getComputedStyle(document.activeElement).outlineStyle,"
                    " parseFloat(getComputedStyle(document.activeElement).outlineWidth)]"
                )
                assert style == ["solid", 3.0], (name, style)
                return
        raise AssertionError(f"Tab never reached {name!r}")

    tab_to("Maya Lopez")
    preceptor.keyboard.press("Enter")
    expect(preceptor.get_by_role("heading", level=1)).to_have_text("Maya Lopez")
    tab_to("Approve the week")
    preceptor.keyboard.press("Enter")
    expect(preceptor.get_by_role("status")).to_contain_text(re.compile(r"of the week of .+ approved\."))
    entry = HoursEntry.objects.get(placement=externship.placement, work_date=externship.yesterday)
    assert (entry.state, entry.reviewed_by) == (HoursEntry.State.APPROVED, externship.paula)
