"""Outcome reports for a program's directors and coordinators.

The page shows the accreditor's measures by year against their thresholds, pass rates by track, and
charts of both; every number on it links to the students behind it, because an accreditor asks for
the raw data behind any figure. The downloads carry the same figures as the page. Instructors see
none of it (403); anyone outside the program finds nothing (404).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.http import content_disposition_header, urlencode
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET

from accounts.http import AuthenticatedRequest
from certifications import charts, exports, outcomes, permissions
from certifications.models import Accreditor, ExamAttempt, JobPlacement, OutcomeMeasure, PlacementStatus
from certifications.outcomes import Figure, OutcomeReport, PassRate
from certifications.views import program_for
from curriculum.models import Enrollment, Program

PAGE_SIZE = 50
FIVE_YEARS = "5yr"
# MAERB's placement measure may leave some graduates out of the denominator (ABHES names them U).
EXCLUDING_MEASURES = ("job_placement",)

# Who is behind each figure, in words; %(years)s is "2025", "2021–2025", or an ABHES July–June year.
FIGURE_WORDS: dict[tuple[str, str, str], Promise] = {
    ("maerb", "retention", "numerator"): gettext_lazy(
        "Students admitted in %(years)s who completed the trigger course and did not withdraw"
    ),
    ("maerb", "retention", "denominator"): gettext_lazy(
        "Students admitted in %(years)s who completed the trigger course"
    ),
    ("maerb", "job_placement", "numerator"): gettext_lazy("Graduates of %(years)s with a positive job placement"),
    ("maerb", "job_placement", "denominator"): gettext_lazy("Graduates of %(years)s counted for job placement"),
    ("maerb", "job_placement", "excluded"): gettext_lazy("Graduates of %(years)s left out of job placement"),
    ("maerb", "job_placement", "unavailable"): gettext_lazy(
        "Graduates of %(years)s recorded as unavailable for employment"
    ),
    ("maerb", "credentialing_exam_participation", "numerator"): gettext_lazy(
        "Graduates of %(years)s who sat a credentialing exam"
    ),
    ("maerb", "credentialing_exam_participation", "denominator"): gettext_lazy("Graduates of %(years)s"),
    ("maerb", "credentialing_exam_passage", "numerator"): gettext_lazy(
        "Graduates of %(years)s who passed a credentialing exam"
    ),
    ("maerb", "credentialing_exam_passage", "denominator"): gettext_lazy(
        "Graduates of %(years)s who sat a credentialing exam"
    ),
    ("abhes", "retention", "numerator"): gettext_lazy(
        "Students still enrolled at the end of %(years)s or graduated in it (EE + G)"
    ),
    ("abhes", "retention", "denominator"): gettext_lazy(
        "Students enrolled at the start of %(years)s, started or re-entered in it (BE + NS + RE)"
    ),
    ("abhes", "placement", "numerator"): gettext_lazy(
        "Graduates of %(years)s employed in the field or a related field (F + R)"
    ),
    ("abhes", "placement", "denominator"): gettext_lazy("Graduates of %(years)s available for employment (G − U)"),
    ("abhes", "placement", "excluded"): gettext_lazy("Graduates of %(years)s unavailable for employment (U)"),
    ("abhes", "credentialing", "numerator"): gettext_lazy(
        "Graduates of %(years)s who passed a credentialing exam (GP)"
    ),
    ("abhes", "credentialing", "denominator"): gettext_lazy(
        "Graduates of %(years)s who took a credentialing exam (GT)"
    ),
    # The terms of the ABHES formulas, each its own list.
    ("abhes", "retention", "BE"): gettext_lazy("Students enrolled on July 1 at the start of %(years)s (BE)"),
    ("abhes", "retention", "NS"): gettext_lazy("New starts in %(years)s (NS)"),
    ("abhes", "retention", "RE"): gettext_lazy("Re-entries in %(years)s (RE)"),
    ("abhes", "retention", "EE"): gettext_lazy("Students still enrolled on June 30 at the end of %(years)s (EE)"),
    ("abhes", "retention", "G"): gettext_lazy("Graduates of %(years)s (G)"),
    ("abhes", "placement", "G"): gettext_lazy("Graduates of %(years)s (G)"),
    ("abhes", "placement", "U"): gettext_lazy("Graduates of %(years)s unavailable for employment (U)"),
    ("abhes", "credentialing", "GT"): gettext_lazy("Graduates of %(years)s who took a credentialing exam (GT)"),
    ("abhes", "credentialing", "GP"): gettext_lazy("Graduates of %(years)s who passed a credentialing exam (GP)"),
    # A year in progress: the students whose outcome is not known yet.
    ("maerb", "retention", "enrolled"): gettext_lazy(
        "Students admitted in %(years)s still enrolled (neither graduated nor withdrawn)"
    ),
    ("maerb", "job_placement", "enrolled"): gettext_lazy("Students still enrolled who may graduate in %(years)s"),
    ("maerb", "credentialing_exam_participation", "enrolled"): gettext_lazy(
        "Students still enrolled who may graduate in %(years)s"
    ),
    ("maerb", "credentialing_exam_passage", "enrolled"): gettext_lazy(
        "Students still enrolled who may graduate in %(years)s"
    ),
    ("abhes", "retention", "enrolled"): gettext_lazy("Students still enrolled in %(years)s"),
    ("abhes", "placement", "enrolled"): gettext_lazy("Students still enrolled who may graduate in %(years)s"),
    ("abhes", "credentialing", "enrolled"): gettext_lazy("Students still enrolled who may graduate in %(years)s"),
}

# When a year's figure is final, in words, by what its cohort is.
FINAL_WHEN: dict[tuple[str, str], Promise] = {
    ("maerb", "retention"): gettext_lazy(
        "A year is final once it is over and everyone admitted in it has graduated or withdrawn."
    ),
    ("maerb", "graduation"): gettext_lazy(
        "A year is final once it is over: until December 31 more students may graduate in it."
    ),
    ("abhes", "retention"): gettext_lazy(
        "A report year is final once it has ended on June 30: until then its June 30 count is not taken."
    ),
    ("abhes", "graduation"): gettext_lazy(
        "A report year is final once it has ended on June 30: until then more students may graduate in it."
    ),
}

PASS_RATE_WORDS: dict[tuple[str, str], Promise] = {
    ("graduates", "taken"): gettext_lazy("Graduates of %(group)s who sat the %(track)s exam"),
    ("graduates", "passed_first"): gettext_lazy(
        "Graduates of %(group)s who passed the %(track)s exam at their first sitting"
    ),
    ("graduates", "passed_eventually"): gettext_lazy(
        "Graduates of %(group)s who passed the %(track)s exam at any sitting"
    ),
    ("not_graduated", "taken"): gettext_lazy("Students not yet graduated who sat the %(track)s exam"),
    ("not_graduated", "passed_first"): gettext_lazy(
        "Students not yet graduated who passed the %(track)s exam at their first sitting"
    ),
    ("not_graduated", "passed_eventually"): gettext_lazy(
        "Students not yet graduated who passed the %(track)s exam at any sitting"
    ),
    ("cohort", "taken"): gettext_lazy("Students of cohort %(group)s who sat the %(track)s exam"),
    ("cohort", "passed_first"): gettext_lazy(
        "Students of cohort %(group)s who passed the %(track)s exam at their first sitting"
    ),
    ("cohort", "passed_eventually"): gettext_lazy(
        "Students of cohort %(group)s who passed the %(track)s exam at any sitting"
    ),
}


def _percent(value: Decimal | None) -> str:
    return charts.percent_text(value) if value is not None else ""


def _report_program(request: AuthenticatedRequest, code: str) -> Program:
    return program_for(request, code, permissions.can_view_reports)


def _accreditor_asked(request: AuthenticatedRequest) -> str | None:
    """The accreditor the page was switched to; none asked means the program's own."""
    asked = request.GET.get("accreditor", "")
    if not asked:
        return None
    if asked not in Accreditor.values:
        raise Http404
    return asked


