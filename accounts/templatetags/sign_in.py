from __future__ import annotations

from typing import Any

from django import template

from accounts import single_sign_on

register = template.Library()


@register.simple_tag(takes_context=True)
def school_sign_in(context: dict[str, Any]) -> list[dict[str, Any]]:
    """The school's providers for the sign-in page's buttons, each with its login address."""
    request = context["request"]
    providers = single_sign_on.school_providers(request)
    single_sign_on.allow_leaving_for(request, providers)
    return [
        {**entry, "login_url": provider.get_login_url(request)}
        for provider, entry in zip(providers, single_sign_on.named(providers), strict=True)
    ]
