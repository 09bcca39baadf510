from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django import template
from django.forms import BoundField
from django.utils.safestring import SafeString

register = template.Library()

WIDGET_CLASSES = {
    "select": "form-select",
    "selectmultiple": "form-select",
    "checkbox": "form-check-input",
    "clearablefile": "form-control",
    "file": "form-control",
}


@register.filter
def bootstrap(field: BoundField) -> SafeString:
    """Render a form field's widget with Bootstrap's classes, marked invalid when it has errors."""
    css = WIDGET_CLASSES.get(field.widget_type, "form-control")
    if field.errors:
        css += " is-invalid"
    attrs: dict[str, Any] = {"class": css}
    # The error first, then the help, which stays: it often says how to put the error right.
    described_by = [f"{field.auto_id}-errors"] if field.errors else []
    if field.help_text:
        described_by.append(f"{field.auto_id}-help")
    if field.errors:
        attrs["aria-invalid"] = "true"
    if described_by:
        attrs["aria-describedby"] = " ".join(described_by)
    return field.as_widget(attrs=attrs)


@register.filter
def points(value: Decimal | int | str | None) -> str:
    """Points without trailing zeros: 10, 9.5. Nothing for a missing value (an ungraded cell)."""
    if value is None or value == "":
        return ""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        return ""
    return format(number.normalize(), "f")


@register.filter
def width_percent(value: Decimal | int | float | str | None) -> str:
    """The class that makes an element this wide in whole percent, 0 to 100 (checkoff.css).

    A class rather than a style attribute: the Content-Security-Policy applies no inline style."""
    try:
        percent = int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    except (InvalidOperation, ValueError, OverflowError):
        percent = 0
    return f"width-percent-{min(100, max(0, percent))}"