# --- The report page ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One figure as the table shows it, a row a year: its numbers, each with the address of its students,
    and the further counts of `MeasureTable.count_rows` for that year as (label, count, address)."""

    figure: Figure
    year_label: str
    rate: str
    below: bool
    numerator_url: str
    denominator_url: str
    enrolled_url: str  # a year in progress: its students still enrolled
    extra_counts: list[tuple[str, int, str]]


@dataclass(frozen=True)
class CountRow:
    """A further row of counts under a measure: MAERB's excluded graduates, or one ABHES term."""

    label: str
    explanation: str
    counts: list[tuple[int, str]]


@dataclass(frozen=True)
class MeasureTable:
    measure: OutcomeMeasure
    name: str
    threshold: str
    year_basis: str
    cells: list[Cell]
    count_rows: list[CountRow]
    chart: SafeString
    compact_chart: SafeString  # the same chart laid out for a phone
    terms_in_english: bool  # ABHES's terms are explained in the accreditor's words
    counted_formula: str  # an exam measure's formula naming the tracks counted
    placement_legend: str  # a placement measure's statuses counted as placed and left out
    final_when: str
    final_years: str
    in_progress_years: str


@dataclass(frozen=True)
class PassRateRow:
    rate: PassRate
    label: str
    urls: dict[str, str]
    first_rate: str
    eventual_rate: str


