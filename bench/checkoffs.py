"""Check-offs: the sign-off path, and the cohort competency grid.

sign-off: an instructor records a 14-step check-off and signs it, through the services and through
the two HTTP requests a tablet makes (POST the checklist, POST sign, after a fresh re-authentication).
Target: the same number of queries with 1,000 earlier attempts of the same student on the same
competency as with none.

grid: the cohort grid page (`curriculum:competency-grid`) as the cohort's instructor sees it, at
50 students × 150 competencies with 60% of the cells achieved and 10% attempted, some through revoked
signatures, and again at 10 students. Target: the same number of queries at 10 and at 50 students.
At 25 students (a cohort on one page), the "all" matrix and the "needs attention" view: 40 ms each.
"""

from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import count
from typing import Any

from django.db import connection, transaction
from django.db.models import prefetch_related_objects
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import chains
from accounts.models import User
from bench import Figure, Run, median, register, spread, test_client_host
from curriculum import services
from curriculum.models import (
    Accreditor,
    Attempt,
    ChecklistStep,
    Cohort,
    Competency,
    CompetencyFramework,
    ContentArea,
    Domain,
    Enrollment,
    Program,
    Revocation,
    Setting,
    Signature,
    StaffRole,
    StepResult,
    score_steps,
)
from curriculum.views.grid import GRID_PAGE_SIZE

DOMAIN = "checkoffs.bench.checkoff.test"  # apart from the roster bench's people, in the same database
PASSWORD = "bench-reauthentication-9321"  # a made-up instructor in a throwaway database
SIGN_OFF_STEPS = 14
SIGN_OFFS_PER_RUN = 50
EARLIER_ATTEMPTS = 1_000
WARM_UP_SIGN_OFFS = 5
GRID_STUDENTS = 50
GRID_FEW_STUDENTS = 10
GRID_TARGET_STUDENTS = 25  # the size a target is set for: a cohort, one page
GRID_COMPETENCIES = 150
GRID_AREAS = 10
GRID_STEPS = 8
# Shares of a cohort's cells: achieved, attempted but not passed; the rest are not started.
ACHIEVED_SHARE = 0.60
ATTEMPTED_SHARE = 0.10
_numbers = count(1)


# --- A program, its framework and checklists, a cohort --------------------------------------


@dataclass
class School:
    program: Program
    competencies: list[Competency]
    steps: dict[int, list[ChecklistStep]]  # competency id → its checklist, in order
    instructor: User
    director: User


