"""Exam readiness by content-outline domain: how much of a track's outline the student's achieved
competencies cover, weighted as the outline weighs its domains.

A domain is prepared by the program's check-off competencies (psychomotor and affective, signed off
on their own) whose tags share at least one tag with the domain's. A competency counts as achieved
by the rule of `curriculum.progress`: a standing, signed pass. Cognitive items are taught and
graded as coursework, not checked off, so they never count as achieved and are left out; a domain
that no check-off competency prepares is shown as such and covers nothing.

Weights come from the outline: each domain's percent when every domain has one, else its number of
exam items over the outline's total when every domain has a count, else equal shares. Two queries,
whatever the number of domains and competencies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Exists, OuterRef

from certifications.models import CertificationTrack, ContentDomain
from curriculum import progress
from curriculum.models import Enrollment

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class PreparingCompetency:
    code: str
    title: str
    achieved: bool


@dataclass
class DomainReadiness:
    domain: ContentDomain
    share: Decimal  # percent of the outline, the shares of a track summing to 100
    competencies: list[PreparingCompetency] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.competencies)

    @property
    def achieved(self) -> int:
        return sum(competency.achieved for competency in self.competencies)

    @property
    def coverage(self) -> Decimal:
        """Percent of the domain's competencies achieved; nothing prepared covers nothing."""
        return HUNDRED * self.achieved / self.total if self.total else Decimal(0)

    @property
    def percent(self) -> int:
        return int(self.coverage.quantize(Decimal(1), rounding=ROUND_HALF_UP))

    @property
    def missing(self) -> list[PreparingCompetency]:
        return [competency for competency in self.competencies if not competency.achieved]


@dataclass
class Readiness:
    track: CertificationTrack
    domains: list[DomainReadiness]

    @property
    def coverage(self) -> Decimal:
        """The outline covered, in percent: each domain's coverage weighted by its share."""
        return sum((row.share * row.coverage / HUNDRED for row in self.domains), Decimal(0))

    @property
    def percent(self) -> int:
        return int(self.coverage.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def shares(domains: list[ContentDomain]) -> list[Decimal]:
    """Each domain's share of the outline in percent, summing to 100 (see the module's docstring)."""
    if not domains:
        return []
    if all(domain.weight_percent is not None for domain in domains):
        weights = [Decimal(domain.weight_percent or 0) for domain in domains]
    elif all(domain.items for domain in domains):
        weights = [Decimal(domain.items or 0) for domain in domains]
    else:
        weights = [Decimal(1)] * len(domains)
    total = sum(weights, Decimal(0))
    if not total:
        return [HUNDRED / len(domains)] * len(domains)
    return [HUNDRED * weight / total for weight in weights]


def readiness(enrollment: Enrollment, track: CertificationTrack) -> Readiness:
    """The student's readiness for the track, domain by domain. Two queries.

    Expects the enrollment with its cohort and program loaded (select_related)."""
    program = enrollment.cohort.program
    domains = list(ContentDomain.objects.filter(track=track).order_by("order", "pk"))
    competencies: list[tuple[str, str, list[str], bool]] = []
    if program.framework_id is not None and domains:
        achieved = progress.standing_passes().filter(enrollment=enrollment, competency=OuterRef("pk"))
        competencies = list(
            progress.tracked_competencies(program)
            .exclude(tags=[])
            .annotate(achieved=Exists(achieved))
            .order_by("order", "code")
            .values_list("code", "title", "tags", "achieved")
        )
    rows = []
    for domain, share in zip(domains, shares(domains), strict=True):
        wanted = set(domain.tags)
        rows.append(
            DomainReadiness(
                domain=domain,
                share=share,
                competencies=[
                    PreparingCompetency(code, title, is_achieved)
                    for code, title, tags, is_achieved in competencies
                    if wanted.intersection(tags)
                ],
            )
        )
    return Readiness(track=track, domains=rows)
