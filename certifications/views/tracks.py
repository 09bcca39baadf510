"""The program's certification tracks: the list with the outcome thresholds in force, one track with
every value's source and confidence, and the director's pages to edit, confirm and outline it.

Who: the program's directors and coordinators read them (`permissions.can_view_tracks`); only its
directors change them (`permissions.can_edit_tracks`), a coordinator gets 403 there. Instructors of the
program get 403 on every page; anyone who is not on the program's staff gets 404.

Thresholds belong to the accreditors and are shared by every program, so they are read-only here; a
site administrator edits them in the admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.http import AuthenticatedRequest
from certifications import permissions
from certifications import services_tracks as services
from certifications.forms_tracks import (
    TRACK_SECTIONS,
    CountedTracksForm,
    DomainForm,
    DomainFormSet,
    TrackForm,
    field_label,
)
from certifications.models import Accreditor, CertificationTrack, ContentDomain, Focus, OutcomeMeasure
from certifications.views import program_for
from curriculum.models import Confidence, Program
from curriculum.views.coursework import form_errors_to

# The program's accreditor (curriculum's choices) → the accreditor whose measures apply to it.
PROGRAM_ACCREDITOR = {"caahep": Accreditor.MAERB, "abhes": Accreditor.ABHES}

# What an empty value means, where it means something.
EMPTY_MEANS = {
    "completion_window_days": gettext_lazy("Only after completing the program"),
    "graduate_window_months": gettext_lazy("No limit"),
    "retake_wait_days": gettext_lazy("No wait recorded"),
    "max_attempts": gettext_lazy("No limit recorded"),
    "wait_after_max_attempts_days": gettext_lazy("Failing the last allowed attempt ends eligibility"),
    "recertification_months": gettext_lazy("The credential does not lapse"),
    "annual_fee_required": gettext_lazy("Not known"),
}


# --- Fetching, with the access rules ---------------------------------------------------------------


def _viewable_program(request: AuthenticatedRequest, code: str) -> Program:
    return program_for(request, code, permissions.can_view_tracks)


def _track(request: AuthenticatedRequest, program: Program, track_code: str) -> CertificationTrack:
    return get_object_or_404(
        permissions.visible_tracks(request.user).filter(program=program).select_related("confirmed_by"),
        code=track_code,
    )


def _editable_track(request: AuthenticatedRequest, code: str, track_code: str) -> tuple[Program, CertificationTrack]:
    """A track of the program for its directors: 404 for outsiders and unknown codes, 403 for other staff."""
    program = _viewable_program(request, code)
    track = _track(request, program, track_code)
    if not permissions.can_edit_tracks(request.user, program):
        raise PermissionDenied
    return program, track


# --- Values in words ---------------------------------------------------------------------------------


def exam_facts(track: CertificationTrack) -> list[str]:
    """The exam as the list shows it: items, time and passing score, leaving out what is not recorded."""
    facts = []
    if track.scored_items:
        items = ngettext("%(count)s scored item", "%(count)s scored items", track.scored_items) % {
            "count": track.scored_items
        }
        if track.pretest_items:
            items += " " + _("+ %(count)s pretest") % {"count": track.pretest_items}
        facts.append(items)
    if track.total_items:
        facts.append(
            ngettext("%(count)s item in all", "%(count)s items in all", track.total_items)
            % {"count": track.total_items}
        )
    if track.exam_minutes:
        facts.append(
            ngettext("%(count)s minute", "%(count)s minutes", track.exam_minutes) % {"count": track.exam_minutes}
        )
    if track.passing_score is not None:
        facts.append(
            _("passes at %(score)s on %(scale)s") % {"score": track.passing_score, "scale": track.score_scale}
            if track.score_scale
            else _("passes at %(score)s") % {"score": track.passing_score}
        )
    elif track.score_scale:
        facts.append(_("scored on %(scale)s") % {"scale": track.score_scale})
    return facts


def retake_rule(track: CertificationTrack) -> str:
    """The retake policy as a sentence: the wait after a fail, the attempt limit, what follows it."""
    parts = []
    if track.retake_wait_days:
        parts.append(
            ngettext(
                "Wait %(days)s day after a failed attempt.",
                "Wait %(days)s days after a failed attempt.",
                track.retake_wait_days,
            )
            % {"days": track.retake_wait_days}
        )
    else:
        parts.append(_("No wait after a failed attempt is recorded."))
    if track.max_attempts:
        parts.append(
            ngettext("At most %(count)s attempt", "At most %(count)s attempts", track.max_attempts)
            % {"count": track.max_attempts}
            + (
                ngettext(
                    "; once used, wait %(days)s day before testing again.",
                    "; once used, wait %(days)s days before testing again.",
                    track.wait_after_max_attempts_days,
                )
                % {"days": track.wait_after_max_attempts_days}
                if track.wait_after_max_attempts_days is not None
                else _("; failing the last one ends eligibility.")
            )
        )
    else:
        parts.append(_("No limit on attempts is recorded."))
    return " ".join(parts)


def recertification(track: CertificationTrack) -> str:
    """The cycle, the continuing education it asks for, and whether a yearly fee is due."""
    if not track.recertification_months:
        return str(_("Does not lapse."))
    text = ngettext("Every %(count)s month", "Every %(count)s months", track.recertification_months) % {
        "count": track.recertification_months
    }
    if track.ce_required:
        text += ", " + ngettext(
            "%(count)s continuing education credit", "%(count)s continuing education credits", track.ce_required
        ) % {"count": track.ce_required}
    if track.annual_fee_required:
        text += ", " + _("annual fee")
    return text + "."


def _display(track: CertificationTrack, name: str) -> Any:
    """A value as the track page shows it: a list stays a list; empty says what empty means."""
    value = getattr(track, name)
    if name == "eligibility_routes":
        return list(value)
    if name == "focus":
        return Focus(value).label if value in Focus.values else value
    if name == "ce_breakdown":
        if not value:
            return "—"
        if isinstance(value, dict):
            return ", ".join(f"{key.replace('_', ' ')}: {amount}" for key, amount in value.items())
        return str(value)
    if value is None or value == "":
        if name == "wait_after_max_attempts_days" and track.max_attempts is None:
            return "—"
        return EMPTY_MEANS.get(name, "—")
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return value


@dataclass(frozen=True)
class Value:
    """One value of the track with where it came from."""

    name: str
    label: str
    shown: Any
    source: str
    confidence: str

    @property
    def is_list(self) -> bool:
        return isinstance(self.shown, list)

    @property
    def needs_confirming(self) -> bool:
        return self.confidence in Confidence.needs_confirming()


def _values(track: CertificationTrack) -> list[tuple[str, list[Value]]]:
    return [
        (
            str(title),
            [
                Value(
                    name=name,
                    label=field_label(CertificationTrack, name),
                    shown=_display(track, name),
                    source=track.source_of(name),
                    confidence=track.confidence_of(name),
                )
                for name in names
            ],
        )
        for title, names in TRACK_SECTIONS
    ]


def _needing_confirmation(track: CertificationTrack, domains: list[ContentDomain]) -> list[str]:
    """The values of a track still to be checked: its own, and its outline's domains."""
    unconfirmed = set(track.unconfirmed_fields)
    labels = [field_label(CertificationTrack, name) for name in services.VALUE_FIELDS if name in unconfirmed]
    labels += sorted(unconfirmed - set(services.VALUE_FIELDS))  # a key the pages do not know: shown as it is
    return labels + [
        _("Outline: %(domain)s") % {"domain": domain.name}
        for domain in domains
        if domain.confidence in Confidence.needs_confirming()
    ]


