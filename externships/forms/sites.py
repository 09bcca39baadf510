"""Forms for sites and preceptors. They check shapes; the services keep the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from curriculum.forms import DateInput
from externships.models import Preceptor, Site

SPECIALTY_MAX_LENGTH = 80


class CommaSeparatedField(forms.CharField):
    """A short list typed on one line: "family medicine, pediatrics". Blanks and repeats are dropped."""

    def __init__(self, *, item_max_length: int, **kwargs: Any) -> None:
        self.item_max_length = item_max_length
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return ", ".join(value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        items: list[str] = []
        seen: set[str] = set()
        for part in str(super().to_python(value)).split(","):
            item = " ".join(part.split())
            if item and item.casefold() not in seen:
                seen.add(item.casefold())
                items.append(item)
        return items

    def validate(self, value: Any) -> None:
        super().validate(value)
        for item in value:
            if len(item) > self.item_max_length:
                raise forms.ValidationError(
                    _("“%(item)s” is too long: at most %(limit)s characters each.")
                    % {"item": item, "limit": self.item_max_length},
                    code="item_too_long",
                )


class SiteForm(forms.ModelForm):
    specialties = CommaSeparatedField(
        label=_("Specialties"),
        required=False,
        item_max_length=SPECIALTY_MAX_LENGTH,
        help_text=_("Separate with commas, e.g. family medicine, pediatrics."),
    )

    class Meta:
        model = Site
        fields = ["name", "address", "phone", "specialties", "capacity", "agreement_expires_on", "is_active", "notes"]
        widgets = {
            "address": forms.Textarea(attrs={"rows": 2}),
            "agreement_expires_on": DateInput(),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }


class PreceptorAddForm(forms.Form):
    email = forms.EmailField(
        label=_("Email"),
        help_text=_("They sign in with a code sent to this address, so it must be one they read."),
    )
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    title = forms.CharField(
        label=_("Title and credentials"),
        max_length=200,
        required=False,
        help_text=_("e.g. CMA (AAMA), clinical supervisor"),
    )
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)


class PreceptorForm(forms.ModelForm):
    class Meta:
        model = Preceptor
        fields = ["title", "phone"]
