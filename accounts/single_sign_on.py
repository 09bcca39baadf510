"""Signing in through the school's identity provider: which providers are on, who signed in through
one, and confirming presence there before signing a record.

The providers themselves are allauth's `openid_connect` and `saml`; config/single_sign_on.py reads
them from the environment, and the admin's social applications add more. Matching a person to their
account is a use case (accounts/services.py: `sign_in_through_provider`).
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import urlsplit

from allauth.account.internal.flows.login import get_authentication_records, record_authentication
from allauth.account.internal.flows.reauthentication import STATE_SESSION_KEY
from allauth.core import context
from allauth.core.internal.httpkit import deserialize_request
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialLogin
from allauth.socialaccount.providers.base import AuthProcess, Provider
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import Resolver404, resolve
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from accounts.models import User
from config.single_sign_on import PROVIDERS, SAML

logger = logging.getLogger(__name__)

SESSION_REAUTHENTICATION = "checkoff_provider_reauthentication"
SESSION_INVITATION = "checkoff_invitation"
# From pressing "Continue" to coming back from the provider: long enough to type a password there.
REAUTHENTICATION_WINDOW_SECONDS = 600
# How far the provider's clock may run behind ours when it says when the person last signed in.
CLOCK_SKEW_SECONDS = 60


def school_providers(request: HttpRequest) -> list[Provider]:
    """The school's providers that are configured (environment or admin), in a stable order."""
    providers = [provider for provider in get_adapter(request).list_providers(request) if provider.id in PROVIDERS]
    return sorted(providers, key=lambda provider: (PROVIDERS.index(provider.id), provider.sub_id))


def display_name(provider: Provider) -> str:
    """What a person reads on a button: the school's own name for its sign-in, as configured."""
    name = provider.app.name if provider.app is not None else ""
    return name or _("your school's account")


def linked_provider(user: User) -> Provider | None:
    """The configured provider this person has signed in through before, if any."""
    request = context.request
    for account in SocialAccount.objects.filter(user=user).order_by("pk"):
        try:
            provider = account.get_provider(request)
        except SocialApp.DoesNotExist:  # linked to a provider the school has since removed
            continue
        if provider.id in PROVIDERS:
            return provider
    return None


def signed_in_through_provider(request: HttpRequest) -> bool:
    """This session's sign-in went through the school's provider (allauth records how)."""
    records = get_authentication_records(request, request.user)
    return any(record.get("method") == "socialaccount" for record in records)


def recently_confirmed(request: HttpRequest) -> bool:
    """The person proved within ACCOUNT_REAUTHENTICATION_TIMEOUT that they are at this device: their
    password, a two-factor code, or a fresh sign-in at the school's provider. Unlike allauth's own
    check, someone with no password or two-factor is not let through without asking."""
    records = get_authentication_records(request, request.user)
    times = [record["at"] for record in records if record.get("reauthenticated")]
    return bool(times) and time.time() - max(times) < settings.ACCOUNT_REAUTHENTICATION_TIMEOUT


def safe_next(request: HttpRequest, url: str | None) -> str:
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=False):
        return url
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def start_reauthentication(request: HttpRequest, provider: Provider, next_url: str) -> HttpResponse:
    """Send the person to the provider asking it to check them again, not to reuse its own session:
    OpenID Connect's `prompt=login` with `max_age=0`, SAML's ForceAuthn."""
    request.session[SESSION_REAUTHENTICATION] = {"user": request.user.pk, "started": time.time(), "next": next_url}
    if provider.id == SAML:
        from allauth.socialaccount.providers.saml.utils import build_auth

        auth = build_auth(request, provider)
        url = auth.login(return_to="", force_authn=True)
        provider.stash_redirect_state(request, AuthProcess.LOGIN, next_url, None, state_id=auth.get_last_request_id())
        return HttpResponseRedirect(url)
    return provider.redirect(
        request, AuthProcess.LOGIN, next_url=next_url, auth_params={"prompt": "login", "max_age": "0"}
    )