# --- Pages -------------------------------------------------------------------------------------------


@require_GET
def track_list(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """Every track of the program in one table, which count for each accreditor, and the thresholds in force."""
    program = _viewable_program(request, code)
    return _track_list_page(request, program, counted_form=None)


@require_POST
def track_counting(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """The director chooses which tracks count for MAERB and for ABHES; each change is recorded as theirs."""
    program = _viewable_program(request, code)
    if not permissions.can_edit_tracks(request.user, program):
        raise PermissionDenied
    tracks = list(CertificationTrack.objects.filter(program=program).order_by("order", "code"))
    form = CountedTracksForm(request.POST, tracks=tracks)
    if form.is_valid():
        try:
            services.set_counted_tracks(
                program=program,
                by=request.user,
                counted={"maerb": form.cleaned_data["maerb"], "abhes": form.cleaned_data["abhes"]},
            )
        except ValidationError as error:
            form_errors_to(form, error)
        else:
            messages.success(request, _("The exams counted for each accreditor are saved."))
            return redirect(f"{reverse('certifications:track-list', args=[program.code])}#counted")
    return _track_list_page(request, program, counted_form=form)


def _track_list_page(
    request: AuthenticatedRequest, program: Program, *, counted_form: CountedTracksForm | None
) -> HttpResponse:
    tracks = list(
        permissions.visible_tracks(request.user)
        .filter(program=program)
        .prefetch_related(Prefetch("domains", queryset=ContentDomain.objects.order_by("order", "pk")))
        .order_by("order", "code")
    )
    rows = [
        {
            "track": track,
            "exam": exam_facts(track),
            "retakes": retake_rule(track),
            "recertification": recertification(track),
            "domains": list(track.domains.all()),
            "unconfirmed": _needing_confirmation(track, list(track.domains.all())),
        }
        for track in tracks
    ]
    own = PROGRAM_ACCREDITOR.get(program.accreditor, "")
    measures = list(OutcomeMeasure.objects.select_related("confirmed_by").order_by("accreditor", "order", "key"))
    accreditors = sorted(
        (
            {
                "accreditor": Accreditor(value),
                "is_programs": value == own,
                "measures": [measure for measure in measures if measure.accreditor == value],
            }
            for value in Accreditor.values
        ),
        key=lambda group: not group["is_programs"],
    )
    can_edit = permissions.can_edit_tracks(request.user, program)
    if counted_form is None:
        counted_form = CountedTracksForm(initial=CountedTracksForm.initial_for(tracks), tracks=tracks)
    # What each box shows: the director's post when it was refused, else what is stored.
    posted = request.POST if counted_form.is_bound else None
    chosen = {
        name: set(posted.getlist(name) if posted is not None else counted_form.initial[name])
        for name in ("maerb", "abhes")
    }
    return render(
        request,
        "certifications/track_list.html",
        {
            "program": program,
            "rows": rows,
            "accreditors": [group for group in accreditors if group["measures"]],
            "can_edit": can_edit,
            "counted_form": counted_form,
            "counted_rows": [
                {"track": track, "choices": [(name, track.code in chosen[name]) for name in ("maerb", "abhes")]}
                for track in tracks
            ],
        },
        status=422 if counted_form.is_bound else 200,
    )


@require_GET
def track_detail(request: AuthenticatedRequest, code: str, track_code: str) -> HttpResponse:
    """Every value of one track with its source and confidence, the eligibility routes and the outline."""
    program = _viewable_program(request, code)
    track = _track(request, program, track_code)
    domains = list(track.domains.order_by("order", "pk"))
    return render(
        request,
        "certifications/track_detail.html",
        {
            "program": program,
            "track": track,
            "sections": _values(track),
            "domains": domains,
            "weighted": any(domain.weight_percent is not None for domain in domains),
            "counted": any(domain.items is not None for domain in domains),
            "unconfirmed": _needing_confirmation(track, domains),
            "retakes": retake_rule(track),
            "recertification": recertification(track),
            "can_edit": permissions.can_edit_tracks(request.user, program),
        },
    )


@require_http_methods(["GET", "POST"])
def track_edit(request: AuthenticatedRequest, code: str, track_code: str) -> HttpResponse:
    """Every rule of the track; each value changed is recorded as edited and confirmed by the director."""
    program, track = _editable_track(request, code, track_code)
    form = TrackForm(request.POST or None, initial=TrackForm.initial_for(track))
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in services.EDITABLE_FIELDS}
        count = sum(1 for name, value in values.items() if getattr(track, name) != value)
        try:
            services.update_track(track=track, by=request.user, values=values)
        except ValidationError as error:
            form_errors_to(form, error)
        else:
            if count:
                messages.success(
                    request,
                    ngettext(
                        "%(track)s saved: %(count)s value changed, recorded as confirmed by you.",
                        "%(track)s saved: %(count)s values changed, recorded as confirmed by you.",
                        count,
                    )
                    % {"track": track.code, "count": count},
                )
            else:
                messages.info(request, _("Nothing changed in %(track)s.") % {"track": track.code})
            return redirect("certifications:track-detail", code=program.code, track_code=track.code)
    provenance = {
        name: {"source": track.source_of(name), "confidence": track.confidence_of(name)}
        for name in services.EDITABLE_FIELDS
    }
    sections = [(title, [(field, provenance[field.name]) for field in fields]) for title, fields in form.sections()]
    return render(
        request,
        "certifications/track_form.html",
        {"program": program, "track": track, "form": form, "sections": sections},
    )


@require_POST
def track_confirm(request: AuthenticatedRequest, code: str, track_code: str) -> HttpResponse:
    """The director has checked every value and the outline against the awarding body's current handbook."""
    program, track = _editable_track(request, code, track_code)
    services.confirm_track(track=track, by=request.user)
    messages.success(
        request,
        _("Every value of %(track)s and its outline are recorded as confirmed by you today.") % {"track": track.code},
    )
    return redirect("certifications:track-detail", code=program.code, track_code=track.code)


@require_http_methods(["GET", "POST"])
def track_domains(request: AuthenticatedRequest, code: str, track_code: str) -> HttpResponse:
    """The content outline: rename, reweigh, retag, add and remove domains; weights in percent add up to 100."""
    program, track = _editable_track(request, code, track_code)
    domains = list(track.domains.order_by("order", "pk"))
    initial = [DomainForm.initial_for(domain) for domain in domains]
    formset = DomainFormSet(request.POST or None, initial=initial, prefix="domains")
    problems: list[str] = []
    if request.method == "POST" and formset.is_valid():
        try:
            services.update_domains(track=track, by=request.user, rows=[form.values() for form in formset.kept()])
        except ValidationError as error:
            problems = error.messages
        else:
            messages.success(request, _("The outline of %(track)s is saved.") % {"track": track.code})
            return redirect("certifications:track-detail", code=program.code, track_code=track.code)
    context: dict[str, Any] = {
        "program": program,
        "track": track,
        "formset": formset,
        "problems": problems,
    }
    return render(request, "certifications/track_domains.html", context)
