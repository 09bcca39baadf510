"""May this student sit this track's exam on a given day? A checklist, computed and never stored.

Each item is one rule of the track, met or not, with a sentence in plain words that says until
when or from when wherever a date decides it:
- program completion, or the window the track allows before it (graduated counts as completed;
  withdrawn closes the school route);
- the window after graduation during which the school route stays open, when the track has one;
- the practicum hours approved, when the track asks for the practicum;
- every psychomotor and affective competency achieved, when the track asks for them;
- the retake rule: the wait after a fail, the attempt limit, and an exam already passed.

The rules are the program's own copy of the track (directors edit them); nothing here is a constant.
The checklist costs a fixed number of queries (three), whatever the student's history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Exists, OuterRef
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from certifications import services
from certifications.models import CertificationTrack
from curriculum import progress
from curriculum.models import Enrollment
from externships.models import Placement
from externships.services import hours as hours_services
from externships.services.compliance import add_months


class Rule:
    """The keys of the checklist's items, so a page or a test can find one item."""

    COMPLETION = "completion"
    GRADUATE_WINDOW = "graduate_window"
    PRACTICUM = "practicum"
    COMPETENCIES = "competencies"
    RETAKE = "retake"


@dataclass(frozen=True)
class Item:
    rule: str
    label: str
    met: bool
    sentence: str


@dataclass
class Eligibility:
    track: CertificationTrack
    on: date
    items: list[Item] = field(default_factory=list)

    @property
    def eligible(self) -> bool:
        return all(item.met for item in self.items)

    @property
    def missing(self) -> list[Item]:
        return [item for item in self.items if not item.met]

    def item(self, rule: str) -> Item | None:
        return next((item for item in self.items if item.rule == rule), None)

    @property
    def summary(self) -> str:
        """One line for the home page and the headings."""
        if self.eligible:
            return _("Eligible for %(track)s on %(day)s.") % {"track": self.track.code, "day": day(self.on)}
        # Naming what is missing, not counting it: "2 items are missing" leaves the student to find them.
        # Both forms read alike in English; Spanish says "Falta" for one and "Faltan" for several.
        return ngettext(
            "Not eligible for %(track)s yet. Missing: %(items)s.",
            "Not eligible for %(track)s yet. Missing: %(items)s.",
            len(self.missing),
        ) % {"track": self.track.code, "items": ", ".join(item.label for item in self.missing)}


def day(value: date) -> str:
    return date_format(value, "DATE_FORMAT")


def completion_item(enrollment: Enrollment, track: CertificationTrack, on: date) -> Item:
    label = _("Program completion")
    if enrollment.withdrawn_on is not None:
        return Item(
            Rule.COMPLETION,
            label,
            False,
            _("Withdrew from the program on %(day)s: the school route to this exam is closed.")
            % {"day": day(enrollment.withdrawn_on)},
        )
    if enrollment.graduated_on is not None and enrollment.graduated_on <= on:
        return Item(Rule.COMPLETION, label, True, _("Graduated on %(day)s.") % {"day": day(enrollment.graduated_on)})
    completes_on = enrollment.graduated_on or enrollment.cohort.expected_graduation_on
    if track.completion_window_days is None:
        return Item(
            Rule.COMPLETION,
            label,
            False,
            _("%(track)s may be taken only after completing the program, expected on %(day)s.")
            % {"track": track.code, "day": day(completes_on)},
        )
    opens_on = completes_on - timedelta(days=track.completion_window_days)
    values = {
        "track": track.code,
        "days": track.completion_window_days,
        "completion": day(completes_on),
        "opens": day(opens_on),
    }
    if on >= opens_on:
        return Item(
            Rule.COMPLETION,
            label,
            True,
            _(
                "Within %(days)s days of completing the program (expected on %(completion)s): "
                "%(track)s may be taken from %(opens)s."
            )
            % values,
        )
    return Item(
        Rule.COMPLETION,
        label,
        False,
        _(
            "%(track)s may be taken from %(opens)s, %(days)s days before completing the program "
            "(expected on %(completion)s)."
        )
        % values,
    )


