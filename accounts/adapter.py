from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest
from django.utils import translation


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        """No open sign-up: students arrive by invitation from a roster, staff from a director."""
        return False

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        """Sign-in codes, password resets and the like go out in the person's own language when they
        chose one, whatever the language of the page that asked for them."""
        from accounts.models import User

        language = User.objects.filter(email__iexact=email).values_list("preferred_language", flat=True).first() or ""
        if not language:
            super().send_mail(template_prefix, email, context)
            return
        with translation.override(language):
            super().send_mail(template_prefix, email, context)
