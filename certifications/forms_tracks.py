"""Forms for a director's edits to a certification track: its rules, and its content outline.

The forms only read and check what was typed; certifications/services_tracks.py saves it and records
where each value came from. Every message names the value (or the outline's row) it is about, since a
long form's message far from its field is no help.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from certifications.models import CertificationTrack, ContentDomain
from certifications.services_tracks import DomainValues, clean_tags, domain_problems
from curriculum.forms import ItemsField

SMALL_NUMBER_MAX = 32767  # PostgreSQL's smallint, the columns' type
TAG_MAX_LENGTH = 60
ROUTE_MAX_LENGTH = 500  # a route is a sentence; the longest of the reference tracks has 149 characters


def _model_field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field


def _label(model: type[models.Model], name: str) -> Any:
    """The model field's name, capitalized, still lazy: forms are built at import, before any language is chosen."""
    return capfirst(_model_field(model, name).verbose_name)


def field_label(model: type[models.Model], name: str) -> str:
    """The model field's name as a page shows it, in the language of the request."""
    return str(_label(model, name))


def _help(model: type[models.Model], name: str) -> Any:
    return _model_field(model, name).help_text


class NamedNumberField(forms.IntegerField):
    """A whole number whose messages say which value is wrong: "Attempts allowed must be at least 1."."""

    def __init__(self, *, model: type[Any], name: str, minimum: int = 0, **kwargs: Any) -> None:
        label = kwargs.pop("label", None) or _label(model, name)
        self.named_label = label
        kwargs.setdefault("help_text", _help(model, name))
        super().__init__(
            label=label, required=False, min_value=minimum, max_value=SMALL_NUMBER_MAX, localize=False, **kwargs
        )

    def run_validators(self, value: Any) -> None:
        if value in self.empty_values:
            return
        minimum, maximum = self.min_value, self.max_value
        assert minimum is not None and maximum is not None
        if value < minimum:
            if minimum == 0:
                raise forms.ValidationError(_("%(field)s cannot be negative.") % {"field": self.named_label})
            raise forms.ValidationError(
                _("%(field)s must be at least %(minimum)s.") % {"field": self.named_label, "minimum": minimum}
            )
        if value > maximum:
            raise forms.ValidationError(
                _("%(field)s must be at most %(maximum)s.") % {"field": self.named_label, "maximum": maximum}
            )

    def to_python(self, value: Any) -> int | None:
        try:
            return super().to_python(value)
        except forms.ValidationError:
            raise forms.ValidationError(
                _("%(field)s: enter a whole number, or leave it empty.") % {"field": self.named_label}
            ) from None


def _number(name: str, minimum: int = 0) -> NamedNumberField:
    return NamedNumberField(model=CertificationTrack, name=name, minimum=minimum)


def _yes_no(name: str) -> forms.BooleanField:
    return forms.BooleanField(
        label=_label(CertificationTrack, name), help_text=_help(CertificationTrack, name), required=False
    )


def _text(name: str, *, rows: int = 0, max_length: int | None = None) -> forms.CharField:
    widget = forms.Textarea(attrs={"rows": rows}) if rows else forms.TextInput()
    return forms.CharField(
        label=_label(CertificationTrack, name), required=False, max_length=max_length, widget=widget, strip=True
    )


# How a track's values are grouped, on its page and in its form (which leaves out what it does not edit).
TRACK_SECTIONS = (
    (gettext_lazy("The credential"), ("name", "awarding_body", "focus", "is_offered")),
    (
        gettext_lazy("The exam"),
        ("scored_items", "pretest_items", "total_items", "exam_minutes", "passing_score", "score_scale"),
    ),
    (
        gettext_lazy("Eligibility"),
        (
            "eligibility_routes",
            "completion_window_days",
            "graduate_window_months",
            "requires_practicum",
            "requires_all_competencies",
        ),
    ),
    (gettext_lazy("Outcome reports"), ("counts_for_maerb", "counts_for_abhes")),
    (gettext_lazy("Retakes"), ("retake_wait_days", "max_attempts", "wait_after_max_attempts_days")),
    (
        gettext_lazy("Recertification"),
        (
            "recertification_months",
            "ce_required",
            "ce_breakdown",
            "annual_fee_required",
            "recertification_alternative",
            "lapse_rule",
        ),
    ),
)


