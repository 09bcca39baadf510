from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import translation


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        """No open sign-up: students arrive by invitation from a roster, staff from a director."""
        return False

    def get_client_ip(self, request: HttpRequest) -> str:
        """The address rate limits count by (failed sign-ins, sign-in codes) is the one the access log
        records: behind PROXY_HOPS proxies, the address the nearest of them saw, not the proxy's own
        (every client would share one limit) nor an X-Forwarded-For the client wrote itself."""
        from accounts.models import client_address

        address = client_address(request.META)
        if address is None:
            raise PermissionDenied("Unable to determine the client's address.")
        return address

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
