"""A director's changes to the program's copy of a certification track: its rules, its confirmation,
its content outline.

Each value keeps where it came from (`CertificationTrack.provenance`, `ContentDomain.source` and
`confidence`). A value the director sets or checks is theirs from then on: its source names them and
its confidence becomes "confirmed by a program director", so the pages stop asking for it to be
confirmed. Sources are data, like the reference file's own ("aama-ntl.org"), so they are written in
English whatever the director's language.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from certifications.models import COUNTS_FOR, CertificationTrack, ContentDomain
from curriculum.models import Confidence, Program

# The rules a director edits on the track's edit page, in the page's order.
EDITABLE_FIELDS = (
    "is_offered",
    "scored_items",
    "pretest_items",
    "total_items",
    "exam_minutes",
    "passing_score",
    "score_scale",
    "eligibility_routes",
    "completion_window_days",
    "graduate_window_months",
    "requires_practicum",
    "requires_all_competencies",
    "counts_for_maerb",
    "counts_for_abhes",
    "retake_wait_days",
    "max_attempts",
    "wait_after_max_attempts_days",
    "recertification_months",
    "ce_required",
    "annual_fee_required",
    "recertification_alternative",
    "lapse_rule",
)
# Every value the track's page shows with its source: the rules, and the facts read from the reference.
VALUE_FIELDS = ("name", "awarding_body", "focus", *EDITABLE_FIELDS, "ce_breakdown")
CONFIRMED_SUFFIX = re.compile(r"\s*\(confirmed by [^()]*\)$")


def _confirmed_source(source: str, by: User) -> str:
    """The source as it was, saying who checked it; a later confirmation replaces an earlier one."""
    kept = CONFIRMED_SUFFIX.sub("", source).strip()
    return f"{kept} (confirmed by {by})" if kept else f"confirmed by {by}"


def _lock(track: CertificationTrack) -> CertificationTrack:
    """The track's row as stored, locked: two directors saving at once are applied one after the other."""
    return CertificationTrack.objects.select_for_update().get(pk=track.pk)


def _mark_confirmed(track: CertificationTrack, locked: CertificationTrack, by: User) -> None:
    locked.confirmed_by, locked.confirmed_at = by, timezone.now()
    track.confirmed_by, track.confirmed_at = locked.confirmed_by, locked.confirmed_at


def rule_problems(values: Mapping[str, Any]) -> dict[str, str]:
    """Rules that tie one value to another, by the field that has to change."""
    problems = {}
    if values.get("wait_after_max_attempts_days") is not None and values.get("max_attempts") is None:
        problems["wait_after_max_attempts_days"] = _(
            "Days to wait once the attempts are used: set the number of attempts allowed first, or leave this empty."
        )
    return problems


@transaction.atomic
def update_track(*, track: CertificationTrack, by: User, values: Mapping[str, Any]) -> CertificationTrack:
    """Save the director's rule values; each value that changed is recorded as edited and confirmed by them."""
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable on a track: {', '.join(sorted(unknown))}")
    locked = _lock(track)
    merged = {name: getattr(locked, name) for name in EDITABLE_FIELDS} | dict(values)
    if problems := rule_problems(merged):
        raise ValidationError(problems)
    changed = [name for name, value in values.items() if getattr(locked, name) != value]
    if not changed:
        return locked
    for name in changed:
        setattr(locked, name, values[name])
    locked.full_clean(exclude=[f.name for f in locked._meta.fields if f.name not in changed], validate_unique=False)
    provenance = dict(locked.provenance)
    for name in changed:
        provenance[name] = {"source": f"edited by {by}", "confidence": Confidence.CONFIRMED.value}
    locked.provenance = provenance
    _mark_confirmed(track, locked, by)
    locked.save(update_fields=[*changed, "provenance", "confirmed_by", "confirmed_at"])
    return locked


@transaction.atomic
def set_counted_tracks(
    *, program: Program, by: User, counted: Mapping[str, Collection[str]]
) -> list[CertificationTrack]:
    """Choose, per accreditor, which of the program's tracks count in its credentialing figures.

    `counted` maps an accreditor ("maerb", "abhes") to the codes of the tracks that count for it; a
    track left out stops counting. Each value that changes is recorded as edited by the director."""
    unknown_accreditors = set(counted) - set(COUNTS_FOR)
    if unknown_accreditors:
        raise ValueError(f"Unknown accreditor: {', '.join(sorted(unknown_accreditors))}")
    tracks = list(CertificationTrack.objects.filter(program=program).order_by("order", "code"))
    codes = {track.code for track in tracks}
    problems = [
        _("%(accreditor)s: %(code)s is not a certification track of this program.")
        % {"accreditor": accreditor.upper(), "code": code}
        for accreditor, chosen in counted.items()
        for code in sorted(set(chosen) - codes)
    ]
    if problems:
        raise ValidationError(problems)
    saved = []
    for track in tracks:
        values = {COUNTS_FOR[accreditor]: track.code in chosen for accreditor, chosen in counted.items()}
        if any(getattr(track, name) != value for name, value in values.items()):
            track = update_track(track=track, by=by, values=values)
        saved.append(track)
    return saved