def _year_label(accreditor: str, year: int | None) -> str:
    """A column heading: "2025", "2024–25" for an ABHES July–June year, "5-year average"."""
    if year is None:
        return _("5-year weighted average")
    if accreditor == Accreditor.ABHES:
        return f"{year - 1}–{year % 100:02d}"
    return str(year)


def years_text(years: list[int]) -> str:
    """Years as a person reads them: "2021–2023, 2025"; runs of consecutive years joined by a dash."""
    runs: list[list[int]] = []
    for year in sorted(years):
        if runs and year == runs[-1][-1] + 1:
            runs[-1].append(year)
        else:
            runs.append([year])
    return ", ".join(str(run[0]) if len(run) == 1 else f"{run[0]}–{run[-1]}" for run in runs)


def final_when(accreditor: str, key: str) -> str:
    return str(FINAL_WHEN[(accreditor, "retention" if key == "retention" else "graduation")])


def _year_basis(accreditor: str, key: str) -> str:
    if accreditor == Accreditor.ABHES:
        return _("Report year, July 1 to June 30")
    if key == "retention":
        return _("Admission year")
    return _("Graduation year")


def report_url(program: Program, accreditor: str) -> str:
    return f"{reverse('certifications:report', args=[program.code])}?{urlencode({'accreditor': accreditor})}"


def figure_url(program: Program, figure: Figure, part: str) -> str:
    query = {"accreditor": figure.accreditor, "measure": figure.measure, "year": figure.year_label, "part": part}
    return f"{reverse('certifications:report-students', args=[program.code])}?{urlencode(query)}"


def pass_rate_url(program: Program, rate: PassRate, part: str) -> str:
    query = {"track": rate.track_code, "group": rate.group, "key": rate.key, "part": part}
    return f"{reverse('certifications:pass-rate-students', args=[program.code])}?{urlencode(query)}"


def _count_rows(program: Program, measure: OutcomeMeasure, figures: list[Figure]) -> list[CountRow]:
    """The counts a figure is made of beyond its numerator and denominator, each linked to its students."""
    if not figures:
        return []
    rows = []
    if figures[0].accreditor == Accreditor.MAERB and measure.key in EXCLUDING_MEASURES:
        rows.append(
            CountRow(
                _("Left out of the denominator"),
                _("Graduates whose placement status the measure excludes."),
                [(figure.excluded, figure_url(program, figure, "excluded")) for figure in figures],
            )
        )
    if (
        figures[0].accreditor == Accreditor.MAERB
        and PlacementStatus.UNAVAILABLE not in measure.excluded_statuses
        and any(figure.unavailable for figure in figures)
    ):
        # Before military service had its own status, graduates serving were recorded as unavailable,
        # which MAERB counts as not placed. Their reasons are free text: a person must look.
        rows.append(
            CountRow(
                _("Recorded as unavailable for employment"),
                _(
                    "Counted as not placed. Military service now has a status of its own, “Serving in the "
                    "military”, which MAERB counts as placed: check these graduates' reasons."
                ),
                [(figure.unavailable, figure_url(program, figure, "unavailable")) for figure in figures],
            )
        )
    for term, _count in figures[0].terms:
        rows.append(
            CountRow(
                term,
                str((measure.terms or {}).get(term, "")),
                [(figure.term(term), figure_url(program, figure, term)) for figure in figures],
            )
        )
    return rows


