from __future__ import annotations

import logging
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from allauth.socialaccount.providers.base import AuthProcess
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)


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

    def get_reauthentication_methods(self, user: AbstractBaseUser | AnonymousUser) -> list[dict[str, Any]]:
        """allauth's (password, two-factor), then the school's provider for a person linked to it:
        someone who signs in only through the school confirms they are at the device there."""
        from accounts import single_sign_on
        from accounts.models import User

        methods = super().get_reauthentication_methods(user)
        if isinstance(user, User) and single_sign_on.linked_provider(user) is not None:
            methods.append(
                {
                    "id": "provider_reauthenticate",
                    "description": _("Confirm through your school's sign-in"),
                    "url": reverse("accounts:reauthenticate-with-provider"),
                }
            )
        return methods


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Single sign-on never creates strangers: a person coming back from the school's provider is
    matched to the account that already holds the address the provider vouches for, and linked."""

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        return False

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        from accounts import services, single_sign_on

        if request.session.get(single_sign_on.SESSION_REAUTHENTICATION) and request.user.is_authenticated:
            raise ImmediateHttpResponse(single_sign_on.finish_reauthentication(request, sociallogin))
        invitation_id = request.session.pop(single_sign_on.SESSION_INVITATION, None)
        if sociallogin.state.get("process") == AuthProcess.CONNECT:
            # Linking happens by address at sign-in only; nobody attaches another identity to an account.
            raise ImmediateHttpResponse(redirect("home"))
        try:
            services.sign_in_through_provider(request=request, sociallogin=sociallogin, invitation_id=invitation_id)
        except services.SignInRefused as refusal:
            logger.info("Single sign-on refused (%s): %s", sociallogin.account.provider, refusal.reason)
            raise ImmediateHttpResponse(
                render(
                    request,
                    "accounts/sign_in_refused.html",
                    {"reason": refusal.message, "provider_name": single_sign_on.display_name(sociallogin.provider)},
                    status=403,
                )
            ) from refusal

    def on_authentication_error(
        self,
        request: HttpRequest,
        provider: Any,
        error: str | None = None,
        exception: BaseException | None = None,
        extra_context: dict[str, Any] | None = None,
    ) -> None:
        """The person sees a plain page (socialaccount/authentication_error.html); the administrator
        finds what the provider or the library said in the log, where a wrong client secret, a wrong
        certificate or an expired assertion each name themselves."""
        details = dict(extra_context or {})
        logger.warning(
            "Single sign-on through %s failed: error=%s exception=%r %s",
            getattr(provider, "id", provider),
            error,
            exception,
            details.get("saml_last_error_reason", ""),
        )
