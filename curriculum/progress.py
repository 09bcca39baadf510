"""Competency progress: which signed-off competencies each student has achieved, read in SQL.

The rule, in one place: a competency is *achieved* when a standing attempt (signed, signature not
revoked) passed it. A later failed attempt does not undo a pass; a revoked pass does not count.
*Attempted* means signed attempts exist but no standing pass: a revoked pass leaves the competency
attempted, so the cell still shows that something happened. An unsigned draft counts for nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models
from django.db.models import (
    Count,
    DateField,
    Exists,
    Expression,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from curriculum.models import Attempt, Competency, Enrollment, Program, Revocation, Signature
from curriculum.models.competencies import AttemptQuerySet, CompetencyQuerySet


class Status(models.TextChoices):
    ACHIEVED = "achieved", _("Achieved")
    ATTEMPTED = "attempted", _("Attempted, not passed yet")
    NOT_STARTED = "not_started", _("Not started")


# What each filter of the grid keeps: a student row stays when one of its cells matches.
STATUS_FILTERS: dict[str, tuple[Status, ...]] = {
    "not_achieved": (Status.ATTEMPTED, Status.NOT_STARTED),
    "attempted": (Status.ATTEMPTED,),
    "not_started": (Status.NOT_STARTED,),
    "achieved": (Status.ACHIEVED,),
}


def status_of(*, passes: int, attempts: int) -> Status:
    """From the number of standing passes and of signed attempts."""
    if passes:
        return Status.ACHIEVED
    return Status.ATTEMPTED if attempts else Status.NOT_STARTED


def tracked_competencies(program: Program) -> CompetencyQuerySet:
    """The program's psychomotor and affective items: every one must be achieved before the practicum."""
    return Competency.objects.for_program(program).signed_off()


def standing_passes() -> AttemptQuerySet:
    return Attempt.objects.standing().filter(passed=True)


