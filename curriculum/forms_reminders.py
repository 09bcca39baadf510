"""A program's reminder timings: one row per kind of reminder."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from notifications.kinds import Kind, Timing


class TimingForm(forms.Form):
    """One kind's days, local hour and on/off; messages name the kind, since the page is one table."""

    offsets = forms.CharField(label=_("Days"), required=False, max_length=60)
    send_at = forms.TimeField(label=_("Send at"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    enabled = forms.BooleanField(label=_("On"), required=False)

    def __init__(self, *args: Any, kind: Kind, **kwargs: Any) -> None:
        kwargs["prefix"] = kind.key
        super().__init__(*args, **kwargs)
        self.kind = kind
        if kind.critical:
            self.fields["enabled"].disabled = True
            self.fields["enabled"].help_text = _("Cannot be turned off.")

    @classmethod
    def initial_for(cls, timing: Timing) -> dict[str, Any]:
        return {
            "offsets": ", ".join(str(offset) for offset in timing.offsets),
            "send_at": timing.send_at,
            "enabled": timing.enabled,
        }

    def clean_offsets(self) -> list[int]:
        text = self.cleaned_data["offsets"]
        parts = [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]
        # isascii() too: "²" and "١" are digits to isdigit() but int() refuses the first (a 500 it was).
        if not all(part.isascii() and part.isdigit() for part in parts):
            raise forms.ValidationError(
                _("%(kind)s: write whole numbers of days separated by commas, e.g. 30, 7, 1."),
                params={"kind": self.kind.label},
            )
        return [int(part) for part in parts]

    def clean_enabled(self) -> bool:
        return True if self.kind.critical else bool(self.cleaned_data["enabled"])
