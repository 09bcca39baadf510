from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation

from accounts.chains import BrokenChain

logger = logging.getLogger(__name__)


class PreferredLanguageMiddleware:
    """A signed-in person's chosen language wins over the browser's."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        language = getattr(user, "preferred_language", "") if user and user.is_authenticated else ""
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        response = self.get_response(request)
        if language:
            response.headers.setdefault("Content-Language", language)
        return response


class BrokenChainMiddleware:
    """A page that would record something for a student whose chain fails its check answers 503 with
    the reason, not 500: the records must be looked at (verify_records), and nothing is written."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, BrokenChain):
            return None
        logger.error("A chain failed its check on %s %s: run manage.py verify_records", request.method, request.path)
        return render(request, "accounts/broken_chain.html", status=503)


class SingleSignOnMiddleware:
    """Two things the school's sign-in needs on every page that offers it.

    A page with a button that leaves for the provider (it set `request.sign_in_origins`) lets its forms
    go there: browsers apply CSP `form-action` to the redirect that follows the form.

    A provider the school configured wrongly or that does not answer (an unreachable metadata or
    discovery address, a certificate python3-saml cannot read) fails the sign-in with a page that says
    so, status 502, and a log line naming the cause for the administrator: not a 500."""

    PREFIXES = ("/accounts/oidc/", "/accounts/saml/", "/me/confirm/", "/me/invitation/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        origins = getattr(request, "sign_in_origins", None)
        if origins:
            # django-csp reads it when it writes the header, after this middleware.
            response._csp_update = {"form-action": origins}  # type: ignore[attr-defined]
        return response

    def process_view(
        self, request: HttpRequest, view: Callable[..., HttpResponse], args: Any, kwargs: dict[str, Any]
    ) -> HttpResponse | None:
        """allauth looks a provider up by the id in the address; one with a NUL cannot exist (and
        PostgreSQL refuses to compare with it), so it is not found."""
        if request.path.startswith(self.PREFIXES) and any("\x00" in str(value) for value in kwargs.values()):
            raise Http404
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        from onelogin.saml2.errors import OneLogin_Saml2_Error
        from requests import RequestException

        configuration_errors = (OneLogin_Saml2_Error, RequestException, ImproperlyConfigured, ValueError, KeyError)
        if not request.path.startswith(self.PREFIXES) or not isinstance(exception, configuration_errors):
            return None
        logger.error(
            "Single sign-on is misconfigured or its provider did not answer on %s: %s: %s",
            request.path,
            type(exception).__name__,
            exception,
            exc_info=exception,
        )
        return render(request, "socialaccount/authentication_error.html", {"unavailable": True}, status=502)