@transaction.atomic
def confirm_track(*, track: CertificationTrack, by: User) -> CertificationTrack:
    """The director has checked every value and the outline against the credential's current handbook."""
    locked = _lock(track)
    provenance = dict(locked.provenance)
    for name in VALUE_FIELDS:
        origin = provenance.get(name) or {}
        provenance[name] = {
            **origin,
            "source": _confirmed_source(str(origin.get("source", "")), by),
            "confidence": Confidence.CONFIRMED.value,
        }
    locked.provenance = provenance
    _mark_confirmed(track, locked, by)
    locked.save(update_fields=["provenance", "confirmed_by", "confirmed_at"])
    domains = list(locked.domains.select_for_update())
    for domain in domains:
        domain.source = _confirmed_source(domain.source, by)
        domain.confidence = Confidence.CONFIRMED
    ContentDomain.objects.bulk_update(domains, ["source", "confidence"])
    return locked


# --- The content outline ------------------------------------------------------------------------


@dataclass(frozen=True)
class DomainValues:
    """One row of the outline as the director wants it; `pk` is None for a new domain."""

    name: str
    weight_percent: Decimal | None = None
    items: int | None = None
    tags: list[str] = field(default_factory=list)
    pk: int | None = None


def clean_tags(text: str) -> list[str]:
    """A comma-separated line of tags, lower-cased and trimmed, blanks and repeats left out."""
    tags: list[str] = []
    for part in text.split(","):
        tag = " ".join(part.split()).lower()
        if tag and tag not in tags:
            tags.append(tag)
    return tags


def domain_problems(rows: Sequence[DomainValues]) -> list[str]:
    """What is wrong with the outline as a whole: shared names, weights that do not add up to 100."""
    problems = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, start=1):
        key = row.name.strip().casefold()
        if key in seen:
            problems.append(
                _("Rows %(first)s and %(second)s are both named “%(name)s”: each domain needs its own name.")
                % {"first": seen[key], "second": number, "name": row.name.strip()}
            )
        else:
            seen[key] = number
    weights = [row.weight_percent for row in rows]
    if rows and all(weight is not None for weight in weights):
        total = sum(weight for weight in weights if weight is not None)
        if total != 100:
            problems.append(
                _("The weights add up to %(total)s%%: with a weight given for every domain they must add up to 100%%.")
                % {"total": format(Decimal(total).normalize(), "f")}
            )
    return problems


def _domain_values(domain: ContentDomain) -> tuple[Any, ...]:
    weight = domain.weight_percent if domain.weight_percent is None else Decimal(domain.weight_percent)
    return (domain.name, weight, domain.items, list(domain.tags))


@transaction.atomic
def update_domains(*, track: CertificationTrack, by: User, rows: Sequence[DomainValues]) -> list[ContentDomain]:
    """Make the track's outline exactly `rows`, in that order: domains left out are removed, new ones added.

    A domain added or changed is recorded as the director's; an unchanged one keeps its source."""
    locked = _lock(track)
    existing = {domain.pk: domain for domain in locked.domains.select_for_update()}
    listed = [row.pk for row in rows if row.pk is not None]
    if any(pk not in existing for pk in listed) or len(listed) != len(set(listed)):
        raise ValidationError(_("The outline changed since this page was opened. Reload the page and try again."))
    rows = [replace(row, name=row.name.strip()) for row in rows]
    if problems := domain_problems(rows):
        raise ValidationError(problems)
    removed = [pk for pk in existing if pk not in listed]
    ContentDomain.objects.filter(pk__in=removed).delete()
    # A rename may take a name another row gives up in the same save: free every changed name first.
    renamed = [row.pk for row in rows if row.pk is not None and existing[row.pk].name != row.name]
    for pk in renamed:
        ContentDomain.objects.filter(pk=pk).update(name=f"(renaming {pk})")
    changed_any = bool(removed)
    saved = []
    for position, row in enumerate(rows, start=1):
        values = (row.name, row.weight_percent, row.items, list(row.tags))
        domain = existing[row.pk] if row.pk is not None else ContentDomain(track=locked)
        edited = domain.pk is None or _domain_values(domain) != values
        domain.name, domain.weight_percent, domain.items, domain.tags = values
        domain.order = position
        if edited:
            verb = "added" if domain.pk is None else "edited"
            domain.source, domain.confidence = f"{verb} by {by}", Confidence.CONFIRMED
            changed_any = True
        domain.full_clean(exclude=["track"], validate_unique=False)
        domain.save()
        saved.append(domain)
    if changed_any:
        _mark_confirmed(track, locked, by)
        locked.save(update_fields=["confirmed_by", "confirmed_at"])
    return saved