def _school(*, competencies: int, steps: int, areas: int) -> School:
    """A program with its own framework: psychomotor items (one in five affective), each with a checklist
    whose first two steps are critical."""
    number = next(_numbers)
    framework = CompetencyFramework.objects.create(code=f"BENCH-FW-{number}", name=f"Bench {number}", version="2022")
    program = Program.objects.create(
        code=f"BENCH-CO-{number}",
        name=f"Bench check-offs {number}",
        accreditor=Accreditor.CAAHEP,
        framework=framework,
    )
    content_areas = ContentArea.objects.bulk_create(
        [
            ContentArea(framework=framework, code=f"A{index + 1}", title=f"Area {index + 1}", order=index)
            for index in range(areas)
        ]
    )
    rows = Competency.objects.bulk_create(
        [
            Competency(
                framework=framework,
                content_area=content_areas[index * areas // competencies],
                code=f"A{index * areas // competencies + 1}.{'A' if index % 5 == 4 else 'P'}.{index + 1}",
                domain=Domain.AFFECTIVE if index % 5 == 4 else Domain.PSYCHOMOTOR,
                title=f"Skill {index + 1}",
                order=index,
            )
            for index in range(competencies)
        ]
    )
    checklist = ChecklistStep.objects.bulk_create(
        [
            ChecklistStep(
                program=program,
                competency=competency,
                order=order,
                text=f"Step {order} of {competency.code}",
                points=2 if order <= 2 else 1,
                is_critical=order <= 2,
            )
            for competency in rows
            for order in range(1, steps + 1)
        ]
    )
    steps_of: dict[int, list[ChecklistStep]] = {competency.pk: [] for competency in rows}
    for step in checklist:
        steps_of[step.competency_id].append(step)
    instructor = User.objects.create_user(
        f"instructor{number}@{DOMAIN}", password=PASSWORD, first_name="Irene", last_name="Instructor"
    )
    director = User.objects.create_user(f"director{number}@{DOMAIN}", first_name="Dana", last_name="Director")
    StaffRole.objects.bulk_create(
        [
            StaffRole(program=program, user=instructor, role=StaffRole.Role.INSTRUCTOR),
            StaffRole(program=program, user=director, role=StaffRole.Role.DIRECTOR),
        ]
    )
    return School(program, rows, steps_of, instructor, director)


def _cohort(school: School, students: int, *, former: int = 0) -> tuple[Cohort, list[Enrollment]]:
    """A cohort taught by the school's instructor: `students` current ones, and `former` who withdrew
    or graduated (the grid leaves them out). Returns the current enrollments."""
    number = next(_numbers)
    start = date(2026, 1, 12)
    cohort = Cohort.objects.create(
        program=school.program,
        code=f"BENCH-{number}",
        name=f"Cohort {number}",
        start_on=start,
        expected_graduation_on=start + timedelta(days=300),
    )
    cohort.instructors.add(school.instructor)
    people = User.objects.bulk_create(
        [
            User(
                email=f"s{number}-{index}@{DOMAIN}",
                password="!",
                first_name=f"S{index:03d}",
                last_name=f"Student{index:03d}",
            )
            for index in range(students + former)
        ]
    )
    enrollments = Enrollment.objects.bulk_create(
        [
            Enrollment(
                student=person,
                cohort=cohort,
                admitted_on=start,
                withdrawn_on=start + timedelta(days=30) if index >= students and index % 2 == 0 else None,
                graduated_on=start + timedelta(days=300) if index >= students and index % 2 == 1 else None,
            )
            for index, person in enumerate(people)
        ]
    )
    return cohort, enrollments[:students]


# --- The sign-off path ----------------------------------------------------------------------


def _sign_off(school: School, enrollment: Enrollment, competency: Competency) -> Signature:
    """Every step performed, then signed: what an instructor does for a student who passes."""
    attempt = services.record_attempt(
        enrollment=enrollment,
        competency=competency,
        evaluator=school.instructor,
        performed_step_ids={step.pk for step in school.steps[competency.pk]},
        setting=Setting.LAB,
    )
    return services.sign_attempt(attempt=attempt, signer=school.instructor)


def _timed_sign_offs(school: School, pairs: list[tuple[Enrollment, Competency]]) -> float:
    """Milliseconds per sign-off over these pairs, through the services."""
    started = time.perf_counter()
    for enrollment, competency in pairs:
        _sign_off(school, enrollment, competency)
    return (time.perf_counter() - started) * 1000 / len(pairs)


def _sign_off_queries(school: School, enrollment: Enrollment, competency: Competency) -> int:
    with CaptureQueriesContext(connection) as queries:
        _sign_off(school, enrollment, competency)
    return len(queries)


def _reauthenticated_client(user: User) -> Client:
    """Signed in, and with the password entered just now, as allauth asks before a signature."""
    client = Client()
    client.force_login(user)
    response = client.post(reverse("account_reauthenticate"), {"password": PASSWORD}, secure=True)
    assert response.status_code == 302, f"re-authentication failed: {response.status_code}"
    return client


def _http_sign_off(client: Client, school: School, enrollment: Enrollment, competency: Competency) -> int:
    """The tablet's two requests: POST the checklist, then POST sign. Returns the attempt's id."""
    steps = [step.pk for step in school.steps[competency.pk]]
    url = reverse("curriculum:checkoff-new", args=[enrollment.pk, competency.pk])
    recorded = client.post(url, {"steps": steps, "setting": Setting.LAB}, secure=True)
    assert recorded.status_code == 302, f"the checklist was not accepted: {recorded.status_code}"
    match = re.search(r"/attempts/(\d+)/$", recorded["Location"])
    assert match, recorded["Location"]
    attempt_id = int(match.group(1))
    signed = client.post(reverse("curriculum:attempt-sign", args=[attempt_id]), secure=True)
    assert signed["Location"] == reverse("curriculum:attempt-detail", args=[attempt_id]), (
        f"signing went to {signed['Location']}: not re-authenticated?"
    )
    return attempt_id


def _timed_http_sign_offs(client: Client, school: School, pairs: list[tuple[Enrollment, Competency]]) -> float:
    started = time.perf_counter()
    for enrollment, competency in pairs:
        _http_sign_off(client, school, enrollment, competency)
    return (time.perf_counter() - started) * 1000 / len(pairs)


def _http_sign_off_queries(client: Client, school: School, enrollment: Enrollment, competency: Competency) -> int:
    with CaptureQueriesContext(connection) as queries:
        attempt_id = _http_sign_off(client, school, enrollment, competency)
    assert Signature.objects.filter(attempt_id=attempt_id, signer=school.instructor).exists()
    return len(queries)


def _checklist_page_queries(client: Client, enrollment: Enrollment, competency: Competency) -> int:
    """The checklist as the tablet opens it, with its list of (up to 10) earlier attempts."""
    url = reverse("curriculum:checkoff-new", args=[enrollment.pk, competency.pk])
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, secure=True)
    assert response.status_code == 200, response.status_code
    return len(queries)


