"""The certification sections of the home page (registered with curriculum.home): the student's
target, next exam and eligibility; the program office's outcome figures against their thresholds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from certifications import eligibility, outcomes, permissions
from certifications.models import Accreditor, ExamAttempt
from certifications.outcomes import Figure
from curriculum import progress
from curriculum.home import Audience, Home, Section, Task, Urgency
from curriculum.models import Enrollment

# A booked exam this close is on the student's list of what to do.
EXAM_SOON_DAYS = 30


def student_section(home: Home) -> Section | None:
    """Target credential, next exam date and eligibility in one line; a fixed handful of queries."""
    if not home.studies:
        return None
    enrollments = list(
        Enrollment.objects.filter(student=home.user).select_related("cohort__program", "target_track__track")
    )
    enrollment = progress.main_enrollment(enrollments)
    if enrollment is None:
        return None
    program = enrollment.cohort.program
    today = program.today()
    target = getattr(enrollment, "target_track", None)
    track = target.track if target is not None else None
    next_exam = (
        ExamAttempt.objects.filter(enrollment=enrollment)
        .upcoming(today)
        .select_related("track")
        .order_by("scheduled_on", "pk")
        .first()
    )
    url = reverse("certifications:my-certification")
    tasks = []
    exam_on = next_exam.scheduled_on if next_exam is not None else None
    if next_exam is not None and exam_on is not None and exam_on <= today + timedelta(days=EXAM_SOON_DAYS):
        tasks.append(
            Task(
                text=_("Your %(track)s exam is on %(day)s")
                % {"track": next_exam.track.code, "day": date_format(exam_on, "DATE_FORMAT")},
                detail=next_exam.location,
                url=url,
                urgency=Urgency.PLANNED,
            )
        )
    if track is None and not enrollment.withdrawn_on:
        tasks.append(Task(text=_("Choose the credential you aim for"), url=url, urgency=Urgency.PLANNED))
    return Section(
        "certifications/home_student.html",
        {
            "target": track,
            "next_exam": next_exam,
            "eligibility": eligibility.checklist(enrollment, track, today) if track else None,
        },
        audience=Audience.STUDENT,
        order=30,
        tasks=tuple(tasks),
        checked=(_("exams"),),
    )


@dataclass(frozen=True)
class MeasureRow:
    """One outcome measure on the home page: its latest result and, for MAERB, its 5-year average."""

    name: str
    threshold: Decimal | None
    latest: Figure | None
    average: Figure | None

    @property
    def judged(self) -> Figure | None:
        """The figure held against the threshold: MAERB judges the 5-year average, ABHES the year."""
        if self.average is not None and self.average.rate is not None:
            return self.average
        return self.latest

    @property
    def below(self) -> bool:
        return self.judged is not None and self.judged.meets_threshold is False

    @property
    def latest_below(self) -> bool:
        """The latest year on its own is below the threshold (shown beside a 5-year average that may meet it)."""
        return self.latest is not None and self.latest.meets_threshold is False


def staff_section(home: Home) -> Section | None:
    """The program in focus: each computed measure against its threshold, in words; the outcome
    report's own queries, whatever the number of students."""
    program = home.program
    if program is None or not permissions.can_view_reports(home.user, program):
        return None
    report = outcomes.outcome_report(program)
    rows = []
    for measure, figures in report.rows():
        results = [figure for figure in figures if figure.year is not None and figure.rate is not None]
        rows.append(
            MeasureRow(
                name=outcomes.measure_name(report.accreditor, measure.key),
                threshold=measure.threshold_percent,
                latest=results[-1] if results else None,
                average=next((figure for figure in figures if figure.year is None), None),
            )
        )
    accreditor = str(Accreditor(report.accreditor).label)
    url = reverse("certifications:report", args=[program.code])
    tasks = tuple(
        Task(
            text=_("%(measure)s is below the %(accreditor)s threshold: %(rate)s%% against %(threshold)s%%")
            % {
                "measure": row.name,
                "accreditor": accreditor,
                "rate": row.judged.rate,
                "threshold": format(row.threshold.normalize(), "f"),
            },
            detail=_("The 5-year average.")
            if row.judged is row.average
            else _("Results of %(year)s.") % {"year": row.judged.year_label},
            url=url,
            urgency=Urgency.PLANNED,
        )
        for row in rows
        if row.below and row.judged is not None and row.threshold is not None
    )
    return Section(
        "certifications/home_staff.html",
        {"rows": rows, "accreditor": accreditor, "url": url, "program": program},
        audience=Audience.STAFF,
        order=10,
        tasks=tasks,
        checked=(_("outcome thresholds"),),
    )