class TrackForm(forms.Form):
    """Every rule of a track that a director sets: exam facts, eligibility, retakes, recertification."""

    is_offered = _yes_no("is_offered")
    scored_items = _number("scored_items")
    pretest_items = _number("pretest_items")
    total_items = _number("total_items")
    exam_minutes = _number("exam_minutes", minimum=1)
    passing_score = _number("passing_score")
    score_scale = _text("score_scale", max_length=40)
    eligibility_routes = ItemsField(
        label=_label(CertificationTrack, "eligibility_routes"),
        separator="\n",
        item_max_length=ROUTE_MAX_LENGTH,
        required=False,
        help_text=gettext_lazy("One route a line, as the awarding body words it."),
    )
    completion_window_days = _number("completion_window_days")
    graduate_window_months = _number("graduate_window_months")
    requires_practicum = _yes_no("requires_practicum")
    requires_all_competencies = _yes_no("requires_all_competencies")
    counts_for_maerb = _yes_no("counts_for_maerb")
    counts_for_abhes = _yes_no("counts_for_abhes")
    retake_wait_days = _number("retake_wait_days")
    max_attempts = _number("max_attempts", minimum=1)
    wait_after_max_attempts_days = _number("wait_after_max_attempts_days")
    recertification_months = NamedNumberField(
        model=CertificationTrack,
        name="recertification_months",
        minimum=1,
        help_text=gettext_lazy("Empty: the credential does not lapse."),
    )
    ce_required = _number("ce_required")
    annual_fee_required = forms.NullBooleanField(
        label=_label(CertificationTrack, "annual_fee_required"), required=False
    )
    recertification_alternative = _text("recertification_alternative", rows=2)
    lapse_rule = _text("lapse_rule", rows=2)

    @classmethod
    def initial_for(cls, track: CertificationTrack) -> dict[str, Any]:
        return {name: getattr(track, name) for name in cls.base_fields}

    def sections(self) -> list[tuple[str, list[forms.BoundField]]]:
        sections = [
            (str(title), [self[name] for name in names if name in self.fields]) for title, names in TRACK_SECTIONS
        ]
        return [(title, fields) for title, fields in sections if fields]


# --- The content outline ------------------------------------------------------------------------