@register("sign-off", "a 14-step check-off recorded and signed, through the services and over HTTP")
def sign_off(run: Run) -> list[Figure]:
    school = _school(competencies=4, steps=SIGN_OFF_STEPS, areas=1)
    competency, other_competency = school.competencies[0], school.competencies[1]
    # One student for each timed sign-off, so each times a first attempt; one who has 1,000 already.
    sign_offs = SIGN_OFFS_PER_RUN * run.repetitions
    enrollments = _cohort(school, 2 * sign_offs + WARM_UP_SIGN_OFFS + 12)[1]
    fresh = iter(enrollments)
    veteran = next(fresh)

    for _warm_up in range(WARM_UP_SIGN_OFFS):
        _sign_off(school, next(fresh), competency)

    # Queries with no earlier attempt, then with 1,000 earlier attempts of the same student and competency.
    queries_first = _sign_off_queries(school, next(fresh), competency)
    started = time.perf_counter()
    for number in range(EARLIER_ATTEMPTS):
        if number % 10 == 9:
            services.sign_attempt(
                attempt=services.record_attempt(
                    enrollment=veteran,
                    competency=competency,
                    evaluator=school.instructor,
                    performed_step_ids=set(),
                    setting=Setting.SIMULATION,
                    comment="Practise hand hygiene first.",
                ),
                signer=school.instructor,
            )
        else:
            _sign_off(school, veteran, competency)
    seeding_seconds = time.perf_counter() - started
    queries_after = _sign_off_queries(school, veteran, competency)

    service_ms = [
        _timed_sign_offs(school, [(next(fresh), competency) for _sign_off_ in range(SIGN_OFFS_PER_RUN)])
        for _repetition in range(run.repetitions)
    ]
    service_after_ms = [
        _timed_sign_offs(school, [(veteran, competency)] * SIGN_OFFS_PER_RUN) for _repetition in range(run.repetitions)
    ]

    with test_client_host():
        client = _reauthenticated_client(school.instructor)
        _http_sign_off(client, school, next(fresh), competency)  # warm-up: URL resolver, templates
        http_queries_first = _http_sign_off_queries(client, school, next(fresh), competency)
        http_queries_after = _http_sign_off_queries(client, school, veteran, competency)
        page_queries_first = _checklist_page_queries(client, veteran, other_competency)
        page_queries_after = _checklist_page_queries(client, veteran, competency)
        http_ms: list[float] = []
        http_after_ms: list[float] = []
        for _repetition in range(run.repetitions):
            # Re-authentication lasts five minutes: renewed before each run, outside the clock.
            client = _reauthenticated_client(school.instructor)
            http_ms.append(
                _timed_http_sign_offs(
                    client, school, [(next(fresh), other_competency) for _ in range(SIGN_OFFS_PER_RUN)]
                )
            )
            http_after_ms.append(_timed_http_sign_offs(client, school, [(veteran, competency)] * SIGN_OFFS_PER_RUN))

    earlier = Attempt.objects.filter(enrollment=veteran, competency=competency).count()
    run.notes += [
        f"Each run times {SIGN_OFFS_PER_RUN} sign-offs of a {SIGN_OFF_STEPS}-step checklist (2 critical steps, "
        "every step performed), each by a student with no earlier attempt, after "
        f"{WARM_UP_SIGN_OFFS} warm-up sign-offs;",
        f"then as many by one student who has {EARLIER_ATTEMPTS:,} signed attempts on the same competency "
        f"(seeded through the services in {seeding_seconds:.1f} s; {earlier:,} at the end).",
        "Services: record_attempt() then sign_attempt(), each its own transaction. HTTP: Django's test Client, "
        "signed in and re-authenticated (outside the clock);",
        "POST the checklist (302 to the attempt) and POST sign (302 back, signed): middleware, session and "
        "the access log row included, the redirects' GETs not.",
    ]
    return [
        Figure("sign-off through the services", median(service_ms), "ms", note=spread(service_ms, decimals=1)),
        Figure(
            f"  the same, student with {EARLIER_ATTEMPTS:,} earlier attempts",
            median(service_after_ms),
            "ms",
            note=spread(service_after_ms, decimals=1),
        ),
        Figure("queries per sign-off (services), no earlier attempt", queries_first, "queries"),
        Figure(
            f"queries per sign-off (services), {EARLIER_ATTEMPTS:,} earlier attempts",
            queries_after,
            "queries",
            target=("==", queries_first),
        ),
        Figure(
            "sign-off over HTTP: POST checklist + POST sign", median(http_ms), "ms", note=spread(http_ms, decimals=1)
        ),
        Figure(
            f"  the same, student with {EARLIER_ATTEMPTS:,} earlier attempts",
            median(http_after_ms),
            "ms",
            note=spread(http_after_ms, decimals=1),
        ),
        Figure("queries per sign-off (HTTP, 2 requests), no earlier attempt", http_queries_first, "queries"),
        Figure(
            f"queries per sign-off (HTTP, 2 requests), {EARLIER_ATTEMPTS:,} earlier attempts",
            http_queries_after,
            "queries",
            target=("==", http_queries_first),
        ),
        Figure(
            "queries of the checklist page (GET), no earlier attempt",
            page_queries_first,
            "queries",
        ),
        Figure(
            f"queries of the checklist page (GET), {EARLIER_ATTEMPTS:,} earlier attempts",
            page_queries_after,
            "queries",
            note="lists the 10 latest",
        ),
    ]


