"""A record that is not found, or not this person's to see, answers with Checkoff's own 404 page in
development too: with DEBUG on, Django would show its technical page, which is no page for a demo
school to meet. An address that matches no URL pattern still shows Django's page in development."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render


class NotFoundPageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if settings.DEBUG and isinstance(exception, Http404):
            return render(request, "404.html", status=404)
        return None
