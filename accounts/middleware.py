from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
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
