"""Exam dates as iCalendar (RFC 5545): the file's lines, dates, escaping and folding; the download;
the private feed that answers without signing in until it is revoked."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.urls import reverse
from hypothesis import example, given, settings
from hypothesis import strategies as st

from certifications import calendar
from certifications.models import CalendarFeed, ExamAttempt
from tests.certification_factories import ExamAttemptFactory, track


def unfold(body: str) -> list[str]:
    """The content lines of a calendar, as a reader sees them: folds joined, CRLF split."""
    assert body.endswith("\r\n")
    assert "\n" not in body.replace("\r\n", "")  # no bare line feed anywhere
    return body[: -len("\r\n")].replace("\r\n ", "").split("\r\n")


def events(body: str) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in unfold(body):
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT":
            assert current is not None
            found.append(current)
            current = None
        elif current is not None:
            name, _colon, value = line.partition(":")
            current[name] = value
    return found


@pytest.fixture
def enrollment(alice):
    return alice.enrollments.get()


@pytest.fixture
def booked(enrollment, program):
    return ExamAttemptFactory(
        enrollment=enrollment,
        track=track(program, "CCMA"),
        taken_on=None,
        result="",
        scheduled_on=date(2026, 12, 15),
        location="Room 4, Main Campus; 2nd floor\\east",
    )


@pytest.fixture
def failed(enrollment, program):
    return ExamAttemptFactory(
        enrollment=enrollment, track=track(program, "CMA"), taken_on=date(2026, 3, 2), result="fail", score=410
    )


class TestTheFile:
    def test_it_is_a_calendar_with_one_all_day_event_per_exam(self, alice, booked, failed):
        body = calendar.ics(calendar.exams_of(alice), name="My exams")
        lines = unfold(body)
        assert lines[:5] == [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            f"PRODID:{calendar.PRODUCT}",
            "CALSCALE:GREGORIAN",
            "METHOD:PUBLISH",
        ]
        assert lines[-1] == "END:VCALENDAR"
        by_uid = {event["UID"]: event for event in events(body)}
        assert set(by_uid) == {
            f"exam-attempt-{booked.pk}@checkoff.exam-attempts",
            f"exam-attempt-{failed.pk}@checkoff.exam-attempts",
        }
        exam = by_uid[f"exam-attempt-{booked.pk}@checkoff.exam-attempts"]
        assert exam["DTSTART;VALUE=DATE"] == "20261215"
        assert exam["DTEND;VALUE=DATE"] == "20261216"
        assert exam["SUMMARY"] == "CCMA exam"
        assert re.fullmatch(r"\d{8}T\d{6}Z", exam["DTSTAMP"])
        sat = by_uid[f"exam-attempt-{failed.pk}@checkoff.exam-attempts"]
        assert (sat["DTSTART;VALUE=DATE"], sat["SUMMARY"]) == ("20260302", "CMA exam: not passed")
        assert "LOCATION" not in sat

    def test_text_is_escaped(self, alice, booked):
        exam = events(calendar.ics(calendar.exams_of(alice), name="My exams"))[0]
        assert exam["LOCATION"] == "Room 4\\, Main Campus\\; 2nd floor\\\\east"

    def test_newlines_in_text_are_escaped(self):
        assert calendar.escape_text("one\r\ntwo\nthree\rfour") == "one\\ntwo\\nthree\\nfour"
        assert calendar.escape_text("a\\;b") == "a\\\\\\;b"

    def test_the_uid_stays_when_the_booking_moves(self, alice, booked):
        before = events(calendar.ics(calendar.exams_of(alice), name="x"))[0]["UID"]
        ExamAttempt.objects.filter(pk=booked.pk).update(scheduled_on=date(2027, 1, 5))
        after = events(calendar.ics(calendar.exams_of(alice), name="x"))[0]
        assert (after["UID"], after["DTSTART;VALUE=DATE"]) == (before, "20270105")

    def test_long_lines_fold_at_75_octets_without_splitting_a_character(self, alice, booked):
        ExamAttempt.objects.filter(pk=booked.pk).update(location="Clínica " * 20)
        body = calendar.ics(calendar.exams_of(alice), name="x")
        physical = body.split("\r\n")[:-1]
        assert max(len(line.encode("utf-8")) for line in physical) <= 75
        assert any(line.startswith(" ") for line in physical)
        assert events(body)[0]["LOCATION"] == ("Clínica " * 20)

    def test_folding_keeps_short_lines_whole_and_splits_long_ones(self):
        assert calendar.fold("SUMMARY:short") == "SUMMARY:short"
        folded = calendar.fold("X" * 150)
        pieces = folded.split("\r\n")
        assert [len(piece) for piece in pieces] == [75, 75, 2]
        assert all(piece.startswith(" ") for piece in pieces[1:])
        assert folded.replace("\r\n ", "") == "X" * 150

    def test_a_classmates_exams_are_not_in_it(self, alice, bob, booked, program):
        ExamAttemptFactory(enrollment=bob.enrollments.get(), track=track(program, "CMA"))
        assert len(events(calendar.ics(calendar.exams_of(alice), name="x"))) == 1


class TestDownload:
    def test_the_student_downloads_their_exam_dates(self, client, alice, booked):
        client.force_login(alice)
        response = client.get(reverse("certifications:my-calendar-ics"))
        assert response.status_code == 200
        assert response["Content-Type"] == "text/calendar; charset=utf-8"
        assert response["Content-Disposition"] == 'attachment; filename="exams.ics"'
        assert events(response.content.decode())[0]["SUMMARY"] == "CCMA exam"

    def test_wrong_method(self, client, alice):
        client.force_login(alice)
        assert client.post(reverse("certifications:my-calendar-ics")).status_code == 405

    def test_it_needs_a_sign_in(self, client, alice):
        response = client.get(reverse("certifications:my-calendar-ics"))
        assert response.status_code == 302


class TestFeed:
    def open_feed(self, client, alice) -> str:
        client.force_login(alice)
        response = client.post(reverse("certifications:calendar-feed-open"))
        assert response.status_code == 302
        return reverse("certifications:calendar-feed", args=[CalendarFeed.objects.get(revoked_at=None).token])

    def test_the_feed_answers_without_a_sign_in(self, client, alice, booked):
        url = self.open_feed(client, alice)
        client.logout()
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "text/calendar; charset=utf-8"
        assert events(response.content.decode())[0]["DTSTART;VALUE=DATE"] == "20261215"

    def test_the_page_shows_the_address(self, client, alice, booked):
        url = self.open_feed(client, alice)
        page = client.get(reverse("certifications:my-certification")).content.decode()
        assert f"http://testserver{url}" in page

    def test_opening_twice_keeps_the_same_address(self, client, alice):
        first = self.open_feed(client, alice)
        assert self.open_feed(client, alice) == first
        assert CalendarFeed.objects.filter(user=alice).count() == 1

    def test_a_revoked_feed_answers_404_and_a_new_one_has_a_new_token(self, client, alice, booked):
        old = self.open_feed(client, alice)
        assert client.post(reverse("certifications:calendar-feed-revoke")).status_code == 302
        client.logout()
        assert client.get(old).status_code == 404
        new = self.open_feed(client, alice)
        assert new != old
        client.logout()
        assert client.get(old).status_code == 404
        assert client.get(new).status_code == 200

    def test_an_unknown_token_is_404(self, client, db):
        assert client.get(reverse("certifications:calendar-feed", args=["nope"])).status_code == 404

    @pytest.mark.parametrize("token", ["%00", "a%00b", "%C3%A9t%C3%A9", "x" * 10_000])
    def test_a_token_no_feed_could_have_is_404_signed_out(self, client, db, token):
        # A NUL reached PostgreSQL and answered 500; the address now matches no pattern.
        assert client.get(f"/calendar/{token}.ics").status_code == 404

    def test_an_inactive_persons_feed_is_404(self, client, alice):
        url = self.open_feed(client, alice)
        alice.is_active = False
        alice.save(update_fields=["is_active"])
        client.logout()
        assert client.get(url).status_code == 404

    def test_wrong_methods(self, client, alice):
        url = self.open_feed(client, alice)
        assert client.get(reverse("certifications:calendar-feed-open")).status_code == 405
        assert client.get(reverse("certifications:calendar-feed-revoke")).status_code == 405
        assert client.post(url).status_code == 405

    def test_revoking_with_none_open_says_so(self, client, alice):
        client.force_login(alice)
        response = client.post(reverse("certifications:calendar-feed-revoke"), follow=True)
        assert "You had no calendar address to revoke." in response.content.decode()


# --- Any text a booking holds ----------------------------------------------------------------------

# Control characters a TEXT value may not hold (RFC 5545, 3.3.11): all but the tab.
CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def unfold_and_unescape(folded: str) -> str:
    lines = folded.split("\r\n")
    value = lines[0] + "".join(line[1:] for line in lines[1:])
    return re.sub(r"\\(.)", lambda match: "\n" if match.group(1) in "nN" else match.group(1), value)


def as_the_calendar_keeps_it(text: str) -> str:
    """Line breaks of any kind become the one TEXT knows; other control characters become spaces."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(CONTROL.sub(" ", line) for line in text.split("\n"))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
@example("Room 4\r\nBEGIN:VEVENT\r\nSUMMARY:injected")
@example("tab\there, vertical\x0btab, form\x0cfeed, nul\x00, \x1c\x85\u2028 separators")
@example("Clínica 🩺 " * 30)
def test_any_text_stays_one_property_within_75_octets_and_reads_back(text):
    folded = calendar.fold(f"LOCATION:{calendar.escape_text(text)}")
    physical = folded.split("\r\n")
    assert all(len(line.encode("utf-8")) <= calendar.FOLD_AT for line in physical)
    assert all(line.startswith(" ") for line in physical[1:])
    # No line break of its own (a new property, an injected event), no control character TEXT forbids.
    assert not any(CONTROL.search(line) for line in physical)
    assert unfold_and_unescape(folded) == "LOCATION:" + as_the_calendar_keeps_it(text)