# --- The cohort grid ------------------------------------------------------------------------


@dataclass
class Shares:
    """What the made-up history holds, to print beside the figures."""

    cells: int = 0
    achieved: int = 0
    attempted: int = 0
    attempts: int = 0
    revoked: int = 0
    drafts: int = 0
    by_status: dict[str, int] = field(default_factory=dict)


@dataclass
class _Planned:
    attempt: Attempt
    performed: list[bool]
    signed: bool = True
    revoked: bool = False


def _plan_history(school: School, enrollments: list[Enrollment], rng: random.Random, shares: Shares) -> list[_Planned]:
    """Per cell: achieved (sometimes after a failed try or a revoked pass), attempted (failed, or a pass
    whose signature was revoked), or not started (now and then an unsigned draft, which counts for nothing)."""
    planned: list[_Planned] = []
    now = timezone.now()

    def attempt(enrollment: Enrollment, competency: Competency, *, passes: bool, when: datetime, **kwargs: Any) -> None:
        steps = school.steps[competency.pk]
        performed = [passes or not step.is_critical for step in steps]
        result = score_steps(
            [(step.points, step.is_critical, done) for step, done in zip(steps, performed, strict=True)],
            school.program.passing_score,
        )
        planned.append(
            _Planned(
                Attempt(
                    enrollment=enrollment,
                    competency=competency,
                    evaluator=school.instructor,
                    performed_at=when,
                    setting=rng.choice(list(Setting)),
                    passing_score=school.program.passing_score,
                    comment="" if result["passed"] else "Missed hand hygiene.",
                    **result,
                ),
                performed,
                **kwargs,
            )
        )

    for enrollment in enrollments:
        for competency in school.competencies:
            shares.cells += 1
            when = now - timedelta(days=rng.randint(5, 120), minutes=rng.randint(0, 600))
            roll = rng.random()
            if roll < ACHIEVED_SHARE:
                shares.achieved += 1
                story = rng.random()
                if story < 0.15:
                    attempt(enrollment, competency, passes=False, when=when - timedelta(days=7))
                elif story < 0.20:
                    attempt(enrollment, competency, passes=True, when=when - timedelta(days=7), revoked=True)
                attempt(enrollment, competency, passes=True, when=when)
            elif roll < ACHIEVED_SHARE + ATTEMPTED_SHARE:
                shares.attempted += 1
                if rng.random() < 0.2:
                    attempt(enrollment, competency, passes=True, when=when, revoked=True)
                else:
                    for tries in range(rng.randint(1, 2)):
                        attempt(enrollment, competency, passes=False, when=when + timedelta(days=tries))
            elif rng.random() < 0.03:
                attempt(enrollment, competency, passes=True, when=when, signed=False)
    shares.attempts += len(planned)
    shares.revoked += sum(1 for item in planned if item.revoked)
    shares.drafts += sum(1 for item in planned if not item.signed)
    return planned