def _in_progress_text(report: OutcomeReport, key: str) -> str:
    """ "2024 (1 still enrolled), 2026 (3 still enrolled)" """
    return ", ".join(
        ngettext("%(year)s (%(count)s still enrolled)", "%(year)s (%(count)s still enrolled)", figure.enrolled)
        % {"year": _year_label(report.accreditor, figure.year), "count": figure.enrolled}
        for figure in report.figures
        if figure.measure == key and figure.year is not None and not figure.final
    )


def _measure_tables(report: OutcomeReport, counted: list[str]) -> list[MeasureTable]:
    program, accreditor = report.program, report.accreditor
    tables = []
    for measure, figures in report.rows():
        name = outcomes.measure_name(accreditor, measure.key)
        count_rows = _count_rows(program, measure, figures)
        cells = [
            Cell(
                figure=figure,
                year_label=_year_label(accreditor, figure.year),
                rate=_percent(figure.rate),
                below=figure.meets_threshold is False,
                numerator_url=figure_url(program, figure, "numerator"),
                denominator_url=figure_url(program, figure, "denominator"),
                enrolled_url="" if figure.final else figure_url(program, figure, "enrolled"),
                extra_counts=[(row.label, *row.counts[index]) for row in count_rows],
            )
            for index, figure in enumerate(figures)
        ]
        bars = [
            charts.Bar(cell.year_label, cell.figure.rate, cell.below, in_progress=not cell.figure.final)
            for cell in cells
            if cell.figure.year is not None
        ]
        final_years = report.final_years(measure.key)
        threshold = measure.threshold_percent
        chart_title = _("%(measure)s by year against its threshold") % {"measure": name}
        tables.append(
            MeasureTable(
                measure=measure,
                name=name,
                threshold=charts.threshold_text(threshold) if threshold is not None else "",
                year_basis=_year_basis(accreditor, measure.key),
                cells=cells,
                count_rows=count_rows,
                chart=charts.measure_chart(
                    chart_id=f"{accreditor}-{measure.key}", title=chart_title, bars=bars, threshold=threshold
                ),
                compact_chart=charts.compact_measure_chart(
                    chart_id=f"{accreditor}-{measure.key}", title=chart_title, bars=bars, threshold=threshold
                ),
                terms_in_english=bool(figures and figures[0].terms),
                counted_formula=outcomes.counted_formula(accreditor, measure.key, counted),
                placement_legend=outcomes.placement_legend(measure),
                final_when=final_when(accreditor, measure.key),
                final_years=(
                    years_text(final_years)
                    if accreditor == Accreditor.MAERB
                    else ", ".join(_year_label(accreditor, year) for year in final_years)
                ),
                in_progress_years=_in_progress_text(report, measure.key),
            )
        )
    return tables


def _pass_rate_rows(program: Program, rates: list[PassRate], group: str) -> list[PassRateRow]:
    return [
        PassRateRow(
            rate=rate,
            label=rate.key or "—",
            urls={part: pass_rate_url(program, rate, part) for part in outcomes.PASS_RATE_PARTS},
            first_rate=_percent(rate.first_rate),
            eventual_rate=_percent(rate.eventual_rate),
        )
        for rate in rates
        if rate.group == group and rate.taken  # a row of zeros for a track nobody sat says nothing
    ]


