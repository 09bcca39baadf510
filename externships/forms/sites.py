"""Forms for sites and preceptors. They check shapes; the services keep the rules."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from curriculum.forms import DateInput, ItemsField
from externships.models import Preceptor, Site

SPECIALTY_MAX_LENGTH = 80


class SiteForm(forms.ModelForm):
    specialties = ItemsField(
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
