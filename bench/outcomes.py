"""Outcomes: the accreditation report through the ORM, beside a hand-written SQL aggregate of the same.

outcomes: a program of 10,000 students over eight years of cohorts (admission, trigger course,
withdrawal and graduation dates, re-entries, exam attempts, job placements, all written in bulk),
and a second one of 2,000 in the same tables. The report page computes `outcome_report(program)`
(MAERB, the program's accreditor) and `pass_rates(program)`; beside them, SQL written by hand
computes the same figures over the same rows: MAERB's retention by admission year, placement, exam
participation and passage by graduation year and their 5-year weighted averages over the five most
recent final years; first-attempt and eventual pass rates by track and graduation year and by track
and cohort; and ABHES's July–June retention, placement and credentialing; for every year, whether it
is final and how many are still enrolled in it while it is not. Every number of both is compared,
and the bench stops on the first difference.

Timings are the best of 7 runs (or --runs, if more) after two warm-ups, taking turns: the ORM call
end to end, the same call's statements replayed through a bare cursor (its query time alone), and
the hand-written SQL. Targets, as the certifications issue sets them: the ORM's query time within
1.2x of the SQL's, and the same number of queries at 2,000 students as at 10,000. The end-to-end
ratio is shown beside it without a target: it adds the Python of the ORM call (building and
compiling its querysets, converting the grouped rows and folding them into Figure objects with
rates, flags and 5-year windows), which the SQL side, fetched as bare tuples, does not pay. That
Python is its own line, so a change that grows it shows.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from bench import Figure, Run, register, spread
from certifications.models import (
    CertificationTrack,
    ExamAttempt,
    JobPlacement,
    OutcomeMeasure,
    PlacementStatus,
)
from certifications.outcomes import AVERAGE_YEARS, outcome_report, pass_rates
from curriculum.models import Accreditor, Cohort, Enrollment, Program

DOMAIN = "outcomes.bench.checkoff.test"  # apart from the other benches' people, in the same database
STUDENTS = 10_000
FEW_STUDENTS = 2_000
YEARS = 8
COHORTS_PER_YEAR = 4  # starting in January, April, July and October
MIN_RUNS = 7
WARM_UP_RUNS = 2
TARGET_RATIO = 1.2
# Shares of the made-up students: each draw decides a student's path.
WITHDRAWN_BEFORE_TRIGGER = 0.07
WITHDRAWN_AFTER_TRIGGER = 0.13
RE_ENTRY = 0.08  # of those withdrawn after the trigger course: back a year later
TESTED = 0.88  # of graduates
SECOND_TRACK = 0.05  # of those tested: also the CMAA
NO_SHOW = 0.04
FIRST_PASS = 0.72
RETAKE = 0.8
RETAKE_PASS = 0.6
PLACED = 0.9  # graduates with a job placement record
TRACK_WEIGHTS = {"CMA": 45, "CCMA": 30, "RMA": 15, "CMAA": 7, "NCMA": 3}
STATUS_WEIGHTS = {
    PlacementStatus.IN_FIELD: 62,
    PlacementStatus.RELATED_FIELD: 10,
    PlacementStatus.NOT_EMPLOYED: 15,
    PlacementStatus.UNAVAILABLE: 5,
    PlacementStatus.CONTINUING_EDUCATION: 8,
}
_numbers = count(1)


# --- Made-up students ---------------------------------------------------------------------------


@dataclass
class Made:
    enrollments: int = 0
    graduates: int = 0
    attempts: int = 0
    placements: int = 0
    seconds: float = 0.0


def _program(students: int, rng: random.Random) -> tuple[Program, Made]:
    """A CAAHEP program (its five tracks come with it) and `students` students over eight years."""
    started = time.perf_counter()
    number = next(_numbers)
    program = Program.objects.create(
        code=f"BENCH-OUT-{number}",
        name=f"Bench outcomes {number}",
        accreditor=Accreditor.CAAHEP,
        time_zone="America/Chicago",
    )
    today = program.today()
    first_year = today.year - YEARS + 1
    months = [1 + 12 * index // COHORTS_PER_YEAR for index in range(COHORTS_PER_YEAR)]
    cohorts = Cohort.objects.bulk_create(
        [
            Cohort(
                program=program,
                code=f"{year}-{month:02d}",
                name=f"Cohort starting {year}-{month:02d}",
                start_on=date(year, month, 6),
                expected_graduation_on=date(year, month, 6) + timedelta(days=rng.randint(330, 420)),
            )
            for year in range(first_year, today.year + 1)
            for month in months
            if date(year, month, 6) <= today
        ]
    )
    people = User.objects.bulk_create(
        [
            User(email=f"s{number}-{index}@{DOMAIN}", password="!", first_name=f"S{index:05d}", last_name="Graduate")
            for index in range(students)
        ],
        batch_size=5_000,
    )
    enrollments = []
    for index, person in enumerate(people):
        position = index * len(cohorts) // students
        enrollments += _enrollments(person, cohorts, position, today, rng)
    Enrollment.objects.bulk_create(enrollments, batch_size=5_000)
    tracks = {track.code: track for track in CertificationTrack.objects.filter(program=program)}
    attempts: list[ExamAttempt] = []
    placements: list[JobPlacement] = []
    for enrollment in enrollments:
        if enrollment.graduated_on is not None:
            attempts += _attempts(enrollment, tracks, today, rng)
            if rng.random() < PLACED:
                placements.append(_placement(enrollment, today, rng))
        elif enrollment.withdrawn_on is None and rng.random() < 0.05:
            # A student about to finish who tested early (the CMA allows 30 days before completion).
            attempts += _attempts(enrollment, tracks, today, rng, first_day=today - timedelta(days=10))
    ExamAttempt.objects.bulk_create(attempts, batch_size=5_000)
    JobPlacement.objects.bulk_create(placements, batch_size=5_000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    made = Made(
        enrollments=len(enrollments),
        graduates=sum(1 for enrollment in enrollments if enrollment.graduated_on),
        attempts=len(attempts),
        placements=len(placements),
        seconds=time.perf_counter() - started,
    )
    return program, made


def _enrollments(
    person: User, cohorts: list[Cohort], position: int, today: date, rng: random.Random
) -> list[Enrollment]:
    """One student's enrollment in the cohort at `position`, and a second one a year later if they left
    after the trigger course and came back."""
    cohort = cohorts[position]
    start = cohort.start_on + timedelta(days=rng.choice([0, 0, 0, 7, 14]))
    trigger = start + timedelta(days=45)
    enrollment = Enrollment(student=person, cohort=cohort, admitted_on=start, student_number=f"{person.pk}")
    draw = rng.random()
    if draw < WITHDRAWN_BEFORE_TRIGGER:
        left = start + timedelta(days=rng.randint(5, 40))
        enrollment.withdrawn_on = left if left <= today else None
        return [enrollment]
    if trigger <= today:
        enrollment.trigger_course_completed_on = trigger
    if draw < WITHDRAWN_BEFORE_TRIGGER + WITHDRAWN_AFTER_TRIGGER:
        left = start + timedelta(days=rng.randint(60, 300))
        if left > today:
            return [enrollment]
        enrollment.withdrawn_on = left
        later = position + COHORTS_PER_YEAR
        if later < len(cohorts) and rng.random() < RE_ENTRY:
            return [enrollment, *_enrollments(person, cohorts, later, today, rng)]
        return [enrollment]
    graduated = cohort.expected_graduation_on + timedelta(days=rng.choice([0, 0, 0, 0, 14, 30, 45]))
    if graduated <= today:
        enrollment.graduated_on = graduated
    return [enrollment]


def _attempts(
    enrollment: Enrollment,
    tracks: dict[str, CertificationTrack],
    today: date,
    rng: random.Random,
    first_day: date | None = None,
) -> list[ExamAttempt]:
    if first_day is None and rng.random() > TESTED:
        return []
    codes = [rng.choices(list(TRACK_WEIGHTS), list(TRACK_WEIGHTS.values()))[0]]
    if codes[0] != "CMAA" and rng.random() < SECOND_TRACK:
        codes.append("CMAA")
    attempts = []
    for code in codes:
        track = tracks[code]
        day = first_day or (enrollment.graduated_on or today) + timedelta(days=rng.randint(5, 60))
        if rng.random() < NO_SHOW and day < today:
            attempts.append(ExamAttempt(enrollment=enrollment, track=track, scheduled_on=day, result="no_show"))
            day += timedelta(days=rng.randint(14, 40))
        for sitting in range(3):
            if day >= today:
                attempts.append(ExamAttempt(enrollment=enrollment, track=track, scheduled_on=day))  # booked
                break
            passed = rng.random() < (FIRST_PASS if sitting == 0 else RETAKE_PASS)
            attempts.append(
                ExamAttempt(
                    enrollment=enrollment,
                    track=track,
                    scheduled_on=day,
                    taken_on=day,
                    result="pass" if passed else "fail",
                    score=Decimal(rng.randint(300, 600)),
                    source=ExamAttempt.Source.IMPORT,
                )
            )
            if passed or rng.random() > RETAKE:
                break
            day += timedelta(days=(track.retake_wait_days or 30) + rng.randint(0, 60))
    return attempts


def _placement(enrollment: Enrollment, today: date, rng: random.Random) -> JobPlacement:
    assert enrollment.graduated_on is not None
    status = rng.choices(list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values()))[0]
    employed = status in (PlacementStatus.IN_FIELD, PlacementStatus.RELATED_FIELD)
    return JobPlacement(
        enrollment=enrollment,
        status=status,
        employed_on=min(enrollment.graduated_on + timedelta(days=rng.randint(5, 120)), today) if employed else None,
        employer="Bench clinic" if employed else "",
        unavailable_reason="Military service." if status == PlacementStatus.UNAVAILABLE else "",
    )


# --- The same figures, in SQL written by hand ---------------------------------------------------

TABLES = {
    "enrollment": Enrollment._meta.db_table,
    "cohort": Cohort._meta.db_table,
    "attempt": ExamAttempt._meta.db_table,
    "track": CertificationTrack._meta.db_table,
    "placement": JobPlacement._meta.db_table,
    "measure": OutcomeMeasure._meta.db_table,
}

# Each enrollment of the program once, with its placement status and whether it sat, and passed, an
# exam the accreditor counts (the attempts folded per enrollment first, then joined); {counted} is the
# track's flag for that accreditor.
STUDENTS_SQL = """exams AS (
    SELECT a.enrollment_id, bool_or(a.result = 'pass') AS passed
    FROM {attempt} a JOIN {track} t ON t.id = a.track_id
    WHERE t.program_id = %(program)s AND t.{counted} AND a.result IN ('pass', 'fail')
    GROUP BY a.enrollment_id
),
students AS (
    SELECT e.id, e.student_id, e.admitted_on, e.trigger_course_completed_on, e.withdrawn_on, e.graduated_on,
           p.status, x.enrollment_id IS NOT NULL AS sat, coalesce(x.passed, false) AS passed,
           e.withdrawn_on IS NULL AND e.graduated_on IS NULL AS enrolled, c.expected_graduation_on
    FROM {enrollment} e
    JOIN {cohort} c ON c.id = e.cohort_id
    LEFT JOIN {placement} p ON p.enrollment_id = e.id
    LEFT JOIN exams x ON x.enrollment_id = e.id
    WHERE c.program_id = %(program)s
)"""

MAERB_SQL = """
WITH measure AS (
    SELECT key, threshold_percent, placed_statuses, excluded_statuses
    FROM {measure} WHERE accreditor = 'maerb'
      AND key IN ('retention', 'job_placement', 'credentialing_exam_participation', 'credentialing_exam_passage')
),
{students},
placement AS (SELECT * FROM measure WHERE key = 'job_placement'),
graduates AS (SELECT *, extract(year FROM graduated_on)::int AS year FROM students WHERE graduated_on IS NOT NULL),
yearly AS (
    SELECT 'retention' AS measure, extract(year FROM admitted_on)::int AS year,
           count(*) FILTER (WHERE trigger_course_completed_on IS NOT NULL AND withdrawn_on IS NULL) AS numerator,
           count(*) FILTER (WHERE trigger_course_completed_on IS NOT NULL) AS denominator, 0 AS excluded,
           count(*) FILTER (WHERE enrolled) AS enrolled
    FROM students GROUP BY 2
    UNION ALL
    SELECT 'job_placement', g.year,
           count(*) FILTER (WHERE g.status = ANY(m.placed_statuses) AND NOT g.status = ANY(m.excluded_statuses)),
           count(*) FILTER (WHERE g.status IS NULL OR NOT g.status = ANY(m.excluded_statuses)),
           count(*) FILTER (WHERE g.status = ANY(m.excluded_statuses)), 0
    FROM graduates g CROSS JOIN placement m GROUP BY g.year
    UNION ALL
    SELECT 'credentialing_exam_participation', year, count(*) FILTER (WHERE sat), count(*), 0, 0
    FROM graduates GROUP BY year
    UNION ALL
    SELECT 'credentialing_exam_passage', year, count(*) FILTER (WHERE passed), count(*) FILTER (WHERE sat), 0, 0
    FROM graduates GROUP BY year
),
-- Every year with a figure, and every admission year with students still enrolled.
years AS (
    SELECT DISTINCT year FROM yearly WHERE denominator > 0 OR (measure = 'retention' AND enrolled > 0)
),
-- Students still enrolled by the year their class is expected to graduate: they may graduate by then.
graduating AS (
    SELECT extract(year FROM expected_graduation_on)::int AS year, count(*) AS n
    FROM students WHERE enrolled GROUP BY 1
),
-- Whether a measure's year is final, and how many are still enrolled in it; any year, for the windows.
status AS (
    SELECT m.key AS measure, y.year,
           y.year < extract(year FROM %(today)s::date)
               AND (m.key <> 'retention' OR coalesce(r.enrolled, 0) = 0) AS final,
           CASE WHEN m.key = 'retention' THEN coalesce(r.enrolled, 0)
                ELSE (SELECT coalesce(sum(n), 0) FROM graduating g WHERE g.year <= y.year) END AS enrolled
    FROM measure m
    CROSS JOIN (SELECT generate_series(min(year) - {average_years}, max(year)) AS year FROM years) y
    LEFT JOIN yearly r ON r.measure = 'retention' AND r.year = y.year
),
-- The five most recent final years up to each measure's latest final year with data.
windows AS (
    SELECT s.measure, s.year
    FROM (
        SELECT s.*, row_number() OVER (PARTITION BY s.measure ORDER BY s.year DESC) AS nth
        FROM status s
        JOIN (
            SELECT v.measure, max(v.year) AS latest
            FROM yearly v JOIN status f ON f.measure = v.measure AND f.year = v.year AND f.final
            WHERE v.denominator > 0 GROUP BY v.measure
        ) l ON l.measure = s.measure AND s.year <= l.latest
        WHERE s.final
    ) s
    WHERE s.nth <= {average_years}
),
figures AS (
    SELECT m.key AS measure, y.year, coalesce(v.numerator, 0) AS numerator, coalesce(v.denominator, 0) AS denominator,
           coalesce(v.excluded, 0) AS excluded, m.threshold_percent, s.final,
           CASE WHEN s.final THEN 0 ELSE s.enrolled END AS enrolled
    FROM measure m CROSS JOIN years y
    JOIN status s ON s.measure = m.key AND s.year = y.year
    LEFT JOIN yearly v ON v.measure = m.key AND v.year = y.year
    UNION ALL
    SELECT m.key, NULL, coalesce(sum(v.numerator), 0), coalesce(sum(v.denominator), 0), coalesce(sum(v.excluded), 0),
           m.threshold_percent, true, 0
    FROM measure m
    LEFT JOIN windows w ON w.measure = m.key
    LEFT JOIN yearly v ON v.measure = m.key AND v.year = w.year
    GROUP BY m.key, m.threshold_percent
)
SELECT measure, year, numerator, denominator, excluded, threshold_percent,
       CASE WHEN final THEN round(100.0 * numerator / nullif(denominator, 0), 1) END AS rate,
       CASE WHEN final THEN round(100.0 * numerator / nullif(denominator, 0), 1) >= threshold_percent END,
       final, enrolled
