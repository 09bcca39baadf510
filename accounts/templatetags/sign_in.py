from __future__ import annotations

from typing import Any

from django import template

from accounts import single_sign_on

register = template.Library()


@register.simple_tag(takes_context=True)
def school_sign_in(context: dict[str, Any]) -> list[dict[str, str]]:
    """The school's providers for the sign-in page's buttons, each with its login address."""
    request = context["request"]
    return single_sign_on.buttons(request, single_sign_on.school_providers(request))