def _distinct_competencies_per_enrollment(attempts: QuerySet[Attempt]) -> Coalesce:
    """A subquery for an Enrollment queryset: how many distinct competencies these attempts cover."""
    counted = (
        attempts.filter(enrollment=OuterRef("pk"))
        .order_by()
        .values("enrollment")
        .annotate(count=Count("competency", distinct=True))
        .values("count")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _signed_attempts(attempts: QuerySet[Attempt], *, standing: bool) -> QuerySet[Attempt]:
    """These attempts, kept if signed (and, `standing`, not revoked), as EXISTS on the signature.

    Inside a subquery per student, a join to the signatures let the planner read every signature of
    the program once per student (a cohort's "needs attention" view took over a second at 25 students
    and 11,000 attempts); EXISTS leads it from the student's own attempts to each one's signature."""
    signatures = Signature.objects.filter(attempt=OuterRef("pk"))
    if standing:
        # NOT EXISTS, not a LEFT JOIN … IS NULL on the revocation's key, which PostgreSQL cannot turn
        # into an anti-join: it then guesses that one signature in the whole table stands.
        signatures = signatures.filter(~Exists(Revocation.objects.filter(signature=OuterRef("pk"))))
    return attempts.filter(Exists(signatures))


def with_progress(enrollments: QuerySet[Enrollment], competency_ids: list[int]) -> QuerySet[Enrollment]:
    """Annotate each enrollment with `achieved` and `attempted`: distinct competencies among those given."""
    chosen = Attempt.objects.filter(competency__in=competency_ids)
    return enrollments.annotate(
        achieved=_distinct_competencies_per_enrollment(_signed_attempts(chosen.filter(passed=True), standing=True)),
        attempted=_distinct_competencies_per_enrollment(_signed_attempts(chosen, standing=False)),
    )


def filter_by_status(enrollments: QuerySet[Enrollment], status_filter: str, total: int) -> QuerySet[Enrollment]:
    """Keep the students with at least one cell of the filter's statuses (after `with_progress`)."""
    keep = {
        "not_achieved": Q(achieved__lt=total),
        "attempted": Q(attempted__gt=F("achieved")),
        "not_started": Q(attempted__lt=total),
        "achieved": Q(achieved__gt=0),
    }.get(status_filter)
    return enrollments.filter(keep) if keep is not None else enrollments


@dataclass(frozen=True)
class Cell:
    status: Status
    attempts: int = 0
    last_performed_at: datetime | None = None

    @property
    def label(self) -> str:
        return str(self.status.label)


NOT_STARTED = Cell(Status.NOT_STARTED)


def cells(
    enrollment_ids: Iterable[int], competency_ids: Iterable[int], *, with_last: bool = True
) -> dict[tuple[int, int], Cell]:
    """The grid's cells for a page of students, in one query: (enrollment, competency) → Cell.

    A pair missing from the answer is not started. `with_last=False` leaves out the day of the last
    attempt, which the matrix does not show: on its thousands of cells, reading the dates was a fifth of
    the page's time."""
    standing_pass = Q(passed=True, signature__revocation__isnull=True)
    counts: dict[str, Any] = {"attempts": Count("pk"), "passes": Count("pk", filter=standing_pass)}
    if with_last:
        counts["last"] = Max("performed_at")
    rows = (
        Attempt.objects.signed()
        .filter(enrollment__in=list(enrollment_ids), competency__in=list(competency_ids))
        .order_by()
        .values_list("enrollment_id", "competency_id")
        .annotate(**counts)
    )
    return {
        (enrollment_id, competency_id): Cell(
            status_of(passes=passes, attempts=attempts), attempts=attempts, last_performed_at=last[0] if last else None
        )
        for enrollment_id, competency_id, attempts, passes, *last in rows
    }


def achievers_per_competency(enrollments: QuerySet[Enrollment], competency_ids: list[int]) -> dict[int, int]:
    """How many of these students have achieved each competency, in one query."""
    rows = (
        standing_passes()
        .filter(enrollment__in=enrollments, competency__in=competency_ids)
        .order_by()
        .values("competency_id")
        .annotate(students=Count("enrollment", distinct=True))
    )
    return {row["competency_id"]: row["students"] for row in rows}


def achievers_per_cohort_and_competency(cohort_ids: list[int], competency_ids: list[int]) -> dict[tuple[int, int], int]:
    """Current students who achieved each competency, per cohort: (cohort, competency) → students."""
    rows = (
        standing_passes()
        .filter(
            enrollment__cohort__in=cohort_ids,
            enrollment__withdrawn_on__isnull=True,
            enrollment__graduated_on__isnull=True,
            competency__in=competency_ids,
        )
        .order_by()
        .values("enrollment__cohort_id", "competency_id")
        .annotate(students=Count("enrollment", distinct=True))
    )
    return {(row["enrollment__cohort_id"], row["competency_id"]): row["students"] for row in rows}


def current_students() -> Coalesce:
    """A subquery for a Cohort queryset: its students neither withdrawn nor graduated."""
    current = (
        Enrollment.objects.current()
        .filter(cohort=OuterRef("pk"))
        .order_by()
        .values("cohort")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(current, output_field=IntegerField()), Value(0))


def ready_students(competency_ids: list[int]) -> Coalesce:
    """A subquery for a Cohort queryset: current students who have achieved every competency given."""
    achieved = _distinct_competencies_per_enrollment(
        _signed_attempts(Attempt.objects.filter(competency__in=competency_ids, passed=True), standing=True)
    )
    ready = (
        Enrollment.objects.current()
        .filter(cohort=OuterRef("pk"))
        .alias(achieved=achieved)
        .filter(achieved__gte=len(competency_ids))
        .order_by()
        .values("cohort")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(ready, output_field=IntegerField()), Value(0))


# --- When each student's practicum starts ---------------------------------------------------
# Practicums are planned in externships, which leans on curriculum and never the other way round
# (README.md, "Layout"). It registers, in its AppConfig.ready(), an expression for an Enrollment
# queryset: the day the student's open practicum starts (a subquery on OuterRef("pk")). The grid
# then lists the soonest practicum first, in the same query, without curriculum importing it.
PracticumStart = Callable[[], Expression | Subquery]
_practicum_start: list[PracticumStart] = []


def register_practicum_start(expression: PracticumStart) -> None:
    """One app plans practicums: a second registration replaces the first."""
    _practicum_start[:] = [expression]


def practicum_start() -> Expression | Subquery:
    """An annotation for an Enrollment queryset: when the practicum starts, NULL when none is planned."""
    if _practicum_start:
        return _practicum_start[0]()
    return Value(None, output_field=DateField())


def needing_attention(enrollments: QuerySet[Enrollment], competency_ids: list[int]) -> QuerySet[Enrollment]:
    """The students yet to achieve one of these competencies, the most urgent first: the soonest
    practicum (none planned last), then the most missing, then by name. Annotated with `achieved`,
    `attempted` and `practicum_starts_on`."""
    return (
        with_progress(enrollments, competency_ids)
        .annotate(practicum_starts_on=practicum_start())
        .filter(Q(achieved__lt=len(competency_ids)))
        .order_by(
            F("practicum_starts_on").asc(nulls_last=True),
            F("achieved").asc(),
            "student__last_name",
            "student__first_name",
            "pk",
        )
    )


def summary(enrollment: Enrollment) -> tuple[int, int]:
    """(achieved, total) for one student's program, in one query: the home page's card."""
    passed = standing_passes().filter(enrollment=enrollment, competency=OuterRef("pk"))
    totals = tracked_competencies(enrollment.cohort.program).aggregate(
        total=Count("pk"), achieved=Count("pk", filter=Exists(passed))
    )
    return totals["achieved"], totals["total"]


def is_signed(attempt: Attempt) -> bool:
    """Read from an attempt fetched with its signature (select_related): no query."""
    return getattr(attempt, "signature", None) is not None


def is_standing(attempt: Attempt) -> bool:
    """Signed and not revoked, read from an attempt fetched with its signature and revocation."""
    return is_signed(attempt) and getattr(attempt.signature, "revocation", None) is None


def main_enrollment(enrollments: list[Enrollment]) -> Enrollment | None:
    """The enrollment a student's own pages show: the current one, else the latest."""
    current = [enrollment for enrollment in enrollments if not enrollment.withdrawn_on and not enrollment.graduated_on]
    return max(current or enrollments, key=lambda enrollment: enrollment.admitted_on, default=None)