FROM figures
"""

ABHES_SQL = """
WITH measure AS (
    SELECT key, threshold_percent, placed_statuses, excluded_statuses
    FROM {measure} WHERE accreditor = 'abhes' AND key IN ('retention', 'placement', 'credentialing')
),
{students},
placement AS (SELECT * FROM measure WHERE key = 'placement'),
spans AS (
    -- ABHES's report year of a date: the calendar year in which its July-June year ends.
    SELECT s.*,
           extract(year FROM s.admitted_on)::int + CASE WHEN extract(month FROM s.admitted_on) >= 7 THEN 1 ELSE 0 END
               AS admitted,
           extract(year FROM s.withdrawn_on)::int + CASE WHEN extract(month FROM s.withdrawn_on) >= 7 THEN 1 ELSE 0 END
               AS withdrawn,
           extract(year FROM s.graduated_on)::int + CASE WHEN extract(month FROM s.graduated_on) >= 7 THEN 1 ELSE 0 END
               AS graduated,
           extract(year FROM s.expected_graduation_on)::int
               + CASE WHEN extract(month FROM s.expected_graduation_on) >= 7 THEN 1 ELSE 0 END AS expected,
           EXISTS (
               SELECT 1 FROM {enrollment} o JOIN {cohort} oc ON oc.id = o.cohort_id
               WHERE o.student_id = s.student_id AND oc.program_id = %(program)s AND o.withdrawn_on < s.admitted_on
           ) AS re_entry
    FROM students s
),
bounds AS (SELECT greatest(max(admitted), max(withdrawn), max(graduated)) AS last FROM spans),
lives AS (SELECT s.*, coalesce(least(s.withdrawn, s.graduated), b.last + 1) AS left_in, b.last FROM spans s, bounds b),
terms AS (
    SELECT 'retention' AS measure, year, 'BE' AS term, count(*) AS n
    FROM lives, generate_series(admitted + 1, least(left_in, last)) AS year GROUP BY year
    UNION ALL
    SELECT 'retention', admitted, CASE WHEN re_entry THEN 'RE' ELSE 'NS' END, count(*) FROM lives GROUP BY 2, 3
    UNION ALL
    SELECT 'retention', year, 'EE', count(*)
    FROM lives, generate_series(admitted, least(left_in - 1, last)) AS year GROUP BY year
    UNION ALL
    SELECT 'retention', graduated, 'G', count(*) FROM lives WHERE graduated IS NOT NULL GROUP BY graduated
    UNION ALL
    SELECT 'placement', l.graduated, unnest(ARRAY['G', 'U', 'numerator']),
           unnest(ARRAY[
               count(*),
               count(*) FILTER (WHERE l.status = ANY(m.excluded_statuses)),
               count(*) FILTER (WHERE l.status = ANY(m.placed_statuses) AND NOT l.status = ANY(m.excluded_statuses))
           ])
    FROM lives l CROSS JOIN placement m WHERE l.graduated IS NOT NULL GROUP BY l.graduated
    UNION ALL
    SELECT 'credentialing', graduated, unnest(ARRAY['GT', 'GP']),
           unnest(ARRAY[count(*) FILTER (WHERE sat), count(*) FILTER (WHERE passed)])
    FROM lives WHERE graduated IS NOT NULL GROUP BY graduated
),
yearly AS (
    SELECT measure, year,
           coalesce(CASE measure
               WHEN 'retention' THEN sum(n) FILTER (WHERE term IN ('EE', 'G'))
               WHEN 'placement' THEN sum(n) FILTER (WHERE term = 'numerator')
               ELSE sum(n) FILTER (WHERE term = 'GP')
           END, 0) AS numerator,
           coalesce(CASE measure
               WHEN 'retention' THEN sum(n) FILTER (WHERE term IN ('BE', 'NS', 'RE'))
               WHEN 'placement' THEN sum(n) FILTER (WHERE term = 'G') - sum(n) FILTER (WHERE term = 'U')
               ELSE sum(n) FILTER (WHERE term = 'GT')
           END, 0) AS denominator,
           jsonb_object_agg(term, n) FILTER (WHERE term <> 'numerator') AS terms
    FROM terms GROUP BY measure, year
),
years AS (SELECT DISTINCT year FROM yearly WHERE denominator > 0),
-- A report year is final once it has ended: the one running today is the calendar year in which it ends.
status AS (
    SELECT m.key AS measure, y.year,
           y.year < extract(year FROM %(today)s::date)::int
               + CASE WHEN extract(month FROM %(today)s::date) >= 7 THEN 1 ELSE 0 END AS final,
           (SELECT count(*) FROM spans s
            WHERE s.enrolled AND CASE WHEN m.key = 'retention' THEN s.admitted ELSE s.expected END <= y.year)
               AS enrolled
    FROM measure m CROSS JOIN years y
)
SELECT m.key, y.year, coalesce(v.numerator, 0), coalesce(v.denominator, 0),
       CASE m.key WHEN 'placement' THEN coalesce((v.terms ->> 'U')::int, 0) ELSE 0 END,
       m.threshold_percent,
       CASE WHEN s.final THEN round(100.0 * v.numerator / nullif(v.denominator, 0), 1) END,
       CASE WHEN s.final THEN round(100.0 * v.numerator / nullif(v.denominator, 0), 1) >= m.threshold_percent END,
       s.final, CASE WHEN s.final THEN 0 ELSE s.enrolled END,
       coalesce(v.terms, '{{}}'::jsonb)