def _pass_rate_charts(rates: list[PassRate]) -> list[tuple[str, SafeString, SafeString]]:
    """First-attempt and eventual pass rates by graduation year, a line a track: (title, wide chart, phone chart)."""
    by_year = [rate for rate in rates if rate.group == "year" and rate.key]
    years = sorted({rate.key for rate in by_year})
    tracks = list(dict.fromkeys(rate.track_code for rate in by_year if rate.taken))
    if not tracks:
        return []
    found = {(rate.track_code, rate.key): rate for rate in by_year}
    drawn = []
    for chart_id, title, attribute in (
        ("pass-first", _("First-attempt pass rate by graduation year, per track"), "first_rate"),
        ("pass-eventual", _("Eventual pass rate by graduation year, per track"), "eventual_rate"),
    ):
        series = [
            charts.Series(
                track,
                [getattr(found[(track, year)], attribute) if (track, year) in found else None for year in years],
            )
            for track in tracks
        ]
        drawn.append(
            (
                title,
                charts.pass_rate_chart(chart_id=chart_id, title=title, labels=years, series=series),
                charts.compact_pass_rate_chart(chart_id=chart_id, title=title, labels=years, series=series),
            )
        )
    return drawn


# --- The summary at the top --------------------------------------------------------------------------


@dataclass(frozen=True)
class BelowFigure:
    """A figure under its threshold, as the summary names it: whose it is, its rate and the threshold."""

    measure_key: str
    measure_name: str
    cohort: str
    rate: str
    threshold: str
    url: str


@dataclass(frozen=True)
class Summary:
    """The report in a few plain sentences, from the standings of the figures the tables show."""

    headline: str
    below: list[BelowFigure]
    no_result: list[tuple[str, str, str]]  # (measure key, name, why there is no result yet)
    no_threshold: list[tuple[str, str]]  # (measure key, name)
    has_average: bool


def _cohort_words(report: OutcomeReport, figure: Figure) -> str:
    """Whose figure it is, in words: "graduates of 2025", "students admitted in 2023", "report year 2024–25"."""
    if figure.year is None:
        return _("the 5-year weighted average of %(years)s") % {
            "years": years_text(report.average_years(figure.measure))
        }
    if report.accreditor == Accreditor.ABHES:
        return _("report year %(year)s") % {"year": _year_label(report.accreditor, figure.year)}
    if figure.measure == "retention":
        return _("students admitted in %(year)s") % {"year": figure.year}
    return _("graduates of %(year)s") % {"year": figure.year}


def _headline(meeting: int, total: int, compared: bool) -> str:
    if not compared:
        return ngettext(
            "The measure has no result to hold against its threshold yet.",
            "None of the %(total)s measures has a result to hold against its threshold yet.",
            total,
        ) % {"total": total}
    if meeting == total:
        return ngettext("The measure meets its threshold.", "All %(total)s measures meet their threshold.", total) % {
            "total": total
        }
    return ngettext(
        "%(meeting)s of %(total)s measures meets its threshold.",
        "%(meeting)s of %(total)s measures meet their threshold.",
        meeting,
    ) % {"meeting": meeting, "total": total}


def report_summary(report: OutcomeReport) -> Summary:
    """How many measures meet their threshold and which figures fall below, named with their cohort.

    Read off `OutcomeReport.standings()`, which reads the figures the tables show: never a second count."""
    standings = report.standings()
    below, no_result, no_threshold = [], [], []
    for standing in standings:
        key = standing.measure.key
        name = outcomes.measure_name(report.accreditor, key)
        threshold = standing.measure.threshold_percent
        if standing.verdict == outcomes.Standing.BELOW and threshold is not None:
            below += [
                BelowFigure(
                    measure_key=key,
                    measure_name=name,
                    cohort=_cohort_words(report, figure),
                    rate=_percent(figure.rate),
                    threshold=charts.threshold_text(threshold),
                    url=figure_url(report.program, figure, "denominator"),
                )
                for figure in standing.below
            ]
        elif standing.verdict == outcomes.Standing.NO_RESULT:
            in_progress = [figure.year for figure in standing.in_progress if figure.year is not None]
            why = (
                _("%(years)s still in progress")
                % {"years": ", ".join(_year_label(report.accreditor, year) for year in in_progress)}
                if in_progress
                else _("nobody counted yet")
            )
            no_result.append((key, name, why))
        elif standing.verdict == outcomes.Standing.NO_THRESHOLD:
            no_threshold.append((key, name))
    meeting = sum(standing.verdict == outcomes.Standing.MEETS for standing in standings)
    compared = any(standing.compared for standing in standings)
    return Summary(
        headline=_headline(meeting, len(standings), compared),
        below=below,
        no_result=no_result,
        no_threshold=no_threshold,
        has_average=report.accreditor == Accreditor.MAERB,
    )


