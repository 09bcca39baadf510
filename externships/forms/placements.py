"""Forms for placements, shifts and evaluations. Services keep the rules; forms read input."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from curriculum.forms import DateInput
from curriculum.models import Enrollment, Program
from externships.models import EvaluationItem, Preceptor, Rating, Site


class StudentChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.student.sortable_name} — {obj.cohort.name}"


class PreceptorChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.user.full_name or obj.user.email} — {obj.site.name}"


class PlacementForm(forms.Form):
    enrollment = StudentChoice(label=_("Student"), queryset=Enrollment.objects.none())
    site = forms.ModelChoiceField(label=_("Site"), queryset=Site.objects.none())
    preceptor = PreceptorChoice(label=_("Preceptor"), queryset=Preceptor.objects.none())
    start_on = forms.DateField(label=_("Start date"), widget=DateInput())
    end_on = forms.DateField(label=_("End date"), widget=DateInput())
    required_hours = forms.IntegerField(
        label=_("Required hours"),
        min_value=1,
        max_value=2000,
        required=False,
        help_text=_("Empty: the program's %(hours)s hours."),
    )

    def __init__(self, *args: Any, program: Program, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["required_hours"].help_text = self.fields["required_hours"].help_text % {
            "hours": program.practicum_hours
        }
        self.fields["enrollment"].queryset = (  # type: ignore[attr-defined]
            Enrollment.objects.current()
            .filter(cohort__program=program)
            .select_related("student", "cohort")
            .order_by("student__last_name", "student__first_name")
        )
        self.fields["site"].queryset = Site.objects.filter(program=program, is_active=True)  # type: ignore[attr-defined]
        self.fields["preceptor"].queryset = Preceptor.objects.filter(  # type: ignore[attr-defined]
            site__program=program, is_active=True
        ).select_related("user", "site")
        if editing:
            # Who and where are fixed once planned: a new placement is planned instead.
            del self.fields["enrollment"]
            del self.fields["site"]


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class ShiftForm(forms.Form):
    work_date = forms.DateField(label=_("Date"), widget=DateInput())
    start = forms.TimeField(label=_("Start"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    end = forms.TimeField(label=_("End"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    activity = forms.CharField(
        label=_("What you did (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Never enter patient names, dates of birth, record numbers or anything that identifies a patient."),
    )


class ReturnForm(forms.Form):
    reason = forms.CharField(
        label=_("What should the student correct?"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class EvaluationForm(forms.Form):
    """One 1–5 rating per item of the program's form, grouped by section, and comments."""

    comments = forms.CharField(
        label=_("Comments"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Explain every rating of 1 or 2. Never enter patient identifiers."),
    )

    def __init__(self, *args: Any, items: list[EvaluationItem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = items
        for item in items:
            self.fields[f"item_{item.pk}"] = forms.TypedChoiceField(
                label=item.text,
                choices=Rating.choices,
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"required": _("Rate this item from 1 to 5.")},
            )
        self.order_fields([f"item_{item.pk}" for item in items] + ["comments"])

    def sections(self) -> list[tuple[str, list[forms.BoundField]]]:
        grouped: dict[str, list[forms.BoundField]] = {}
        for item in self.items:
            grouped.setdefault(item.section, []).append(self[f"item_{item.pk}"])
        return list(grouped.items())

    def ratings(self) -> dict[int, int]:
        return {item.pk: self.cleaned_data[f"item_{item.pk}"] for item in self.items}


class EvaluationItemForm(forms.ModelForm):
    class Meta:
        model = EvaluationItem
        fields = ["section", "text", "order"]


EvaluationItemFormSet = forms.modelformset_factory(EvaluationItem, form=EvaluationItemForm, extra=3, can_delete=True)
