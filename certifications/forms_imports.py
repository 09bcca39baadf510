"""The upload form of the exam results and graduate outcomes imports."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class ResultUploadForm(forms.Form):
    """A file to preview. The limit is the roster's: every interchange file is held to one size."""

    file = forms.FileField(label=_("File (.csv or .xlsx)"))

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".xlsx")):
            raise forms.ValidationError(_("The file must be a .csv or .xlsx file."))
        if upload.size > settings.ROSTER_UPLOAD_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(limit)s MB.")
                % {"limit": settings.ROSTER_UPLOAD_MAX_BYTES // (1024 * 1024)}
            )
        return upload