def _write_history(school: School, planned: list[_Planned]) -> None:
    """Bulk-write attempts, their steps, then signatures with real digests, then revocations (the
    triggers refuse steps added to a signed attempt, so the order matters)."""
    with transaction.atomic():
        attempts = Attempt.objects.bulk_create([item.attempt for item in planned], batch_size=2_000)
        StepResult.objects.bulk_create(
            [
                StepResult(
                    attempt=attempt,
                    order=step.order,
                    text=step.text,
                    points=step.points,
                    is_critical=step.is_critical,
                    performed=done,
                )
                for attempt, item in zip(attempts, planned, strict=True)
                for step, done in zip(school.steps[attempt.competency_id], item.performed, strict=True)
            ],
            batch_size=5_000,
        )
        to_sign = [item for item in planned if item.signed]
        prefetch_related_objects([item.attempt for item in to_sign], "step_results")
        signatures = []
        for item in to_sign:
            signed_at = item.attempt.performed_at + timedelta(minutes=3)
            digest = Signature.compute_digest(
                item.attempt, signer_id=school.instructor.pk, signed_at=signed_at.isoformat(), meaning=Signature.MEANING
            )
            signatures.append(
                Signature(
                    attempt=item.attempt,
                    student_id=item.attempt.enrollment.student_id,
                    signer=school.instructor,
                    signed_at=signed_at,
                    meaning=Signature.MEANING,
                    digest=digest,
                )
            )
        chains.link(signatures)
        Signature.objects.bulk_create(signatures, batch_size=2_000)
        revocations = [
            Revocation(
                signature=signature,
                student_id=signature.student_id,
                revoked_by=school.director,
                reason="Recorded on the wrong student.",
            )
            for signature, item in zip(signatures, to_sign, strict=True)
            if item.revoked
        ]
        chains.link(revocations)
        Revocation.objects.bulk_create(revocations)


def _grid_page(client: Client, cohort: Cohort, page: int = 1, view: str = "all") -> str:
    response = client.get(
        reverse("curriculum:competency-grid", args=[cohort.pk]), {"view": view, "page": page}, secure=True
    )
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _timed_grid(client: Client, cohort: Cohort, repetitions: int, page: int = 1, view: str = "all") -> list[float]:
    timings = []
    for _repetition in range(repetitions):
        started = time.perf_counter()
        _grid_page(client, cohort, page, view)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def _grid_queries(client: Client, cohort: Cohort, page: int = 1) -> int:
    with CaptureQueriesContext(connection) as queries:
        _grid_page(client, cohort, page)
    return len(queries)


def _rows_and_cells(html: str) -> tuple[int, int]:
    return html.count('<th scope="row"'), len(re.findall(r'class="grid-cell grid-', html))


