"""Forms for compliance documents and requirements. They check shapes; services/compliance.py keeps the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from curriculum.forms import DateInput
from curriculum.models import Program
from externships.models import ComplianceRequirement
from externships.services.compliance import ACCEPT, max_upload_bytes, megabytes


class RequirementChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: ComplianceRequirement) -> str:
        if obj.site_id is not None:
            return f"{obj.name} ({obj.site})"
        return obj.name


class ComplianceUploadForm(forms.Form):
    requirement = RequirementChoiceField(label=_("Requirement"), queryset=ComplianceRequirement.objects.none())
    # The accepted types let a phone offer its camera as well as its files.
    document = forms.FileField(label=_("Document"), widget=forms.FileInput(attrs={"accept": ACCEPT}))
    completed_on = forms.DateField(label=_("Date completed"), widget=DateInput())
    expires_on = forms.DateField(
        label=_("Expires"),
        required=False,
        widget=DateInput(),
        help_text=_("The date on the card or letter, if it has one. Empty: worked out from how long it is valid."),
    )

    def __init__(self, *args: Any, requirements: QuerySet[ComplianceRequirement], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["requirement"].queryset = requirements  # type: ignore[attr-defined]
        self.fields["document"].help_text = _("A PDF, or a photo as PNG or JPEG, at most %(limit)s MB.") % {
            "limit": megabytes(max_upload_bytes())
        }


class RejectionForm(forms.Form):
    # Not required here: the service refuses an empty reason with words that say what to write.
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The student reads this: say what to upload instead."),
    )


class RequirementForm(forms.ModelForm):
    class Meta:
        model = ComplianceRequirement
        fields = ["name", "category", "validity_months", "is_required", "site", "notes", "order"]
        labels = {"order": _("Position in the list")}
        widgets = {"validity_months": forms.NumberInput(attrs={"min": 1}), "notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, program: Program, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.program = program
        site = self.fields["site"]
        site.queryset = program.sites.order_by("name")  # type: ignore[attr-defined]
        site.empty_label = _("Every student of the program")  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        """A requirement's name is unique among the program's (or the site's): said on the name, not as a
        constraint's name."""
        data = super().clean() or {}
        name = data.get("name")
        if name:
            same = ComplianceRequirement.objects.filter(
                program=self.instance.program, site=data.get("site"), name__iexact=name
            ).exclude(pk=self.instance.pk)
            if same.exists():
                self.add_error("name", _("This program already has a requirement with this name."))
        return data