FROM measure m CROSS JOIN years y
JOIN status s ON s.measure = m.key AND s.year = y.year
LEFT JOIN yearly v ON v.measure = m.key AND v.year = y.year
"""

# First sittings (pass or fail) of each student at each track, by track and graduation year, and by
# track and cohort: how many sat, passed the first time, passed at any sitting.
PASS_RATES_SQL = """
WITH sittings AS (
    SELECT a.enrollment_id, a.track_id, a.result,
           row_number() OVER (PARTITION BY a.enrollment_id, a.track_id ORDER BY a.taken_on) AS nth,
           bool_or(a.result = 'pass') OVER (PARTITION BY a.enrollment_id, a.track_id) AS passed_eventually
    FROM {attempt} a JOIN {track} t ON t.id = a.track_id
    WHERE t.program_id = %(program)s AND a.result IN ('pass', 'fail')
)
SELECT t.code, CASE WHEN GROUPING(c.code) = 1 THEN 'year' ELSE 'cohort' END,
       CASE WHEN GROUPING(c.code) = 1 THEN coalesce(extract(year FROM e.graduated_on)::int::text, '') ELSE c.code END,
       count(*), count(*) FILTER (WHERE s.result = 'pass'), count(*) FILTER (WHERE s.passed_eventually)
FROM sittings s
JOIN {track} t ON t.id = s.track_id
JOIN {enrollment} e ON e.id = s.enrollment_id
JOIN {cohort} c ON c.id = e.cohort_id
WHERE s.nth = 1 AND c.program_id = %(program)s
GROUP BY GROUPING SETS ((t.code, extract(year FROM e.graduated_on)), (t.code, c.code))
"""


def _sql(statement: str, program: Program) -> list[tuple[Any, ...]]:
    counted = "counts_for_abhes" if statement is ABHES_SQL else "counts_for_maerb"
    sql = statement.replace("{students}", STUDENTS_SQL).format(**TABLES, counted=counted, average_years=AVERAGE_YEARS)
    with connection.cursor() as cursor:
        cursor.execute(sql, {"program": program.pk, "today": program.today()})
        return cursor.fetchall()


# --- Both sides as comparable numbers ----------------------------------------------------------

Numbers = dict[tuple[Any, ...], tuple[Any, ...]]


def _orm_report(program: Program, accreditor: str | None = None) -> Numbers:
    report = outcome_report(program, accreditor)
    return {
        (figure.measure, figure.year): (
            figure.numerator,
            figure.denominator,
            figure.excluded,
            figure.threshold,
            figure.rate,
            figure.meets_threshold,
            figure.final,
            figure.enrolled,
            dict(term for term in figure.terms if term[1]),
        )
        for figure in report.figures
    }


def _sql_report(program: Program, statement: str) -> Numbers:
    numbers: Numbers = {}
    for row in _sql(statement, program):
        measure, year, numerator, denominator, excluded, threshold, rate, meets, final, enrolled, *terms = row
        # Django reads jsonb as text (its JSONField decodes); a bare cursor gets the text.
        terms_of = {name: value for name, value in json.loads(terms[0] if terms else "{}").items() if value}
        numbers[(measure, year)] = (numerator, denominator, excluded, threshold, rate, meets, final, enrolled, terms_of)
    return numbers


def _orm_pass_rates(program: Program) -> Numbers:
    return {
        (rate.track_code, rate.group, rate.key): (rate.taken, rate.passed_first, rate.passed_eventually)
        for rate in pass_rates(program)
    }


def _sql_pass_rates(program: Program) -> Numbers:
    return {(code, group, key): tuple(counts) for code, group, key, *counts in _sql(PASS_RATES_SQL, program)}


def _same(what: str, orm: Numbers, sql: Numbers, *, zero_rows: bool = False) -> int:
    """Every figure equal, or the bench stops here. `zero_rows`: the ORM also lists all-zero rows the
    SQL leaves out (pass rates of an offered track no one in that year sat)."""
    if zero_rows:
        orm = {key: value for key, value in orm.items() if any(value)}
    differences = [
        f"{key}: ORM {orm.get(key)} SQL {sql.get(key)}" for key in sorted(orm.keys() | sql.keys(), key=repr)
        if orm.get(key) != sql.get(key)
    ]  # fmt: skip
    if differences or not orm:
        raise AssertionError(
            f"{what}: the ORM and the SQL disagree on {len(differences)} of {len(orm | sql)} figures:\n  "
            + "\n  ".join(differences[:20])
        )
    return len(orm)


# --- Timing ----------------------------------------------------------------------------------------


def _ms(function: Callable[[], object]) -> float:
    started = time.perf_counter()
    function()
    return (time.perf_counter() - started) * 1000


def _in_turns(functions: list[Callable[[], object]], runs: int) -> list[list[float]]:
    """Each function timed `runs` times after the warm-ups, taking turns, so a busy machine slows all alike."""
    for _warm_up in range(WARM_UP_RUNS):
        for function in functions:
            function()
    times: list[list[float]] = [[] for _function in functions]
    for _run in range(runs):
        for function, ms in zip(functions, times, strict=True):
            ms.append(_ms(function))
    return times


def _statements(function: Callable[[], object]) -> list[str]:
    """The SQL a call sends, as sent (parameters in place)."""
    with CaptureQueriesContext(connection) as captured:
        function()
    return [query["sql"] for query in captured.captured_queries]


def _replay(statements: list[str]) -> Callable[[], None]:
    """The ORM's statements alone, run and fetched through a bare cursor: its query time, without the
    Python that builds the querysets and folds their rows."""

    def replay() -> None:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
                cursor.fetchall()

    return replay


@dataclass
class Timings:
    orm: list[float]  # the call, end to end
    queries: list[float]  # the call's statements alone
    sql: list[float]  # the hand-written SQL
    query_count: int

    @property
    def ratio(self) -> float:
        return round(min(self.orm) / min(self.sql), 2)

    @property
    def query_ratio(self) -> float:
        return round(min(self.queries) / min(self.sql), 2)

    @property
    def python_ms(self) -> float:
        """What the call spends beyond its queries: building and compiling the querysets, converting
        and folding the rows."""
        return min(self.orm) - min(self.queries)


def _timings(orm: Callable[[], object], sql: Callable[[], object], runs: int) -> Timings:
    statements = _statements(orm)
    orm_ms, queries_ms, sql_ms = _in_turns([orm, _replay(statements), sql], runs)
    return Timings(orm_ms, queries_ms, sql_ms, len(statements))


@dataclass
class Measured:
    page: Timings  # outcome_report(program) + pass_rates(program): what the report page computes
    report: Timings  # MAERB outcome_report alone
    rates: Timings  # pass_rates alone
    abhes: Timings
    figures: int


def _measure(program: Program, runs: int) -> Measured:
    """Check that both sides agree on every number, then time them."""
    figures = _same("MAERB", _orm_report(program), _sql_report(program, MAERB_SQL))
    figures += _same("ABHES", _orm_report(program, "abhes"), _sql_report(program, ABHES_SQL))
    figures += _same("pass rates", _orm_pass_rates(program), _sql_pass_rates(program), zero_rows=True)

    def page_orm() -> None:
        outcome_report(program)
        pass_rates(program)

    def page_sql() -> None:
        _sql(MAERB_SQL, program)
        _sql(PASS_RATES_SQL, program)

    return Measured(
        page=_timings(page_orm, page_sql, runs),
        report=_timings(lambda: outcome_report(program), lambda: _sql(MAERB_SQL, program), runs),
        rates=_timings(lambda: pass_rates(program), lambda: _sql(PASS_RATES_SQL, program), runs),
        abhes=_timings(lambda: outcome_report(program, "abhes"), lambda: _sql(ABHES_SQL, program), runs),
        figures=figures,
    )


def _figures(what: str, timings: Timings, students: int, *, target: bool) -> list[Figure]:
    goal = ("<=", TARGET_RATIO) if target else None
    return [
        Figure(f"{what}, ORM, {students:,} students", min(timings.orm), "ms", note=spread(timings.orm, decimals=1)),
        Figure("  the same figures, hand-written SQL", min(timings.sql), "ms", note=spread(timings.sql, decimals=1)),
        Figure("  ORM / SQL, end to end", timings.ratio, "x", note="the call, Python included; no target"),
        Figure(
            "  the ORM's statements alone / SQL",
            timings.query_ratio,
            "x",
            target=goal,
            note=f"{min(timings.queries):.1f} ms: its query time, replayed through a bare cursor",
        ),
        Figure(
            "  the ORM's Python beyond its queries",
            timings.python_ms,
            "ms",
            note="building and compiling the querysets, converting and folding the rows",
        ),
        Figure(f"  queries (ORM), {students:,} students", timings.query_count, "queries"),
    ]


@register("outcomes", "the outcome report and pass rates at 10,000 students: ORM beside hand-written SQL")
def outcomes(run: Run) -> list[Figure]:
    runs = max(MIN_RUNS, run.repetitions)
    rng = random.Random(20260505)  # made-up data, the same every run
    program, made = _program(STUDENTS, rng)
    few_program, few_made = _program(FEW_STUDENTS, rng)
    big = _measure(program, runs)
    few = _measure(few_program, runs)

    run.notes += [
        f"{STUDENTS:,} students in {program.cohorts.count()} cohorts over {YEARS} years: {made.enrollments:,} "
        f"enrollments (re-entries included), {made.graduates:,} graduates, {made.attempts:,} exam attempts, "
        f"{made.placements:,} job placements; written in bulk in {made.seconds:.1f} s; a second program of "
        f"{FEW_STUDENTS:,} in the same tables ({few_made.seconds:.1f} s).",
        f"Both sides agree on all {big.figures} numbers at {STUDENTS:,} ({few.figures} at {FEW_STUDENTS:,}): "
        "MAERB and ABHES numerators, denominators, excluded, terms, thresholds, rates and flags, and every "
        "pass rate.",
        f"Best of {runs} runs after {WARM_UP_RUNS} warm-ups, the ORM call, its statements replayed and the SQL "
        "in turn; JIT off as the app connects. The report page = outcome_report(program) (MAERB, the program's "
        "accreditor) + pass_rates(program).",
        f"Alone at {STUDENTS:,}: MAERB outcome_report {min(big.report.orm):.1f} ms against {min(big.report.sql):.1f}"
        f" ({big.report.ratio}x; statements alone {big.report.query_ratio}x), pass_rates {min(big.rates.orm):.1f} ms "
        f"against {min(big.rates.sql):.1f} ({big.rates.ratio}x; statements alone {big.rates.query_ratio}x).",
    ]
    return [
        *_figures("report page figures", big.page, STUDENTS, target=True),
        *_figures("ABHES outcome_report", big.abhes, STUDENTS, target=True),
        *_figures("report page figures", few.page, FEW_STUDENTS, target=False)[:-1],
        Figure(
            f"  queries (ORM), {FEW_STUDENTS:,} students",
            few.page.query_count,
            "queries",
            target=("==", big.page.query_count),
            note=f"the same as at {STUDENTS:,}",
        ),
        Figure(
            f"  ABHES queries (ORM), {FEW_STUDENTS:,} students",
            few.abhes.query_count,
            "queries",
            target=("==", big.abhes.query_count),
        ),
    ]