@require_GET
def report(request: AuthenticatedRequest, code: str) -> HttpResponse:
    program = _report_program(request, code)
    outcome_report = outcomes.outcome_report(program, _accreditor_asked(request))
    rates = outcomes.pass_rates(program)
    other = next(value for value in Accreditor.values if value != outcome_report.accreditor)
    return render(
        request,
        "certifications/report.html",
        {
            "program": program,
            "report": outcome_report,
            "accreditors": Accreditor.choices,
            "accreditor_name": Accreditor(outcome_report.accreditor).label,
            "can_see_tracks": permissions.can_view_tracks(request.user, program),
            "other_accreditor": other,
            "other_accreditor_name": Accreditor(other).label,
            "summary": report_summary(outcome_report),
            "tables": _measure_tables(outcome_report, outcomes.counted_tracks(program, outcome_report.accreditor)),
            "pass_rate_tables": [
                (_pass_rate_rows(program, rates, "year"), _("By graduation year"), "by-year"),
                (_pass_rate_rows(program, rates, "cohort"), _("By cohort"), "by-cohort"),
            ],
            "pass_rate_charts": _pass_rate_charts(rates),
            "tracks_nobody_sat": [
                code
                for code in dict.fromkeys(rate.track_code for rate in rates)
                if not any(rate.taken for rate in rates if rate.track_code == code)
            ],
        },
    )


# --- The students behind a figure ----------------------------------------------------------------------


def _year_asked(text: str) -> int | None:
    """A year as the links write it: "2025", or "5yr" for the 5-year average (None)."""
    if text == FIVE_YEARS:
        return None
    if len(text) == 4 and text.isdigit():
        return int(text)
    raise Http404


def _years_in_words(report: OutcomeReport, measure: str, year: int | None) -> str:
    if year is None:
        pooled = report.average_years(measure)
        return years_text(pooled) if pooled else _("no complete year yet")
    if report.accreditor == Accreditor.ABHES:
        return _("the year July %(start)s to June %(end)s") % {"start": year - 1, "end": year}
    return str(year)


def _student_rows(enrollments: QuerySet[Enrollment], page_number: str | None) -> tuple[Any, list[dict[str, Any]]]:
    """A page of students with what a director checks against the figure: dates, job placement, exams."""
    listed = (
        enrollments.select_related("student", "cohort", "job_placement")
        .prefetch_related(
            Prefetch(
                "exam_attempts",
                queryset=ExamAttempt.objects.select_related("track").order_by("taken_on", "scheduled_on", "pk"),
            )
        )
        .order_by("student__last_name", "student__first_name", "admitted_on", "pk")
    )
    page = Paginator(listed, PAGE_SIZE).get_page(page_number)
    rows = []
    for enrollment in page:
        try:
            placement: JobPlacement | None = enrollment.job_placement
        except JobPlacement.DoesNotExist:
            placement = None
        rows.append({"enrollment": enrollment, "placement": placement, "exams": list(enrollment.exam_attempts.all())})
    return page, rows