class DomainForm(forms.Form):
    """One domain of the outline. Its messages name the row, since the outline is one long table."""

    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(label=_label(ContentDomain, "name"), max_length=200, required=False)
    weight_percent = forms.DecimalField(
        label=_label(ContentDomain, "weight_percent"), required=False, max_digits=5, decimal_places=2
    )
    items = forms.IntegerField(label=_label(ContentDomain, "items"), required=False)
    tags = forms.CharField(
        label=_label(ContentDomain, "tags"),
        required=False,
        help_text=gettext_lazy("Separated by commas."),
        widget=forms.TextInput(),
    )

    def __init__(self, *args: Any, row: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.row = row
        prefix = _("Row %(row)s") % {"row": row}
        messages = {
            "name": {"max_length": _("%(row)s: the domain's name is longer than 200 characters.") % {"row": prefix}},
            "weight_percent": {
                "invalid": _("%(row)s: the weight is a number from 0 to 100.") % {"row": prefix},
                "max_digits": _("%(row)s: the weight is a number from 0 to 100.") % {"row": prefix},
                "max_decimal_places": _("%(row)s: give the weight with at most 2 decimals.") % {"row": prefix},
                "max_whole_digits": _("%(row)s: the weight is a number from 0 to 100.") % {"row": prefix},
            },
            "items": {"invalid": _("%(row)s: the number of exam items is a whole number.") % {"row": prefix}},
        }
        for name, overrides in messages.items():
            self.fields[name].error_messages.update(overrides)
        self.row_prefix = prefix

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("%(row)s: give the domain a name.") % {"row": self.row_prefix})
        return name

    def clean_weight_percent(self) -> Decimal | None:
        weight: Decimal | None = self.cleaned_data["weight_percent"]
        if weight is not None and not 0 <= weight <= 100:
            raise forms.ValidationError(_("%(row)s: the weight is a number from 0 to 100.") % {"row": self.row_prefix})
        return weight

    def clean_items(self) -> int | None:
        items: int | None = self.cleaned_data["items"]
        if items is not None and not 0 <= items <= SMALL_NUMBER_MAX:
            raise forms.ValidationError(
                _("%(row)s: the number of exam items cannot be negative.") % {"row": self.row_prefix}
                if items < 0
                else _("%(row)s: the number of exam items is at most %(maximum)s.")
                % {"row": self.row_prefix, "maximum": SMALL_NUMBER_MAX}
            )
        return items

    def clean_tags(self) -> list[str]:
        tags = clean_tags(self.cleaned_data["tags"])
        for tag in tags:
            if len(tag) > TAG_MAX_LENGTH:
                raise forms.ValidationError(
                    _("%(row)s: the tag “%(tag)s” is longer than %(maximum)s characters.")
                    % {"row": self.row_prefix, "tag": tag, "maximum": TAG_MAX_LENGTH}
                )
        return tags

    def values(self) -> DomainValues:
        data = self.cleaned_data
        return DomainValues(
            pk=data.get("id"),
            name=data["name"],
            weight_percent=data.get("weight_percent"),
            items=data.get("items"),
            tags=data.get("tags") or [],
        )

    @staticmethod
    def initial_for(domain: ContentDomain) -> dict[str, Any]:
        return {
            "id": domain.pk,
            "name": domain.name,
            "weight_percent": domain.weight_percent,
            "items": domain.items,
            "tags": ", ".join(domain.tags),
        }


class BaseDomainFormSet(forms.BaseFormSet):
    forms: list[DomainForm]

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {**super().get_form_kwargs(index), "row": (index or 0) + 1}

    def kept(self) -> list[DomainForm]:
        """The rows of the outline to save: filled in and not ticked for removal."""
        filled = [form for form in self.forms if form.has_changed() or form.initial.get("id")]
        return [form for form in filled if not form.cleaned_data.get("DELETE")]

    def clean(self) -> None:
        if any(self.errors):
            return
        problems = domain_problems([form.values() for form in self.kept()])
        if problems:
            raise forms.ValidationError(problems)


DomainFormSet = cast(
    type[BaseDomainFormSet],
    forms.formset_factory(DomainForm, formset=BaseDomainFormSet, extra=2, can_delete=True, max_num=60),
)


# --- Which tracks count for each accreditor ------------------------------------------------------


class CountedTracksForm(forms.Form):
    """For each accreditor, the program's tracks whose exams count in its credentialing figures.

    A box a track and accreditor; an unticked box stops the track counting. A code that is not one of
    the program's tracks (a page left open while tracks changed, or a forged post) is named."""

    maerb = forms.MultipleChoiceField(
        label=gettext_lazy("Counted for MAERB"), required=False, widget=forms.CheckboxSelectMultiple
    )
    abhes = forms.MultipleChoiceField(
        label=gettext_lazy("Counted for ABHES"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, tracks: list[CertificationTrack], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(track.code, track.code) for track in tracks]
        for name, accreditor in (("maerb", "MAERB"), ("abhes", "ABHES")):
            field = cast(forms.MultipleChoiceField, self.fields[name])
            field.choices = choices
            field.error_messages["invalid_choice"] = _(
                "%(accreditor)s: %%(value)s is not a certification track of this program."
            ) % {"accreditor": accreditor}

    @staticmethod
    def initial_for(tracks: list[CertificationTrack]) -> dict[str, list[str]]:
        return {
            "maerb": [track.code for track in tracks if track.counts_for_maerb],
            "abhes": [track.code for track in tracks if track.counts_for_abhes],
        }
