"""Accreditation outcome figures (MAERB and ABHES) and exam pass rates, computed from the rows.

Nothing here is stored: every figure comes from enrollment dates, exam attempts and job placements,
so a corrected date changes the report at once, and every number can be traced to its students.

A report costs a fixed number of queries whatever the number of students. Each enrollment is
described by a few features (admission year, withdrawn or not, graduation year, placement status,
sat and passed a counted exam…); one grouped query counts the enrollments of each combination of
features, and the few rows that come back are folded into figures here. `students_behind` filters
enrollments on the same features, so a list always holds exactly the figure's count.

Thresholds and which placement statuses count come from the OutcomeMeasure rows, never from code;
which exams count, from each track's flag for the accreditor.

A figure is final only once its cohort is complete; until then it is in progress, carries how many
of its students are still enrolled, has no rate to hold against a threshold, and stays out of MAERB's
5-year average (`Figure.final`, `is_final` below says when, measure by measure).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from typing import Any

from django.db.models import BooleanField, Case, Count, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet, When
from django.db.models.expressions import Combinable
from django.db.models.functions import ExtractYear
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from certifications.models import (
    COUNTS_FOR,
    Accreditor,
    CertificationTrack,
    ExamAttempt,
    OutcomeMeasure,
    PlacementStatus,
)
from curriculum.models import Enrollment, Program

# The measures computed, by accreditor, in the order of the accreditors' forms. The survey measures
# (graduate and employer satisfaction) have no data in the app and are left out.
COMPUTED_MEASURES = {
    Accreditor.MAERB.value: (
        "retention",
        "job_placement",
        "credentialing_exam_participation",
        "credentialing_exam_passage",
    ),
    Accreditor.ABHES.value: ("retention", "placement", "credentialing"),
}
# Program.accreditor names the accrediting body; MAERB is the committee that reports for CAAHEP.
PROGRAM_ACCREDITOR = {"caahep": Accreditor.MAERB.value, "abhes": Accreditor.ABHES.value}
# "unavailable": graduates recorded as unavailable for employment, whom a placement measure may count
# as not placed (MAERB does): the report lists them, since military service has its own status now.
PARTS = ("numerator", "denominator", "excluded", "enrolled", "unavailable")
# The parts of an ABHES formula, each a list of its own (BE, NS, RE, EE, G; G and U; GT and GP).
ABHES_TERMS = {
    "retention": ("BE", "NS", "RE", "EE", "G"),
    "placement": ("G", "U"),
    "credentialing": ("GT", "GP"),
}
AVERAGE_YEARS = 5
# What a person reads for each measure; the export and the URLs use the keys.
MEASURE_NAMES = {
    (Accreditor.MAERB.value, "retention"): _("Retention"),
    (Accreditor.MAERB.value, "job_placement"): _("Job placement"),
    (Accreditor.MAERB.value, "credentialing_exam_participation"): _("Credentialing exam participation"),
    (Accreditor.MAERB.value, "credentialing_exam_passage"): _("Credentialing exam passage"),
    (Accreditor.ABHES.value, "retention"): _("Retention"),
    (Accreditor.ABHES.value, "placement"): pgettext_lazy("outcome measure", "Placement"),
    (Accreditor.ABHES.value, "credentialing"): _("Credentialing"),
}
ONE_DECIMAL = Decimal("0.1")


def percent(numerator: int, denominator: int) -> Decimal | None:
    """A share as a percentage with one decimal, rounded half up as a person would; None for 0/0."""
    if not denominator:
        return None
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Figure:
    """One measure for one year (None: MAERB's 5-year weighted average) of one program."""

    program_code: str
    accreditor: str
    measure: str
    year: int | None
    numerator: int
    denominator: int
    threshold: Decimal | None
    # Placement only: graduates whose status leaves the denominator (ABHES's U).
    excluded: int = 0
    # Placement only: graduates recorded as unavailable for employment, wherever the measure counts them.
    unavailable: int = 0
    # ABHES only: the formula's terms, e.g. (("BE", 12), ("NS", 30), …).
    terms: tuple[tuple[str, int], ...] = ()
    # False while the year's cohort is not complete: then `enrolled` of its students are still enrolled
    # (or may still join it), and the counts so far are no result.
    final: bool = True
    enrolled: int = 0

    @property
    def rate(self) -> Decimal | None:
        """None without a denominator, and for a year in progress: a cohort still enrolled has no rate yet."""
        if not self.final:
            return None
        return percent(self.numerator, self.denominator)

    @property
    def meets_threshold(self) -> bool | None:
        """Compared as shown: the rate with one decimal against the threshold in force."""
        rate = self.rate
        if rate is None or self.threshold is None:
            return None
        return rate >= self.threshold

    @property
    def year_label(self) -> str:
        return "5yr" if self.year is None else str(self.year)

    def term(self, name: str) -> int:
        return dict(self.terms).get(name, 0)


@dataclass
class OutcomeReport:
    program: Program
    accreditor: str
    measures: list[OutcomeMeasure]
    years: list[int]
    figures: list[Figure]
    # MAERB: the years each measure's 5-year weighted average pools (the five most recent final years).
    windows: dict[str, list[int]] = field(default_factory=dict)
    _index: dict[tuple[str, int | None], Figure] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._index = {(figure.measure, figure.year): figure for figure in self.figures}

    def figure(self, measure: str, year: int | None) -> Figure | None:
        return self._index.get((measure, year))

    def rows(self) -> list[tuple[OutcomeMeasure, list[Figure]]]:
        """Per measure, its figures by year ascending, the 5-year average last."""
        return [
            (
                measure,
                sorted(
                    (figure for figure in self.figures if figure.measure == measure.key),
                    key=lambda figure: (figure.year is None, figure.year or 0),
                ),
            )
            for measure in self.measures
        ]

    def average_years(self, measure: str) -> list[int]:
        """The years MAERB's 5-year weighted average of a measure pools (empty for ABHES or without data).

        Each measure has its own window, ending at its own latest final year with data: admission years
        (retention) run ahead of graduation years, and a year still in progress must not push a year of
        real results out of the average."""
        return self.windows.get(measure, [])

    def in_progress_years(self, measure: str) -> list[int]:
        return [
            figure.year for figure in self.figures if figure.measure == measure and figure.year and not figure.final
        ]

    def final_years(self, measure: str) -> list[int]:
        return [figure.year for figure in self.figures if figure.measure == measure and figure.year and figure.final]

    def standings(self) -> list[Standing]:
        """How each measure stands against its threshold, read off the very figures of `rows()`: the
        summary at the top of the report can then never say other than the tables under it."""
        return [
            Standing(
                measure=measure,
                below=[figure for figure in figures if figure.meets_threshold is False],
                compared=sum(figure.meets_threshold is not None for figure in figures),
                in_progress=[figure for figure in figures if not figure.final],
            )
            for measure, figures in self.rows()
        ]


@dataclass(frozen=True)
class Standing:
    """One measure against its threshold, over every figure the report shows for it (each final year and,
    for MAERB, the 5-year average).

    It meets the threshold only when at least one figure has a rate to compare and none falls below: a
    measure with nobody in its base yet, or only a year in progress, has no result, not a pass."""

    measure: OutcomeMeasure
    below: list[Figure]  # final figures whose rate falls below the threshold, years ascending, average last
    compared: int  # figures with a rate held against a threshold
    in_progress: list[Figure]

    MEETS = "meets"
    BELOW = "below"
    NO_RESULT = "no_result"
    NO_THRESHOLD = "no_threshold"

    @property
    def verdict(self) -> str:
        if self.measure.threshold_percent is None:
            return self.NO_THRESHOLD
        if self.below:
            return self.BELOW
        return self.MEETS if self.compared else self.NO_RESULT


def average_window(latest: int | None, is_final: Callable[[int], bool]) -> list[int]:
    """The five most recent final years up to `latest`, ascending; a year in progress is passed over.

    A year without data counts as one of the five (0 of 0), as MAERB's five years are calendar years."""
    if latest is None:
        return []
    window: list[int] = []
    year = latest
    while len(window) < AVERAGE_YEARS:
        if is_final(year):
            window.append(year)
        year -= 1
    return sorted(window)


def measure_name(accreditor: str, key: str) -> str:
    """A measure's name in the active language (its key, for a measure added by an admin)."""
    return str(MEASURE_NAMES.get((accreditor, key), key))


def accreditor_of(program: Program, accreditor: str | None = None) -> str:
    """The accreditor a report is for: the one asked, or the program's own ("caahep" reports to MAERB)."""
    chosen = accreditor or PROGRAM_ACCREDITOR.get(program.accreditor, program.accreditor)
    if chosen not in COMPUTED_MEASURES:
        raise ValueError(f"Unknown accreditor {chosen!r}: expected one of {', '.join(COMPUTED_MEASURES)}.")
    return chosen


# The measures whose figures count exam sittings, and so depend on which tracks count.
EXAM_MEASURES = {
    (Accreditor.MAERB.value, "credentialing_exam_participation"),
    (Accreditor.MAERB.value, "credentialing_exam_passage"),
    (Accreditor.ABHES.value, "credentialing"),
}


def counted_tracks(program: Program, accreditor: str) -> list[str]:
    """The codes of the program's tracks whose exams count for the accreditor, in the tracks' order (one query)."""
    return list(
        CertificationTrack.objects.filter(program=program, **{COUNTS_FOR[accreditor]: True})
        .order_by("order", "code")
        .values_list("code", flat=True)
    )


def counted_formula(accreditor: str, measure: str, codes: list[str]) -> str:
    """An exam measure's formula with the program's counted tracks named ("" for any other measure)."""
    if (accreditor, measure) not in EXAM_MEASURES:
        return ""
    if not codes:
        return str(
            _(
                "No track counts for %(accreditor)s, so no exam is counted: a director chooses them on the "
                "certification tracks page."
            )
            % {"accreditor": accreditor.upper()}
        )
    exams = (
        codes[0] if len(codes) == 1 else _("%(list)s or %(last)s") % {"list": ", ".join(codes[:-1]), "last": codes[-1]}
    )
    if measure == "credentialing_exam_participation":
        return str(_("Participation = graduates who sat %(exams)s ÷ graduates") % {"exams": exams})
    if measure == "credentialing_exam_passage":
        return str(_("Passage = graduates who passed %(exams)s ÷ graduates who sat one") % {"exams": exams})
    return str(_("Credentialing = graduates who passed %(exams)s (GP) ÷ graduates who sat one (GT)") % {"exams": exams})


def computed_measures(accreditor: str) -> list[OutcomeMeasure]:
    """The accreditor's measures that are computed, in the order of its form (one query)."""
    keys = COMPUTED_MEASURES[accreditor]
    by_key = {measure.key: measure for measure in OutcomeMeasure.objects.filter(accreditor=accreditor, key__in=keys)}
    return [by_key[key] for key in keys if key in by_key]


# --- An enrollment's features ------------------------------------------------------------------


def report_year(date_field: str) -> Case:
    """ABHES's report year of a date: the calendar year in which its July–June year ends."""
    return Case(
        When(**{f"{date_field}__month__gte": 7}, then=ExtractYear(date_field) + 1),
        default=ExtractYear(date_field),
    )


def _flag(condition: Q) -> ExpressionWrapper:
    return ExpressionWrapper(condition, output_field=BooleanField())


def _counted_exam(program: Program, accreditor: str, results: tuple[str, ...]) -> Exists:
    """The enrollment has an attempt with one of the results at an exam the accreditor counts.

    Limited to the program's tracks (an enrollment's attempts are all of its program's anyway): the
    planner then hashes this program's attempts, not every program's."""
    return Exists(
        ExamAttempt.objects.filter(
            enrollment=OuterRef("pk"),
            track__program=program,
            result__in=results,
            **{f"track__{COUNTS_FOR[accreditor]}": True},
        )
    )


def _exam_features(program: Program, accreditor: str) -> dict[str, Combinable]:
    return {
        # A reverse one-to-one: a LEFT JOIN, so a graduate with no record has status None.
        "placement_status": F("job_placement__status"),
        "sat_exam": _counted_exam(program, accreditor, (ExamAttempt.Result.PASS, ExamAttempt.Result.FAIL)),
        "passed_exam": _counted_exam(program, accreditor, (ExamAttempt.Result.PASS,)),
    }


def _still_enrolled() -> ExpressionWrapper:
    """Neither withdrawn nor graduated: the student's outcome is not known yet."""
    return _flag(Q(withdrawn_on__isnull=True, graduated_on__isnull=True))


def maerb_features(program: Program) -> dict[str, Combinable]:
    """MAERB counts by calendar year: of admission for retention, of graduation for the rest."""
    return {
        "admitted_year": ExtractYear("admitted_on"),
        # The admission cohort is those who completed the trigger course; an earlier withdrawal is not a drop.
        "in_cohort": _flag(Q(trigger_course_completed_on__isnull=False)),
        "withdrawn": _flag(Q(withdrawn_on__isnull=False)),
        "graduated_year": ExtractYear("graduated_on"),
        "still_enrolled": _still_enrolled(),
        # The year a current student's class is expected to graduate: they may join that year's graduates.
        "expected_graduation_year": ExtractYear("cohort__expected_graduation_on"),
        **_exam_features(program, Accreditor.MAERB.value),
    }


def abhes_features(program: Program) -> dict[str, Combinable]:
    """ABHES counts by July–June report year, and tells a re-entry from a new start."""
    # Enrollments whose student has an earlier one in the program, withdrawn before this one began. Not
    # correlated: PostgreSQL computes the set once and hashes it, where an EXISTS would run per enrollment.
    re_entries = Enrollment.objects.filter(
        cohort__program=program,
        student__enrollments__cohort__program=program,
        student__enrollments__withdrawn_on__lt=F("admitted_on"),
    ).values("pk")
    return {
        "admitted_report_year": report_year("admitted_on"),
        "withdrawn_report_year": report_year("withdrawn_on"),
        "graduated_report_year": report_year("graduated_on"),
        "re_entry": _flag(Q(pk__in=re_entries)),
        "still_enrolled": _still_enrolled(),
        "expected_graduation_report_year": report_year("cohort__expected_graduation_on"),
        **_exam_features(program, Accreditor.ABHES.value),
    }


FEATURES = {Accreditor.MAERB.value: maerb_features, Accreditor.ABHES.value: abhes_features}


def feature_groups(program: Program, accreditor: str) -> list[dict[str, Any]]:
    """How many of the program's enrollments share each combination of features (one query)."""
    features = FEATURES[accreditor](program)
    return list(
        Enrollment.objects.filter(cohort__program=program)
        .annotate(**features)
        .order_by()
        .values(*features)
        .annotate(n=Count("pk"))
    )


# --- Folding the groups into figures -------------------------------------------------------------

Tally = dict[tuple[str, int, str], int]  # (measure, year, part or term) → count
# Students still enrolled, by the year their class is expected to graduate (GRADUATING) or, for ABHES,
# the report year they were admitted in (ADMITTED); tallied beside the measures, under these names.
GRADUATING, ADMITTED = "(graduating)", "(admitted)"


def _placement(tally: Tally, measure: OutcomeMeasure | None, year: int, status: str | None, n: int) -> None:
    """A graduate with an excluded status leaves the denominator; with no record they stay in it."""
    if measure is None:
        return
    if status == PlacementStatus.UNAVAILABLE:
        tally[(measure.key, year, "unavailable")] += n
    if status in measure.excluded_statuses:
        tally[(measure.key, year, "excluded")] += n
        return
    tally[(measure.key, year, "denominator")] += n
    if status in measure.placed_statuses:
        tally[(measure.key, year, "numerator")] += n


def _maerb_tally(groups: list[dict[str, Any]], measures: dict[str, OutcomeMeasure]) -> Tally:
    tally: Tally = defaultdict(int)
    for group in groups:
        n = group["n"]
        if group["in_cohort"]:
            tally[("retention", group["admitted_year"], "denominator")] += n
            if not group["withdrawn"]:
                tally[("retention", group["admitted_year"], "numerator")] += n
        if group["still_enrolled"]:
            # Whether or not they completed the trigger course yet: one who has not may still join the cohort.
            tally[("retention", group["admitted_year"], "enrolled")] += n
            tally[(GRADUATING, group["expected_graduation_year"], "enrolled")] += n
        year = group["graduated_year"]
        if year is None:
            continue
        _placement(tally, measures.get("job_placement"), year, group["placement_status"], n)
        tally[("credentialing_exam_participation", year, "denominator")] += n
        if group["sat_exam"]:
            tally[("credentialing_exam_participation", year, "numerator")] += n
            tally[("credentialing_exam_passage", year, "denominator")] += n
            if group["passed_exam"]:
                tally[("credentialing_exam_passage", year, "numerator")] += n
    return tally


def abhes_last_year(groups: list[dict[str, Any]]) -> int | None:
    """The latest report year in which anyone was admitted, withdrew or graduated: where the report stops,
    since a student still enrolled would otherwise be counted in every year to come."""
    years = [
        group[name]
        for group in groups
        for name in ("admitted_report_year", "withdrawn_report_year", "graduated_report_year")
        if group[name] is not None
    ]
    return max(years, default=None)


def _abhes_tally(groups: list[dict[str, Any]], measures: dict[str, OutcomeMeasure]) -> Tally:
    tally: Tally = defaultdict(int)
    last = abhes_last_year(groups)
    if last is None:
        return tally
    for group in groups:
        n = group["n"]
        admitted, graduated = group["admitted_report_year"], group["graduated_report_year"]
        if group["still_enrolled"]:
            tally[(ADMITTED, admitted, "enrolled")] += n
            tally[(GRADUATING, group["expected_graduation_report_year"], "enrolled")] += n
        left_years = [year for year in (group["withdrawn_report_year"], graduated) if year is not None]
        # The report year in which the student left; still enrolled: beyond the report's last year.
        left = min(left_years) if left_years else last + 1
        # BE: enrolled on July 1 of each year after the admission year, up to the year of leaving.
        for year in range(admitted + 1, min(left, last) + 1):
            tally[("retention", year, "BE")] += n
        tally[("retention", admitted, "RE" if group["re_entry"] else "NS")] += n
        # EE: still enrolled on June 30, from the admission year until the year before leaving.
        for year in range(admitted, min(left - 1, last) + 1):
            tally[("retention", year, "EE")] += n
        if graduated is None:
            continue
        tally[("retention", graduated, "G")] += n
        tally[("placement", graduated, "G")] += n
        _placement(tally, measures.get("placement"), graduated, group["placement_status"], n)
        if group["sat_exam"]:
            tally[("credentialing", graduated, "GT")] += n
            tally[("credentialing", graduated, "denominator")] += n
            if group["passed_exam"]:
                tally[("credentialing", graduated, "GP")] += n
                tally[("credentialing", graduated, "numerator")] += n
    for (measure, year, part), count in list(tally.items()):
        if measure != "retention":
            continue
        if part in ("BE", "NS", "RE"):
            tally[("retention", year, "denominator")] += count
        elif part in ("EE", "G"):
            tally[("retention", year, "numerator")] += count
    for (measure, year, part), count in list(tally.items()):
        if (measure, part) == ("placement", "excluded"):
            tally[("placement", year, "U")] += count
    return tally


def current_year(accreditor: str, today: date) -> int:
    """The year still running on `today`: the calendar year for MAERB, the July–June report year for ABHES."""
    if accreditor == Accreditor.ABHES:
        return today.year + 1 if today.month >= 7 else today.year
    return today.year


def enrolled_in(accreditor: str, measure: str, year: int, tally: Tally) -> int:
    """Students still enrolled who belong, or may yet belong, to the measure's cohort of `year`.

    MAERB retention: those admitted in the year. ABHES retention: everyone admitted by its end (each
    is counted in its EE or leaves it). Graduation measures: those whose class is expected to graduate
    by the year's end, who may still join its graduates."""
    if accreditor == Accreditor.MAERB and measure == "retention":
        return tally.get(("retention", year, "enrolled"), 0)
    basis = ADMITTED if accreditor == Accreditor.ABHES and measure == "retention" else GRADUATING
    return sum(
        count
        for (name, each, part), count in tally.items()
        if name == basis and part == "enrolled" and each is not None and each <= year
    )


def is_final(accreditor: str, measure: str, year: int, tally: Tally, today: date) -> bool:
    """Whether a measure's figure for a year is a result, not a count so far.

    Every year must be over: until then students may still be admitted into it (retention) or graduate
    in it (the graduation measures), and ABHES's July–June snapshot is not taken. MAERB's retention also
    waits for its admission cohort to be complete: a student admitted that year and still enrolled may
    yet withdraw (or, before the trigger course, join the cohort). A graduate's exam and job placement
    recorded later still count in their year, since figures are computed, never stored."""
    if year >= current_year(accreditor, today):
        return False
    if accreditor == Accreditor.MAERB and measure == "retention":
        return enrolled_in(accreditor, measure, year, tally) == 0
    return True


def outcome_report(program: Program, accreditor: str | None = None, *, today: date | None = None) -> OutcomeReport:
    """Every computed measure of the program for every year with data, in two queries.

    `today` (the program's local date unless given) decides which years are over."""
    accreditor = accreditor_of(program, accreditor)
    today = today or program.today()
    measures = computed_measures(accreditor)
    by_key = {measure.key: measure for measure in measures}
    groups = feature_groups(program, accreditor)
    tally = (_maerb_tally if accreditor == Accreditor.MAERB else _abhes_tally)(groups, by_key)
    # Every year with a figure, and, for MAERB, every admission year with students still enrolled: the
    # current cohort shows as in progress even before anyone in it completes the trigger course.
    years = sorted(
        {
            year
            for (measure, year, part), count in tally.items()
            if count > 0 and (part == "denominator" or (part == "enrolled" and measure == "retention"))
        }
    )

    def final(measure: str, year: int) -> bool:
        return is_final(accreditor, measure, year, tally, today)

    def figure(measure: OutcomeMeasure, year: int | None, in_years: list[int]) -> Figure:
        terms = ABHES_TERMS.get(measure.key, ()) if accreditor == Accreditor.ABHES else ()
        complete = year is None or final(measure.key, year)
        return Figure(
            program_code=program.code,
            accreditor=accreditor,
            measure=measure.key,
            year=year,
            numerator=sum(tally.get((measure.key, each, "numerator"), 0) for each in in_years),
            denominator=sum(tally.get((measure.key, each, "denominator"), 0) for each in in_years),
            threshold=measure.threshold_percent,
            excluded=sum(tally.get((measure.key, each, "excluded"), 0) for each in in_years),
            unavailable=sum(tally.get((measure.key, each, "unavailable"), 0) for each in in_years),
            terms=tuple((term, sum(tally.get((measure.key, each, term), 0) for each in in_years)) for term in terms),
            final=complete,
            enrolled=0 if complete or year is None else enrolled_in(accreditor, measure.key, year, tally),
        )

    figures = []
    windows = {}
    for measure in measures:
        figures += [figure(measure, year, [year]) for year in years]
        if accreditor == Accreditor.MAERB:
            with_data = [
                year
                for year in years
                if tally.get((measure.key, year, "denominator"), 0) > 0 and final(measure.key, year)
            ]
            windows[measure.key] = average_window(max(with_data, default=None), partial(final, measure.key))
            figures.append(figure(measure, None, windows[measure.key]))
    return OutcomeReport(
        program=program,
        accreditor=accreditor,
        measures=measures,
        years=years,
        figures=figures,
        windows=windows,
    )


def placement_legend(measure: OutcomeMeasure) -> str:
    """Which graduate statuses a placement measure counts as placed and which it leaves out, in words,
    as the measure's row says (a director may have changed them); empty for any other measure."""
    if not measure.placed_statuses and not measure.excluded_statuses:
        return ""
    labels = dict(PlacementStatus.choices)

    def named(statuses: list[str]) -> str:
        return ", ".join(str(labels.get(status, status)) for status in statuses) or str(_("none"))

    return str(_("Counted as placed: %(placed)s. Left out of the denominator: %(excluded)s.")) % {
        "placed": named(measure.placed_statuses),
        "excluded": named(measure.excluded_statuses),
    }


# --- The students behind a figure ----------------------------------------------------------------


def _either_null_or(name: str, lookup: str, year: int) -> Q:
    return Q(**{f"{name}__isnull": True}) | Q(**{f"{name}__{lookup}": year})


def _placement_q(measure: OutcomeMeasure, graduates: Q, part: str) -> Q:
    """The same rule as `_placement`, as a filter."""
    excluded = Q(placement_status__in=measure.excluded_statuses)
    if part == "excluded":
        return graduates & excluded
    if part == "unavailable":
        return graduates & Q(placement_status=PlacementStatus.UNAVAILABLE)
    counted = graduates & (Q(placement_status__isnull=True) | ~excluded)
    if part == "denominator":
        return counted
    return counted & Q(placement_status__in=measure.placed_statuses)


def _enrolled_q(accreditor: str, measure: str, year: int) -> Q:
    """The same rule as `enrolled_in`, as a filter over the accreditor's features."""
    if accreditor == Accreditor.MAERB:
        if measure == "retention":
            return Q(still_enrolled=True, admitted_year=year)
        return Q(still_enrolled=True, expected_graduation_year__lte=year)
    if measure == "retention":
        return Q(still_enrolled=True, admitted_report_year__lte=year)
    return Q(still_enrolled=True, expected_graduation_report_year__lte=year)


def _maerb_q(measure: OutcomeMeasure, years: list[int], part: str) -> Q:
    """The same rules as `_maerb_tally`, as a filter over the MAERB features."""
    if measure.key == "job_placement":
        return _placement_q(measure, Q(graduated_year__in=years), part)
    if part == "excluded":
        raise ValueError(f"{measure.key} excludes no one: only a placement measure has an excluded part.")
    if part == "unavailable":
        raise ValueError(f"{measure.key} counts no placement: only a placement measure has an unavailable part.")
    if measure.key == "retention":
        cohort = Q(admitted_year__in=years, in_cohort=True)
        return cohort if part == "denominator" else cohort & Q(withdrawn=False)
    graduates = Q(graduated_year__in=years)
    sat = graduates & Q(sat_exam=True)
    if measure.key == "credentialing_exam_participation":
        return graduates if part == "denominator" else sat
    return sat if part == "denominator" else sat & Q(passed_exam=True)


def _abhes_term_q(term: str, year: int) -> Q:
    """One term of an ABHES formula for report year `year`, as a filter over the ABHES features."""
    if term == "BE":
        return (
            Q(admitted_report_year__lt=year)
            & _either_null_or("withdrawn_report_year", "gte", year)
            & _either_null_or("graduated_report_year", "gte", year)
        )
    if term == "NS":
        return Q(admitted_report_year=year, re_entry=False)
    if term == "RE":
        return Q(admitted_report_year=year, re_entry=True)
    if term == "EE":
        return (
            Q(admitted_report_year__lte=year)
            & _either_null_or("withdrawn_report_year", "gt", year)
            & _either_null_or("graduated_report_year", "gt", year)
        )
    if term == "G":
        return Q(graduated_report_year=year)
    if term == "GT":
        return Q(graduated_report_year=year, sat_exam=True)
    if term == "GP":
        return Q(graduated_report_year=year, sat_exam=True, passed_exam=True)
    raise ValueError(f"Unknown ABHES term {term!r}.")


def _abhes_q(measure: OutcomeMeasure, year: int, part: str) -> Q:
    """The same rules as `_abhes_tally`, as a filter over the ABHES features."""
    if part in ABHES_TERMS[measure.key] and part != "U":
        return _abhes_term_q(part, year)
    if measure.key == "placement":
        return _placement_q(measure, _abhes_term_q("G", year), "excluded" if part == "U" else part)
    if part == "excluded":
        raise ValueError(f"{measure.key} excludes no one: only a placement measure has an excluded part.")
    if part == "unavailable":
        raise ValueError(f"{measure.key} counts no placement: only a placement measure has an unavailable part.")
    if measure.key == "retention":
        if part == "denominator":
            return _abhes_term_q("BE", year) | Q(admitted_report_year=year)  # BE + NS + RE
        return _abhes_term_q("EE", year) | _abhes_term_q("G", year)
    return _abhes_term_q("GP" if part == "numerator" else "GT", year)


def students_behind(
    program: Program, accreditor: str, measure: str, year: int | None, part: str, *, today: date | None = None
) -> QuerySet[Enrollment]:
    """Exactly the enrollments counted in a figure's numerator, denominator or excluded graduates, or,
    for a year in progress, its students still enrolled (part "enrolled").

    For year None (MAERB's 5-year average) the union over its years. An ABHES figure also lists each
    term of its formula by name (part "BE", "NS", "RE", "EE", "G", "U", "GT", "GP")."""
    accreditor = accreditor_of(program, accreditor)
    if measure not in COMPUTED_MEASURES[accreditor]:
        raise ValueError(f"Unknown {accreditor} measure {measure!r}.")
    terms = ABHES_TERMS.get(measure, ()) if accreditor == Accreditor.ABHES else ()
    if part not in PARTS and part not in terms:
        raise ValueError(f"Unknown part {part!r}: expected one of {', '.join(PARTS + terms)}.")
    outcome_measure = OutcomeMeasure.objects.filter(accreditor=accreditor, key=measure).first()
    if outcome_measure is None:
        raise ValueError(f"The {accreditor} measure {measure!r} is not defined: load the outcome measures.")
    if part == "enrolled":
        found = outcome_report(program, accreditor, today=today).figure(measure, year)
        if year is None or found is None or found.final:
            raise ValueError("Only a year in progress has students still enrolled to list.")
        condition = _enrolled_q(accreditor, measure, year)
    elif accreditor == Accreditor.MAERB:
        years = outcome_report(program, accreditor, today=today).average_years(measure) if year is None else [year]
        condition = _maerb_q(outcome_measure, years, part)
    else:
        if year is None:
            raise ValueError("ABHES has no 5-year average: name a report year.")
        condition = _abhes_q(outcome_measure, year, part)
    return (
        Enrollment.objects.filter(cohort__program=program)
        .alias(**FEATURES[accreditor](program))
        .filter(condition)
        .select_related("student", "cohort")
    )


# --- Pass rates by track -------------------------------------------------------------------------


@dataclass(frozen=True)
class PassRate:
    """How the students who sat one track's exam fared, for one graduation year or one cohort."""

    track_code: str
    group: str  # "year" or "cohort"
    key: str  # the graduation year as text ("" not yet graduated), or the cohort's code
    taken: int
    passed_first: int
    passed_eventually: int

    @property
    def label(self) -> str:
        return self.key or "—"

    @property
    def first_rate(self) -> Decimal | None:
        return percent(self.passed_first, self.taken)

    @property
    def eventual_rate(self) -> Decimal | None:
        return percent(self.passed_eventually, self.taken)


PASS_RATE_GROUPS = ("year", "cohort")
PASS_RATE_PARTS = ("taken", "passed_first", "passed_eventually")


def first_sittings(program: Program) -> QuerySet[ExamAttempt]:
    """Each student's first sitting (pass or fail; a no-show is not a sitting) of each track's exam.

    Two sittings of one track on one day are refused by a constraint, so "first" is never a tie."""
    sat = ExamAttempt.objects.sat().filter(track__program=program)
    earlier = sat.filter(enrollment=OuterRef("enrollment"), track=OuterRef("track"), taken_on__lt=OuterRef("taken_on"))
    passed = ExamAttempt.objects.filter(
        track__program=program,
        enrollment=OuterRef("enrollment"),
        track=OuterRef("track"),
        result=ExamAttempt.Result.PASS,
    )
    return (
        sat.filter(enrollment__cohort__program=program)
        .filter(~Exists(earlier))
        .annotate(passed_first=_flag(Q(result=ExamAttempt.Result.PASS)), passed_eventually=Exists(passed))
    )


def pass_rates(program: Program) -> list[PassRate]:
    """First-attempt and eventual pass rates per track, by graduation year and by cohort, in two queries.

    Every track the program offers or someone sat, crossed with every graduation year and every cohort
    of the students who sat any exam (zero where no one sat that track)."""
    tracks = list(CertificationTrack.objects.filter(program=program).values("code", "order", "is_offered"))
    groups = list(
        first_sittings(program)
        .order_by()
        .values(
            track_code=F("track__code"),
            cohort_code=F("enrollment__cohort__code"),
            cohort_start=F("enrollment__cohort__start_on"),
            graduated_year=ExtractYear("enrollment__graduated_on"),
        )
        .annotate(
            n=Count("pk"),
            first=Count("pk", filter=Q(passed_first=True)),
            eventually=Count("pk", filter=Q(passed_eventually=True)),
        )
    )
    counts: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    cohorts: dict[str, Any] = {}
    years: set[int | None] = set()
    attempted = set()
    for group in groups:
        year = group["graduated_year"]
        years.add(year)
        cohorts[group["cohort_code"]] = group["cohort_start"]
        attempted.add(group["track_code"])
        for group_key in (("year", "" if year is None else str(year)), ("cohort", group["cohort_code"])):
            tally = counts[(group["track_code"], *group_key)]
            tally[0] += group["n"]
            tally[1] += group["first"]
            tally[2] += group["eventually"]
    year_keys = [str(year) for year in sorted(year for year in years if year is not None)]
    if None in years:
        year_keys.append("")
    cohort_keys = sorted(cohorts, key=lambda code: (cohorts[code], code))
    rates = []
    for track in tracks:
        if not (track["is_offered"] or track["code"] in attempted):
            continue
        for group_name, keys in (("year", year_keys), ("cohort", cohort_keys)):
            for key in keys:
                taken, first, eventually = counts.get((track["code"], group_name, key), [0, 0, 0])
                rates.append(PassRate(track["code"], group_name, key, taken, first, eventually))
    return rates


def pass_rate_students(program: Program, track_code: str, group: str, key: str, part: str) -> QuerySet[Enrollment]:
    """Exactly the enrollments counted in one pass-rate figure."""
    if group not in PASS_RATE_GROUPS:
        raise ValueError(f"Unknown group {group!r}: expected one of {', '.join(PASS_RATE_GROUPS)}.")
    if part not in PASS_RATE_PARTS:
        raise ValueError(f"Unknown part {part!r}: expected one of {', '.join(PASS_RATE_PARTS)}.")
    sittings = first_sittings(program).filter(track__code=track_code)
    if group == "cohort":
        sittings = sittings.filter(enrollment__cohort__code=key)
    elif key == "":
        sittings = sittings.filter(enrollment__graduated_on__isnull=True)
    elif key.isdigit():
        sittings = sittings.filter(enrollment__graduated_on__year=int(key))
    else:
        raise ValueError(f"Unknown graduation year {key!r}.")
    if part != "taken":
        sittings = sittings.filter(**{part: True})
    # A correlated EXISTS (each enrollment's own few attempts, by the enrollment index), not an IN over
    # every sitting: with statistics not yet gathered (a table just filled), PostgreSQL 18 turned the IN
    # into nested loops over every attempt and the page took minutes.
    return (
        Enrollment.objects.filter(cohort__program=program)
        .filter(Exists(sittings.filter(enrollment=OuterRef("pk"))))
        .select_related("student", "cohort")
    )


def all_figures(programs: Iterable[Program]) -> Iterator[Figure]:
    """Every figure of every program, each for its own accreditor."""
    for program in programs:
        yield from outcome_report(program).figures