@require_GET
def report_students(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """The enrollments counted in one figure: `len(list)` is the figure's number, whatever page it came from."""
    program = _report_program(request, code)
    outcome_report = outcomes.outcome_report(program, _accreditor_asked(request))
    accreditor = outcome_report.accreditor
    measure = request.GET.get("measure", "")
    part = request.GET.get("part", "")
    year = _year_asked(request.GET.get("year", ""))
    figure = outcome_report.figure(measure, year)
    if figure is None or (accreditor, measure, part) not in FIGURE_WORDS:
        raise Http404
    try:
        enrollments = outcomes.students_behind(program, accreditor, measure, year, part)
    except ValueError as error:
        raise Http404 from error
    page, rows = _student_rows(enrollments, request.GET.get("page"))
    words = FIGURE_WORDS[(accreditor, measure, part)] % {"years": _years_in_words(outcome_report, measure, year)}
    facts = {
        "measure": outcomes.measure_name(accreditor, measure),
        "accreditor": Accreditor(accreditor).label,
        "year": _year_label(accreditor, year),
        "numerator": figure.numerator,
        "denominator": figure.denominator,
        "enrolled": figure.enrolled,
    }
    context_line = (
        _("%(measure)s, %(accreditor)s, %(year)s: %(numerator)s of %(denominator)s")
        if figure.final
        else _(
            "%(measure)s, %(accreditor)s, %(year)s: in progress, %(numerator)s of %(denominator)s so far, "
            "%(enrolled)s still enrolled"
        )
    ) % facts
    return render(
        request,
        "certifications/report_students.html",
        {
            "program": program,
            "heading": _("%(figure)s: %(count)s") % {"figure": words, "count": page.paginator.count},
            "context_line": context_line,
            "rate": _percent(figure.rate),
            "below": figure.meets_threshold is False,
            "back_url": report_url(program, accreditor),
            "page": page,
            "rows": rows,
        },
    )


@require_GET
def pass_rate_students(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """The students behind one pass-rate figure: who sat a track's exam, passed it first time, or at all."""
    program = _report_program(request, code)
    track, group, key, part = (request.GET.get(name, "") for name in ("track", "group", "key", "part"))
    if part not in outcomes.PASS_RATE_PARTS or group not in outcomes.PASS_RATE_GROUPS:
        raise Http404
    rate = next(
        (
            rate
            for rate in outcomes.pass_rates(program)
            if (rate.track_code, rate.group, rate.key) == (track, group, key)
        ),
        None,
    )
    if rate is None:
        raise Http404
    try:
        enrollments = outcomes.pass_rate_students(program, track, group, key, part)
    except ValueError as error:
        raise Http404 from error
    page, rows = _student_rows(enrollments, request.GET.get("page"))
    kind = "cohort" if group == "cohort" else ("graduates" if key else "not_graduated")
    words = PASS_RATE_WORDS[(kind, part)] % {"group": key, "track": track}
    return render(
        request,
        "certifications/report_students.html",
        {
            "program": program,
            "heading": _("%(figure)s: %(count)s") % {"figure": words, "count": page.paginator.count},
            "context_line": _(
                "%(track)s: %(taken)s sat the exam, %(first)s passed at the first sitting, %(eventual)s passed"
            )
            % {
                "track": track,
                "taken": rate.taken,
                "first": rate.passed_first,
                "eventual": rate.passed_eventually,
            },
            "rate": "",
            "below": False,
            "back_url": reverse("certifications:report", args=[program.code]),
            "page": page,
            "rows": rows,
        },
    )


# --- Downloads -------------------------------------------------------------------------------------------


def _download(content: str | bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


def _export_accreditor_asked(request: AuthenticatedRequest) -> str | None:
    """The accreditor a download is for: one of them, "both", or none asked (the program's own)."""
    asked = request.GET.get("accreditor", "")
    if not asked:
        return None
    if asked not in exports.EXPORT_ACCREDITORS:
        raise Http404
    return asked


def _export_name(program: Program, accreditor: str | None, extension: str) -> str:
    return f"outcomes-{program.code}{f'-{accreditor}' if accreditor else ''}.{extension}"


@require_GET
def report_csv(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """The outcomes export for this program, for its own accreditor, the other or both: the same rows
    `manage.py export_outcomes` writes."""
    program = _report_program(request, code)
    accreditor = _export_accreditor_asked(request)
    return _download(
        exports.outcomes_csv([program], accreditor), "text/csv; charset=utf-8", _export_name(program, accreditor, "csv")
    )


@require_GET
def report_xlsx(request: AuthenticatedRequest, code: str) -> HttpResponse:
    program = _report_program(request, code)
    accreditor = _export_accreditor_asked(request)
    return _download(
        exports.outcomes_xlsx([program], accreditor),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _export_name(program, accreditor, "xlsx"),
    )


@require_GET
def report_pdf(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """The annual report tables as a PDF, for the accreditor's file and the advisory committee."""
    program = _report_program(request, code)
    accreditor = _accreditor_asked(request)
    return _download(
        exports.annual_report_pdf(program, accreditor),
        "application/pdf",
        f"annual-report-{program.code}{f'-{accreditor}' if accreditor else ''}.pdf",
    )
