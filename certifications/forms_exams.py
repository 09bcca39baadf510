"""Forms for one student's certification: target track, bookings, results, credential numbers and
job placement. They read input; the rules (retake waits, attempt limits, dates) live in services."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from certifications.models import CertificationTrack, ExamAttempt, PlacementStatus
from curriculum.forms import DateInput
from curriculum.models import Program


class TrackChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.code} — {obj.name}"


def offered_tracks(program: Program) -> Any:
    return CertificationTrack.objects.filter(program=program, is_offered=True).order_by("order", "code")


class TargetTrackForm(forms.Form):
    track = TrackChoice(label=_("Target credential"), queryset=CertificationTrack.objects.none())

    def __init__(self, *args: Any, program: Program, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["track"].queryset = offered_tracks(program)  # type: ignore[attr-defined]


class BookExamForm(forms.Form):
    track = TrackChoice(label=_("Exam"), queryset=CertificationTrack.objects.none())
    scheduled_on = forms.DateField(label=_("Exam date"), widget=DateInput())
    location = forms.CharField(label=_("Place"), max_length=200, required=False)

    def __init__(self, *args: Any, program: Program, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["track"].queryset = offered_tracks(program)  # type: ignore[attr-defined]


class MoveExamForm(forms.Form):
    scheduled_on = forms.DateField(label=_("New exam date"), widget=DateInput())
    location = forms.CharField(label=_("Place"), max_length=200, required=False)


class ResultForm(forms.Form):
    result = forms.ChoiceField(label=_("Result"), choices=ExamAttempt.Result.choices)
    taken_on = forms.DateField(
        label=_("Taken on"),
        widget=DateInput(),
        required=False,
        help_text=_("Needed for a pass or a fail."),
    )
    score = forms.DecimalField(label=_("Score"), max_digits=6, decimal_places=1, min_value=Decimal(0), required=False)


class CredentialNumberForm(forms.Form):
    number = forms.CharField(label=_("Credential number"), max_length=60, required=False)


class JobPlacementForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=PlacementStatus.choices)
    employed_on = forms.DateField(label=_("Employed since"), widget=DateInput(), required=False)
    employer = forms.CharField(label=_("Employer"), max_length=200, required=False)
    position = forms.CharField(label=_("Position"), max_length=200, required=False)
    unavailable_reason = forms.CharField(
        label=_("Why unavailable"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when the graduate is unavailable for employment."),
    )