def finish_reauthentication(request: HttpRequest, sociallogin: SocialLogin) -> HttpResponse:
    """Back from the provider with a re-authentication pending: the same person, freshly signed in
    there, counts as confirmed; then the suspended request (the signature) goes on."""
    pending: dict[str, Any] = request.session.pop(SESSION_REAUTHENTICATION)
    refusal = None
    if not sociallogin.is_existing or sociallogin.user.pk != request.user.pk or pending.get("user") != request.user.pk:
        refusal = _("The school's sign-in confirmed someone else. Sign in there as yourself to go on.")
    elif time.time() - pending.get("started", 0) > REAUTHENTICATION_WINDOW_SECONDS:
        refusal = _("The confirmation took too long. Try again.")
    else:
        id_token = (sociallogin.account.extra_data or {}).get("id_token") or {}
        auth_time = id_token.get("auth_time") if isinstance(id_token, dict) else None
        if isinstance(auth_time, int | float) and auth_time < pending["started"] - CLOCK_SKEW_SECONDS:
            refusal = _("The school's sign-in did not ask for your password again. Try again.")
    if refusal:
        logger.warning(
            "Re-authentication through %s refused for user %s", sociallogin.account.provider, request.user.pk
        )
        request.session.pop(STATE_SESSION_KEY, None)
        return render(
            request,
            "accounts/sign_in_refused.html",
            {"reason": refusal, "provider_name": display_name(sociallogin.provider), "signed_in": True},
            status=403,
        )
    record_authentication(
        request,
        request.user,
        method="socialaccount",
        reauthenticated=True,
        provider=sociallogin.account.provider,
        uid=sociallogin.account.uid,
    )
    return _resume(request, safe_next(request, pending.get("next")))


def _resume(request: HttpRequest, next_url: str) -> HttpResponse:
    """Replay the request allauth suspended when it asked for re-authentication (a POST that signs),
    as allauth does after a password; otherwise open where the person was going."""
    state = request.session.pop(STATE_SESSION_KEY, None)
    if state and "request" in state:
        suspended = deserialize_request(state["request"], request)
        if suspended.path == next_url.split("?")[0]:
            try:
                resolved = resolve(suspended.path_info)
            except Resolver404:
                return redirect(next_url)
            return resolved.func(suspended, *resolved.args, **resolved.kwargs)
    return redirect(next_url)


def buttons(request: HttpRequest, providers: list[Provider]) -> list[dict[str, str]]:
    """What a page needs to show a button for each provider (its id, the name people know, where its
    sign-in starts), and the page's leave to send forms there (`allow_leaving_for`)."""
    allow_leaving_for(request, providers)
    return [
        {"id": provider.sub_id, "name": display_name(provider), "login_url": provider.get_login_url(request)}
        for provider in providers
    ]


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in {"http", "https"} and parts.netloc else None


def provider_origins(provider: Provider) -> list[str]:
    """Where a sign-in button's form ends up: the provider's sign-in page, after allauth's redirect.

    Browsers hold a form's redirects to the page's CSP `form-action`, which is 'self' elsewhere. The
    origin is read from the configuration without asking the network: the OpenID Connect issuer (whose
    authorization endpoint shares its origin at Entra ID, Google and Okta), the SAML sign-on address
    or metadata address, and the sign-on address of metadata already fetched. A provider whose sign-in
    page lives elsewhere lists it in its app settings' `form_action_origins`."""
    options = provider.app.settings if provider.app is not None else {}
    urls = [options.get("server_url", "")]
    idp = options.get("idp") or {}
    urls += [idp.get("sso_url", ""), idp.get("metadata_url", "")]
    if idp.get("metadata_url"):
        cached = cache.get(f"saml.metadata.{idp['metadata_url']}.{idp.get('entity_id')}") or {}
        urls.append(((cached.get("idp") or {}).get("singleSignOnService") or {}).get("url", ""))
    origins = [origin for url in urls if url and (origin := _origin(url))]
    return sorted({*origins, *options.get("form_action_origins", [])})


def allow_leaving_for(request: HttpRequest, providers: list[Provider]) -> None:
    """Let this page's forms go on to these providers (accounts.middleware.SingleSignOnMiddleware)."""
    origins = getattr(request, "sign_in_origins", [])
    request.sign_in_origins = sorted({*origins, *(o for provider in providers for o in provider_origins(provider))})  # type: ignore[attr-defined]
