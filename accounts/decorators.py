from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.core.exceptions import ReauthenticationRequired
from django.http import HttpRequest, HttpResponse

from accounts.single_sign_on import recently_confirmed


def presence_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The person proves they are at the device before the view acts (signing a record): their
    password, a two-factor code or the school's sign-in, within ACCOUNT_REAUTHENTICATION_TIMEOUT.

    allauth's `reauthentication_required` waves through anyone with neither a password nor
    two-factor (a single-sign-on instructor); this asks them too, through the school's provider.
    allauth's middleware keeps the request, asks, and replays it once confirmed. Someone with no way
    at all to confirm (a preceptor who signs in by emailed code) is left to the view's own rule."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            raise ReauthenticationRequired()
        if not recently_confirmed(request) and get_account_adapter(request).get_reauthentication_methods(request.user):
            raise ReauthenticationRequired()
        return view(request, *args, **kwargs)

    return wrapper
