from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from notifications.kinds import chosen_kinds
from notifications.models import Message


class MarkReadForm(forms.Form):
    """Which notifications to mark read: the ids given, or every unread one when none is."""

    ids = forms.TypedMultipleChoiceField(coerce=int, required=False, choices=())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any whole number is a candidate; which are the person's own is the view's check.
        self.fields["ids"].valid_value = lambda value: str(value).isdigit()  # type: ignore[attr-defined]

    def problem(self) -> str:
        return "; ".join(str(message) for messages in self.errors.values() for message in messages)


class PreferencesForm(forms.Form):
    """One choice per kind of reminder; a critical kind offers no "off"."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key, kind in chosen_kinds().items():
            choices = [
                (value, label)
                for value, label in Message.Channel.choices
                if not (kind.critical and value == Message.Channel.OFF)
            ]
            self.fields[key] = forms.ChoiceField(
                label=str(kind.label),
                choices=choices,
                widget=forms.RadioSelect,
                help_text=_("Cannot be turned off: it protects your eligibility.") if kind.critical else "",
            )

    def groups(self) -> list[tuple[str, list[forms.BoundField]]]:
        """The choices grouped by who gets them."""
        grouped: dict[str, list[forms.BoundField]] = {}
        for key, kind in chosen_kinds().items():
            grouped.setdefault(str(kind.audience), []).append(self[key])
        return list(grouped.items())