@register("grid", "the cohort competency grid: 50 students × 150 competencies, and 10 students")
def grid(run: Run) -> list[Figure]:
    started = time.perf_counter()
    school = _school(competencies=GRID_COMPETENCIES, steps=GRID_STEPS, areas=GRID_AREAS)
    rng = random.Random(20260112)  # made-up data, the same every run
    shares = Shares()
    big, big_enrollments = _cohort(school, GRID_STUDENTS, former=4)
    small, small_enrollments = _cohort(school, GRID_FEW_STUDENTS, former=2)
    target, target_enrollments = _cohort(school, GRID_TARGET_STUDENTS)
    _write_history(school, _plan_history(school, big_enrollments, rng, shares))
    _write_history(school, _plan_history(school, small_enrollments, rng, shares))
    _write_history(school, _plan_history(school, target_enrollments, rng, shares))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    seeding_seconds = time.perf_counter() - started

    with test_client_host():
        client = Client()
        client.force_login(school.instructor)
        big_html = _grid_page(client, big)
        rows, cells = _rows_and_cells(big_html)
        assert rows == min(GRID_PAGE_SIZE, GRID_STUDENTS), rows
        assert cells == rows * GRID_COMPETENCIES, cells
        small_rows, small_cells = _rows_and_cells(_grid_page(client, small))
        assert (small_rows, small_cells) == (GRID_FEW_STUDENTS, GRID_FEW_STUDENTS * GRID_COMPETENCIES)
        pages = -(-GRID_STUDENTS // GRID_PAGE_SIZE)
        if pages > 1:
            assert f"Page 1 of {pages}" in big_html, "the grid does not say it has more pages"

        # The two fetches above warmed up templates and URL patterns; now the timed ones.
        big_ms = _timed_grid(client, big, run.repetitions)
        big_queries = _grid_queries(client, big)
        last_page_ms = _timed_grid(client, big, run.repetitions, page=pages)
        last_page_queries = _grid_queries(client, big, page=pages)
        small_ms = _timed_grid(client, small, run.repetitions)
        small_queries = _grid_queries(client, small)
        _grid_page(client, target)
        _grid_page(client, target, view="attention")
        # More runs than the others: a 40 ms target reads a median, and one page is quick to fetch.
        target_ms = _timed_grid(client, target, max(run.repetitions, 9))
        attention_ms = _timed_grid(client, target, max(run.repetitions, 9), view="attention")

    run.notes += [
        f"One program, {GRID_COMPETENCIES} signed-off competencies in {GRID_AREAS} content areas, each with a "
        f"{GRID_STEPS}-step checklist; cohorts of {GRID_STUDENTS} and {GRID_FEW_STUDENTS} current students "
        "(and a few withdrawn or graduated, left out of the grid).",
        f"Cells: {shares.achieved:,} achieved, {shares.attempted:,} attempted not passed, "
        f"{shares.cells - shares.achieved - shares.attempted:,} not started of {shares.cells:,}; "
        f"{shares.attempts:,} attempts, {shares.revoked:,} of them revoked, {shares.drafts:,} unsigned drafts "
        f"(written in {seeding_seconds:.1f} s).",
        f"The grid pages at {GRID_PAGE_SIZE} students: page 1 shows {rows} of the {GRID_STUDENTS} "
        f"({rows * GRID_COMPETENCIES:,} cells){'' if pages == 1 else f'; all {GRID_STUDENTS} take {pages} pages'}. "
        "Fetched as the cohort's instructor through Django's test Client (full middleware, template rendered).",
    ]
    return [
        Figure("students a grid page shows", GRID_PAGE_SIZE, "students"),
        Figure(
            f"students on page 1 of a cohort of {GRID_STUDENTS}",
            rows,
            "students",
            note="all fit on one page" if pages == 1 else f"{pages} pages: page 1 measured below",
        ),
        Figure(
            f"grid page 1: {rows} students × {GRID_COMPETENCIES} competencies",
            median(big_ms),
            "ms",
            note=spread(big_ms, decimals=1),
        ),
        Figure(f"  queries, cohort of {GRID_STUDENTS}", big_queries, "queries"),
        Figure(f"  HTML of page 1 ({rows * GRID_COMPETENCIES:,} cells)", len(big_html.encode()) / 1024, "KiB"),
        Figure(
            f"grid page {pages} (last) of the cohort of {GRID_STUDENTS}",
            median(last_page_ms),
            "ms",
            note=spread(last_page_ms, decimals=1),
        ),
        Figure(f"  queries, page {pages}", last_page_queries, "queries"),
        Figure(
            f"grid: {GRID_FEW_STUDENTS} students × {GRID_COMPETENCIES} competencies",
            median(small_ms),
            "ms",
            note=spread(small_ms, decimals=1),
        ),
        Figure(
            f"  queries, cohort of {GRID_FEW_STUDENTS}",
            small_queries,
            "queries",
            target=("==", big_queries),
            note=f"the same as at {GRID_STUDENTS}: a fixed number",
        ),
        Figure(
            f"grid: {GRID_TARGET_STUDENTS} students × {GRID_COMPETENCIES} competencies, all",
            median(target_ms),
            "ms",
            target=("<=", 40),
            note=spread(target_ms, decimals=1),
        ),
        Figure(
            f"grid: {GRID_TARGET_STUDENTS} students, needs attention",
            median(attention_ms),
            "ms",
            target=("<=", 40),
            note=spread(attention_ms, decimals=1),
        ),
    ]
