from __future__ import annotations

from allauth.socialaccount.providers.base import AuthProcess
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts import permissions, services, single_sign_on, tokens
from accounts.forms import AcceptInvitationForm, PreferencesForm
from accounts.http import AuthenticatedRequest
from accounts.models import AccessLog, Invitation

ACCESS_LOG_PAGE_SIZE = 50


@login_not_required
@require_http_methods(["GET", "POST"])
def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    """Public: the invitation link is the credential. A used or expired link says so plainly.

    Where the school has its own sign-in, the invited person may use it instead of a password: they
    go to the provider and must come back as the invited address (accounts/services.py)."""
    invitation_id = tokens.read_token(token)
    invitation = Invitation.objects.select_related("user").filter(pk=invitation_id).first() if invitation_id else None
    if invitation is None or invitation.accepted_at or not invitation.user.is_active:
        return render(request, "accounts/invitation_invalid.html", status=410 if invitation else 404)
    providers = single_sign_on.school_providers(request)
    if request.method == "POST" and "provider" in request.POST:
        chosen = next((provider for provider in providers if provider.sub_id == request.POST["provider"]), None)
        if chosen is None:
            raise Http404
        request.session[single_sign_on.SESSION_INVITATION] = invitation.pk
        return chosen.redirect(request, AuthProcess.LOGIN, next_url=resolve_url(settings.LOGIN_REDIRECT_URL))
    form = AcceptInvitationForm(request.POST or None, user=invitation.user)
    if request.method == "POST" and form.is_valid():
        user = services.accept_invitation(invitation=invitation, password=form.cleaned_data["password2"])
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Welcome to Checkoff. Your password is set."))
        return redirect("home")
    return render(
        request,
        "accounts/accept_invitation.html",
        {"form": form, "invitation": invitation, "providers": single_sign_on.buttons(request, providers)},
    )


@login_not_required
def not_offered(request: HttpRequest) -> HttpResponse:
    """allauth pages Checkoff does not offer, for anyone: signing up through a provider (nobody is
    created by signing in) and managing linked accounts (a person is linked to the school's provider
    by their address, once, when they first sign in through it)."""
    raise Http404


@require_http_methods(["GET", "POST"])
def reauthenticate_with_provider(request: AuthenticatedRequest) -> HttpResponse:
    """Confirm presence at the school's provider before a signature, for someone linked to it; the
    provider is asked to check them again (accounts/single_sign_on.py). allauth sends people here."""
    provider = single_sign_on.linked_provider(request.user)
    if not permissions.can_reauthenticate_with_provider(request.user, provider):
        raise PermissionDenied
    assert provider is not None
    single_sign_on.allow_leaving_for(request, [provider])
    next_url = single_sign_on.safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.method == "POST":
        return single_sign_on.start_reauthentication(request, provider, next_url)
    return render(
        request,
        "accounts/reauthenticate_with_provider.html",
        {"provider_name": single_sign_on.display_name(provider), "next": next_url},
    )


@require_http_methods(["GET", "POST"])
def preferences(request: AuthenticatedRequest) -> HttpResponse:
    """Anyone's own name and language; nobody else's."""
    form = PreferencesForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your preferences are saved."))
        return redirect("accounts:preferences")
    return render(request, "accounts/preferences.html", {"form": form})


@require_GET
def access_log(request: AuthenticatedRequest) -> HttpResponse:
    """Who viewed, signed, revoked or downloaded the signed-in person's record: their own rows only.

    Times show in the request's active time zone, which middleware sets to the person's program's;
    a page costs the same queries however long the log grows."""
    entries = AccessLog.objects.filter(student=request.user).select_related("actor").order_by("-at", "-pk")
    page = Paginator(entries, ACCESS_LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "accounts/access_log.html", {"page": page})