def graduate_window_item(enrollment: Enrollment, track: CertificationTrack, on: date) -> Item | None:
    months = track.graduate_window_months
    if not months or enrollment.withdrawn_on is not None:
        return None
    label = _("Time since graduation")
    if enrollment.graduated_on is None or enrollment.graduated_on > on:
        return Item(
            Rule.GRADUATE_WINDOW,
            label,
            True,
            _("After graduating, the school route to %(track)s stays open for %(months)s months.")
            % {"track": track.code, "months": months},
        )
    closes_on = add_months(enrollment.graduated_on, months)
    values = {"track": track.code, "months": months, "closes": day(closes_on)}
    if on <= closes_on:
        return Item(
            Rule.GRADUATE_WINDOW,
            label,
            True,
            _("The school route to %(track)s stays open until %(closes)s, %(months)s months after graduating.")
            % values,
        )
    return Item(
        Rule.GRADUATE_WINDOW,
        label,
        False,
        _("The school route to %(track)s closed on %(closes)s, %(months)s months after graduating.") % values,
    )


def practicum_item(enrollment: Enrollment) -> Item:
    """Approved hours across all the student's placements, against the latest open or completed one's
    required hours (the program's when there is none). One query."""
    placements = list(
        hours_services.with_hours(Placement.objects.filter(enrollment=enrollment)).order_by("-start_on", "-pk")
    )
    duration = sum((placement.approved_duration for placement in placements), timedelta())  # type: ignore[attr-defined]
    approved = round(duration.total_seconds() / 3600, 2)
    counted = [placement for placement in placements if placement.state != Placement.State.WITHDRAWN]
    required = counted[0].required_hours if counted else enrollment.cohort.program.practicum_hours
    values = {"approved": f"{approved:g}", "required": required}
    label = _("Practicum hours")
    if approved >= required:
        return Item(Rule.PRACTICUM, label, True, _("%(approved)s of %(required)s practicum hours approved.") % values)
    if not placements:
        return Item(
            Rule.PRACTICUM,
            label,
            False,
            _("No practicum placement yet: %(required)s hours must be approved.") % values,
        )
    return Item(
        Rule.PRACTICUM,
        label,
        False,
        _("%(approved)s of %(required)s practicum hours approved so far.") % values,
    )


def competencies_item(enrollment: Enrollment) -> Item:
    """Every psychomotor and affective competency, by the achieved rule of curriculum.progress. One query."""
    label = _("Competencies")
    program = enrollment.cohort.program
    if program.framework_id is None:
        return Item(
            Rule.COMPETENCIES,
            label,
            False,
            _("The program has no competency framework chosen, so competencies cannot be checked."),
        )
    achieved = progress.standing_passes().filter(enrollment=enrollment, competency=OuterRef("pk"))
    rows = list(
        progress.tracked_competencies(program)
        .annotate(achieved=Exists(achieved))
        .order_by("order", "code")
        .values_list("code", "achieved")
    )
    missing = [code for code, is_achieved in rows if not is_achieved]
    if not rows:
        return Item(Rule.COMPETENCIES, label, False, _("The program's framework lists no competency to check off."))
    if not missing:
        return Item(
            Rule.COMPETENCIES,
            label,
            True,
            ngettext(
                "The %(total)s psychomotor and affective competency is achieved.",
                "All %(total)s psychomotor and affective competencies are achieved.",
                len(rows),
            )
            % {"total": len(rows)},
        )
    shown = ", ".join(missing[:5]) + (", …" if len(missing) > 5 else "")
    return Item(
        Rule.COMPETENCIES,
        label,
        False,
        ngettext(
            "%(count)s of %(total)s psychomotor and affective competencies is not achieved yet: %(codes)s.",
            "%(count)s of %(total)s psychomotor and affective competencies are not achieved yet: %(codes)s.",
            len(missing),
        )
        % {"count": len(missing), "total": len(rows), "codes": shown},
    )


def retake_item(enrollment: Enrollment, track: CertificationTrack, on: date) -> Item:
    """The track's wait after a fail and its attempt limit (services.retake_problem). One query."""
    label = _("Retake rules")
    if reason := services.retake_problem(enrollment=enrollment, track=track, on=on):
        return Item(Rule.RETAKE, label, False, reason)
    return Item(Rule.RETAKE, label, True, _("No wait or attempt limit stands in the way."))


def checklist(enrollment: Enrollment, track: CertificationTrack, on: date | None = None) -> Eligibility:
    """Every rule of the track for this student on that day (the program's today by default).

    Expects the enrollment with its cohort and program loaded (select_related), as pages fetch it."""
    on = on or enrollment.cohort.program.today()
    items = [completion_item(enrollment, track, on)]
    if window := graduate_window_item(enrollment, track, on):
        items.append(window)
    if track.requires_practicum:
        items.append(practicum_item(enrollment))
    if track.requires_all_competencies:
        items.append(competencies_item(enrollment))
    items.append(retake_item(enrollment, track, on))
    return Eligibility(track=track, on=on, items=items)
